import DPTestSupport
import RealModule
import Testing

@testable import Accountants

@Suite("Numerics")
struct NumericsTests {
  @Test("log-space addition is exact at −∞ and does not overflow")
  func logAdd() {
    #expect(LogSpace.add(-.infinity, 3) == 3)
    #expect(LogSpace.add(-.infinity, -.infinity) == -.infinity)
    expectClose(LogSpace.add(1000, 1000), 1000 + Double.log(2), relative: 1e-15)
    expectClose(LogSpace.add(Double.log(2), Double.log(3)), Double.log(5), relative: 1e-15)
  }

  @Test("the running log-sum is exact at −∞, keeps 1 + tiny, and rescales to the largest term")
  func logSum() {
    var empty = LogSpace.Sum()
    #expect(empty.logValue == -.infinity)
    empty.add(-.infinity)
    #expect(empty.logValue == -.infinity)
    var sum = LogSpace.Sum()
    for x: Double in [Double.log(2), -.infinity, Double.log(3), 800, Double.log(5)] { sum.add(x) }
    expectClose(sum.logValue, 800, relative: 1e-15)
    var small = LogSpace.Sum()
    small.add(0)
    small.add(-40)  // 1 + e^-40: log1p keeps the 4.2e-18
    expectClose(small.logValue, Double.exp(-40), relative: 1e-12)
    var mixed = LogSpace.Sum()
    for x in [Double.log(2), Double.log(3), Double.log(5)] { mixed.add(x) }
    expectClose(mixed.logValue, Double.log(10), relative: 1e-15)
  }

  @Test("the stopping test `exceeds` decides as comparing with the total does, near ties included")
  func sumExceeds() {
    var generator = SeededGenerator(seed: 20261206)
    for _ in 0..<20_000 {
      var sum = LogSpace.Sum()
      let terms = Int.random(in: 1...6, using: &generator)
      for _ in 0..<terms { sum.add(Double.random(in: -60...40, using: &generator)) }
      let margin = [0.0, 30, 1e-3].randomElement(using: &generator)!
      // Probe around the threshold, from far off down to rounding-level distances.
      let threshold = sum.logValue - margin
      let offset =
        Double.random(in: -1...1, using: &generator)
        * Double.pow(10, Double.random(in: -15...1, using: &generator))
      let x = threshold + offset
      #expect(sum.exceeds(x, by: margin) == (x < sum.logValue - margin), "x = \(x)")
    }
    #expect(!LogSpace.Sum().exceeds(-1e300, by: 0))
  }

  @Test("erfc's logarithm is exactly log 2 below −6, where erfc rounds to 2")
  func logErfcSaturates() {
    for x in stride(from: -6.0, through: -40, by: -0.37) {
      #expect(LogSpace.erfc(x) == Double.log(Double.erfc(x)), "x = \(x)")
    }
  }

  @Test("log-space subtraction reports the sign")
  func logSubtract() {
    let (positive, magnitude) = LogSpace.subtractWithSign(Double.log(5), Double.log(3))
    #expect(positive)
    expectClose(magnitude, Double.log(2), relative: 1e-15)
    #expect(!LogSpace.subtractWithSign(Double.log(3), Double.log(5)).isNonNegative)
    #expect(LogSpace.subtractWithSign(1, 1).magnitude == -.infinity)
  }

  @Test("log C(n, k) matches exact binomials, also far beyond Double's range")
  func logBinomial() {
    expectClose(LogSpace.binomialMagnitude(10, 3), Double.log(120), relative: 1e-14)
    // log C(2048, 1024) from mpmath: log(binomial(2048, 1024)) at 30 digits.
    expectClose(LogSpace.binomialMagnitude(2048, 1024), 1415.5272028707359, relative: 1e-13)
  }

  @Test(
    "log erfc is accurate where erfc underflows (references from mpmath at 30 digits)",
    arguments: [
      (-3.0, 0.69313613525044681), (0.0, 0.0), (1.0, -1.8496055099332482),
      (10.0, -102.87988902484489), (19.999, -403.52929445708932), (20.0, -403.56934333410423),
      (27.0, -732.86888650789741), (100.0, -10005.177585122664), (1e4, -100000009.78270532),
    ])
  func logErfc(x: Double, expected: Double) {
    expectClose(LogSpace.erfc(x), expected, relative: 1e-14, absolute: 1e-15, "x = \(x)")
  }

  @Test("the feasible-boundary search keeps its bracket and returns the feasible end")
  func boundarySearch() throws {
    // f(u) = e^(−u) − 0.3 is decreasing; its root is u = −log 0.3.
    let f = { (u: Double) -> Double in Double.exp(-u) - 0.3 }
    let root = -Double.log(0.3)
    let found = RootFinding.feasibleBoundary(
      infeasible: (0, f(0)), feasible: (5, f(5)), tolerance: 1e-9, f)
    #expect(found >= root)
    #expect(found - root <= 1e-9)
    // Infinite values on the infeasible side fall back to bisection.
    let g = { (u: Double) -> Double in u < 1 ? .infinity : 2 - u }
    let edge = RootFinding.feasibleBoundary(
      infeasible: (0, .infinity), feasible: (10, -8), tolerance: 1e-9, g)
    #expect(edge >= 2 && edge - 2 <= 1e-9)
  }

  @Test("the integer search finds the last feasible count exactly")
  func integerSearch() {
    for boundary in [1, 2, 3, 7, 1000, 123_457] {
      #expect(RootFinding.largestFeasibleInteger(limit: 1 << 40) { $0 <= boundary } == boundary)
    }
    #expect(RootFinding.largestFeasibleInteger(limit: 1 << 40) { _ in false } == nil)
    #expect(RootFinding.largestFeasibleInteger(limit: 100) { _ in true } == 100)
  }
}
