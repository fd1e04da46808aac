/// Central differences (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h with h = 1e-6·max(1, |xᵢ|), for
/// the coordinates in `indices` (all when `nil`), as STYLE §2.6 prescribes for gradient
/// checks in Double.
public func finiteDifferenceGradient(
  at point: [Double], indices: [Int]? = nil, _ function: ([Double]) -> Double
) -> [Double] {
  (indices ?? Array(point.indices)).map { index in
    let step = 1e-6 * max(1, abs(point[index]))
    var plus = point
    var minus = point
    plus[index] += step
    minus[index] -= step
    return (function(plus) - function(minus)) / (2 * step)
  }
}

/// ‖a − b‖₂ / max(‖a‖₂, ‖b‖₂): the norm-wise relative error of two gradients (0 when
/// both are zero).
public func relativeError(_ a: [Double], _ b: [Double]) -> Double {
  precondition(a.count == b.count, "relativeError: \(a.count) vs \(b.count) entries")
  let difference = zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
  let scale = max(
    a.reduce(0) { $0 + $1 * $1 }.squareRoot(), b.reduce(0) { $0 + $1 * $1 }.squareRoot())
  return scale == 0 ? 0 : difference / scale
}
