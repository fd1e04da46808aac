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
public struct RDPBound: Hashable, Sendable {
  /// ε (from ``RDPAccountant/epsilonBound(delta:)``) or δ (from ``RDPAccountant/deltaBound(epsilon:)``).
  public var value: Double
  /// The order α at which the minimum is attained; `nil` when no order applies (δ = 0).
  public var optimalOrder: Double?
  /// Whether the optimal order is the smallest or largest of the grid while the bound is
  /// still positive, so that a wider grid might give a smaller bound.
  public var orderAtGridEdge: Bool
}

extension RDPConversion {
  /// ε(δ) from total RDP values `rdp[i]` at `orders[i]`.
  /// - Precondition: `orders` and `rdp` have the same count; δ ∈ [0, 1] (checked by the caller).
  func epsilon(orders: [Double], rdp: [Double], delta: Double) -> RDPBound {
    precondition(orders.count == rdp.count, "orders and rdp must have the same count")
    if delta == 0 {
      let allZero = rdp.allSatisfy { $0 == 0 }
      return RDPBound(value: allZero ? 0 : .infinity, optimalOrder: nil, orderAtGridEdge: false)
    }
    let logDelta = Double.log(delta)
    let candidates = zip(orders, rdp).map { alpha, r -> Double in
      // R(α) ≤ 0 at some α > 1 means identical distributions (negative only from rounding).
      if r <= 0 { return 0 }
      switch self {
      case .improved:
        if delta * delta + Double.expMinusOne(-r) > 0 { return 0 }
        if alpha > 1.01 {
          return r + Double.log(onePlus: -1 / alpha) - Double.log(delta * alpha) / (alpha - 1)
        }
        return .infinity
      case .classic:
        return r - logDelta / (alpha - 1)
      }
    }
    return Self.minimum(candidates, orders: orders) { max(0, $0) }
  }

  /// δ(ε) from total RDP values `rdp[i]` at `orders[i]`, clamped at ≤ 1.
  /// - Precondition: `orders` and `rdp` have the same count; ε ≥ 0 (checked by the caller).
  func delta(orders: [Double], rdp: [Double], epsilon: Double) -> RDPBound {
    precondition(orders.count == rdp.count, "orders and rdp must have the same count")
    let logDeltas = zip(orders, rdp).map { alpha, r -> Double in
      if r <= 0 { return -.infinity }
      switch self {
      case .improved:
        var logDelta = 0.5 * Double.log(onePlus: -Double.exp(-r))
        if alpha > 1.01 {
          let bound = (alpha - 1) * (r - epsilon + Double.log(onePlus: -1 / alpha)) - Double.log(alpha)
          logDelta = min(logDelta, bound)
        }
        return logDelta
      case .classic:
        return (alpha - 1) * (r - epsilon)
      }
    }
    return Self.minimum(logDeltas, orders: orders) { min(Double.exp($0), 1) }
  }

  /// The first minimum of `values` (NaN never wins), mapped through `finish`.
  private static func minimum(
    _ values: [Double], orders: [Double], finish: (Double) -> Double
  ) -> RDPBound {
    var best = 0
    for index in values.indices.dropFirst() where values[index] < values[best] || values[best].isNaN {
      best = index
    }
    let value = finish(values[best].isNaN ? .infinity : values[best])
    let atEdge = value > 0 && value.isFinite && (best == 0 || best == values.count - 1)
    return RDPBound(value: value, optimalOrder: orders[best], orderAtGridEdge: atEdge)
  }
}
