import RealModule

extension PLDPmf {
  /// log Σᵢ pᵢ e^{λℓᵢ} over the finite part of an untilted PMF: the log-moment-generating
  /// function K(λ) of one loss.
  ///
  /// Evaluated by Horner's rule in r = e^{λh} (one multiply-add per loss, no exp), with the
  /// running sum rescaled before it can overflow. The relative error is about n·2⁻⁵³ for n
  /// losses, far below what the Chernoff windows and the choice of tilt need.
  /// - Precondition: untilted (`tilt` = 0).
  func logMoment(_ lambda: Double) -> Double {
    precondition(tilt == 0 && logScale == 0, "logMoment(_:) takes an untilted PMF")
    let ratio = Double.exp(lambda * discretization)
    let limit = 0x1p900
    var sum = 0.0
    var scale = 1.0  // 2^(−900·rescalings), applied to the masses still to come
    var logShift = 0.0
    for value in probabilities.reversed() {
      sum = sum * ratio + value * scale
      if sum > limit {
        sum *= 0x1p-900
        scale *= 0x1p-900
        logShift += 900 * Double.log(2)
      }
    }
    guard sum > 0 else { return -.infinity }
    return Double.log(sum) + logShift + lambda * Double(offset) * discretization
  }
}

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

  /// Golden-section search for the minimum of a unimodal function on log λ over ``range``.
  private static func minimise(_ f: (Double) -> Double) -> Double {
    var low = Double.log(range.lowerBound)
    var high = Double.log(range.upperBound)
    let ratio = (5.0.squareRoot() - 1) / 2
    for _ in 0..<48 {
      let left = high - ratio * (high - low)
      let right = low + ratio * (high - low)
      if f(Double.exp(left)) <= f(Double.exp(right)) { high = right } else { low = left }
    }
    return Double.exp((low + high) / 2)
  }
}
