/// The moments accountant of Abadi et al. 2016 ("Deep Learning with Differential
/// Privacy", arXiv:1607.00133v2), as a thin view over ``RDPAccountant``.
///
/// The log-moment α_M(λ) of a mechanism equals λ·R(λ + 1), its RDP at order λ + 1,
/// and the paper's tail bound δ = min_λ exp(α_M(λ) − λε) is exactly Mironov's classic
/// conversion (``RDPConversion/classic``). So this accountant is RDP on the orders
/// λ + 1 = 2, …, 33 (the paper's implementation tracked λ ≤ 32) with the classic
/// conversion. Use it to reproduce older papers; ``RDPAccountant`` with the improved
/// conversion and its wider grid gives smaller, equally valid ε.
public struct MomentsAccountant: PrivacyAccountant, Equatable {
  private var rdpAccountant: RDPAccountant

  /// Creates an empty moments accountant.
  /// - Parameter orders: the orders λ + 1 (default ``RDPOrders/moments``: 2, …, 33).
  public init(orders: RDPOrders = .moments) {
    rdpAccountant = .moments(orders: orders)
  }

  /// The orders λ + 1 at which the log-moments are tracked.
  public var orders: RDPOrders { rdpAccountant.orders }
  /// Always ``RDPConversion/classic``, the paper's tail bound.
  public var conversion: RDPConversion { rdpAccountant.conversion }
  /// Always add/remove one, the relation of the paper.
  public var neighboringRelation: NeighboringRelation { rdpAccountant.neighboringRelation }
  /// Everything composed so far.
  public var ledger: DPEvent { rdpAccountant.ledger }

  public func check(_ event: DPEvent) -> CompositionFailure? { rdpAccountant.check(event) }

  public mutating func compose(_ event: DPEvent, count: Int) throws(AccountingError) {
    try rdpAccountant.compose(event, count: count)
  }

  /// ε(δ) with the optimal order (λ + 1) and the grid-edge flag.
  public func epsilonBound(delta: Double) throws(AccountingError) -> PrivacyBound {
    try rdpAccountant.epsilonBound(delta: delta)
  }

  /// δ(ε) with the optimal order (λ + 1) and the grid-edge flag.
  public func deltaBound(epsilon: Double) throws(AccountingError) -> PrivacyBound {
    try rdpAccountant.deltaBound(epsilon: epsilon)
  }

  public func epsilon(delta: Double) throws(AccountingError) -> Double {
    try rdpAccountant.epsilon(delta: delta)
  }

  public func delta(epsilon: Double) throws(AccountingError) -> Double {
    try rdpAccountant.delta(epsilon: epsilon)
  }
}

extension RDPAccountant {
  /// An RDP accountant configured as the moments accountant: the orders λ + 1 (default
  /// 2, …, 33) and the classic conversion. ``MomentsAccountant`` is a view over it; this
  /// form is for code that needs the concrete ``RDPAccountant`` type (e.g. calibration).
  public static func moments(orders: RDPOrders = .moments) -> RDPAccountant {
    RDPAccountant(orders: orders, conversion: .classic)
  }
}
