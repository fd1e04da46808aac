import RealModule

/// How an RDP curve is turned into an (ε, δ) guarantee.
public enum RDPConversion: String, Codable, Sendable, CaseIterable {
  /// Canonne, Kamath & Steinke 2020 (arXiv:2004.00010v4, Proposition 12), equal to
  /// Balle et al. 2020 (arXiv:1905.09982, Theorem 21) and Asoodeh et al. 2020:
  /// ε = min_α [ R(α) + log((α−1)/α) − (log δ + log α)/(α−1) ], with dp_accounting's
  /// safeguards: the formula is used only for α > 1.01 (it is unstable as α → 1); per
  /// order, ε = 0 whenever δ ≥ √(1 − e^{−R(α)}) (the KL/Pinsker bound, valid because
  /// R(α) ≥ KL); negative R from rounding counts as 0; the result is clamped at ≥ 0.
  /// Typically 10–15 % below ``classic``. The default.
  case improved
  /// Mironov 2017 (arXiv:1702.07476v3, Proposition 3): ε = min_α [ R(α) + log(1/δ)/(α−1) ],
  /// clamped at ≥ 0. Identical to the moments accountant's tail bound (Abadi et al.
  /// 2016, Theorem 2); kept to reproduce older papers. No KL shortcut is applied, so the
  /// numbers are those of the papers; only R(α) = 0 (nothing released) gives ε = 0.
  case classic
}

/// The answer of an RDP conversion: the bound and the order that attains it.
public struct PrivacyBound: Hashable, Sendable {
  /// ε (from ``RDPAccountant/epsilonBound(delta:)``) or δ (from ``RDPAccountant/deltaBound(epsilon:)``).
  public var value: Double
  /// The order α at which the minimum is attained; `nil` when no order applies (δ = 0).
  public var optimalOrder: Double?
  /// Whether the optimal order is the smallest or largest of the grid while the bound is
  /// still positive, so that a wider grid might give a smaller bound.
  public var orderAtGridEdge: Bool
}

extension RDPConversion {
  /// ε(δ) of the composition in `curve`: the grid minimum of the per-order bound.
  /// - Precondition: δ ∈ [0, 1] (checked by the caller).
  func epsilon(curve: inout RDPCurve, delta: Double) -> PrivacyBound {
    if delta == 0 {
      let allZero = curve.all().allSatisfy { $0 == 0 }
      return PrivacyBound(value: allZero ? 0 : .infinity, optimalOrder: nil, orderAtGridEdge: false)
    }
    let orders = curve.orders
    let constants = curve.constants
    let logDelta = Double.log(delta)
    func orderTerms(_ i: Int) -> (Double, Double) {
      self.orderTerms(
        order: orders[i], logOrder: constants.logOrder[i],
        logOneMinusInverse: constants.logOneMinusInverse[i], logDelta: logDelta)
    }
    func candidate(_ i: Int, _ r: Double) -> Double {
      epsilonCandidate(order: orders[i], rdp: r, delta: delta, orderTerms: orderTerms(i))
    }
    // The improved conversion's KL shortcut makes the candidate 0 for small r and
    // r + (order terms), possibly negative, above: past a 0, a larger r can give less, but
    // never less than min(0, r + order terms). Like dp_accounting, the optimal order is
    // the most negative candidate's when ε clamps to 0.
    let best = curve.minimize(candidate) { i, r in
      let value = candidate(i, r)
      guard self == .improved, value == 0, orders[i] > 1.01 else { return value }
      let terms = orderTerms(i)
      return min(0, r + terms.0 - terms.1)
    }
    return Self.bound(max(0, best.value), index: best.index, orders: orders)
  }

  /// δ(ε) of the composition in `curve`, clamped at ≤ 1.
  /// - Precondition: ε ≥ 0 (checked by the caller).
  func delta(curve: inout RDPCurve, epsilon: Double) -> PrivacyBound {
    let orders = curve.orders
    func candidate(_ i: Int, _ r: Double) -> Double {
      logDeltaCandidate(order: orders[i], rdp: r, epsilon: epsilon)
    }
    let best = curve.minimize(candidate, floor: candidate)
    return Self.bound(min(Double.exp(best.value), 1), index: best.index, orders: orders)
  }

  /// δ(ε) of a tabulated RDP curve (`rdp[i]` at `orders[i]`): the same per-order bound as
  /// ``delta(curve:epsilon:)``, minimised over the orders, clamped at ≤ 1.
  func delta(rdp: [Double], orders: [Double], epsilon: Double) -> Double {
    var best = Double.infinity
    for (alpha, r) in zip(orders, rdp) {
      let candidate = logDeltaCandidate(
        order: alpha, rdp: r.isNaN ? .infinity : r, epsilon: epsilon)
      best = min(best, candidate.isNaN ? .infinity : candidate)
    }
    return min(Double.exp(best), 1)
  }

  /// The parts of the ε bound at order α that do not depend on the RDP: the improved
  /// conversion's log(1 − 1/α) and log(δα)/(α − 1), the classic one's 0 and log(δ)/(α − 1),
  /// from the grid's log α and log(1 − 1/α) (``RDPOrderConstants``).
  private func orderTerms(
    order alpha: Double, logOrder: Double, logOneMinusInverse: Double, logDelta: Double
  ) -> (Double, Double) {
    switch self {
    case .improved: return (logOneMinusInverse, (logDelta + logOrder) / (alpha - 1))
    case .classic: return (0, logDelta / (alpha - 1))
    }
  }

  /// The ε bound at one order for total RDP r (with that order's ``orderTerms(order:delta:)``);
  /// non-decreasing in r.
  private func epsilonCandidate(
    order alpha: Double, rdp r: Double, delta: Double, orderTerms: (Double, Double)
  ) -> Double {
    // R(α) ≤ 0 at some α > 1 means identical distributions (negative only from rounding).
    if r <= 0 { return 0 }
    if self == .improved {
      // The KL shortcut δ² + (e^{−r} − 1) > 0 cannot hold when r > 2δ² and δ² < ½
      // (e^{−r} − 1 ≤ −r/2 for r ≤ 1, and ≤ e^{−1} − 1 < −½ above): the expm1 is formed
      // only near the boundary, where it decides as before.
      let deltaSquared = delta * delta
      let farFromShortcut = deltaSquared < 0.5 && r > 2.000002 * deltaSquared
      if !farFromShortcut, deltaSquared + Double.expMinusOne(-r) > 0 { return 0 }
      if !(alpha > 1.01) { return .infinity }
    }
    return r + orderTerms.0 - orderTerms.1
  }

  /// The log δ bound at one order for total RDP r; non-decreasing in r.
  private func logDeltaCandidate(order alpha: Double, rdp r: Double, epsilon: Double) -> Double {
    if r <= 0 { return -.infinity }
    switch self {
    case .improved:
      var logDelta = 0.5 * Double.log(onePlus: -Double.exp(-r))
      if alpha > 1.01 {
        let bound =
          (alpha - 1) * (r - epsilon + Double.log(onePlus: -1 / alpha)) - Double.log(alpha)
        logDelta = min(logDelta, bound)
      }
      return logDelta
    case .classic:
      return (alpha - 1) * (r - epsilon)
    }
  }

  private static func bound(_ value: Double, index: Int, orders: [Double]) -> PrivacyBound {
    let atEdge = value > 0 && value.isFinite && (index == 0 || index == orders.count - 1)
    return PrivacyBound(value: value, optimalOrder: orders[index], orderAtGridEdge: atEdge)
  }
}
