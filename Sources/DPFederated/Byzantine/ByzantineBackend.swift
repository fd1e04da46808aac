import DPModel

/// The simulation with Byzantine clients (spec `brem-flora.md` §1.6): the first `attackers`
/// of the task's clients compute their clean updates, then send what the attack forges from
/// them in place of the updates, through the same constraint of the mechanism as every
/// client (a trusted server clips what it receives). Attackers are clients of the task like
/// any other: they are sampled, counted and reported, and the privacy they get is not
/// the point (the guarantee protects honest clients' data, which no attack here reads).
public struct ByzantineBackend<Model: ClassificationModel, Example: Sendable>: FederatedBackend
where Model.Scalar == Float {
  /// The honest simulation.
  public let simulation: SimulatedBackend<Model, Example>
  /// What the attackers send.
  public let attack: ByzantineAttack
  /// How many of the first clients attack.
  public let attackers: Int
  /// The task's classes (label flipping maps y to k − 1 − y).
  public let classCount: Int

  public init(
    simulation: SimulatedBackend<Model, Example>, attack: ByzantineAttack, attackers: Int,
    classCount: Int
  ) {
    self.simulation = simulation
    self.attack = attack
    self.attackers = attackers
    self.classCount = classCount
  }

  public func runClients(
    _ context: RoundContext, global: Model, authorization: ReleaseAuthorization
  ) throws -> [ClientResult] {
    let program = simulation.program
    var updates = context.cohort.concurrentMap(workers: simulation.workers) { index in
      var data = simulation.clients[index]
      if index < attackers && attack == .labelFlip {
        data.labels = data.labels.map { classCount - 1 - $0 }
      }
      return program.train(data, index: index, global: global, context: context)
    }
    let positions = context.cohort.indices.filter { context.cohort[$0] < attackers }
    let forged = attack.forged(
      clean: positions.map { updates[$0].update.flattened() }, cohortSize: context.cohort.count)
    for (position, vector) in zip(positions, forged) {
      updates[position].update = updates[position].update.with(flattened: vector)
    }
    return zip(context.cohort, updates).map { index, update in
      program.result(
        of: update, index: index, exampleCount: simulation.clients[index].examples.count,
        context: context)
    }
  }
}
