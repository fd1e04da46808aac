/// The total RDP of a composition of mechanisms on a grid of orders, evaluated lazily,
/// and the minimisation over the grid that every RDP conversion needs.
///
/// A conversion picks the order minimising f(α, R(α)) for a function f that is
/// non-decreasing in R (true of both conversions and of log δ(ε)). Three facts about a
/// true RDP curve R give cheap lower bounds on R at an order without evaluating it:
/// 1. R is non-decreasing in α (Mironov 2017, arXiv:1702.07476v3, Prop. 9);
/// 2. K(α) = (α−1)·R(α) = log E_Q[(P/Q)^α] is a cumulant generating function, hence convex,
///    with K(1) = 0: it lies above the extension of every chord between two orders;
/// 3. R(α) ≥ KL ≥ 2·TV² (Pinsker).
/// For the Poisson-subsampled Gaussian the integer orders are exact finite sums and cheap,
/// while fractional orders need a slowly converging series whose result is an upper bound
/// of R; so the exact integer values bound the fractional ones from below. An order whose
/// lower bound of f already exceeds the best value found cannot be the minimum and is not
/// evaluated. ``minimize(_:floor:)`` returns the grid minimum — the same value and the same
/// first minimising order as evaluating every order — after a fraction of the work.
struct RDPCurve {
  let orders: [Double]
  /// The grid's per-order constants (``RDPOrderConstants``).
  let constants: RDPOrderConstants
  let mechanisms: [RDPTerm]
  /// Per mechanism, read once: ``RDPMechanism/hasClosedForm``,
  /// ``RDPMechanism/hasExactIntegerOrders`` and ``RDPMechanism/orderFreeLowerBound``
  /// (the search asks for them at every order).
  private let hasClosedForm: [Bool]
  private let hasExactIntegerOrders: [Bool]
  private let orderFreeLowerBounds: [Double]
  /// perStep[m · orders.count + i]: per-step RDP of mechanism m at grid order i, NaN until
  /// computed (a value is never NaN).
  private var perStep: [Double]
  /// Exact per-step RDP at integer orders (on the grid or not), for the lower bounds;
  /// filled only for mechanisms with exact integer orders, and only at the orders evaluated
  /// (a dense table per mechanism cost 8 kB each: 800 MB for 10⁵ distinct mechanisms).
  private var integerValues: [IntegerOrderValues]

  init(grid: RDPOrders, mechanisms: [RDPTerm]) {
    orders = grid.values
    constants = grid.constants
    self.mechanisms = mechanisms
    hasClosedForm = mechanisms.map(\.mechanism.hasClosedForm)
    hasExactIntegerOrders = mechanisms.map(\.mechanism.hasExactIntegerOrders)
    orderFreeLowerBounds = mechanisms.map(\.mechanism.orderFreeLowerBound)
    perStep = [Double](repeating: .nan, count: mechanisms.count * orders.count)
    integerValues = mechanisms.map { _ in IntegerOrderValues() }
  }

  /// Σ count · per-step RDP at order index `i`.
  mutating func total(at i: Int) -> Double {
    var sum = 0.0
    for m in mechanisms.indices { sum += mechanisms[m].count * perStepValue(m, i) }
    return sum
  }

  /// Every order's total, in grid order.
  mutating func all() -> [Double] { orders.indices.map { total(at: $0) } }

  /// The first index minimising `f(i, total(i))`, and that minimum.
  ///
  /// - Parameter floor: a lower bound of `f(i, r′)` for every r′ ≥ r, used to prune; `f`
  ///   itself when `f` is non-decreasing in its second argument.
  mutating func minimize(
    _ f: (Int, Double) -> Double, floor: (Int, Double) -> Double
  ) -> (index: Int, value: Double) {
    var bestIndex = orders.count
    var best = Double.infinity
    func consider(_ i: Int, _ value: Double) {
      let value = value.isNaN ? .infinity : value
      if value < best || (value == best && i < bestIndex) {
        best = value
        bestIndex = i
      }
    }
    for i in constants.seedIndices { consider(i, f(i, total(at: i))) }
    for i in orders.indices {
      var lowerBound = 0.0
      for m in mechanisms.indices { lowerBound += mechanisms[m].count * perStepLowerBound(m, i) }
      let bound = floor(i, lowerBound)
      // Rounding in the sums is far below 1e-9 relative; the margin keeps a pruned order
      // from hiding a rounding-level tie.
      if bound > best + 1e-9 * abs(best) + 1e-12 || (bound >= best && i > bestIndex) { continue }
      consider(i, f(i, total(at: i)))
    }
    return (bestIndex, best)
  }

  // MARK: - Per-step values and bounds

  private mutating func perStepValue(_ m: Int, _ i: Int) -> Double {
    let slot = m * orders.count + i
    if !perStep[slot].isNaN { return perStep[slot] }
    let alpha = orders[i]
    var value: Double
    if constants.isInteger[i], alpha <= Double(RDPOrders.maximumOrder), hasExactIntegerOrders[m] {
      value = integerValue(m, Int(alpha))
    } else {
      value = mechanisms[m].mechanism.epsilon(order: alpha)
      if value.isNaN { value = .infinity }
    }
    perStep[slot] = value
    return value
  }

  private mutating func integerValue(_ m: Int, _ n: Int) -> Double {
    if let value = integerValues[m].value(order: n) { return value }
    var value = mechanisms[m].mechanism.epsilon(order: Double(n))
    if value.isNaN { value = .infinity }
    integerValues[m].insert(value, order: n)
    return value
  }

  /// A lower bound on mechanism m's per-step RDP at grid order i, never above the value
  /// ``perStepValue(_:_:)`` would return, and cheap.
  private mutating func perStepLowerBound(_ m: Int, _ i: Int) -> Double {
    if hasClosedForm[m] { return perStepValue(m, i) }
    let alpha = orders[i]
    let value = perStep[m * orders.count + i]
    if !value.isNaN, mechanisms[m].mechanism.isExactAnchor(order: alpha) { return value }
    var bound = orderFreeLowerBounds[m]
    guard hasExactIntegerOrders[m] else { return bound }
    // K(n) = (n−1)·R(n) at integer orders, exact.
    func k(_ n: Int) -> Double { n == 1 ? 0 : Double(n - 1) * integerValue(m, n) }
    if constants.isInteger[i] {
      // An integer order not yet evaluated: bound it from the two largest integer orders
      // evaluated below it (monotonicity, and the chord of K through them).
      let below = integerValues[m].twoLargest(below: Int(alpha))
      if let b = below.largest {
        bound = max(bound, integerValue(m, b))
        if let a = below.next {
          let slope = (k(b) - k(a)) / Double(b - a)
          bound = max(bound, (k(b) + (alpha - Double(b)) * slope) / (alpha - 1))
        }
      }
      return bound
    }
    // A fractional order between the integers n and n + 1: the chords of K through
    // (n−1, n) and (n+1, n+2) extended to α, and monotonicity from n.
    let n = Int(alpha.rounded(.down))
    if n >= 2 {
      bound = max(bound, integerValue(m, n))
      bound = max(bound, (k(n) + (alpha - Double(n)) * (k(n) - k(n - 1))) / (alpha - 1))
    }
    bound = max(bound, (k(n + 1) - (Double(n + 1) - alpha) * (k(n + 2) - k(n + 1))) / (alpha - 1))
    return bound
  }
}

/// One mechanism's exact per-step RDP at the integer orders evaluated so far: orders below
/// ``denseLimit`` in a table by order (the search looks them up hundreds of times a query;
/// a binary search there cost a tenth of a median query), larger ones sorted by order
/// (a dense table up to 1024 would cost 8 kB per mechanism, 800 MB for 10⁵ distinct
/// mechanisms).
struct IntegerOrderValues {
  /// Orders below this are kept in ``small`` (0.5 kB per mechanism).
  static let denseLimit = 64

  /// `small[n]` is order n's value, NaN while it is not evaluated (a value is never NaN).
  private var small = [Double](repeating: .nan, count: denseLimit)
  private var orders: [Int] = []
  private var values: [Double] = []

  /// Order n's value, if evaluated.
  func value(order n: Int) -> Double? {
    if n < Self.denseLimit {
      let value = small[n]
      return value.isNaN ? nil : value
    }
    let position = position(of: n)
    return position < orders.count && orders[position] == n ? values[position] : nil
  }

  /// Records order n's value (not NaN, not yet recorded).
  mutating func insert(_ value: Double, order n: Int) {
    if n < Self.denseLimit {
      small[n] = value
    } else {
      let position = position(of: n)
      orders.insert(n, at: position)
      values.insert(value, at: position)
    }
  }

  /// The (at most) two largest evaluated orders ≥ 2 below n.
  func twoLargest(below n: Int) -> (largest: Int?, next: Int?) {
    var found: (largest: Int?, next: Int?) = (nil, nil)
    func record(_ order: Int) {
      if found.largest == nil { found.largest = order } else { found.next = order }
    }
    var end = position(of: n)
    while found.next == nil, end > 0 {
      end -= 1
      record(orders[end])
    }
    var order = min(n, Self.denseLimit) - 1
    while found.next == nil, order >= 2 {
      if !small[order].isNaN { record(order) }
      order -= 1
    }
    return found
  }

  /// Where order n is, or would be inserted, among the orders from ``denseLimit`` on.
  private func position(of n: Int) -> Int {
    var (low, high) = (0, orders.count)
    while low < high {
      let middle = (low + high) / 2
      if orders[middle] < n { low = middle + 1 } else { high = middle }
    }
    return low
  }
}

/// A mechanism and how many times it was composed.
struct RDPTerm: Hashable, Sendable {
  var mechanism: RDPMechanism
  var count: Double
}
