/// Bracketing searches for the boundary of a monotone feasibility region. Internal;
/// tested directly. Both searches only ever *return* points that were evaluated and
/// found feasible, so the answer meets the target whatever the tolerance.
enum RootFinding {
  /// For f decreasing in u with f(infeasible) > 0 ≥ f(feasible) and infeasible < feasible,
  /// narrows the bracket to width ≤ `tolerance` and returns the feasible end.
  ///
  /// Method: regula falsi with the Illinois modification (the retained endpoint's value
  /// is halved when the same side is kept twice), falling back to bisection when a
  /// function value is infinite. A secant step that lands within half a tolerance of an
  /// endpoint is moved to half a tolerance inside, so that an endpoint already at the
  /// root closes the bracket in one more step. Converges superlinearly on smooth
  /// ε(log σ) and never loses the bracket.
  static func feasibleBoundary<E: Error>(
    infeasible: (u: Double, f: Double), feasible: (u: Double, f: Double), tolerance: Double,
    _ f: (Double) throws(E) -> Double
  ) throws(E) -> Double {
    var (a, fa) = infeasible
    var (b, fb) = feasible
    var keptSide = 0  // +1: a was kept last time, −1: b was kept last time
    for _ in 0..<200 where b - a > tolerance {
      let width = b - a
      var u = a + width / 2
      if fa.isFinite, fb.isFinite, fa != fb {
        let secant = b - fb * (b - a) / (fb - fa)
        if secant.isFinite { u = min(max(secant, a + tolerance / 2), b - tolerance / 2) }
      }
      let fu = try f(u)
      if fu > 0 {
        a = u
        fa = fu
        if keptSide == -1 { fb /= 2 }
        keptSide = -1
      } else {
        b = u
        fb = fu
        if keptSide == +1 { fa /= 2 }
        keptSide = +1
      }
    }
    return b
  }

  /// The largest integer n in [1, limit] with `isFeasible(n)`, for a predicate that is
  /// true up to some n* and false after; `nil` when even n = 1 is infeasible. Exponential
  /// search, then bisection: O(log n*) evaluations.
  static func largestFeasibleInteger<E: Error>(
    limit: Int, _ isFeasible: (Int) throws(E) -> Bool
  ) throws(E) -> Int? {
    guard limit >= 1, try isFeasible(1) else { return nil }
    if limit == 1 { return 1 }
    var low = 1  // feasible
    var high = 2  // candidate, not yet known
    while true {
      if high >= limit {
        if try isFeasible(limit) { return limit }
        high = limit
        break
      }
      if try !isFeasible(high) { break }
      low = high
      // Doubling past Int.max would trap; `limit` is tried next instead.
      high = high > limit / 2 ? limit : high * 2
    }
    while high - low > 1 {
      let middle = low + (high - low) / 2
      if try isFeasible(middle) { low = middle } else { high = middle }
    }
    return low
  }
}
