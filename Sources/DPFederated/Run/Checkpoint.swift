import DPModel

/// The state after a number of rounds: enough to continue a run exactly.
public struct Checkpoint: Codable, Equatable, Sendable {
  /// Rounds completed.
  public var round: Int
  /// ε spent after those rounds.
  public var epsilonSpent: Double
  /// The trainable parameters.
  public var trainables: ParameterSet<Float>
  /// The server optimiser with its state.
  public var serverOptimizer: Optimizer<Float>
  /// The clipping bound for the next round (it moves with adaptive clipping).
  public var clippingBound: Double
}
