import DPModel
import DPTestSupport
import Foundation
import Testing

@testable import DPFederated

/// The exact discrete Gaussian sampler (Canonne, Kamath & Steinke 2020) and the grid
/// release: distribution checked against the exact pmf with n = 10⁵ draws and 6-standard-
/// error bounds (DKW for the CDF), outputs on the grid, parameters refused by name.
@Suite("DiscreteGaussian")
struct DiscreteGaussianTests {
  static let count = 100_000

  /// `count` seeded draws from N_ℤ(0, σ²).
  static func draws(_ sigma: Double, seed: UInt64) throws -> [Int64] {
    let distribution = try DiscreteGaussian(gridStandardDeviation: sigma)
    var generator = Xoshiro256StarStar(seed: seed)
    return (0..<count).map { _ in distribution.sample(using: &generator) }
  }

  /// sup_k |F̂(k) − F(k)| of `draws` against the exact pmf of `distribution`.
  static func kolmogorovDistance(_ draws: [Int64], _ distribution: DiscreteGaussian) -> Double {
    var counts: [Int64: Int] = [:]
    for draw in draws { counts[draw, default: 0] += 1 }
    let low = min(draws.min()!, -Int64(10 * distribution.gridVariance.squareRoot()) - 2)
    let high = max(draws.max()!, Int64(10 * distribution.gridVariance.squareRoot()) + 2)
    var empirical = 0.0
    var exact = 0.0
    var distance = 0.0
    for (k, p) in zip(low...high, distribution.probabilities(low...high)) {
      empirical += Double(counts[k, default: 0]) / Double(draws.count)
      exact += p
      distance = max(distance, abs(empirical - exact))
    }
    return distance
  }

  /// The exact mean, variance and fourth central moment of N_ℤ(0, σ²) from its pmf.
  static func exactMoments(_ distribution: DiscreteGaussian) -> (variance: Double, fourth: Double) {
    let limit = Int64(12 * distribution.gridVariance.squareRoot()) + 4
    var variance = 0.0
    var fourth = 0.0
    for (k, p) in zip(-limit...limit, distribution.probabilities(-limit...limit)) {
      variance += p * Double(k * k)
      fourth += p * Double(k * k) * Double(k * k)
    }
    return (variance, fourth)
  }

  /// DKW: P(sup|F̂ − F| > ε) ≤ 2·exp(−2nε²); at ε = 3/√n that is 3·10⁻⁸.
  static let kolmogorovBound = 3 / Double(count).squareRoot()

  @Test(
    "draws follow the exact pmf: Kolmogorov distance, mean and variance within bounds",
    arguments: [0.8, 2.5, 30, 1000])
  func exactness(sigma: Double) throws {
    let distribution = try DiscreteGaussian(gridStandardDeviation: sigma)
    let draws = try Self.draws(sigma, seed: UInt64(sigma * 1000))
    #expect(Self.kolmogorovDistance(draws, distribution) < Self.kolmogorovBound)
    let (variance, fourth) = Self.exactMoments(distribution)
    let n = Double(draws.count)
    let mean = draws.reduce(0.0) { $0 + Double($1) } / n
    let sampleVariance =
      draws.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / (n - 1)
    #expect(abs(mean) < 6 * (variance / n).squareRoot(), "mean \(mean)")
    #expect(
      abs(sampleVariance - variance) < 6 * ((fourth - variance * variance) / n).squareRoot(),
      "variance \(sampleVariance) against \(variance)")
    if sigma >= 2 {
      // For σ ≥ 2 the discrete Gaussian's variance is σ² to within 10⁻¹⁵ (Poisson summation).
      expectClose(variance, distribution.gridVariance, relative: 1e-9)
    }
  }

  @Test("the same checks refuse a sampler whose σ is 10 % off")
  func wrongSigmaFails() throws {
    let draws = try Self.draws(2.5, seed: 11)
    let wrong = try DiscreteGaussian(gridStandardDeviation: 2.75)
    #expect(Self.kolmogorovDistance(draws, wrong) > Self.kolmogorovBound)
    let (variance, fourth) = Self.exactMoments(wrong)
    let n = Double(draws.count)
    let sampleVariance = draws.reduce(0.0) { $0 + Double($1) * Double($1) } / n
    #expect(
      abs(sampleVariance - variance) > 6 * ((fourth - variance * variance) / n).squareRoot())
  }

  @Test(
    "Bernoulli(exp(−n/d)) succeeds with probability exp(−n/d)",
    arguments: [(0, 1), (3, 10), (1, 1), (27, 10), (12_345, 1_000)] as [(UInt64, UInt64)])
  func bernoulli(numerator: UInt64, denominator: UInt64) {
    var generator = Xoshiro256StarStar(seed: numerator &* 31 &+ denominator)
    let whole = numerator / denominator
    let remainder = numerator % denominator
    var successes = 0
    for _ in 0..<Self.count {
      if DiscreteGaussian.bernoulliExpMinus(
        whole: whole, numerator: UInt128(remainder), denominator: UInt128(denominator),
        using: &generator)
      {
        successes += 1
      }
    }
    let p = exp(-Double(numerator) / Double(denominator))
    let n = Double(Self.count)
    #expect(abs(Double(successes) / n - p) <= 6 * (p * (1 - p) / n).squareRoot() + 1e-12)
  }

  @Test("the variance used is σ² rounded up by at most 2⁻¹⁵, never down")
  func varianceRounding() throws {
    for sigma in [1.0 / 256, 0.3, 1, 2.5, 1234.567, DiscreteGaussian.maximumGridStandardDeviation] {
      let distribution = try DiscreteGaussian(gridStandardDeviation: sigma)
      #expect(distribution.gridVariance >= sigma * sigma)
      #expect(distribution.gridVariance - sigma * sigma <= 0x1p-15 + sigma * sigma * 0x1p-50)
      #expect(
        distribution.laplaceScale == UInt64(distribution.gridVariance.squareRoot().rounded(.down))
          + 1)
    }
  }

  @Test("a grid release takes only grid values, and the sum is rounded to the grid first")
  func gridValues() throws {
    let granularity = 0x1p-10
    let values: [Float] = [0.1, -0.37, 1e-5, 3.99951171875, -0.00048828125]
    let snapped = DiscreteGaussian.snap(values, granularity: granularity)
    #expect(snapped == [102, -379, 0, 4096, -1])  // 4095.5 rounds away from zero
    var generator = Xoshiro256StarStar(seed: 5)
    let released = try DiscreteGaussian.release(
      gridSum: snapped, standardDeviation: 0.01, granularity: granularity, using: &generator)
    #expect(released.allSatisfy { ($0 / granularity).rounded() == $0 / granularity })
    let noise = try DiscreteGaussian.sample(
      count: 10_000, standardDeviation: 0.5, granularity: 0x1p-12, using: &generator)
    #expect(noise.allSatisfy { ($0 * 4096).rounded() == $0 * 4096 })
    #expect(Set(noise).count > 100)
  }

  @Test("parameters out of range are refused by name")
  func parameters() {
    #expect(throws: DiscreteGaussian.ParameterError.gridStandardDeviationOutOfRange(.infinity)) {
      try DiscreteGaussian(gridStandardDeviation: .infinity)
    }
    #expect(throws: DiscreteGaussian.ParameterError.gridStandardDeviationOutOfRange(0x1p24)) {
      try DiscreteGaussian(gridStandardDeviation: 0x1p24)
    }
    var generator = Xoshiro256StarStar(seed: 1)
    #expect(throws: DiscreteGaussian.ParameterError.granularityNotPowerOfTwo(0.3)) {
      try DiscreteGaussian.sample(
        count: 1, standardDeviation: 1, granularity: 0.3, using: &generator)
    }
    #expect(
      DiscreteGaussian.ParameterError.granularityNotPowerOfTwo(0.3).description
        == "the granularity must be a positive power of two (2^-k); got 0.3.")
  }

  @Test("what to account: sensitivity C + γ√d/2, or clip to C − γ√d/2 first")
  func accounting() {
    let granularity = 0x1p-12
    let sensitivity = DiscreteGaussian.sensitivityAfterRounding(
      clippingBound: 0.5, granularity: granularity, dimension: 10_000)
    #expect(sensitivity == 0.5 + 100 * granularity / 2)
    #expect(
      DiscreteGaussian.accountedNoiseMultiplier(
        noiseMultiplier: 1.1, clippingBound: 0.5, granularity: granularity, dimension: 10_000)
        == 1.1 * 0.5 / sensitivity)
    #expect(
      DiscreteGaussian.clippingBoundBeforeRounding(
        clippingBound: 0.5, granularity: granularity, dimension: 10_000) == 0.5 - 50 * granularity)
    #expect(
      DiscreteGaussian.clippingBoundBeforeRounding(
        clippingBound: 0.001, granularity: 1, dimension: 4) == nil)
    let chosen = DiscreteGaussian.granularity(
      clippingBound: 0.5, dimension: 10_000, inflation: 0.01)
    #expect(chosen.significandBitPattern == 0)
    #expect(chosen * 100 / 2 <= 0.01 * 0.5 && chosen * 2 * 100 / 2 > 0.01 * 0.5)
  }

  @Test("the secure generator gives distinct, balanced bits (a smoke check, 8 SE)")
  func secureGenerator() {
    var generator = SecureRandomNumberGenerator()
    let draws = (0..<20_000).map { _ in generator.next() }
    #expect(Set(draws).count == draws.count)
    let ones = draws.reduce(0) { $0 + $1.nonzeroBitCount }
    let bits = Double(draws.count * 64)
    #expect(abs(Double(ones) - bits / 2) < 8 * (bits / 4).squareRoot())
  }
}
