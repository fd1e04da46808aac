import Accountants
import DPTestSupport
import Testing

@testable import DPAudit

@Suite("GaussianPair")
struct GaussianPairTests {
  @Test(
    "equal variances: the Gaussian mechanism of sensitivity Δμ/σ, as the PLD accountant computes it",
    arguments: [(0.5, 1e-5), (1.0, 1e-6), (2.0, 1e-5), (4.0, 1e-3)])
  func equalVariances(sensitivity: Double, delta: Double) throws {
    let pair = GaussianPair(
      .init(mean: 0, standardDeviation: 0.01),
      .init(mean: 0.01 * sensitivity, standardDeviation: 0.01))
    var accountant = PLDAccountant()
    try accountant.compose(.gaussian(noiseMultiplier: 1 / sensitivity), count: 1)
    expectClose(pair.epsilon(delta: delta), try accountant.epsilon(delta: delta), relative: 1e-6)
  }

  /// ∫ max(0, p − e^ε q) by the midpoint rule on ±12 standard deviations.
  static func integrated(_ p: GaussianPair.Normal, _ q: GaussianPair.Normal, _ epsilon: Double)
    -> Double
  {
    func density(_ n: GaussianPair.Normal, _ y: Double) -> Double {
      let z = (y - n.mean) / n.standardDeviation
      return .exp(-z * z / 2) / (n.standardDeviation * (2 * Double.pi).squareRoot())
    }
    let low = min(p.mean - 12 * p.standardDeviation, q.mean - 12 * q.standardDeviation)
    let high = max(p.mean + 12 * p.standardDeviation, q.mean + 12 * q.standardDeviation)
    let steps = 400_000
    let width = (high - low) / Double(steps)
    return (0..<steps).reduce(0.0) { sum, i in
      let y = low + (Double(i) + 0.5) * width
      return sum + max(0, density(p, y) - .exp(epsilon) * density(q, y)) * width
    }
  }

  @Test(
    "unequal variances: the closed form equals the integrated hockey stick in both directions",
    arguments: [(0.8, 0.5), (1.25, 1.0), (0.5, 2.0)])
  func unequalVariances(ratio: Double, epsilon: Double) {
    let p = GaussianPair.Normal(mean: 0, standardDeviation: 1)
    let q = GaussianPair.Normal(mean: 1.5, standardDeviation: ratio)
    for (a, b) in [(p, q), (q, p)] {
      expectClose(
        GaussianPair.hockeyStick(a, b, epsilon), Self.integrated(a, b, epsilon), relative: 0,
        absolute: 1e-7)
    }
  }

  @Test("δ(ε) does not increase, and ε(δ) inverts it")
  func inverse() {
    let pair = GaussianPair(
      .init(mean: 0, standardDeviation: 1), .init(mean: 2, standardDeviation: 1.1))
    let deltas = stride(from: 0.0, through: 8, by: 0.5).map { pair.delta(epsilon: $0) }
    #expect(zip(deltas, deltas.dropFirst()).allSatisfy { $0 >= $1 })
    let epsilon = pair.epsilon(delta: 1e-5)
    expectClose(pair.delta(epsilon: epsilon), 1e-5, relative: 1e-4)
    #expect(
      GaussianPair(.init(mean: 0, standardDeviation: 1), .init(mean: 0, standardDeviation: 1))
        .epsilon(delta: 1e-5) == 0)
  }
}
