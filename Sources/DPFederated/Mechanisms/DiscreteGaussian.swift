#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Exact sampling from the discrete Gaussian N_ℤ(0, σ²), and the grid release built on it:
/// Gaussian noise that resists the floating-point attacks on the continuous sampler.
///
/// **Why.** Mironov (CCS 2012, "On significance of the least significant bits for
/// differential privacy") showed that a floating-point sampler's outputs x + Z do not cover
/// the floats evenly: which low-order bit patterns can occur depends on x, so an observer of
/// one release can tell neighbouring inputs apart, whatever ε the accountant reports. The
/// same holds for a Gaussian drawn as `σ·nextStandardNormal()` (Box–Muller or Ziggurat on a
/// float grid) and added in Float32.
///
/// **What this does instead** (Canonne, Kamath & Steinke, NeurIPS 2020, "The Discrete
/// Gaussian for Differential Privacy", arXiv:2004.00010v5). Fix a grid of granularity γ (a
/// power of two). Every value that depends on the data is first rounded to the grid and
/// carried as an integer (`round(x/γ)`); the noise is an integer Z ~ N_ℤ(0, σ_γ²) with
/// σ_γ = σ/γ, drawn exactly — integer arithmetic only, with every random bit from the
/// generator (a CSPRNG for real runs, ``SecureRandomNumberGenerator``); the release is
/// γ·(round(x/γ) + Z). Its distribution is exactly the discrete Gaussian shifted by an
/// integer, and the floats it is turned into are a fixed function of that integer: nothing
/// about x leaks through rounding.
///
/// The sampler is CKS's Algorithm 3 (rejection from a discrete Laplace of scale
/// t = ⌊σ_γ⌋ + 1, their Algorithm 2) over Bernoulli(exp(−x)) for rational x (their
/// Algorithm 1). σ_γ² is used as the rational p/q with q = 2¹⁶ and p = ⌈σ_γ²·q⌉ + 1, so
/// the variance parameter is at least the one asked for (never less noise) and exceeds it by
/// at most 2/q. Every intermediate is an exact `UInt64`/`UInt128` (a 256-bit product for
/// the acceptance exponent). One approximation, of no practical consequence: when the
/// acceptance exponent (|Y| − σ_γ²/t)²/(2σ_γ²) is ≥ 2²⁰ the candidate is rejected outright,
/// where the exact test would accept it with probability e^(−2²⁰) < 10^(−455000).
///
/// **What the accounting must charge.** See ``accountedNoiseMultiplier(noiseMultiplier:clippingBound:granularity:dimension:)``.
public struct DiscreteGaussian: Sendable, Equatable {
  /// The denominator q of σ_γ² = p/q.
  public static let varianceDenominator: UInt64 = 1 << 16
  /// The largest σ_γ (the standard deviation in grid steps) supported: 2²³, which keeps
  /// every intermediate of the sampler inside 128 bits.
  public static let maximumGridStandardDeviation = Double(1 << 23)
  /// The smallest σ_γ supported: 1/256 (σ_γ²·q ≥ 1).
  public static let minimumGridStandardDeviation = 1.0 / 256

  /// p, the numerator of σ_γ² = p/q (grid units).
  public let varianceNumerator: UInt64
  /// t = ⌊σ_γ⌋ + 1, the scale of the discrete Laplace proposal.
  let laplaceScale: UInt64

  /// Why a discrete Gaussian cannot be set up.
  public enum ParameterError: Error, Equatable, Sendable, CustomStringConvertible {
    /// σ/γ outside [1/256, 2²³], or not finite.
    case gridStandardDeviationOutOfRange(Double)
    /// γ not a positive, finite power of two.
    case granularityNotPowerOfTwo(Double)

    public var description: String {
      switch self {
      case .gridStandardDeviationOutOfRange(let value):
        return
          "the noise standard deviation divided by the granularity must be in [1/256, 2^23]; got \(value)."
      case .granularityNotPowerOfTwo(let value):
        return "the granularity must be a positive power of two (2^-k); got \(value)."
      }
    }
  }

  /// N_ℤ(0, σ_γ²) with σ_γ = `gridStandardDeviation` (in grid steps), its variance rounded
  /// up to a multiple of 2⁻¹⁶.
  ///
  /// - Throws: ``ParameterError/gridStandardDeviationOutOfRange(_:)``.
  public init(gridStandardDeviation: Double) throws(ParameterError) {
    guard gridStandardDeviation.isFinite,
      gridStandardDeviation >= Self.minimumGridStandardDeviation,
      gridStandardDeviation <= Self.maximumGridStandardDeviation
    else { throw .gridStandardDeviationOutOfRange(gridStandardDeviation) }
    // p = ⌈σ²q⌉ + 1: the + 1 absorbs the rounding of σ² in Double (a parameter, not data).
    let scaled = (gridStandardDeviation * gridStandardDeviation * Double(Self.varianceDenominator))
      .rounded(.up)
    varianceNumerator = UInt64(scaled) + 1
    // t = ⌊√(p/q)⌋ + 1 = ⌊isqrt(p)/256⌋ + 1, since q = 256².
    laplaceScale = Self.integerSquareRoot(varianceNumerator) / 256 + 1
  }

  /// σ_γ² as a Double (p/q): the variance parameter actually used, in grid steps².
  public var gridVariance: Double { Double(varianceNumerator) / Double(Self.varianceDenominator) }

  // MARK: Sampling

  /// One exact draw from N_ℤ(0, σ_γ²) (CKS Algorithm 3).
  public func sample<G: RandomNumberGenerator>(using generator: inout G) -> Int64 {
    let p = UInt128(varianceNumerator)
    let q = UInt128(Self.varianceDenominator)
    let t = UInt128(laplaceScale)
    // The acceptance exponent (|Y| − σ²/t)²/(2σ²) = (|Y|·q·t − p)² / (2·p·q·t²) = a²/b.
    let b = 2 * p * q * t * t
    while true {
      let candidate = Self.discreteLaplace(scale: laplaceScale, using: &generator)
      let magnitude = UInt128(candidate.magnitude) * q * t
      let a = magnitude >= p ? magnitude - p : p - magnitude
      let whole: UInt128
      let remainder: UInt128
      if a >> 64 == 0 {
        // a² < 2¹²⁸: one 128-bit division.
        let square = a * a
        (whole, remainder) = square.quotientAndRemainder(dividingBy: b)
      } else {
        let square = a.multipliedFullWidth(by: a)
        if square.high >= b { continue }  // exponent ≥ 2¹²⁸: rejected (see the type's note)
        (whole, remainder) = b.dividingFullWidth(square)
      }
      if whole >= 1 << 20 { continue }  // exponent ≥ 2²⁰: rejected (see the type's note)
      if Self.bernoulliExpMinus(
        whole: UInt64(whole), numerator: remainder, denominator: b,
        using: &generator)
      {
        return candidate
      }
    }
  }

  /// `count` draws of γ·Z with Z ~ N_ℤ(0, (σ/γ)²): Gaussian noise of standard deviation
  /// about σ (at least σ) on the grid γℤ.
  ///
  /// - Parameters:
  ///   - count: the number of coordinates.
  ///   - standardDeviation: σ, in the units of the released values.
  ///   - granularity: γ, a power of two.
  /// - Returns: values that are all exact multiples of γ.
  /// - Throws: ``ParameterError`` when σ/γ is out of range or γ is not a power of two.
  public static func sample<G: RandomNumberGenerator>(
    count: Int, standardDeviation: Double, granularity: Double, using generator: inout G
  ) throws(ParameterError) -> [Double] {
    try checkGranularity(granularity)
    let distribution = try DiscreteGaussian(gridStandardDeviation: standardDeviation / granularity)
    return (0..<count).map { _ in Double(distribution.sample(using: &generator)) * granularity }
  }

  // MARK: The grid release

  /// `values` rounded to the nearest multiple of γ (ties away from zero), as integers of
  /// grid steps: what a client sends (or the sum is carried as) before noise is added.
  ///
  /// - Precondition: γ is a power of two and every |value/γ| < 2⁶²; values are finite.
  public static func snap(_ values: [Float], granularity: Double) -> [Int64] {
    values.map { value in
      let steps = (Double(value) / granularity).rounded(.toNearestOrAwayFromZero)
      precondition(
        steps.isFinite && abs(steps) < 0x1p62,
        "a value of \(value) is \(steps) grid steps of \(granularity); must be finite and < 2^62")
      return Int64(steps)
    }
  }

  /// The noisy release γ·(s + Z) of a sum already on the grid (`gridSum`, in steps):
  /// Z ~ N_ℤ(0, (σ/γ)²) per coordinate. Each output is k·γ for the integer k = s + Z, so it
  /// is exact in Double for |k| < 2⁵³ and its conversion to Float is a fixed function of k.
  ///
  /// - Throws: ``ParameterError``.
  public static func release<G: RandomNumberGenerator>(
    gridSum: [Int64], standardDeviation: Double, granularity: Double, using generator: inout G
  ) throws(ParameterError) -> [Double] {
    try checkGranularity(granularity)
    let distribution = try DiscreteGaussian(gridStandardDeviation: standardDeviation / granularity)
    return gridSum.map { steps in
      Double(steps &+ distribution.sample(using: &generator)) * granularity
    }
  }

  /// Throws unless `granularity` is a positive, finite power of two (then k·γ is exact in
  /// Double for every integer |k| < 2⁵³).
  static func checkGranularity(_ granularity: Double) throws(ParameterError) {
    guard granularity.isFinite, granularity > 0, granularity.significandBitPattern == 0,
      granularity.isNormal
    else { throw .granularityNotPowerOfTwo(granularity) }
  }

  // MARK: What to account

  /// The L2 sensitivity, in the released units, of a sum of clients' updates each clipped
  /// to `clippingBound` C and then rounded coordinate-wise to the grid γ: C + γ·√d/2, since
  /// rounding moves each of the d coordinates by at most γ/2 (add/remove one client).
  public static func sensitivityAfterRounding(
    clippingBound: Double, granularity: Double, dimension: Int
  ) -> Double {
    clippingBound + granularity * Double(dimension).squareRoot() / 2
  }

  /// The noise multiplier to charge for one grid release, relative to the clipping bound C:
  /// σ·C / (C + γ·√d/2), where σ is the nominal multiplier (noise std σ·C).
  ///
  /// Canonne, Kamath & Steinke (arXiv:2004.00010v5), Theorem 4 and its multivariate form
  /// (Theorem 14, coordinates independent): if q(x) ∈ ℤ^d has ‖q(x) − q(x′)‖₂ ≤ Δ for
  /// neighbours, then q(x) + N_ℤ(0, σ_γ²)^d satisfies ½(Δ/σ_γ)²-zCDP — Rényi divergence
  /// α·Δ²/(2σ_γ²) at every order α, the same curve as the continuous Gaussian. In grid
  /// steps Δ = (C + γ√d/2)/γ and σ_γ = σC/γ, so the release has exactly the RDP of
  /// `.gaussian(noiseMultiplier:)` with this multiplier.
  ///
  /// What it does not give: the continuous Gaussian's privacy-loss *distribution*. Rényi
  /// curves compose and convert to (ε, δ) soundly, so an RDP account of unsampled or
  /// fixed-participation releases is sound; PLD accounting of `.gaussian` and the RDP of
  /// the *Poisson-subsampled* Gaussian (Mironov, Talwar & Zhang 2019) use the continuous
  /// mixture itself. Under Poisson sampling, account it as
  /// `.poissonSampled(q, .discreteGaussian(noiseMultiplier:))`, which the RDP accountant bounds
  /// with Zhu & Wang's general amplification theorem (ICML 2019, Theorem 6; see
  /// ``DiscreteGrid`` for the training release built on it).
  ///
  /// Instead of charging the inflation, a mechanism can clip to C − γ√d/2
  /// (``clippingBoundBeforeRounding(clippingBound:granularity:dimension:)``), so that the
  /// rounded update still has norm ≤ C and σ is charged unchanged.
  public static func accountedNoiseMultiplier(
    noiseMultiplier: Double, clippingBound: Double, granularity: Double, dimension: Int
  ) -> Double {
    noiseMultiplier * clippingBound
      / sensitivityAfterRounding(
        clippingBound: clippingBound, granularity: granularity, dimension: dimension)
  }

  /// The bound to clip to before rounding so that the rounded update has norm ≤ C:
  /// C − γ√d/2, or nil when the grid is too coarse for that (γ√d/2 ≥ C).
  public static func clippingBoundBeforeRounding(
    clippingBound: Double, granularity: Double, dimension: Int
  ) -> Double? {
    let bound = clippingBound - granularity * Double(dimension).squareRoot() / 2
    return bound > 0 ? bound : nil
  }

  /// The coarsest power-of-two granularity whose rounding inflates the sensitivity by at
  /// most the fraction `inflation` (γ√d/2 ≤ inflation·C).
  public static func granularity(clippingBound: Double, dimension: Int, inflation: Double)
    -> Double
  {
    let limit = 2 * inflation * clippingBound / Double(max(1, dimension)).squareRoot()
    return Double(sign: .plus, exponent: Int(limit.exponent), significand: 1)
  }

  // MARK: The exact pmf (for tests and audits)

  /// P[Z = k] for Z ~ N_ℤ(0, σ_γ²) with this sampler's σ_γ² (p/q), in Double, for each k
  /// of `range`: exp(−k²/2σ²) over the normaliser Σ_j exp(−j²/2σ²), summed out to where
  /// its terms vanish (computed once per call).
  public func probabilities(_ range: ClosedRange<Int64>) -> [Double] {
    let variance = gridVariance
    let normalizer = self.normalizer
    return range.map { k in exp(-Double(k) * Double(k) / (2 * variance)) / normalizer }
  }

  /// Σ_j exp(−j²/(2σ_γ²)) over ℤ.
  public var normalizer: Double {
    let variance = gridVariance
    let limit = Int((40 * variance).squareRoot()) + 2
    var sum = 1.0
    for j in 1...limit { sum += 2 * exp(-Double(j) * Double(j) / (2 * variance)) }
    return sum
  }

  // MARK: Building blocks (CKS Algorithms 1 and 2)

  /// Bernoulli(exp(−(whole + numerator/denominator))) with numerator < denominator: `whole`
  /// Bernoulli(e⁻¹) successes, then Bernoulli(exp(−numerator/denominator)).
  static func bernoulliExpMinus<G: RandomNumberGenerator>(
    whole: UInt64, numerator: UInt128, denominator: UInt128, using generator: inout G
  ) -> Bool {
    var remaining = whole
    while remaining > 0 {
      guard bernoulliExpMinusFraction(1, 1, using: &generator) else { return false }
      remaining -= 1
    }
    return bernoulliExpMinusFraction(numerator, denominator, using: &generator)
  }

  /// Bernoulli(exp(−n/d)) for 0 ≤ n/d ≤ 1 (CKS Algorithm 1): K ← 1; while
  /// Bernoulli(n/(d·K)) succeeds, K ← K + 1; succeed iff K is odd. Bernoulli(n/(d·K)) is
  /// drawn as Bernoulli(1/K) and Bernoulli(n/d), independent, so nothing overflows.
  static func bernoulliExpMinusFraction<G: RandomNumberGenerator>(
    _ numerator: UInt128, _ denominator: UInt128, using generator: inout G
  ) -> Bool {
    var k: UInt64 = 1
    if denominator <= UInt128(UInt64.max) {
      let (numerator, denominator) = (UInt64(numerator), UInt64(denominator))
      while k == 1 || uniform(below: k, using: &generator) == 0,
        numerator == denominator || uniform(below: denominator, using: &generator) < numerator
      {
        k += 1
      }
      return k % 2 == 1
    }
    while k == 1 || uniform(below: k, using: &generator) == 0,
      uniform(below: denominator, using: &generator) < numerator
    {
      k += 1
    }
    return k % 2 == 1
  }

  /// The discrete Laplace distribution with P[Y = y] ∝ exp(−|y|/t) (CKS Algorithm 2).
  static func discreteLaplace<G: RandomNumberGenerator>(scale t: UInt64, using generator: inout G)
    -> Int64
  {
    while true {
      let u = uniform(below: t, using: &generator)
      guard bernoulliExpMinusFraction(UInt128(u), UInt128(t), using: &generator) else { continue }
      var v: UInt64 = 0
      while bernoulliExpMinusFraction(1, 1, using: &generator) { v += 1 }
      let negative = generator.next() & 1 == 1
      if negative && u == 0 && v == 0 { continue }
      let magnitude = Int64(u) + Int64(t) * Int64(v)
      return negative ? -magnitude : magnitude
    }
  }

  /// A uniform integer in [0, n), n ≥ 1, exactly (Lemire's multiply-and-reject). Written
  /// out rather than `UInt64.random(in:using:)`, whose generic form is not specialised
  /// across modules and costs microseconds a draw.
  @inline(__always)
  static func uniform<G: RandomNumberGenerator>(below n: UInt64, using generator: inout G)
    -> UInt64
  {
    var product = generator.next().multipliedFullWidth(by: n)
    if product.low < n {
      let threshold = (0 &- n) % n
      while product.low < threshold { product = generator.next().multipliedFullWidth(by: n) }
    }
    return product.high
  }

  /// A uniform integer in [0, n), n ≥ 1, exactly: 128 random bits masked to n's width,
  /// rejected until below n (fewer than 2 tries on average).
  static func uniform<G: RandomNumberGenerator>(below n: UInt128, using generator: inout G)
    -> UInt128
  {
    let width = 128 - (n - 1).leadingZeroBitCount
    let mask: UInt128 = width == 128 ? .max : (1 << width) - 1
    while true {
      let draw = (UInt128(generator.next()) << 64 | UInt128(generator.next())) & mask
      if draw < n { return draw }
    }
  }

  /// ⌊√n⌋ exactly.
  static func integerSquareRoot(_ n: UInt64) -> UInt64 {
    var root = UInt64(Double(n).squareRoot())
    while root > 0 && root.multipliedReportingOverflow(by: root).overflow
      || root * root > n
    {
      root -= 1
    }
    while case let next = root + 1, !next.multipliedReportingOverflow(by: next).overflow,
      next * next <= n
    {
      root = next
    }
    return root
  }
}
