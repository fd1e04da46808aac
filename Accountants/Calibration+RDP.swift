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
    return try warmStarted(coarse: coarse, fine: template, event: event)
  }
}
