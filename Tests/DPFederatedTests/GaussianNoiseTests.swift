import DPModel
import DPTestSupport
import PropertyBased
import Testing

@testable import DPFederated

@Suite("GaussianNoise")
struct GaussianNoiseTests {
  static func update(seed: UInt64, scale: Double) -> ParameterSet<Float> {
    var generator = SeededGenerator(seed: seed)
    return ParameterSet([
      (
        "a",
        Matrix<Float>.uniform(
          rows: 3, columns: 5, in: Float(-scale)...Float(scale), using: &generator)
      ),
      (
        "b",
        Matrix<Float>.uniform(
          rows: 1, columns: 7, in: Float(-scale)...Float(scale), using: &generator)
      ),
    ])
  }

  static func norm(_ update: ParameterSet<Float>) -> Double {
    update.flattened().reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
  }

  @Test("‖clip(g)‖ ≤ C; clipping is idempotent and leaves ‖g‖ ≤ C alone")
  func clipping() async {
    await propertyCheck(count: 200, input: Gen.uint64(in: 0...UInt64.max)) { seed in
      var generator = SeededGenerator(seed: seed)
      let bound = generator.logUniform(1e-3, 10)
      let original = Self.update(seed: seed, scale: generator.logUniform(1e-4, 100))
      var clipped = original
      let (norm, wasClipped) = GaussianNoise.clip(&clipped, to: bound)
      expectClose(norm, Self.norm(original), relative: 1e-12)
      #expect(Self.norm(clipped) <= bound * (1 + 1e-6), "seed \(seed)")
      #expect(wasClipped == (norm > bound))
      if !wasClipped { #expect(clipped == original) }
      var twice = clipped
      _ = GaussianNoise.clip(&twice, to: bound * (1 + 1e-6))
      #expect(twice == clipped)
    }
  }

  @Test("noise has mean 0 and std scale·σ·C over 2·10⁵ live coordinates (6 standard errors)")
  func noiseStatistics() {
    let noise = GaussianNoise(clippingBound: 0.5, noiseMultiplier: 0.7)
    var sum = ParameterSet<Float>([("w", Matrix(rows: 400, columns: 500))])
    var generator = Xoshiro256StarStar(seed: 1)
    noise.add(to: &sum, live: .all, scale: 0.02, using: &generator)
    let values = sum.flattened().map(Double.init)
    let n = Double(values.count)
    let expected = 0.02 * 0.7 * 0.5
    let mean = values.reduce(0, +) / n
    let deviation = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
    #expect(abs(mean) < 6 * expected / n.squareRoot())
    #expect(abs(deviation - expected) < 6 * expected / (2 * n).squareRoot())
  }

  @Test("dead coordinates (DyLoRA components outside the round's rank) get no noise")
  func deadCoordinatesStayZero() {
    let live = LiveCoordinates(
      adapter: AdapterConfiguration(kind: .dyLoRA, rank: 4, frozen: true), activeRank: 3)
    var sum = ParameterSet<Float>([
      ("layers.0.lora_A", Matrix(rows: 4, columns: 6)),
      ("layers.0.lora_B", Matrix(rows: 5, columns: 4)),
      ("classifier.weight", Matrix(rows: 2, columns: 5)),
    ])
    var generator = Xoshiro256StarStar(seed: 2)
    GaussianNoise(clippingBound: 1, noiseMultiplier: 1).add(
      to: &sum, live: live, scale: 1, using: &generator)
    let a = sum["layers.0.lora_A"]!
    let b = sum["layers.0.lora_B"]!
    for row in 0..<4 { for column in 0..<6 { #expect((a[row, column] != 0) == (row == 2)) } }
    for row in 0..<5 { for column in 0..<4 { #expect((b[row, column] != 0) == (column == 2)) } }
    #expect(sum["classifier.weight"]!.values.allSatisfy { $0 != 0 })
    #expect(live.indices(in: sum).count == 6 + 5 + 10)
  }
}
