/// A privacy target (ε, δ): ε finite and > 0, δ in (0, 1).
public struct PrivacyBudget: Hashable, Sendable, Codable {
  /// The privacy-loss bound ε.
  public let epsilon: Double
  /// The failure probability δ.
  public let delta: Double

  /// Creates a validated budget.
  /// - Throws: ``AccountingError/invalidArgument(name:value:requirement:)`` when ε is not
  ///   finite and > 0, or δ is not in (0, 1).
  public init(epsilon: Double, delta: Double) throws(AccountingError) {
    guard epsilon.isFinite, epsilon > 0 else {
      throw .invalidArgument(name: "epsilon", value: epsilon, requirement: "be finite and > 0")
    }
    guard delta > 0, delta < 1 else {
      throw .invalidArgument(name: "delta", value: delta, requirement: "be in (0, 1)")
    }
    self.epsilon = epsilon
    self.delta = delta
  }
}
