import RealModule

/// Per-step RDP of the Poisson-subsampled Gaussian mechanism (the Sampled Gaussian
/// Mechanism, SGM) under add/remove neighbours.
///
/// Mironov, Talwar & Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian
/// Mechanism" (arXiv:1908.10530v1): with μ₀ = N(0, σ²), μ₁ = N(1, σ²) and
/// μ = (1−q)μ₀ + qμ₁, ε(α) = log A_α / (α − 1) where A_α = E_{z∼μ₀}[(μ(z)/μ₀(z))^α].
/// The arithmetic deliberately follows dp_accounting 0.6.0 operation by operation so
/// that the two agree to ~1e-12 relative; the golden tests hold it to 1e-9.
enum SubsampledGaussianRDP {
  /// Iterations after which the fractional-order series is declared non-convergent and
  /// the order is excluded (+∞), as in dp_accounting (`_MAX_STEPS_LOG_A_FRAC`).
  static let maximumSeriesTerms = 1000

  /// ε(α) of one step with sampling probability q and noise multiplier σ.
  ///
  /// Special cases first: q = 0 → 0; σ = 0 → +∞; q = 1 → α/(2σ²) (the Gaussian
  /// mechanism; the general formulas divide by log(1 − q)); σ = +∞ → 0.
  static func epsilon(
    samplingProbability q: Double, noiseMultiplier sigma: Double, order alpha: Double
  ) -> Double {
    if q == 0 || sigma == .infinity { return 0 }
    if sigma == 0 { return .infinity }
    if q == 1 { return alpha / (2 * sigma * sigma) }
    let logA =
      alpha.rounded() == alpha
      ? logAInteger(q: q, sigma: sigma, alpha: Int(alpha))
      : logAFractional(q: q, sigma: sigma, alpha: alpha)
    // A NaN can only come from an arithmetic corner; excluding the order is the safe answer.
    return logA.isNaN ? .infinity : logA / (alpha - 1)
  }

  /// log A_α for integer α ≥ 2 (MTZ19 §3.2, a finite binomial expansion):
  /// A_α = Σ_{k=0}^{α} C(α,k) (1−q)^{α−k} q^k exp((k² − k)/(2σ²)).
  /// Every term is formed in log space and summed relative to the largest (see
  /// ``LogSpace/Sum``); log C(α,k) comes from a log-Γ table so that orders up to 1024 and
  /// beyond never overflow.
  static func logAInteger(q: Double, sigma: Double, alpha: Int) -> Double {
    var sum = LogSpace.Sum()
    let logOneMinusQ = Double.log(onePlus: -q)
    let logQ = Double.log(q)
    let twoSigmaSquared = 2 * (sigma * sigma)
    let order = Double(alpha)
    // The table read once, outside the loop (a static's every access is guarded).
    let logFactorials = LogSpace.logFactorials
    let tabulated = alpha < logFactorials.count
    for k in 0...alpha {
      let i = Double(k)
      let logBinomial =
        tabulated
        ? logFactorials[alpha] - logFactorials[k] - logFactorials[alpha - k]
        : LogSpace.binomialMagnitude(order, i)
      let logCoefficient = logBinomial + i * logQ + (order - i) * logOneMinusQ
      sum.add(logCoefficient + (i * i - i) / twoSigmaSquared)
    }
    return sum.logValue
  }

  /// log A_α for fractional α > 1 (MTZ19 §3.3): A_α = A₀ + A₁ with two infinite series
  /// split at z₀ = σ² log(1/q − 1) + ½,
  ///
  ///     A₀ = Σ_k C(α,k) (1−q)^{α−k} q^k e^{(k²−k)/(2σ²)} · ½ erfc((k − z₀)/(√2σ))
  ///     A₁ = Σ_k C(α,k) (1−q)^k q^{α−k} e^{((α−k)²−(α−k))/(2σ²)} · ½ erfc((z₀ − (α−k))/(√2σ))
  ///
  /// Sign handling: the generalised binomial C(α,k) is negative for some k > α + 1
  /// (its sign alternates there). Each term is added with the magnitude |C(α,k)|, which
  /// makes the result an *upper bound* on A_α (dp_accounting's choice; Opacus's signed
  /// sum is the exact value but can come out smaller than the bound by a few per cent at
  /// α < 2 and fails with a negative log-subtraction in places). An upper bound on A_α is
  /// an upper bound on ε, which is what a guarantee needs.
  ///
  /// The loop stops once both terms decrease and are e³⁰ below the running total; if
  /// that has not happened after ``maximumSeriesTerms`` terms the order is excluded
  /// (+∞): an excluded order can only make ε larger, never wrong. Never NaN.
  ///
  /// The same +∞ comes sooner when it is certain. Both terms are |C(α,k)|·erfcx(x_k)
  /// times a constant, with erfcx(x) = e^{x²}erfc(x) and x_k = (k − z₀)/(√2σ) or
  /// (z₀ − α + k)/(√2σ): the powers of q, 1 − q and e^{1/2σ²} cancel against e^{x²}
  /// exactly. erfcx decreases on ℝ and |C(α,k)| decreases for k > α, so from there on both
  /// terms decrease, and the loop stops at the first term below e^{−30}·total. At
  /// k = 16, 32, 64, …, past α + 1, ``cannotConverge(after:termsAt:last:sum:)`` checks
  /// whether the last term allowed is still above e^{−30} times a bound on the total it
  /// will have then; if so, no term before it can stop the loop either. The result is the one the
  /// full loop gives (`certifiesDivergence: false` runs it, for the tests).
  static func logAFractional(
    q: Double, sigma: Double, alpha: Double, certifiesDivergence: Bool = true
  ) -> Double {
    var sum = LogSpace.Sum()
    let z0 = sigma * sigma * Double.log(1 / q - 1) + 0.5
    let logOneMinusQ = Double.log(onePlus: -q)
    let logQ = Double.log(q)
    let twoSigmaSquared = 2 * (sigma * sigma)
    let sqrtTwoSigma = 2.0.squareRoot() * sigma
    let logHalf = Double.log(0.5)
    let logCoefficients = GeneralisedBinomialLogs.table(order: alpha)
    // The k-th terms of A₀ and A₁, in log space.
    func terms(_ k: Int) -> (Double, Double) {
      let i = Double(k)
      let j = alpha - i
      let logCoefficient = logCoefficients[k]
      let logT0 = logCoefficient + i * logQ + j * logOneMinusQ
      let logT1 = logCoefficient + j * logQ + i * logOneMinusQ
      let logE0 = logHalf + LogSpace.erfc((i - z0) / sqrtTwoSigma)
      let logE1 = logHalf + LogSpace.erfc((z0 - j) / sqrtTwoSigma)
      return (
        logT0 + (i * i - i) / twoSigmaSquared + logE0,
        logT1 + (j * j - j) / twoSigmaSquared + logE1
      )
    }
    var lastS0 = -Double.infinity
    var lastS1 = -Double.infinity
    for k in 0..<maximumSeriesTerms {
      let (logS0, logS1) = terms(k)
      sum.add(logS0)
      sum.add(logS1)
      if logS0 < lastS0, logS1 < lastS1, sum.exceeds(max(logS0, logS1), by: 30) {
        return sum.logValue
      }
      if certifiesDivergence, k >= 16, k & (k - 1) == 0, Double(k) > alpha + 1,
        cannotConverge(
          after: k, termsAt: (logS0, logS1), last: terms(maximumSeriesTerms - 1), sum: sum)
      {
        return .infinity
      }
      lastS0 = logS0
      lastS1 = logS1
    }
    return .infinity
  }

  /// Whether the series, summed to term k (`sum`; `termsAt` are term k's, `last` the last
  /// allowed) with terms decreasing from there on, cannot meet its stopping test before
  /// ``maximumSeriesTerms`` terms: its last term is at least e^{−30} times an upper bound of
  /// the total it would have then (the sum so far plus every remaining term at the size of
  /// term k), with a margin far above rounding.
  private static func cannotConverge(
    after k: Int, termsAt: (Double, Double), last: (Double, Double), sum: LogSpace.Sum
  ) -> Bool {
    let (logS0, logS1) = termsAt
    let (lastS0, lastS1) = last
    var bound = sum
    let remaining = Double.log(Double(maximumSeriesTerms - 1 - k))
    bound.add(remaining + logS0)
    bound.add(remaining + logS1)
    let total = bound.logValue
    return max(lastS0, lastS1) >= total - 30 + 1e-6 * (1 + abs(total))
  }
}
