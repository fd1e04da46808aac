import RealModule

/// A grid of Rényi orders α > 1 at which an RDP accountant tracks the privacy curve.
///
/// The grid is part of every RDP result: ε is the minimum of a per-order bound over
/// the grid, so a coarser or narrower grid gives a larger (still valid) ε. Results
/// report the optimal order and whether it sits at an edge of the grid, where a wider
/// grid might give a smaller ε.
public struct RDPOrders: Hashable, Sendable {
  /// A short name for known grids ("dp_accounting_default", …) or "custom".
  public let name: String
  /// The orders, strictly increasing, all finite and > 1.
  public let values: [Double]
  /// What every query needs of each order, formed once with the grid.
  let constants: RDPOrderConstants

  /// dp_accounting 0.6.0's `DEFAULT_RDP_ORDERS`, 156 orders:
  /// 1.1, 1.2, …, 10.9 (as 1 + k/10), 11, 12, …, 63, 128, 256, 512, 1024.
  /// The default of every dpfl RDP accountant; the orders above 63 matter for large σ
  /// and small δ, where Opacus's grid (which stops at 63) is loose.
  public static let dpAccountingDefault = RDPOrders(
    uncheckedName: "dp_accounting_default",
    values: (1...99).map { 1 + Double($0) / 10 } + (11...63).map(Double.init) + [
      128, 256, 512, 1024,
    ])

  /// Opacus 1.6.0's `RDPAccountant.DEFAULT_ALPHAS`, 151 orders: 1.1, …, 10.9, 12, …, 63
  /// (order 11 is missing). Provided to reproduce Opacus numbers.
  public static let opacusDefault = RDPOrders(
    uncheckedName: "opacus_default",
    values: (1...99).map { 1 + Double($0) / 10 } + (12...63).map(Double.init))

  /// The integer orders 2, …, 63, 128, 256, 512, 1024, where the RDP of the Poisson-
  /// subsampled Gaussian is a finite sum (no series truncation).
  public static let integer = RDPOrders(
    uncheckedName: "integer",
    values: (2...63).map(Double.init) + [128, 256, 512, 1024])

  /// The moments accountant's orders, λ + 1 for λ = 1, …, 32 (Abadi et al. 2016, §3.1 and
  /// TF-Privacy's original `moment_orders = 32`).
  public static let moments = RDPOrders(
    uncheckedName: "moments", values: (2...33).map(Double.init))

  /// The largest order a grid may hold, 2²⁰: an integer order α costs O(α) per mechanism
  /// (a finite sum of α + 1 terms), and beyond 2⁶³ it would not even be an `Int`. Orders
  /// above 1024 rarely matter (δ far below 1e-100).
  public static let maximumOrder = 1 << 20

  /// A custom grid: the orders are sorted and de-duplicated.
  /// - Throws: ``AccountingError/invalidArgument(name:value:requirement:)`` when the
  ///   grid is empty or an order is not finite, > 1 and ≤ ``maximumOrder``.
  public init(_ orders: [Double]) throws(AccountingError) {
    guard !orders.isEmpty else {
      throw .invalidArgument(name: "number of RDP orders", value: 0, requirement: "be ≥ 1")
    }
    for order in orders where !(order.isFinite && order > 1) {
      throw .invalidArgument(name: "RDP order", value: order, requirement: "be finite and > 1")
    }
    for order in orders where order > Double(Self.maximumOrder) {
      throw .invalidArgument(
        name: "RDP order", value: order, requirement: "be ≤ \(Self.maximumOrder)")
    }
    self.init(uncheckedName: "custom", values: Array(Set(orders)).sorted())
  }

  private init(uncheckedName name: String, values: [Double]) {
    self.name = name
    self.values = values
    constants = RDPOrderConstants(orders: values)
  }

  public static func == (lhs: RDPOrders, rhs: RDPOrders) -> Bool {
    lhs.name == rhs.name && lhs.values == rhs.values
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(name)
    hasher.combine(values)
  }
}

/// The parts of an RDP query that depend on the grid alone, formed once per grid rather than
/// once per query (a query visits every order).
final class RDPOrderConstants: Sendable {
  /// Whether each order is a whole number.
  let isInteger: [Bool]
  /// log α per order.
  let logOrder: [Double]
  /// log(1 − 1/α) per order.
  let logOneMinusInverse: [Double]
  /// Integer orders spread over the grid (about ×1.5 apart, and the largest two up to 63):
  /// a search evaluates them first, so that it starts with a good best value.
  let seedIndices: [Int]

  init(orders: [Double]) {
    let isInteger = orders.map { $0.rounded() == $0 }
    self.isInteger = isInteger
    logOrder = orders.map { Double.log($0) }
    logOneMinusInverse = orders.map { Double.log(onePlus: -1 / $0) }
    let integers = orders.indices.filter { isInteger[$0] && orders[$0] <= 63 }
    var indices: [Int] = []
    var next = 2.0
    for i in integers where orders[i] >= next {
      indices.append(i)
      next = (orders[i] * 1.5).rounded(.up)
    }
    for i in integers.suffix(2) where !indices.contains(i) { indices.append(i) }
    seedIndices = indices
  }
}
