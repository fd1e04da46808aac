import DPModel
import DPTestSupport
import Testing

@testable import DPFederated

@Suite("AdaptiveClipping")
struct AdaptiveClippingTests {
  @Test("the noise split keeps the overall multiplier: 1/z² = 1/z_Δ² + 1/(2σ_b)²")
  func noiseSplit() throws {
    for (z, sigmaB) in [(0.7, 50.0), (1.1, 5.0), (0.5, 0.3)] {
      let update = try AdaptiveClipping.updateNoiseMultiplier(overall: z, indicatorNoise: sigmaB)
      expectClose(1 / (update * update) + 1 / (4 * sigmaB * sigmaB), 1 / (z * z), relative: 1e-12)
      #expect(update > z)
    }
    #expect(throws: FederatedError.self) {
      try AdaptiveClipping.updateNoiseMultiplier(overall: 2, indicatorNoise: 1)
    }
  }

  @Test(
    "the geometric update tracks the target quantile of the norms (log-normal norms, γ = 0.5 and 0.8)"
  )
  func tracksQuantile() {
    var generator = Xoshiro256StarStar(seed: 7)
    for quantile in [0.5, 0.8] {
      var rule = AdaptiveClipping()
      rule.targetQuantile = quantile
      var bound = 0.01
      var late: [Double] = []
      for round in 0..<600 {
        let norms = (0..<200).map { _ in Double.exp(generator.nextStandardNormal()) }
        let fitted = Double(norms.filter { $0 <= bound }.count) + 2 * generator.nextStandardNormal()
        bound = rule.nextBound(bound, unclippedFraction: fitted / 200)
        if round >= 300 { late.append(bound) }
      }
      // Quantiles of the standard log-normal: e^0 = 1 and e^0.8416 = 2.320.
      let expected = quantile == 0.5 ? 1.0 : 2.320
      let mean = late.reduce(0, +) / Double(late.count)
      #expect(abs(mean - expected) / expected < 0.1, "γ = \(quantile): mean bound \(mean)")
    }
  }

  @Test("a noisy fraction outside [0, 1] is clamped: one step moves C by at most e^η, never to 0, ∞ or NaN")
  func clampedStep() {
    var rule = AdaptiveClipping()
    rule.learningRate = 10
    #expect(rule.nextBound(1, unclippedFraction: -1e300) == rule.nextBound(1, unclippedFraction: 0))
    #expect(rule.nextBound(1, unclippedFraction: 1e300) == rule.nextBound(1, unclippedFraction: 1))
    expectClose(rule.nextBound(1, unclippedFraction: 0), Double.exp(5), relative: 1e-15)
    var bound = 1.0
    for step in 0..<200 { bound = rule.nextBound(bound, unclippedFraction: step.isMultiple(of: 2) ? 1e9 : -1e9) }
    #expect(bound.isFinite && bound > 0)
  }
}
