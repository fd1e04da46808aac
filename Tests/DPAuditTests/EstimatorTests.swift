import Accountants
import DPModel
import DPTestSupport
import Testing

@testable import DPAudit

/// The estimators on releases whose ε is known.
@Suite("Audit estimators")
struct EstimatorTests {
  @Test(
    "the one-run lower bound reproduces Steinke, Nasr & Jagielski's printed values",
    arguments: [(1_000, 100, 75, 1e-4, 0.673), (100_000, 1_510, 1_439, 1e-5, 2.676)])
  func publishedValues(canaries: Int, guesses: Int, correct: Int, delta: Double, printed: Double) {
    let bound = OneRunLowerBound(
      canaries: canaries, guesses: guesses, correct: correct, delta: delta)
    expectClose(bound.epsilon(confidence: 0.95), printed, relative: 0, absolute: 1.5e-3)
  }

  @Test("randomized response with ε = 1: the lower bound stays below 1 and approaches it")
  func randomizedResponse() {
    // r guesses right each with probability e/(1+e), the most an ε = 1 mechanism allows.
    let r = 50_000
    let correct = Int((Double(r) / (1 + .exp(-1.0))).rounded(.down))
    let epsilon = OneRunLowerBound(canaries: r, guesses: r, correct: correct, delta: 0)
      .epsilon(confidence: 0.95)
    #expect(epsilon < 1 && epsilon > 0.95, "lower bound \(epsilon)")
  }

  /// Cosines of m canaries (half inserted by their coins) with one Gaussian-mechanism
  /// release in d dimensions: the inserted canaries' unit directions summed, plus N(0, σ²)
  /// per coordinate. Each canary's presence is then a Gaussian mechanism of sensitivity 1
  /// whose noise, seen along its direction, is √(σ² + (k − 1)/d) with k inserted canaries
  /// (the others' directions add (k − 1)/d of variance).
  static func release(canaries m: Int, dimension d: Int, sigma: Double, seed: UInt64)
    -> (CanaryDirections, [Double])
  {
    let canaries = CanaryDirections(count: m, dimension: d, seed: seed)
    var generator = Xoshiro256StarStar(seed: seed ^ 0x6E6F_6973_65)
    var release = (0..<d).map { _ in Float(sigma * generator.nextStandardNormal()) }
    for j in canaries.inserted {
      for (i, value) in canaries.direction(j).enumerated() { release[i] += value }
    }
    return (canaries, canaries.cosines(with: release))
  }

  @Test(
    "on a Gaussian mechanism of known ε, the one-shot estimate lands within 15 % and the lower bound below it",
    arguments: [(1.0, 1e-5, UInt64(1)), (2.0, 1e-5, 2), (0.6, 1e-4, 3)])
  func knownGaussian(sigma: Double, delta: Double, seed: UInt64) throws {
    let (canaries, cosines) = Self.release(
      canaries: 2_000, dimension: 10_000, sigma: sigma, seed: seed)
    let k = Double(canaries.inserted.count)
    var accountant = PLDAccountant()
    try accountant.compose(
      .gaussian(noiseMultiplier: (sigma * sigma + (k - 1) / 10_000).squareRoot()), count: 1)
    let truth = try accountant.epsilon(delta: delta)
    let estimate = OneShotEstimate(
      inserted: canaries.inserted.map { cosines[$0] },
      heldOut: cosines.indices.filter { !canaries.isInserted[$0] }.map { cosines[$0] },
      dimension: canaries.dimension, delta: delta)
    expectClose(estimate.epsilon, truth, relative: 0.15)
    #expect(estimate.twoGaussianEpsilon >= estimate.epsilon * 0.9)
    // The held-out canaries' mean, 0 ± 4 standard errors of N(0, 1/d) over 1,000 values.
    expectClose(estimate.heldOutMean, 0, relative: 0, absolute: 4 / (10_000.0 * 1_000).squareRoot())
    let lower = OneRunLowerBound.best(
      scores: cosines, isInserted: canaries.isInserted, delta: delta, confidence: 0.95)
    #expect(lower.epsilon <= truth && lower.epsilon > 0, "lower bound \(lower.epsilon), ε \(truth)")
  }
}
