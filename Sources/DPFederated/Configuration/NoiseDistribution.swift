import Accountants
import ArgumentParser

/// Which Gaussian the user-level central mechanism adds to the cohort sum
/// (`--noise-distribution`).
public enum NoiseDistribution: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// N(0, (σC)²) drawn in floating point (the default; PLD-accountable).
  case continuous
  /// Clients' updates rounded to a grid γℤ^d, exact N_ℤ noise on the integer sum
  /// (``DiscreteGrid``, ``DiscreteGaussian``): no floating-point attack on the noise
  /// (Mironov 2012); accounted by RDP with Zhu & Wang's general Poisson bound.
  case discrete

  /// The unsampled event of one release with noise multiplier σ (noise parameter σ·Δ).
  public func event(noiseMultiplier: Double) -> DPEvent {
    switch self {
    case .continuous: .gaussian(noiseMultiplier: noiseMultiplier)
    case .discrete: .discreteGaussian(noiseMultiplier: noiseMultiplier)
    }
  }
}
