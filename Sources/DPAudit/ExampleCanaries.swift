import Accountants
import DPFederated
import DPModel
import Foundation

/// Example-level canaries (Steinke, Nasr & Jagielski's white-box DP-SGD audit): each inserted
/// canary is one more example of a host client (drawn from the audit's seed), whose clipped
/// gradient is its direction on the round's live coordinates at norm C. Whenever its host
/// trains, every local DP-SGD step takes it with the step's own Poisson rate min(1, B/n),
/// adding it to the step's clipped sum before the step's noise, exactly where a real
/// example's clipped gradient goes. The host's other examples, its noise and everything
/// after are unchanged.
///
/// Local DP-SGD protects an example from the server, which sees each client's update, so
/// each canary (inserted or held out) is scored on its host's updates (``ScoreBoard``).
/// With the server's noise (`--example-noise server`) the server sees un-noised updates and
/// the guarantee is for what it releases, so there is no board and the canaries are scored
/// on the final model, as at user level.
struct ExampleCanaryBackend<Model: ClassificationModel, Example: Sendable>: FederatedBackend
where Model.Scalar == Float {
  /// The simulation whose clients host the canaries.
  let simulation: SimulatedBackend<Model, Example>
  /// The canaries.
  let canaries: CanaryDirections
  /// The canaries (inserted and held out) of each client that hosts any.
  let hosted: [Int: [Int]]
  /// How much of the canary's gradient the clip lets through (1; a broken clip in tests).
  let clipFactor: Double
  /// Where the DP-SGD steps each canary joined are counted.
  let log: ParticipationLog
  /// Where each canary's cosines with its host's updates are summed (`nil`: scored on the
  /// final model).
  let board: ScoreBoard?

  func runClients(
    _ context: RoundContext, global: Model, authorization: ReleaseAuthorization
  ) throws -> [ClientResult] {
    let template = global.trainableParameters
    let live = context.live.indices(in: template)
    return context.cohort.concurrentMap(workers: simulation.workers) { client in
      var program = simulation.program
      let guests = hosted[client] ?? []
      let inserted = guests.filter { canaries.isInserted[$0] }
      if !inserted.isEmpty {
        program = ClientProgram(
          algorithm: program.algorithm,
          mechanism: CanaryHostMechanism(
            inner: program.mechanism,
            steps: CanaryStepRule(
              inner: program.mechanism.localSteps,
              gradients: inserted.map {
                (
                  $0,
                  gradient(
                    $0, template: template, live: live, norm: program.mechanism.clippingBound)
                )
              },
              state: CanaryStepRule.State(seed: context.clientSeed(client) ^ canaries.seed),
              log: log)),
          noiseSource: program.noiseSource)
      }
      let result = program.run(
        simulation.clients[client], index: client, global: global, context: context)
      if let board, !guests.isEmpty, case .update(let update) = result.message.payload {
        // A canary's gradient moves the parameters against its direction.
        let cosines = canaries.cosines(of: guests, with: update.flattened())
        board.record(guests, cosines: cosines.map { -$0 })
      }
      return result
    }
  }

  /// Canary j's clipped gradient: its direction on the live coordinates at norm C (times
  /// ``clipFactor``).
  func gradient(_ j: Int, template: ParameterSet<Float>, live: [Int], norm: Double)
    -> ParameterSet<Float>
  {
    CanaryDirections.update(
      canaries.direction(j), template: template, live: live, norm: clipFactor * norm)
  }
}

/// Each canary's summed cosines with its host's updates and how many there were (written
/// by the clients' threads, read once the run is over).
final class ScoreBoard: @unchecked Sendable {
  private let lock = NSLock()
  private var sums: [Int: Double] = [:]
  private var counts: [Int: Int] = [:]

  func record(_ canaries: [Int], cosines: [Double]) {
    lock.withLock {
      for (canary, cosine) in zip(canaries, cosines) {
        sums[canary, default: 0] += cosine
        counts[canary, default: 0] += 1
      }
    }
  }

  /// Canary j's score: its summed cosine times √(d / updates), about N(0, 1) when held out
  /// (0 when its host never took part).
  func score(_ j: Int, dimension: Int) -> Double {
    lock.withLock {
      guard let count = counts[j], count > 0 else { return 0 }
      return sums[j, default: 0] * (Double(dimension) / Double(count)).squareRoot()
    }
  }
}

/// The run's mechanism with a host client's step rule in place of its own (client side only).
struct CanaryHostMechanism: PrivacyMechanism {
  var inner: any PrivacyMechanism
  let steps: CanaryStepRule

  var noiseMultiplier: Double { inner.noiseMultiplier }
  var clippingBound: Double {
    get { inner.clippingBound }
    set { inner.clippingBound = newValue }
  }
  var roundEvent: DPEvent { inner.roundEvent }
  func ledger(rounds: Int) -> DPEvent { inner.ledger(rounds: rounds) }
  var localSteps: any LocalStepRule { steps }
  var samplesLocally: Bool { inner.samplesLocally }
  var assumptions: [String] { inner.assumptions }

  func message(for update: ParameterSet<Float>, client: Int, context: RoundContext)
    -> ClientMessage
  {
    inner.message(for: update, client: client, context: context)
  }

  mutating func release(
    _ results: [ClientResult], template: ParameterSet<Float>, context: RoundContext,
    authorization: ReleaseAuthorization
  ) -> Release {
    inner.release(results, template: template, context: context, authorization: authorization)
  }
}

/// A host client's DP-SGD steps with its canaries among the examples: the inner rule's
/// batches, gradients and noise, and before the noise each canary's clipped gradient with
/// the step's sampling rate.
struct CanaryStepRule: LocalStepRule {
  let inner: any LocalStepRule
  /// The host's inserted canaries and their clipped gradients.
  let gradients: [(canary: Int, gradient: ParameterSet<Float>)]
  let state: State
  let log: ParticipationLog

  /// The host's step state: the last batch's sampling rate and the canaries' own draws.
  /// One client trains on one thread, so its state is never shared.
  final class State: @unchecked Sendable {
    var rate = 0.0
    var generator: Xoshiro256StarStar
    init(seed: UInt64) { generator = Xoshiro256StarStar(seed: seed ^ 0x6578_616D_706C_65) }
  }

  func batch(
    step: Int, order: [Int], batchSize: Int, using generator: inout Xoshiro256StarStar
  ) -> [Int] {
    state.rate = min(1, Double(batchSize) / Double(order.count))
    return inner.batch(step: step, order: order, batchSize: batchSize, using: &generator)
  }

  func gradient<Model: ClassificationModel>(
    _ model: Model, batch: Model.Batch, labels: [Int], activeRank: Int?
  ) -> (gradient: ParameterSet<Float>, loss: Double, clippedExamples: Int)
  where Model.Scalar == Float {
    inner.gradient(model, batch: batch, labels: labels, activeRank: activeRank)
  }

  func privatize(
    _ gradient: inout ParameterSet<Float>, live: LiveCoordinates,
    using generator: inout any RandomNumberGenerator
  ) {
    let joining = gradients.filter { _ in
      Double.random(in: 0..<1, using: &state.generator) < state.rate
    }
    for canary in joining { gradient.add(canary.gradient) }
    log.record(joining.map(\.canary))
    inner.privatize(&gradient, live: live, using: &generator)
  }

  func denominator(batchCount: Int, batchSize: Int, exampleCount: Int) -> Double {
    inner.denominator(batchCount: batchCount, batchSize: batchSize, exampleCount: exampleCount)
  }

  func stepsPerEpoch(exampleCount: Int, batchSize: Int) -> Int {
    inner.stepsPerEpoch(exampleCount: exampleCount, batchSize: batchSize)
  }
}
