/// The exact hockey-stick curve δ(ε) of one release's loss at the grid losses i·h, kept
/// between the steps of an automatic refinement: the grid of interval h/2 contains every
/// loss of the grid of h, so only its new (odd) points need evaluating. Each δ costs two
/// erfc and more, and the two grids of a query would otherwise evaluate 1.5 times as many.
struct HockeyStickGrid: Sendable {
  /// The interval h.
  let discretization: Double
  /// The index of the first loss: `values[i]` is δ at (lower + i)·h.
  let lower: Int
  /// δ at each grid loss, exactly as `SubsampledGaussianLoss.delta(epsilon:)` returns it.
  let values: [Double]

  /// δ of `loss` at i·h for i from ⌊range.lowerBound/h⌋ to ⌈range.upperBound/h⌉ (at least
  /// two points), taken from `coarser` where it holds the same loss (interval 2h: the same
  /// Double, since (2k)·h = k·(2h) exactly).
  init(
    _ loss: SubsampledGaussianLoss, discretization h: Double, range: ClosedRange<Double>,
    reusing coarser: HockeyStickGrid? = nil
  ) {
    let lower = Int((range.lowerBound / h).rounded(.down))
    let upper = max(lower + 1, Int((range.upperBound / h).rounded(.up)))
    let reusable = coarser.flatMap { $0.discretization == 2 * h ? $0 : nil }
    values = (lower...upper).map { k in
      if let reusable, k % 2 == 0 {
        let index = k / 2 - reusable.lower
        if reusable.values.indices.contains(index) { return reusable.values[index] }
      }
      return loss.delta(epsilon: Double(k) * h)
    }
    self.lower = lower
    discretization = h
  }
}
