import DPModel

/// A federated algorithm (ARCHITECTURE, "the federated seam"; pfl-research's
/// FederatedAlgorithm): the round's public choices, what a client computes from them, and
/// how the server steps from the released sum. Privacy is not its concern: the
/// ``PrivacyMechanism`` constrains and noises what clients send, and the
/// ``PrivacyLedger`` accounts every release.
///
/// Conformers: ``FederatedAveraging`` (DP-FedAvg over the LoRA-family adapters, the head
/// or all weights) and ``DPDyLoRA`` (a public rank per round). A new algorithm is one file
/// plus its registration in `FederatedMethod+Registration.swift`.
public protocol FederatedAlgorithm<Model, Example>: Sendable {
  associatedtype Model: ClassificationModel where Model.Scalar == Float
  associatedtype Example: Sendable

  /// The server optimiser and its state (checkpointed).
  var serverOptimizer: Optimizer<Float> { get set }

  /// The round's public choices, given the round, its seed, its cohort and the bound the
  /// mechanism clips to.
  func roundContext(round: Int, seed: UInt64, cohort: [Int], clippingBound: Double)
    -> RoundContext

  /// What client `index` computes in the round: its update (trained minus global
  /// parameters) and what local training recorded.
  func trainClient(
    _ data: ClientData<Example>, index: Int, global: Model, context: RoundContext,
    steps: any LocalStepRule, noiseSource: NoiseSource
  ) -> ClientUpdate

  /// The server's step from the round's released sum.
  mutating func apply(_ release: ParameterSet<Float>, to model: inout Model, context: RoundContext)
}

/// A client's update before the mechanism constrains it.
public struct ClientUpdate: Sendable {
  /// Trained minus global parameters.
  public var update: ParameterSet<Float>
  /// The sum of the last local epoch's per-example losses.
  public var loss: Double
  /// Per-example gradients DP-SGD clipped (0 with plain SGD).
  public var clippedExamples: Int
  /// Local epochs run.
  public var localEpochs: Int
}
