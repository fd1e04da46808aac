import RealModule

/// Log-space arithmetic for the RDP series, whose terms over- and underflow Double
/// long before the sums that matter do. Internal: these are implementation details.
enum LogSpace {
  /// log(eˣ + eʸ), exact for x or y = −∞. Computed as max + log1p(e^(min−max)) so
  /// neither exponential can overflow (the same expression as dp_accounting's
  /// `_log_add`, which keeps results comparable to the last bits).
  static func add(_ x: Double, _ y: Double) -> Double {
    let (small, large) = x < y ? (x, y) : (y, x)
    if small == -.infinity { return large }
    return Double.log(onePlus: Double.exp(small - large)) + large
  }

  /// log|eˣ − eʸ| and whether eˣ ≥ eʸ (dp_accounting's `_log_sub_sign`).
  static func subtractWithSign(_ x: Double, _ y: Double) -> (isNonNegative: Bool, magnitude: Double)
  {
    if x > y { return (true, x + Double.log(onePlus: -Double.exp(y - x))) }
    if x < y { return (false, y + Double.log(onePlus: -Double.exp(x - y))) }
    return (true, -.infinity)
  }

  /// log|C(n, k)| for real n and integer-or-real k through log|Γ|:
  /// log|Γ(n+1)| − log|Γ(k+1)| − log|Γ(n−k+1)|. For integer n ≥ k this is the log of
  /// the ordinary binomial coefficient, which overflows Double beyond n ≈ 1030 if
  /// formed directly; for fractional n it is the magnitude of the generalised
  /// coefficient (whose sign alternates once k > n + 1).
  static func binomialMagnitude(_ n: Double, _ k: Double) -> Double {
    logFactorial(n) - logFactorial(k) - logFactorial(n - k)
  }

  /// log k! for k = 0 … ``logFactorialTableSize`` − 1, from log Γ (the same values
  /// ``binomialMagnitude(_:_:)`` would compute, looked up instead of recomputed).
  static let logFactorials: [Double] = (0..<logFactorialTableSize).map {
    Double.logGamma(Double($0) + 1)
  }

  /// Covers every integer order up to 2048.
  static let logFactorialTableSize = 2049

  /// 1/k for k = 1 … ``logFactorialTableSize`` − 1 (1/0 = +∞ at index 0): a product in
  /// place of a division in the integer-order sums.
  static let reciprocals: [Double] = (0..<logFactorialTableSize).map { 1 / Double($0) }

  /// log|Γ(x + 1)|: a table look-up for whole x in the table, log Γ otherwise.
  @inline(__always)
  static func logFactorial(_ x: Double) -> Double {
    if x >= 0, x < Double(logFactorialTableSize), x.rounded() == x { return logFactorials[Int(x)] }
    return Double.logGamma(x + 1)
  }

  /// log(erfc(x)), accurate where erfc(x) underflows (x ≳ 26.5).
  ///
  /// Below `asymptoticThreshold` the library erfc is accurate to a few ulp and far from
  /// underflow. Above it, the asymptotic expansion
  /// erfc(x) = e^(−x²)/(x√π) · Σₙ (−1)ⁿ (2n−1)!! / (2x²)ⁿ (Abramowitz & Stegun 7.1.23)
  /// is used; at x ≥ 20 its terms fall below 1e-16 relative after a handful of terms.
  static func erfc(_ x: Double) -> Double {
    // erfc(x) rounds to 2 for x ≤ −6 (erfc(6) ≈ 2e-17 is below half an ulp of 2).
    if x <= -6 { return logTwo }
    if x < asymptoticThreshold { return Double.log(Double.erfc(x)) }
    let inverseTwoXSquared = 1 / (2 * x * x)
    var term = 1.0
    var series = 1.0
    for n in 1...12 {
      term *= -Double(2 * n - 1) * inverseTwoXSquared
      // The terms shrink (x ≥ 20); one below a quarter ulp of the series (≥ ½) and all
      // after it leave the sum unchanged.
      if abs(term) < 0x1p-55 { break }
      series += term
    }
    // One log of x/series in place of log x − log series (called once per term of a long
    // fractional-order series).
    return -x * x - Double.log(x / series) - logSquareRootOfPi
  }

  static let asymptoticThreshold = 20.0

  private static let logTwo = Double.log(2.0)
  private static let logSquareRootOfPi = 0.5 * Double.log(.pi)

  /// A running sum of e^{xᵢ} held as e^{shift}·(1 + rest): one exp per term instead of the
  /// exp and log1p of ``add(_:_:)``, and log1p(rest) keeps the digits of a sum that is
  /// 1 + (something tiny), which is what log A_α usually is.
  struct Sum {
    private var shift = -Double.infinity
    private var rest = 0.0

    /// Adds e^x.
    @inline(__always)
    mutating func add(_ x: Double) {
      if x == -.infinity { return }  // adding 0
      if x <= shift {
        // e^d is exactly 0 in Double for d ≤ −746 (the least subnormal is e^−744.4), so such
        // a term changes nothing; long integer-order sums are mostly such terms.
        let relative = x - shift
        if relative > -746 { rest += Double.exp(relative) }
      } else if shift == -.infinity {
        shift = x
      } else {
        // x becomes the reference; the old reference and the rest scale down.
        rest = (1 + rest) * Double.exp(shift - x)
        shift = x
      }
    }

    /// The log of the term the sum is held relative to (its largest so far; −∞ while empty).
    var reference: Double { shift }

    /// Adds r·e^``reference`` (r ≥ 0, the sum not empty): a term already scaled to the
    /// reference, which stays as it is however large r is.
    @inline(__always)
    mutating func addRelative(_ r: Double) { rest += r }

    /// log of the sum (−∞ for an empty sum).
    var logValue: Double { shift == -.infinity ? shift : shift + Double.log(onePlus: rest) }

    /// Whether `logValue − margin > x`, the same decision as comparing with ``logValue``
    /// but without its log1p when the bounds r/(1 + r) ≤ log1p(r) ≤ r settle it (a series'
    /// stopping test asks this for every term).
    func exceeds(_ x: Double, by margin: Double) -> Bool {
      if shift == -.infinity { return false }
      let gap = x + margin - shift
      // Far wider than the rounding of either side, so only the exact comparison decides
      // a near tie.
      let slack = 1e-9 * (abs(x) + abs(shift) + margin)
      if gap - slack >= rest { return false }
      if gap + slack < rest / (1 + rest) { return true }
      return x < logValue - margin
    }
  }
}
