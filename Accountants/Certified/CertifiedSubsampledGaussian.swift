internal import CMPFR

/// Upper bounds, in directed-rounding MPFR arithmetic, of the per-step RDP of the
/// Poisson-subsampled Gaussian at integer orders (Mironov, Talwar & Zhang 2019,
/// arXiv:1908.10530v1, §3.2).
///
/// With μ₀ = N(0, σ²), μ₁ = N(1, σ²), μ = (1−q)μ₀ + qμ₁ and an integer order α ≥ 2,
///
///     R(α) = log A_α / (α − 1),   A_α = Σ_{k=0}^{α} w_k E_k,
///     w_k = C(α,k) (1−q)^{α−k} q^k,   E_k = exp(k(k−1) / (2σ²)).
///
/// Since Σ_k w_k = 1 exactly, A_α − 1 = Σ_{k≥2} w_k (E_k − 1): a sum of non-negative
/// terms with no cancellation, however close A_α is to 1 (q = 1e-6 gives
/// A_α − 1 ≈ 1e-12). The code bounds every w_k and E_k − 1 from above and takes
/// log A_α = log1p(A_α − 1) rounded up; all operations are monotone in their inputs, so
/// the result is ≥ the exact log A_α.
///
/// Recurrences (one MPFR transcendental per order, not per term), with S = 1/σ²,
/// y = e^S and g = y − 1 = expm1(S):
///
///     w_0 = (1−q)^α,           w_k = w_{k−1} · (α−k+1)/k · q/(1−q)
///     G_1 = 0,                 G_k = e^{(k−1)S} − 1 = G_{k−1}·g + G_{k−1} + g
///     D_1 = 0,                 D_k = E_k − 1      = D_{k−1}·G_k + D_{k−1} + G_k
///
/// (E_k = E_{k−1}·e^{(k−1)S}.) Every right-hand side is a sum of products of
/// non-negative numbers, so rounding each operation up gives upper bounds; q/(1−q) is
/// rounded up by dividing by 1−q rounded *down*. Each recurrence step adds a few
/// roundings of relative size 2^{−p}, so after α ≤ 1024 steps the relative excess of
/// w_k and D_k is below about 3α²·2^{−p} ≈ 1e-32 at p = 128 bits: far below a Double ulp.
/// Overflow (e^{k(k−1)/(2σ²)} beyond MPFR's exponent range, 2^(2^30)) rounds up to +∞,
/// which is still an upper bound.
enum CertifiedSubsampledGaussian {
  /// Reusable MPFR scratch values for ``logA(into:probability:inverseVariance:order:scratch:)``.
  final class Scratch {
    let oneMinusQUp = MPFRNumber()
    let oneMinusQDown = MPFRNumber()
    let ratio = MPFRNumber()
    let weight = MPFRNumber()
    let growth = MPFRNumber()
    let gap = MPFRNumber()
    let excess = MPFRNumber()
    let product = MPFRNumber()
    let sum = MPFRNumber()
  }

  /// Sets `result` to an upper bound of log A_α.
  /// - Parameters:
  ///   - q: the sampling probability, exact, 0 < q < 1.
  ///   - s: an upper bound of Σᵢ σᵢ⁻² (1/σ² for one Gaussian), finite and > 0.
  ///   - alpha: the order, ≥ 2.
  static func logA(
    into result: MPFRNumber, probability q: MPFRNumber, inverseVariance s: MPFRNumber,
    order alpha: Int, scratch: Scratch
  ) {
    precondition(alpha >= 2, "integer orders start at 2; got \(alpha)")
    let order = UInt(alpha)
    // The raw pointers, hoisted: the loop is ~10 MPFR calls per term and α terms.
    let ratio = scratch.ratio.raw, weight = scratch.weight.raw, growth = scratch.growth.raw
    let gap = scratch.gap.raw, excess = scratch.excess.raw, product = scratch.product.raw,
      sum = scratch.sum.raw
    // q/(1−q) rounded up: numerator exact, denominator rounded down.
    mpfr_ui_sub(scratch.oneMinusQDown.raw, 1, q.raw, MPFR_RNDD)
    mpfr_div(ratio, q.raw, scratch.oneMinusQDown.raw, MPFR_RNDU)
    // w_0 = (1−q)^α rounded up (1−q rounded up first).
    mpfr_ui_sub(scratch.oneMinusQUp.raw, 1, q.raw, MPFR_RNDU)
    mpfr_pow_ui(weight, scratch.oneMinusQUp.raw, order, MPFR_RNDU)
    // g = expm1(S) rounded up.
    mpfr_expm1(growth, s.raw, MPFR_RNDU)
    mpfr_set_zero(gap, 1)  // G_1
    mpfr_set_zero(excess, 1)  // D_1
    mpfr_set_zero(sum, 1)
    for k in 1...order {
      // w_k = w_{k−1} · (α−k+1) / k · q/(1−q)
      mpfr_mul_ui(weight, weight, order - k + 1, MPFR_RNDU)
      mpfr_div_ui(weight, weight, k, MPFR_RNDU)
      mpfr_mul(weight, weight, ratio, MPFR_RNDU)
      guard k >= 2 else { continue }  // w_0 and w_1 multiply E_k − 1 = 0
      // G_k = G_{k−1}·g + G_{k−1} + g
      mpfr_mul(product, gap, growth, MPFR_RNDU)
      mpfr_add(gap, gap, product, MPFR_RNDU)
      mpfr_add(gap, gap, growth, MPFR_RNDU)
      // D_k = D_{k−1}·G_k + D_{k−1} + G_k
      mpfr_mul(product, excess, gap, MPFR_RNDU)
      mpfr_add(excess, excess, product, MPFR_RNDU)
      mpfr_add(excess, excess, gap, MPFR_RNDU)
      // A_α − 1 += w_k · D_k
      mpfr_mul(product, weight, excess, MPFR_RNDU)
      mpfr_add(sum, sum, product, MPFR_RNDU)
    }
    mpfr_log1p(result.raw, sum, MPFR_RNDU)
  }

  /// Sets `result` to an upper bound of the per-step RDP R(α) at integer order α ≥ 2.
  ///
  /// Special cases first, as in the Double accountant: S = 0 (σ = ∞) → 0; S = ∞ (σ = 0)
  /// → ∞; q = 1 → α·S/2 = α/(2σ²) (the Gaussian mechanism); otherwise
  /// log A_α / (α − 1) with both steps rounded up.
  /// - Parameters:
  ///   - q: the sampling probability, exact, 0 < q ≤ 1 (q = 0 never reaches here).
  ///   - s: an upper bound of Σᵢ σᵢ⁻², ≥ 0, possibly +∞.
  static func rdp(
    into result: MPFRNumber, probability q: MPFRNumber, inverseVariance s: MPFRNumber,
    order alpha: Int, scratch: Scratch
  ) {
    if s.isZero {
      result.setZero()
    } else if s.isInfinite {
      result.setInfinity()
    } else if mpfr_cmp_ui(q.raw, 1) == 0 {
      mpfr_mul_ui(result.raw, s.raw, UInt(alpha), MPFR_RNDU)
      mpfr_div_2ui(result.raw, result.raw, 1, MPFR_RNDU)
    } else {
      logA(into: result, probability: q, inverseVariance: s, order: alpha, scratch: scratch)
      mpfr_div_ui(result.raw, result.raw, UInt(alpha - 1), MPFR_RNDU)
    }
  }

  /// An upper bound of log A_α for one Poisson-subsampled Gaussian, rounded up to a
  /// Double (for tests against quadrature): 0 for q = 0, +∞ for σ = 0, α(α−1)/(2σ²)
  /// for q = 1.
  /// - Precondition: q ∈ [0, 1], σ ≥ 0, α ≥ 2.
  static func logAUpperBound(probability: Double, noiseMultiplier: Double, order alpha: Int)
    -> Double
  {
    if probability == 0 { return 0 }
    let s = MPFRNumber()
    inverseVariance(into: s, of: .gaussian(noiseMultiplier: noiseMultiplier))
    if s.isInfinite { return .infinity }
    let result = MPFRNumber()
    if probability == 1 {
      mpfr_mul_ui(result.raw, s.raw, UInt(alpha), MPFR_RNDU)
      mpfr_mul_ui(result.raw, result.raw, UInt(alpha - 1), MPFR_RNDU)
      mpfr_div_2ui(result.raw, result.raw, 1, MPFR_RNDU)
    } else {
      let q = MPFRNumber(exactly: probability)
      logA(into: result, probability: q, inverseVariance: s, order: alpha, scratch: Scratch())
    }
    return result.roundedUp
  }

  /// Sets `result` to an upper bound of Σᵢ σᵢ⁻² over the Gaussians of `event` (each
  /// repetition counted), the inverse variance of the single Gaussian that a composition
  /// of Gaussians on the same sample is equivalent to (arXiv:1812.06210 §3): 1/σ² is
  /// rounded up from σ² rounded down, and the sum and products are rounded up. σ = 0
  /// gives +∞; an empty composition gives 0 (σ = ∞).
  ///
  /// This is ``RDPAccountant``'s effective-noise-multiplier rule, (Σσᵢ⁻²)^(−1/2), carried
  /// out in directed rounding: the Double version rounds to nearest several times and
  /// can return a σ one ulp *above* the exact one, which would not be a bound.
  /// - Precondition: `event` is a Gaussian or a (self-)composition of Gaussians.
  static func inverseVariance(into result: MPFRNumber, of event: DPEvent) {
    switch event {
    case .gaussian(let noiseMultiplier):
      if noiseMultiplier == 0 {
        result.setInfinity()
        return
      }
      let sigma = MPFRNumber(exactly: noiseMultiplier)
      mpfr_sqr(sigma.raw, sigma.raw, MPFR_RNDD)
      mpfr_ui_div(result.raw, 1, sigma.raw, MPFR_RNDU)
    case .selfComposed(let inner, let count):
      if count == 0 {
        result.setZero()
        return
      }
      inverseVariance(into: result, of: inner)
      mpfr_mul_ui(result.raw, result.raw, UInt(count), MPFR_RNDU)
    case .composed(let events):
      result.setZero()
      let part = MPFRNumber()
      for inner in events {
        inverseVariance(into: part, of: inner)
        mpfr_add(result.raw, result.raw, part.raw, MPFR_RNDU)
      }
    case .noOp, .nonPrivate, .laplace, .discreteGaussian, .poissonSampled,
      .sampledWithoutReplacement, .relativeEntropyCoded, .participationSampled, .tuned,
      .momentumGaussian:
      preconditionFailure("inverseVariance called on an unsupported event \(event)")
    }
  }
}
