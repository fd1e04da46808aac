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
  /// The algorithm's state between rounds (`nil` when it has none).
  public var algorithmState: AlgorithmState?
}

extension Checkpoint {
  /// What makes this checkpoint unusable for a run of `configuration` whose model's
  /// trainables are `trainables` and whose server optimiser is `optimizer` (`nil`: usable).
  /// Checked before anything is restored, so a damaged checkpoint is refused, never trapped on.
  func problem(
    trainables expected: ParameterSet<Float>, optimizer: Optimizer<Float>,
    configuration: FederatedConfiguration
  ) -> String? {
    guard (0...configuration.plannedRounds).contains(round) else {
      return "round \(round) is outside 0...\(configuration.plannedRounds)"
    }
    guard trainables.names == expected.names else {
      return "its parameters \(trainables.names.prefix(3))… are not the model's \(expected.names.prefix(3))…"
    }
    for (name, (found, wanted)) in zip(expected.names, zip(trainables.matrices, expected.matrices)) {
      guard found.rows == wanted.rows && found.columns == wanted.columns else {
        return "\(name) is \(found.rows)×\(found.columns), not \(wanted.rows)×\(wanted.columns)"
      }
      guard found.values.allSatisfy(\.isFinite) else { return "\(name) holds a non-finite value" }
    }
    guard clippingBound > 0 && clippingBound.isFinite else {
      return "clipping bound \(clippingBound) is not a finite number > 0"
    }
    guard epsilonSpent >= 0 else { return "ε spent \(epsilonSpent) is negative" }
    guard serverOptimizer.rule == optimizer.rule, serverOptimizer.fits(expected) else {
      return "its server optimiser does not match the configuration's"
    }
    if let state = algorithmState {
      let count = expected.scalarCount
      let vectors = [state.serverMomentum] + Array(state.clientMomenta.values)
      guard vectors.allSatisfy({ $0.isEmpty || $0.count == count && $0.allSatisfy(\.isFinite) })
      else { return "its algorithm state does not fit the model's \(count) finite parameters" }
    }
    return nil
  }
}
