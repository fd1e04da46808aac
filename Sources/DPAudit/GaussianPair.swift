import RealModule

/// The privacy curve of telling two normal distributions apart, P = N(μ₁, σ₁²) and
/// Q = N(μ₂, σ₂²): δ(ε) = max(H_ε(P‖Q), H_ε(Q‖P)) with the hockey-stick divergence
/// H_ε(P‖Q) = P(S) − e^ε Q(S) on S = {y : ln p(y)/q(y) > ε}. With unequal variances the
/// privacy loss is quadratic in y, so S is a half-line, the outside or the inside of two
/// roots. With σ₁ = σ₂ = σ this is the Gaussian mechanism of sensitivity |μ₂ − μ₁|/σ.
///
/// One-shot privacy estimation (Andrew et al., ICLR 2024) fits such a pair to canary
/// cosines; the pair's ε is an estimate of the mechanism's, not a bound.
public struct GaussianPair: Equatable, Sendable {
  public var first: Normal
  public var second: Normal

  /// A normal distribution.
  public struct Normal: Equatable, Sendable {
    public var mean: Double
    public var standardDeviation: Double
    public init(mean: Double, standardDeviation: Double) {
      self.mean = mean
      self.standardDeviation = standardDeviation
    }

    /// P(Y > t).
    func survival(_ t: Double) -> Double {
      0.5 * Double.erfc((t - mean) / (standardDeviation * 2.0.squareRoot()))
    }

    /// P(Y < t).
    func cumulative(_ t: Double) -> Double {
      0.5 * Double.erfc((mean - t) / (standardDeviation * 2.0.squareRoot()))
    }

    /// P(a < Y < b).
    func mass(from a: Double, to b: Double) -> Double {
      b <= mean ? cumulative(b) - cumulative(a) : survival(a) - survival(b)
    }
  }

  public init(_ first: Normal, _ second: Normal) {
    self.first = first
    self.second = second
  }

  /// δ(ε), the larger of the two directions.
  public func delta(epsilon: Double) -> Double {
    max(Self.hockeyStick(first, second, epsilon), Self.hockeyStick(second, first, epsilon))
  }

  /// The smallest ε ≥ 0 with δ(ε) ≤ `delta` (to 1e-9 relative), by bisection: δ(ε) does not
  /// increase with ε. ∞ when even ε = 10⁶ is not enough (distributions that do not overlap).
  public func epsilon(delta target: Double) -> Double {
    if delta(epsilon: 0) <= target { return 0 }
    var (low, high) = (0.0, 1.0)
    while delta(epsilon: high) > target {
      (low, high) = (high, high * 2)
      if high > 1e6 { return .infinity }
    }
    while high - low > 1e-9 * high {
      let middle = (low + high) / 2
      if delta(epsilon: middle) > target { low = middle } else { high = middle }
    }
    return high
  }

  /// H_ε(P‖Q) = P(S) − e^ε Q(S), S = {y : a y² + b y + c > ε} with ln p/q = a y² + b y + c.
  static func hockeyStick(_ p: Normal, _ q: Normal, _ epsilon: Double) -> Double {
    let (s1, s2) = (p.standardDeviation, q.standardDeviation)
    let a = 0.5 * (1 / (s2 * s2) - 1 / (s1 * s1))
    let b = p.mean / (s1 * s1) - q.mean / (s2 * s2)
    let c = 0.5 * (q.mean * q.mean / (s2 * s2) - p.mean * p.mean / (s1 * s1)) + .log(s2 / s1)
    let threshold = epsilon - c  // S: a y² + b y > threshold
    let value: Double
    if abs(a) <= 1e-12 * max(abs(b), 1) {
      if b == 0 { return c > epsilon ? 1 - .exp(epsilon) : 0 }
      let t = threshold / b
      value =
        b > 0
        ? p.survival(t) - .exp(epsilon) * q.survival(t)
        : p.cumulative(t) - .exp(epsilon) * q.cumulative(t)
    } else {
      let discriminant = b * b + 4 * a * threshold
      guard discriminant > 0 else { return a > 0 ? max(0, 1 - .exp(epsilon)) : 0 }
      let root = discriminant.squareRoot()
      let (r1, r2) = ((-b - root) / (2 * a), (-b + root) / (2 * a))
      let (low, high) = (min(r1, r2), max(r1, r2))
      value =
        a > 0
        ? p.cumulative(low) + p.survival(high)
          - .exp(epsilon) * (q.cumulative(low) + q.survival(high))
        : p.mass(from: low, to: high) - .exp(epsilon) * q.mass(from: low, to: high)
    }
    return max(0, value)
  }
}
