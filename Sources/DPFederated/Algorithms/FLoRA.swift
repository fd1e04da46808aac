import DPModel

/// FLoRA (Wang et al., NeurIPS 2024; spec `brem-flora.md` §2.3): the server holds dense
/// weights; each round every client of the cohort attaches a fresh LoRA of its own rank r_k
/// (A from the client's round seed, B = 0, scale s = α/r the same for every client, as
/// FLoRA's α_k = 2·r_k makes it), trains it with the head, and its update is the merged
/// change: s·B_k·A_k on each adapted layer and the head's change. The server adds the
/// updates, divides by the fixed m and merges the result into the weights
/// (``FederatedAveraging``'s step on every coordinate).
///
/// Σ_k s·B_k·A_k/m is exactly the product of FLoRA's stack [B_1 … B_K]·[A_1/m; …; A_K/m], so
/// this is stacking's aggregate, heterogeneous ranks included. Two departures, both for DP
/// (spec §2.6): the weights are the fixed 1/m, not n_k/Σn (a data-dependent denominator);
/// and what is released is the dense sum, since a stack shows each client's block as it is,
/// which no noise on a sum can hide. At user level each client's merged update is clipped
/// whole to C and the noise goes on the dense sum; at example level local DP-SGD trains the
/// adapter and merging is post-processing.
public struct FLoRA<Model: ClassificationModel, Example: Sendable>: FederatedAlgorithm
where Model.Scalar == Float {
  /// FedAvg's context and server step over the dense weights.
  var averaging: FederatedAveraging<Model, Example>
  /// The clients' ranks, dealt in turn: client k has `clientRanks[k % count]`.
  public let clientRanks: [Int]
  /// s = α/r, every client's LoRA scale.
  public let scale: Double

  public init(
    configuration: FederatedConfiguration, makeBatch: @escaping @Sendable ([Example]) -> Model.Batch
  ) {
    averaging = FederatedAveraging(configuration: configuration, makeBatch: makeBatch)
    clientRanks = configuration.clientRankList
    scale = configuration.alpha / Double(configuration.rank)
  }

  public var serverOptimizer: Optimizer<Float> {
    get { averaging.serverOptimizer }
    set { averaging.serverOptimizer = newValue }
  }

  /// Client `client`'s LoRA rank.
  public func rank(ofClient client: Int) -> Int { clientRanks[client % clientRanks.count] }

  /// The fresh adapter client `client` trains in the round: rank r_k, α = s·r_k, factors from
  /// the client's round seed.
  public func adapter(client: Int, context: RoundContext) -> AdapterConfiguration {
    let rank = rank(ofClient: client)
    return AdapterConfiguration(
      kind: .lora, rank: rank, alpha: scale * Double(rank), seed: context.clientSeed(client))
  }

  public func roundContext(round: Int, seed: UInt64, cohort: [Int], clippingBound: Double)
    -> RoundContext
  {
    averaging.roundContext(round: round, seed: seed, cohort: cohort, clippingBound: clippingBound)
  }

  /// The merged update of a fresh LoRA trained on the client's data, and the bits of the
  /// factors the client sends (the server sends the dense weights back).
  /// - Precondition: the model supports FLoRA (``ClassificationModel/withFreshAdapters(_:)``,
  ///   ``ClassificationModel/adapterWeightDeltas()``);
  ///   the run refuses other models before the first round.
  public func trainClient(
    _ data: ClientData<Example>, index: Int, global: Model, context: RoundContext,
    steps: any LocalStepRule, noiseSource: NoiseSource
  ) -> ClientUpdate {
    guard var local = global.withFreshAdapters(adapter(client: index, context: context)) else {
      preconditionFailure("FLoRA on a model without adapter merging")
    }
    // It sends its factors A_k, B_k and the head's change as float32 (the server forms
    // s·B_k·A_k; at user level it clips that, a trusted server's step).
    let bitsSent = local.trainableParameters.scalarCount * 32
    let trained = averaging.localTraining.train(
      data, from: local, activeRank: nil, live: .all, seed: context.clientSeed(index),
      steps: steps, noiseSource: noiseSource, makeBatch: averaging.makeBatch)
    local.updateTrainables(trained.parameters)
    let deltas = local.adapterWeightDeltas()!
    let changed = local.trainableParameters
    let start = global.trainableParameters
    let update = ParameterSet(
      zip(start.names, start.matrices).map { name, value in
        (
          name,
          deltas[name] ?? changed[name].map { $0 - value }
            ?? Matrix(rows: value.rows, columns: value.columns)
        )
      })
    return ClientUpdate(
      update: update, loss: trained.loss, clippedExamples: trained.clippedExamples,
      localEpochs: averaging.localTraining.epochs, bitsSent: bitsSent)
  }

  public mutating func apply(
    _ release: ParameterSet<Float>, to model: inout Model, context: RoundContext
  ) {
    averaging.apply(release, to: &model, context: context)
  }
}
