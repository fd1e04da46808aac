import DPModel
import Synchronization

/// DP-BREM (Gu, Li & Xiong, USENIX Security 2025; spec `brem-flora.md` §1.3): each client
/// of the round computes one gradient, the mean of its per-record clipped gradients over a
/// Poisson sample, divided by the *expected* batch size B (never the realised one), and folds
/// it into its momentum m ← (1 − β)·g + β·m; the mechanism
/// (``CenteredClippingMechanism``) clips m − v to τ around the server's momentum v and
/// adds the noise to the cohort's sum s; the server steps v ← v + s/m and θ ← θ − η_t·v.
///
/// A client's momentum is its own state: it changes only in the rounds the client takes
/// part in (the authors' code, which has every client in every round, also updates it in
/// the others; with the whole population in every round the two agree). In this process the
/// momenta live in ``ClientMomenta``; a run folder checkpoints them with v
/// (``algorithmState``).
public struct DPBREM<Model: ClassificationModel, Example: Sendable>: FederatedAlgorithm
where Model.Scalar == Float {
  /// FedAvg's adapter, fixed denominator m, batch size B, server optimiser and context.
  var averaging: FederatedAveraging<Model, Example>
  /// β, τ and the learning rate's schedule.
  public let settings: CenteredClipping
  /// v, flattened (empty before the first release).
  public private(set) var serverMomentum: [Float] = []
  /// The clients' momenta.
  public let clientMomenta = ClientMomenta()

  /// DP-BREM with the configuration's settings.
  /// - Parameter noiseNorm: the norm of the noise one round adds to v (sets τ's default).
  /// - Precondition: the configuration's method is dp-brem.
  public init(
    configuration: FederatedConfiguration, noiseNorm: Double,
    makeBatch: @escaping @Sendable ([Example]) -> Model.Batch
  ) {
    guard let settings = configuration.centeredClipping(noiseNorm: noiseNorm) else {
      preconditionFailure("DP-BREM for --method \(configuration.method.rawValue)")
    }
    self.settings = settings
    averaging = FederatedAveraging(configuration: configuration, makeBatch: makeBatch)
  }

  public var serverOptimizer: Optimizer<Float> {
    get { averaging.serverOptimizer }
    set { averaging.serverOptimizer = newValue }
  }

  /// B, the expected batch size each gradient is divided by.
  public var batchSize: Int { averaging.localTraining.batchSize }

  /// FedAvg's context (every coordinate live), centred at v with radius τ.
  public func roundContext(round: Int, seed: UInt64, cohort: [Int], clippingBound: Double)
    -> RoundContext
  {
    var context = averaging.roundContext(
      round: round, seed: seed, cohort: cohort, clippingBound: clippingBound)
    context.centeredClip = CenteredClip(center: serverMomentum, radius: settings.radius)
    return context
  }

  /// The client's new momentum (its update), after one gradient on a Poisson sample of its
  /// records taken and clipped by `steps` (``PerRecordClippedSteps``).
  public func trainClient(
    _ data: ClientData<Example>, index: Int, global: Model, context: RoundContext,
    steps: any LocalStepRule, noiseSource: NoiseSource
  ) -> ClientUpdate {
    let parameters = global.trainableParameters
    var generator = Xoshiro256StarStar(seed: context.clientSeed(index))
    let batch = steps.batch(
      step: 0, order: Array(data.examples.indices), batchSize: batchSize, using: &generator)
    var gradient = [Float](repeating: 0, count: parameters.scalarCount)
    var loss = 0.0
    var clipped = 0
    if !batch.isEmpty {
      let step = steps.gradient(
        global, batch: averaging.makeBatch(batch.map { data.examples[$0] }),
        labels: batch.map { data.labels[$0] }, activeRank: nil)
      let denominator = steps.denominator(
        batchCount: batch.count, batchSize: batchSize, exampleCount: data.examples.count)
      gradient = step.gradient.flattened().map { $0 / Float(denominator) }
      loss = step.loss * Double(data.examples.count) / Double(batch.count)
      clipped = step.clippedExamples
    }
    let momentum = clientMomenta.update(client: index, gradient: gradient, beta: settings.momentum)
    return ClientUpdate(
      update: parameters.with(flattened: momentum), loss: loss, clippedExamples: clipped,
      localEpochs: 1)
  }

  /// v ← v + s/m; θ ← optimiser step along (η_t/η)·v.
  public mutating func apply(
    _ release: ParameterSet<Float>, to model: inout Model, context: RoundContext
  ) {
    let sum = release.flattened()
    if serverMomentum.isEmpty { serverMomentum = [Float](repeating: 0, count: sum.count) }
    let cohortSize = Float(averaging.cohortSize)
    for index in sum.indices { serverMomentum[index] += sum[index] / cohortSize }
    let factor = Float(settings.learningRateFactor(round: context.round))
    var parameters = model.trainableParameters
    averaging.serverOptimizer.step(
      &parameters, gradient: release.with(flattened: serverMomentum.map { $0 * factor }),
      learningRateFactor: averaging.learningRateFactor(round: context.round))
    model.updateTrainables(parameters)
  }

  /// v and the clients' momenta.
  public var algorithmState: AlgorithmState {
    get { AlgorithmState(serverMomentum: serverMomentum, clientMomenta: clientMomenta.snapshot) }
    set {
      serverMomentum = newValue.serverMomentum
      clientMomenta.restore(newValue.clientMomenta)
    }
  }
}

/// The clients' momenta in a simulation, shared by the server's copy of the algorithm and the
/// backend's (each client's is written only by that client's computation).
public final class ClientMomenta: Sendable {
  private let momenta = Mutex<[Int: [Float]]>([:])

  public init() {}

  /// m ← (1 − β)·g + β·m (m = 0 the first time), returned.
  func update(client: Int, gradient: [Float], beta: Double) -> [Float] {
    momenta.withLock { momenta in
      let previous = momenta[client] ?? [Float](repeating: 0, count: gradient.count)
      let next = zip(gradient, previous).map { Float(1 - beta) * $0 + Float(beta) * $1 }
      momenta[client] = next
      return next
    }
  }

  /// Every client's momentum, by client index.
  var snapshot: [Int: [Float]] { momenta.withLock { $0 } }

  /// Replaces every momentum.
  func restore(_ state: [Int: [Float]]) { momenta.withLock { $0 = state } }
}
