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
  /// A_α = Σ_{k=0}^{α} b_k e^{x_k} with b_k = C(α,k) q^k (1−q)^{α−k} and x_k = (k² − k)/(2σ²).
  ///
  /// The b_k sum to 1 and x₀ = x₁ = 0, so A_α − 1 = Σ_{k=2}^{α} b_k (e^{x_k} − 1), a sum of
  /// positive terms, and log A_α = log1p of it. Summing A_α itself (dp_accounting's way)
  /// cancels when A_α is close to 1 (small q): its first terms are ≈ 1 − αq and ≈ αq, while
  /// log A_α is of order α²q²/σ². dp_accounting's `_compute_log_a_int` is up to 1.7e-3 off
  /// MPFR there (q = 1e-7); this sum stays within 1e-12 (`IntegerOrderSumTests`).
  ///
  /// The terms s_k = t_k·c_k with t_k = b_k e^{x_k} and c_k = 1 − e^{−x_k} are summed relative to
  /// the largest so far (``LogSpace/Sum``), and each follows from the one before by products,
  /// with no exp:
  ///
  ///     t_k = t_{k−1} · (α − k + 1)/k · g_{k−1},   g_k = ρ·e^{k/σ²} = g_{k−1}·e^{1/σ²},   ρ = q/(1 − q),
  ///     e^{−x_k} = e^{−x_{k−1}} · e^{−(k−1)/σ²},
  ///
  /// with c_k = −expm1(−x_k) where x_k < ½ (1 − e^{−x} would cancel there). A term is formed
  /// again from its closed form in log space (log C(α,k) from a log-Γ table, so that orders up
  /// to 1024 and beyond never overflow) every ``resyncInterval`` terms, and whenever s_k leaves
  /// [2⁻⁹⁰⁰, 2⁶⁴] times the sum's reference: there it could lose digits to underflow, or a new
  /// largest term must become the reference. Between two closed forms the products' rounding
  /// adds up to about 10⁻¹³ relative.
  ///
  /// The sum stops early once the terms left are negligible. For j > k, log t_j − log t_k =
  /// Σ_{i=k}^{j−1} log(t_{i+1}/t_i) ≤ (j − k)·L + (j − k)(j + k − 1)/(2σ²) with
  /// L = log((α − k)/(k + 1)) + log ρ, because (α − i)/(i + 1) falls with i. That bound is convex in
  /// j, so it is largest at j = k + 1 or j = α, and (α − k) times the larger bounds every term
  /// left. When that is below e^−40 times the sum (checked only once t_k is that small, at
  /// gaps that double when it fails, as it does where the terms fall and then rise again), the
  /// loop stops and adds the bound itself: the result is never below the full sum.
  static func logAInteger(q: Double, sigma: Double, alpha: Int) -> Double {
    let logOneMinusQ = Double.log(onePlus: -q)
    let logQ = Double.log(q)
    let twoSigmaSquared = 2 * (sigma * sigma)
    let inverseSigmaSquared = 1 / (sigma * sigma)
    let order = Double(alpha)
    // The table read once, outside the loop (a static's every access is guarded).
    let logFactorials = LogSpace.logFactorials
    let tabulated = alpha < logFactorials.count
    /// x_k and log t_k.
    func exponentAndLogTerm(_ k: Int) -> (Double, Double) {
      let i = Double(k)
      // The first term's C(α, 2) = α(α − 1)/2 exactly: the table's difference of log α! and
      // log (α − 2)! (≈ 6078 at α = 1024) would cost it ~1e-12 relative, and where q is
      // small that term is nearly all of the sum.
      let logBinomial =
        k == 2
        ? Double.log(order * (order - 1) / 2)
        : tabulated
          ? logFactorials[alpha] - logFactorials[k] - logFactorials[alpha - k]
          : LogSpace.binomialMagnitude(order, i)
      let exponent = (i * i - i) / twoSigmaSquared
      return (exponent, logBinomial + i * logQ + (order - i) * logOneMinusQ + exponent)
    }
    let rho = q / (1 - q)
    let growth = Double.exp(inverseSigmaSquared)
    let shrink = Double.exp(-inverseSigmaSquared)
    // x_k < ½ exactly when k² − k < σ².
    let sigmaSquared = sigma * sigma
    let reciprocals = LogSpace.reciprocals
    var sum = LogSpace.Sum()
    var term = 0.0  // t_k relative to the sum's reference; 0 while it is not followed
    var g = 0.0
    var h = 0.0  // e^{−k/σ²} = ρ/g_k
    var decay = 0.0  // e^{−x_k}
    let logRho = logQ - logOneMinusQ
    var nextTailCheck = 0
    var tailCheckGap = 8
    /// Whether every term after k together is below e^{−40} times the sum, given
    /// log(t_k) − reference; if so, their bound is added (see above).
    func tailIsNegligible(after k: Int, logTerm: Double) -> Bool {
      guard k >= nextTailCheck, k < alpha else { return false }
      let remaining = Double(alpha - k)
      let logRatio = Double.log(remaining / Double(k + 1)) + logRho
      let first = logRatio + Double(k) * inverseSigmaSquared
      let last = remaining * logRatio + remaining * Double(alpha + k - 1) / twoSigmaSquared
      let logTail = Double.log(remaining) + logTerm + max(first, last)
      guard logTail < -40 else {
        nextTailCheck = k + tailCheckGap
        tailCheckGap *= 2
        return false
      }
      sum.add(sum.reference + logTail)
      return true
    }
    for k in 2...alpha {
      if term != 0, k % resyncInterval != 0 {
        let inverseK = k < reciprocals.count ? reciprocals[k] : 1 / Double(k)
        term *= Double(alpha - k + 1) * inverseK * g
        decay *= h
        g *= growth
        h *= shrink
        let share =
          Double(k * k - k) < sigmaSquared
          ? -Double.expMinusOne(-Double(k * k - k) / twoSigmaSquared) : 1 - decay
        let relative = term * share
        if relative >= 0x1p-900, relative <= 0x1p64 {
          sum.addRelative(relative)
          if term < 0x1p-58, tailIsNegligible(after: k, logTerm: Double.log(term)) { break }
          continue
        }
      }
      let (exponent, logTerm) = exponentAndLogTerm(k)
      let decayMinusOne = Double.expMinusOne(-exponent)
      sum.add(logTerm + Double.log(-decayMinusOne))
      let relative = logTerm - sum.reference
      // Below e^−620 ≈ 2^−894 a term is left to its closed form until it grows back.
      term = relative > -620 ? Double.exp(relative) : 0
      if term != 0 {
        h = Double.exp(-Double(k) * inverseSigmaSquared)
        g = rho / h
        decay = 1 + decayMinusOne
      }
      if relative < -40, tailIsNegligible(after: k, logTerm: relative) { break }
    }
    return LogSpace.add(0, sum.logValue)
  }

  /// Terms between two closed-form terms of ``logAInteger(q:sigma:alpha:)``.
  static let resyncInterval = 32

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
