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
    measure("today: Xoshiro256** + Box–Muller (seeded)", count: count) { n in
      var generator = Xoshiro256StarStar(seed: 1)
      var sum = 0.0
      for _ in 0..<n { sum += Double(Float(0.5 * generator.nextStandardNormal())) }
      return sum
    }
    measure("today: SystemRandomNumberGenerator + Box–Muller (secure)", count: count / 16) { n in
      var generator = SystemRandomNumberGenerator()
      var sum = 0.0
      for _ in 0..<n { sum += Double(Float(0.5 * generator.nextStandardNormal())) }
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
    let values = (0..<count).map { Float($0 % 1000) * 1e-4 }
    measure("grid release: snap + noise (σ = 0.5, γ = 2^-15) + Float", count: count / 4) { n in
      var generator = SecureRandomNumberGenerator()
      let snapped = DiscreteGaussian.snap(Array(values[0..<n]), granularity: 0x1p-15)
      let released = try! DiscreteGaussian.release(
        gridSum: snapped, standardDeviation: 0.5, granularity: 0x1p-15, using: &generator)
      return released.reduce(0) { $0 + Double(Float($1)) }
    }
  }
}
