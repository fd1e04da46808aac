import ArgumentParser

/// What one unit of privacy protects (`--privacy-unit`). ε values of different units are
/// never comparable.
public enum PrivacyUnit: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// A whole client's data (DP-FedAvg: one clip per client, central noise).
  case user
  /// One example (DP-SGD inside each client: per-example clipping, local noise).
  case example
}
