import RealModule

/// The exponential tilt λ for a query on a composition whose finite part has log-MGF
/// `logMoment` (Σ over releases of count × K).
///
/// Tilting by λ makes the composed loss near ε = K'(λ) the bulk of the tilted mass (Cramér;
/// the saddle point of Chernoff's bound), where the FFT is accurate relative to the answer.
enum PLDTilt {
  /// The λ > 0 minimising Chernoff's ε bound (K(λ) − log δ)/λ: the tilt whose mean is the
  /// Chernoff estimate of ε(δ) (above the true ε, which moves the tilted bulk a little past
  /// it; the answer's tail is above ε anyway).
  static func forEpsilon(delta: Double, logMoment: (Double) -> Double) -> Double {
    minimise { lambda in (logMoment(lambda) - Double.log(delta)) / lambda }
  }

  /// The λ ≥ 0 minimising K(λ) − λε: the tilt whose mean is ε (0 when ε is below the mean).
  static func forDelta(epsilon: Double, logMoment: (Double) -> Double) -> Double {
    func objective(_ lambda: Double) -> Double { logMoment(lambda) - lambda * epsilon }
    let lambda = minimise(objective)
    return objective(lambda) < objective(0) ? lambda : 0
  }

  /// The smallest and largest tilts tried.
  static let range = 1e-3...1e4

  /// Golden-section search for the minimum of a unimodal function on log λ over ``range``,
  /// to about 0.01 % of λ (26 evaluations; the tilt need not be precise).
  private static func minimise(_ f: (Double) -> Double) -> Double {
    let ratio = (5.0.squareRoot() - 1) / 2
    var low = Double.log(range.lowerBound)
    var high = Double.log(range.upperBound)
    var left = high - ratio * (high - low)
    var right = low + ratio * (high - low)
    var leftValue = f(Double.exp(left))
    var rightValue = f(Double.exp(right))
    for _ in 0..<24 {
      if leftValue <= rightValue {
        high = right
        (right, rightValue) = (left, leftValue)
        left = high - ratio * (high - low)
        leftValue = f(Double.exp(left))
      } else {
        low = left
        (left, leftValue) = (right, rightValue)
        right = low + ratio * (high - low)
        rightValue = f(Double.exp(right))
      }
    }
    return Double.exp((low + high) / 2)
  }
}
