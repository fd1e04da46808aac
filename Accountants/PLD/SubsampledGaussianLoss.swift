import RealModule

/// The privacy loss of one release of the Poisson-subsampled Gaussian mechanism
/// (sensitivity 1, noise multiplier σ, sampling probability q), in one direction of the
/// add/remove relation, with its exact hockey-stick curve δ(ε).
///
/// With μ₀ = N(0, σ²), μ₁ = N(1, σ²) and the mixture μ = (1−q)μ₀ + qμ₁:
/// - remove: δ(ε) = sup_S μ(S) − e^ε μ₀(S);
/// - add: δ(ε) = sup_S μ₀(S) − e^ε μ(S).
/// Both reduce to the Gaussian curve δ_G(ε) = Φ̄(σε − 1/(2σ)) − e^ε Φ̄(σε + 1/(2σ)) (Balle &
/// Wang 2018, Thm 8): δ_remove(ε) = q·δ_G(log(1 + (e^ε − 1)/q)) for ε > log(1 − q) (and
/// 1 − e^ε below), δ_add(ε) = (1 − e^ε(1−q))·δ_G(−log(1 + (e^{−ε} − 1)/q)) for
/// ε < −log(1 − q) (and 0 above). Everything is evaluated in log space, so δ stays
/// accurate down to 1e-300 and for ε up to several hundred.
struct SubsampledGaussianLoss: Hashable, Sendable {
  enum Direction: Hashable, Sendable {
    case remove
    case add
  }

  var probability: Double
  var noiseMultiplier: Double
  var direction: Direction

  /// The largest standard-normal quantile of the tail mass dropped at each end (Φ̄(12) ≈
  /// 1.8e-33): far below any δ a query can ask for.
  static let truncation = 12.0

  /// The standard-normal quantile z ≤ ``truncation`` with Φ̄(z) ≤ `tailMass` (to 1e-9
  /// in z, from above; z ≥ 1).
  static func truncation(tailMass: Double) -> Double {
    let target = Double.log(tailMass)
    if logSurvival(truncation) > target { return truncation }
    var (low, high) = (1.0, truncation)
    if logSurvival(low) <= target { return low }
    while high - low > 1e-9 {
      let middle = (low + high) / 2
      if logSurvival(middle) > target { low = middle } else { high = middle }
    }
    return high
  }

  /// The exact hockey-stick divergence at ε.
  func delta(epsilon: Double) -> Double {
    let q = probability
    switch direction {
    case .remove:
      if q < 1, epsilon <= Double.log(onePlus: -q) { return -Double.expMinusOne(epsilon) }
      let ratio = Double.expMinusOne(epsilon) / q
      return q
        * Self.gaussianDelta(
          epsilon: Double.log(onePlus: ratio), sigma: noiseMultiplier, expEpsilon: 1 + ratio)
    case .add:
      if q < 1, epsilon >= -Double.log(onePlus: -q) { return 0 }
      let ratio = Double.expMinusOne(-epsilon) / q
      let factor = q < 1 ? -Double.expMinusOne(epsilon + Double.log(onePlus: -q)) : 1
      return factor
        * Self.gaussianDelta(
          epsilon: -Double.log(onePlus: ratio), sigma: noiseMultiplier, expEpsilon: 1 / (1 + ratio))
    }
  }

  /// The privacy losses that carry all but Φ̄(z) of the mass at each end, for the
  /// standard-normal quantile z (at most ``truncation``). Any range is sound for
  /// connect-the-dots (the mass beyond it moves to its ends or to +∞); a narrower one is
  /// cheaper and moves more mass.
  func lossRange(truncation z: Double) -> ClosedRange<Double> {
    let sigma = noiseMultiplier
    func loss(_ x: Double) -> Double {
      let gaussian = (2 * x - 1) / (2 * sigma * sigma)
      // Unsampled, the loss is linear in x: no log1p(−1) = −∞ far in the lower tail.
      return probability == 1
        ? gaussian : Double.log(onePlus: probability * Double.expMinusOne(gaussian))
    }
    switch direction {
    case .remove:
      return loss(-z * sigma)...loss(1 + z * sigma)
    case .add:
      return -loss(z * sigma)...(-loss(-z * sigma))
    }
  }

  /// δ_G(ε) = Φ̄(b) − e^ε Φ̄(a) with b = σε − 1/(2σ), a = σε + 1/(2σ): the Gaussian
  /// mechanism's curve with noise multiplier σ.
  ///
  /// While erfc is far from underflow (a < ``directLimit``) it is Φ̄(b)·(1 − r) with
  /// r = e^ε erfc(a/√2)/erfc(b/√2), which carries a few ulps, so 1 − r loses no more digits
  /// than any form of the difference must; beyond, exp(log Φ̄(b))·(−expm1(ε + log Φ̄(a) −
  /// log Φ̄(b))) in log space.
  /// - Parameter expEpsilon: e^ε, when the caller has it more accurately than exp(ε).
  static func gaussianDelta(epsilon: Double, sigma: Double, expEpsilon: Double? = nil) -> Double {
    let b = sigma * epsilon - 1 / (2 * sigma)
    let a = sigma * epsilon + 1 / (2 * sigma)
    if a < directLimit {
      let erfcB = Double.erfc(b / 2.0.squareRoot())
      let ratio =
        (expEpsilon ?? Double.exp(epsilon)) * Double.erfc(a / 2.0.squareRoot()) / erfcB
      if ratio.isFinite { return ratio < 1 ? 0.5 * erfcB * (1 - ratio) : 0 }
    }
    let logB = logSurvival(b)
    let gap = epsilon + logSurvival(a) - logB
    guard gap < 0 else { return 0 }
    return Double.exp(logB) * -Double.expMinusOne(gap)
  }

  /// The largest a = σε + 1/(2σ) for the direct form of ``gaussianDelta(epsilon:sigma:expEpsilon:)``:
  /// the library's erfc is accurate to a few ulps up to its argument 20 (erfc(20) ≈ 5e-176).
  static let directLimit = 20 * 2.0.squareRoot()

  /// log Φ̄(z) = log(½ erfc(z/√2)).
  static func logSurvival(_ z: Double) -> Double {
    Double.log(0.5) + LogSpace.erfc(z / 2.0.squareRoot())
  }
}
