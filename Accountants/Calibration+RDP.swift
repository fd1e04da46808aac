/// A warm start for calibrating RDP accountants.
///
/// An RDP accountant's ε is a minimum over its orders, so restricting the grid to its
/// integer orders can only raise ε. Integer orders are exact finite sums and cheap, while
/// the fractional ones need a slowly converging series; so the search first solves on the
/// integer orders alone (σ_int ≥ σ*, ε(σ_int) ≤ target on the whole grid too), then runs the
/// ordinary whole-grid search starting there, with a bracket that grows from 2 %. The
/// answer is exactly what the whole-grid search gives; only the number of whole-grid
/// evaluations drops, from about twelve to about five.
extension Calibration.Search {
  func startingFromIntegerOrders(
    template: RDPAccountant, event: (Double) -> DPEvent
  ) throws(AccountingError) -> Double? {
    let integers = template.orders.values.filter { $0.rounded() == $0 }
    guard !integers.isEmpty, integers.count < template.orders.values.count else { return nil }
    let coarse = RDPAccountant(
      orders: try RDPOrders(integers), conversion: template.conversion,
      neighboringRelation: template.neighboringRelation)
    func epsilon(_ accountant: RDPAccountant, at x: Double) throws(AccountingError) -> Double {
      var fresh = accountant
      try fresh.compose(event(x))
      return try fresh.epsilon(delta: target.delta)
    }
    let start: Double
    do {
      start = try boundary(start: 1) { (x: Double) throws(AccountingError) -> Double in
        try epsilon(coarse, at: x)
      }
    } catch .noBracketFound {
      return nil  // the integer orders alone never meet the target: search the whole grid
    }
    return try boundary(start: start, initialStep: 0.02) {
      (x: Double) throws(AccountingError) -> Double in
      try epsilon(template, at: x)
    }
  }
}
