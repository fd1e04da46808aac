import ArgumentParser

/// Where example-level noise is added (`--example-noise`). Both protect one example with
/// the same σ and the same event; they differ in whom they trust and in how much noise the
/// mean carries.
public enum ExampleNoise: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// Each client's DP-SGD adds N(0, (σC)²) to every local step's sum
  /// (``LocalDPSGDMechanism``): the server sees only noised updates, so an example is
  /// protected from the server too. The mean of m clients' updates carries √m clients'
  /// noise. The default.
  case client
  /// Each client takes one step of per-example clipped gradients without noise, and the
  /// server (or a secure aggregation that adds the noise jointly) adds N(0, (σηC/B)²) once
  /// to the cohort's sum (``CentralDPSGDMechanism``): the trust of user level, and √m times
  /// less noise on the mean of m clients than ``client`` at the same ε.
  case server
}
