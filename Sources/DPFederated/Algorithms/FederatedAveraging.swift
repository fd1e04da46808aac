import DPModel

/// DP-FedAvg over a model's trainable parameters (McMahan et al., ICLR 2018; spec §1): each
/// client trains locally from the global parameters and sends its update; the server
/// divides the released sum by the fixed, public expected cohort size (never the realised
/// one: under Poisson sampling that would depend on the data) and steps with its optimiser
/// on the live coordinates. With adapters this is DP-LoRA, FFA-LoRA or Fed-SB; without,
/// the head-only and full fine-tuning baselines.
public struct FederatedAveraging<Model: ClassificationModel, Example: Sendable>: FederatedAlgorithm
where Model.Scalar == Float {
  /// The adapters on the model (their rank rule fixes the live coordinates).
  public let adapter: AdapterConfiguration?
  /// m, the fixed denominator of the mean update.
  public let cohortSize: Int
  /// Local epochs, batch size and learning rate.
  let localTraining: LocalTraining
  /// W of the capped example weights min(n_k / W, 1) (`nil`: every client counts the same).
  let clientWeightCap: Int?
  public var serverOptimizer: Optimizer<Float>
  /// The server learning rate's schedule over the planned rounds.
  let serverSchedule: ServerSchedule
  /// T, the rounds the schedule spans.
  let plannedRounds: Int
  let makeBatch: @Sendable ([Example]) -> Model.Batch

  /// FedAvg with the configuration's local training, cohort size and server optimiser.
  public init(
    configuration: FederatedConfiguration, makeBatch: @escaping @Sendable ([Example]) -> Model.Batch
  ) {
    adapter = configuration.adapterConfiguration
    cohortSize = configuration.clientsPerRound
    let steps = configuration.steps
    localTraining = LocalTraining(
      epochs: configuration.localEpochs, batchSize: steps.localBatchSize,
      learningRate: steps.localLearningRate)
    serverOptimizer = steps.serverOptimizer.optimizer(learningRate: steps.serverLearningRate)
    clientWeightCap = configuration.clientWeightCap
    serverSchedule = configuration.serverSchedule
    plannedRounds = configuration.plannedRounds
    self.makeBatch = makeBatch
  }

  /// Every coordinate is live; no rank is chosen.
  public func roundContext(round: Int, seed: UInt64, cohort: [Int], clippingBound: Double)
    -> RoundContext
  {
    context(round: round, seed: seed, cohort: cohort, clippingBound: clippingBound, activeRank: nil)
  }

  /// The context at `activeRank` (DP-DyLoRA's public rank, or `nil`).
  func context(
    round: Int, seed: UInt64, cohort: [Int], clippingBound: Double, activeRank: Int?
  ) -> RoundContext {
    RoundContext(
      round: round, seed: seed, cohort: cohort, activeRank: activeRank,
      live: LiveCoordinates(adapter: adapter, activeRank: activeRank),
      clippingBound: clippingBound, cohortKey: nil)
  }

  public func trainClient(
    _ data: ClientData<Example>, index: Int, global: Model, context: RoundContext,
    steps: any LocalStepRule, noiseSource: NoiseSource
  ) -> ClientUpdate {
    let local = localTraining.train(
      data, from: global, activeRank: context.activeRank, live: context.live,
      seed: context.clientSeed(index), steps: steps, noiseSource: noiseSource,
      makeBatch: makeBatch)
    var update = local.parameters
    update.add(global.trainableParameters, scaledBy: -1)
    if let weight = clientWeight(examples: data.examples.count) {
      update = update.with(flattened: update.flattened().map { $0 * weight })
    }
    return ClientUpdate(
      update: update, loss: local.loss, clippedExamples: local.clippedExamples,
      localEpochs: localTraining.epochs)
  }

  /// The weight min(n / W, 1) of a client of `examples` examples under capped example
  /// weighting (McMahan et al., ICLR 2018, §2: the fixed-denominator estimator with capped
  /// weights), or `nil` when every client counts the same. It scales the update before the
  /// clip, so the sensitivity stays C; without privacy it makes the server's mean follow the
  /// examples rather than the clients (up to the cap, and the factor mean(w) that an
  /// adaptive server optimiser absorbs).
  func clientWeight(examples: Int) -> Float? {
    clientWeightCap.map { Float(min(Double(examples) / Double($0), 1)) }
  }

  /// The factor on the server learning rate in round `round` (from 0).
  func learningRateFactor(round: Int) -> Double {
    serverSchedule.factor(round: round, rounds: plannedRounds)
  }

  /// θ ← optimiser step along the mean update Σ/m, at the round's scheduled learning rate,
  /// on the live coordinates only.
  public mutating func apply(
    _ release: ParameterSet<Float>, to model: inout Model, context: RoundContext
  ) {
    let global = model.trainableParameters
    let estimate = release.with(flattened: release.flattened().map { $0 / Float(cohortSize) })
    var parameters = global
    serverOptimizer.step(
      &parameters, gradient: estimate.with(flattened: estimate.flattened().map { -$0 }),
      learningRateFactor: learningRateFactor(round: context.round))
    var values = global.flattened()
    let stepped = parameters.flattened()
    for index in context.live.indices(in: global) { values[index] = stepped[index] }
    model.updateTrainables(global.with(flattened: values))
  }
}
