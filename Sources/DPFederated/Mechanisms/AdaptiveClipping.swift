import RealModule

/// Adaptive clipping (Andrew, Thakkar, McMahan & Ramaswamy, NeurIPS 2021; spec §2): the
/// clipping bound C tracks a target quantile γ of the clients' update norms, using a noisy
/// count of the clients whose update was within the bound.
///
/// Privacy: releasing the clipped sum (sensitivity C, noise z_Δ·C) and the count of
/// unclipped clients centred at ½ (sensitivity ½, noise σ_b) is one Gaussian mechanism with
/// 1/z² = 1/z_Δ² + 1/(2σ_b)², so the accountant is run with the overall z exactly as with
/// a fixed bound; the update just gets the slightly larger z_Δ.
public struct AdaptiveClipping: Codable, Equatable, Sendable {
  /// γ, the fraction of clients whose update should fit within C (0.5: the median).
  public var targetQuantile = 0.5
  /// η_C of the geometric update C ← C·exp(−η_C(b̂ − γ)).
  public var learningRate = 0.2
  /// σ_b as a fraction of the noise cohort m_noise (TF-Privacy's default: 0.05).
  public var indicatorNoiseFraction = 0.05

  /// The defaults (γ = 0.5, η_C = 0.2, σ_b = 0.05·m).
  public init() {}

  /// z_Δ = (z⁻² − (2σ_b)⁻²)^(−1/2), the noise multiplier of the update.
  /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)`` unless z < 2σ_b.
  public static func updateNoiseMultiplier(overall z: Double, indicatorNoise sigmaB: Double) throws
    -> Double
  {
    guard z < 2 * sigmaB else {
      throw FederatedError.invalidConfiguration(
        field: "adaptive clipping's indicator noise σ_b", value: "\(sigmaB)",
        allowed: "more than σ/2 = \(z / 2) (raise the noise cohort or the indicator noise fraction)"
      )
    }
    return 1 / (1 / (z * z) - 1 / (4 * sigmaB * sigmaB)).squareRoot()
  }

  /// The next bound from the noisy fraction b̂ of clients whose update fitted. b̂ is first
  /// clamped to [0, 1] (post-processing of the noisy count), so one step moves C by at most
  /// a factor e^η and C stays finite and positive whatever the noise drew.
  public func nextBound(_ bound: Double, unclippedFraction: Double) -> Double {
    let fraction = min(1, max(0, unclippedFraction))
    return bound * Double.exp(-learningRate * (fraction - targetQuantile))
  }
}
