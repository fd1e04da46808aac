import RealModule
import Testing

/// Expects `actual` to equal `expected` within a relative tolerance, or an absolute
/// one for values near zero: |actual − expected| ≤ max(absolute, relative · |expected|).
/// Infinities must match exactly. The message names both values and the tolerances.
public func expectClose(
  _ actual: Double, _ expected: Double, relative: Double, absolute: Double = 0,
  _ comment: @autoclosure () -> String = "",
  sourceLocation: SourceLocation = #_sourceLocation
) {
  if expected.isInfinite || actual.isInfinite || expected.isNaN || actual.isNaN {
    #expect(
      actual == expected, "\(comment()) got \(actual), expected \(expected)",
      sourceLocation: sourceLocation)
    return
  }
  let bound = max(absolute, relative * abs(expected))
  #expect(
    abs(actual - expected) <= bound,
    "\(comment()) got \(actual), expected \(expected) (|Δ| = \(abs(actual - expected)), allowed \(bound))",
    sourceLocation: sourceLocation)
}
