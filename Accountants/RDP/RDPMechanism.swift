import RealModule

/// One release whose per-step RDP curve the RDP accountant knows: the leaves a
/// ``DPEvent`` is flattened into (nested Gaussians on one sample already reduced to one).
enum RDPMechanism: Hashable, Sendable {
  case nonPrivate
  case gaussian(noiseMultiplier: Double)
  case laplace(noiseMultiplier: Double)
  case poissonSampledGaussian(probability: Double, noiseMultiplier: Double)
  case sampledWithoutReplacementGaussian(fraction: Double, noiseMultiplier: Double)

  /// Per-step RDP at order α.
  func epsilon(order alpha: Double) -> Double {
    switch self {
    case .nonPrivate:
      return .infinity
    case .gaussian(let sigma):
      return SubsampledGaussianRDP.epsilon(
        samplingProbability: 1, noiseMultiplier: sigma, order: alpha)
    case .laplace(let b):
      return LaplaceRDP.epsilon(noiseMultiplier: b, order: alpha)
    case .poissonSampledGaussian(let q, let sigma):
      return SubsampledGaussianRDP.epsilon(
        samplingProbability: q, noiseMultiplier: sigma, order: alpha)
    case .sampledWithoutReplacementGaussian(let fraction, let sigma):
      return SampledWithoutReplacementRDP.epsilon(
        samplingFraction: fraction, noiseMultiplier: sigma, order: alpha)
    }
  }

  /// Whether ``epsilon(order:)`` is cheap (closed form), so that it serves as its own
  /// lower bound when the accountant prunes orders.
  var hasClosedForm: Bool {
    switch self {
    case .nonPrivate, .gaussian, .laplace: return true
    case .poissonSampledGaussian(let q, _): return q == 0 || q == 1
    case .sampledWithoutReplacementGaussian(let fraction, _): return fraction == 0 || fraction == 1
    }
  }

  /// Whether ``epsilon(order:)`` at `alpha` is the exact RDP (up to rounding), so that by
  /// monotonicity of RDP in α it bounds the value at every larger order from below.
  /// True for the Poisson-subsampled Gaussian at integer orders (a finite sum); false at
  /// fractional orders, whose series is an upper bound, and for sampling without
  /// replacement, whose values are Theorem 27 bounds, not RDP itself.
  func isExactAnchor(order alpha: Double) -> Bool {
    switch self {
    case .nonPrivate, .gaussian, .laplace: return true
    case .poissonSampledGaussian: return alpha.rounded() == alpha
    case .sampledWithoutReplacementGaussian: return false
    }
  }

  /// Whether integer orders are exact (finite sums, up to rounding) and cheap, so that
  /// their values bound fractional and larger orders from below (see ``RDPCurve``).
  var hasExactIntegerOrders: Bool {
    switch self {
    case .poissonSampledGaussian: return true
    case .nonPrivate, .gaussian, .laplace, .sampledWithoutReplacementGaussian: return false
    }
  }

  /// A lower bound on the RDP at every order α > 1, valid without evaluating any order:
  /// RDP(α) ≥ KL ≥ 2·TV² (Pinsker), and for the Poisson-subsampled Gaussian
  /// TV = q·TV(N(1, σ²), N(0, σ²)) = q·erf(1/(2√2σ)). 0 where nothing better is known.
  var orderFreeLowerBound: Double {
    switch self {
    case .nonPrivate:
      return .infinity
    case .gaussian(let sigma):
      return sigma == 0 ? .infinity : 1 / (2 * sigma * sigma)
    case .poissonSampledGaussian(let q, let sigma):
      guard sigma > 0 else { return q > 0 ? .infinity : 0 }
      let totalVariation = q * Double.erf(1 / (2 * 2.0.squareRoot() * sigma))
      return 2 * totalVariation * totalVariation
    case .laplace, .sampledWithoutReplacementGaussian:
      return 0
    }
  }
}
