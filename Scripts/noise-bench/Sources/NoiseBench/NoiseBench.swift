import Accountants
import DPFederated
import DPModel
import Foundation

/// Best-of-5 nanoseconds per coordinate for each sampler.
@main
struct NoiseBench {
  static func measure(_ label: String, count: Int, _ body: (Int) -> Double) {
    var best = Double.infinity
    var sink = 0.0
    for _ in 0..<5 {
      let start = DispatchTime.now().uptimeNanoseconds
      sink += body(count)
      let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
      best = min(best, elapsed / Double(count))
    }
    let line = label.padding(toLength: 58, withPad: " ", startingAt: 0)
    print("| \(line) | \(String(format: "%8.1f", best)) |  (\(sink.isNaN ? "" : "ok"))")
  }

  static func main() throws {
    let count = 1 << 20
    print("| sampler (\(count) coordinates, release build, best of 5) | ns/coord |")
    print("|---|---|")
    measure("nextStandardNormal: Xoshiro256** + Box–Muller (seeded)", count: count) { n in
      var generator = Xoshiro256StarStar(seed: 1)
      var sum = 0.0
      for _ in 0..<n { sum += Double(Float(0.5 * generator.nextStandardNormal())) }
      return sum
    }
    measure("nextStandardNormal: SystemRandomNumberGenerator + Box–Muller", count: count / 16) {
      n in
      var generator = SystemRandomNumberGenerator()
      var sum = 0.0
      for _ in 0..<n { sum += Double(Float(0.5 * generator.nextStandardNormal())) }
      return sum
    }
    measure("training's GaussianNoise: Xoshiro256** + polar pairs (seeded)", count: count) { n in
      var generator = Xoshiro256StarStar(seed: 1)
      var normals = StandardNormalPairs()
      var sum = 0.0
      for _ in 0..<n { sum += Double(Float(0.5 * normals.next(using: &generator))) }
      return sum
    }
    measure(
      "training's GaussianNoise: SystemRandomNumberGenerator + polar pairs", count: count / 16
    ) { n in
      var generator = SystemRandomNumberGenerator()
      var normals = StandardNormalPairs()
      var sum = 0.0
      for _ in 0..<n { sum += Double(Float(0.5 * normals.next(using: &generator))) }
      return sum
    }
    measure("buffered /dev/urandom + Box–Muller (not exact)", count: count) { n in
      var generator = SecureRandomNumberGenerator()
      var sum = 0.0
      for _ in 0..<n { sum += Double(Float(0.5 * generator.nextStandardNormal())) }
      return sum
    }
    for exponent in [2, 8, 14, 20] {
      let sigma = Double(1 << exponent)
      let distribution = try DiscreteGaussian(gridStandardDeviation: sigma)
      measure(
        "exact discrete Gaussian σ/γ = 2^\(exponent), buffered /dev/urandom", count: count / 4
      ) {
        n in
        var generator = SecureRandomNumberGenerator()
        var sum = 0.0
        for _ in 0..<n { sum += Double(distribution.sample(using: &generator)) }
        return sum
      }
      measure(
        "exact discrete Gaussian σ/γ = 2^\(exponent), Xoshiro256** (seeded)", count: count / 4
      ) {
        n in
        var generator = Xoshiro256StarStar(seed: 2)
        var sum = 0.0
        for _ in 0..<n { sum += Double(distribution.sample(using: &generator)) }
        return sum
      }
    }
    measure("user-level grid round: clip + round (DiscreteGrid) + noise", count: count / 4) { n in
      let grid = DiscreteGrid(clippingBound: 0.5, coordinates: n)
      let template = ParameterSet<Float>([("w", Matrix(rows: 1, columns: n))])
      let update = template.with(flattened: (0..<n).map { Float($0 % 1000) * 1e-4 })
      var generator = SecureRandomNumberGenerator()
      let (steps, _) = grid.steps(update, clippingBound: 0.5, live: .all)
      let released = try! grid.release(
        [grid.message(steps, like: update)], template: template, live: .all,
        deviation: 0.5 * 0.6, using: &generator)
      return released.flattened().reduce(0) { $0 + Double($1) }
    }
    try calibration()
    let values = (0..<count).map { Float($0 % 1000) * 1e-4 }
    measure("grid release: snap + noise (σ = 0.5, γ = 2^-15) + Float", count: count / 4) { n in
      var generator = SecureRandomNumberGenerator()
      let snapped = DiscreteGaussian.snap(Array(values[0..<n]), granularity: 0x1p-15)
      let released = try! DiscreteGaussian.release(
        gridSum: snapped, standardDeviation: 0.5, granularity: 0x1p-15, using: &generator)
      return released.reduce(0) { $0 + Double(Float($1)) }
    }
  }

  /// σ for ε = 2 at δ = 1e-6 over 200 rounds at q = 1e-3 (dpfl train's default schedule),
  /// by RDP: the continuous sampled Gaussian (MTZ19, exact RDP) against the discrete one
  /// (Zhu & Wang 2019 Theorem 6, a general bound), and PLD for the continuous one.
  static func calibration() throws {
    let target = try PrivacyBudget(epsilon: 2, delta: 1e-6)
    func sigma(_ noise: @escaping (Double) -> DPEvent) throws -> Double {
      try Calibration.noiseMultiplier(target: target, accountant: { RDPAccountant() }) {
        .selfComposed(.poissonSampled(probability: 1e-3, noise($0)), count: 200)
      }
    }
    let continuous = try sigma { .gaussian(noiseMultiplier: $0) }
    let discrete = try sigma { .discreteGaussian(noiseMultiplier: $0) }
    let pld = try Calibration.noiseMultiplier(target: target, accountant: { PLDAccountant() }) {
      .selfComposed(.poissonSampled(probability: 1e-3, .gaussian(noiseMultiplier: $0)), count: 200)
    }
    var accountant = RDPAccountant()
    try accountant.compose(
      .selfComposed(
        .poissonSampled(probability: 1e-3, .discreteGaussian(noiseMultiplier: continuous)),
        count: 200))
    print("")
    print("σ for ε = 2, δ = 1e-6, q = 1e-3, 200 rounds:")
    print("  continuous, RDP (MTZ19):              \(continuous)")
    print("  continuous, PLD:                      \(pld)")
    print("  discrete, RDP (Zhu & Wang Thm 6):     \(discrete)  (×\(discrete / continuous) of RDP)")
    let epsilon = try accountant.epsilon(delta: 1e-6)
    print("  ε of the discrete event at the continuous RDP σ: \(epsilon)")
  }
}
