import DPModel

/// DP-DyLoRA (Xu et al., arXiv 2405.06368; spec §5): FedAvg over a DyLoRA adapter whose
/// active rank b is drawn each round by the server from public randomness, uniform on
/// 1…r and the same for the whole cohort (a rank drawn per client would make what is sent
/// depend on the client). Clients train, clip and send only the components live at b, and
/// only those are noised; everything else is ``FederatedAveraging``.
public struct DPDyLoRA<Model: ClassificationModel, Example: Sendable>: FederatedAlgorithm
where Model.Scalar == Float {
  /// FedAvg at the round's rank.
  var averaging: FederatedAveraging<Model, Example>
  /// r, the adapter's maximum rank.
  public let maximumRank: Int

  public init(
    configuration: FederatedConfiguration, makeBatch: @escaping @Sendable ([Example]) -> Model.Batch
  ) {
    averaging = FederatedAveraging(configuration: configuration, makeBatch: makeBatch)
    maximumRank = configuration.rank
  }

  public var serverOptimizer: Optimizer<Float> {
    get { averaging.serverOptimizer }
    set { averaging.serverOptimizer = newValue }
  }

  /// The round's rank: uniform on 1…r from the round's public seed.
  public func activeRank(roundSeed: UInt64) -> Int {
    var generator = Xoshiro256StarStar(seed: roundSeed ^ 0x7261_6E6B)
    return Int.random(in: 1...maximumRank, using: &generator)
  }

  public func roundContext(round: Int, seed: UInt64, cohort: [Int], clippingBound: Double)
    -> RoundContext
  {
    averaging.context(
      round: round, seed: seed, cohort: cohort, clippingBound: clippingBound,
      activeRank: activeRank(roundSeed: seed))
  }

  public func trainClient(
    _ data: ClientData<Example>, index: Int, global: Model, context: RoundContext,
    steps: any LocalStepRule, noiseSource: NoiseSource
  ) -> ClientUpdate {
    averaging.trainClient(
      data, index: index, global: global, context: context, steps: steps,
      noiseSource: noiseSource)
  }

  public mutating func apply(
    _ release: ParameterSet<Float>, to model: inout Model, context: RoundContext
  ) {
    averaging.apply(release, to: &model, context: context)
  }
}
