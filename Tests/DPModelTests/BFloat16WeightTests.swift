import DPTestSupport
import Foundation
import Testing

@testable import DPModel

/// Frozen weights in bfloat16: the rounding, the products' error against Double, and what
/// a model computes with them against Float32. Skipped on a CPU without AVX-512, where
/// oneDNN has no bfloat16 products.
@Suite(
  "bfloat16 frozen weights",
  .enabled(if: BFloat16Weight.isSupported, "this CPU has no bfloat16 products in oneDNN"))
struct BFloat16WeightTests {
  static func floats(_ rows: Int, _ columns: Int, seed: UInt64) -> Matrix<Float> {
    Matrix<Float>(randomMatrix(rows, columns, seed: seed))
  }

  @Test("rounding is to nearest with ties to even, within 2⁻⁸ relative, NaN kept")
  func rounding() {
    let halfUlp = Float(1) + 0x1p-8  // halfway between 1 and 1 + 2⁻⁷: ties to 1 (even)
    let oddHalf = Float(1) + 3 * 0x1p-8  // halfway between 1 + 2⁻⁷ (odd) and 1 + 2⁻⁶
    let above = Float(1) + 0x1p-8 + 0x1p-20  // just above halfway: rounds up
    let values: [Float] = [1, halfUlp, oddHalf, above, -0.0, -2, .infinity, .nan]
    let bits = BFloat16Weight.rounded(values)
    #expect(Array(bits.prefix(7)) == [0x3F80, 0x3F80, 0x3F82, 0x3F81, 0x8000, 0xC000, 0x7F80])
    #expect(Float(bitPattern: UInt32(bits[7]) << 16).isNaN)
    let random = Self.floats(37, 29, seed: 4)
    let rounded = BFloat16Weight(random).floatValues
    for (r, x) in zip(rounded.values, random.values) {
      #expect(abs(r - x) <= 0x1p-8 * abs(x), "\(x) rounded to \(r)")
    }
  }

  /// |computed − exact| for every entry of x·Wᵀ, and the bound (2⁻⁷ + 2⁻¹⁶)·Σₖ|xᵢₖ||wⱼₖ|
  /// (each factor within 2⁻⁸) plus Float32 accumulation over k terms.
  static func errorsAndBounds(
    _ computed: Matrix<Float>, _ x: Matrix<Float>, _ weight: Matrix<Float>, transposed: Bool
  ) -> [(error: Double, bound: Double)] {
    let inner = x.columns
    return (0..<computed.rows).flatMap { row in
      (0..<computed.columns).map { column in
        var exact = 0.0
        var magnitude = 0.0
        for k in 0..<inner {
          let w = Double(transposed ? weight[column, k] : weight[k, column])
          exact += Double(x[row, k]) * w
          magnitude += abs(Double(x[row, k]) * w)
        }
        let bound = (0x1p-7 + 0x1p-16 + Double(inner) * 0x1p-24) * magnitude
        return (abs(Double(computed[row, column]) - exact), bound)
      }
    }
  }

  @Test("a linear layer's forward pass and input gradient stay within the rounding bound")
  func linearProducts() {
    let weight = Self.floats(48, 384, seed: 1)
    var layer = Linear(weight: weight, bias: nil)
    let x = Self.floats(33, 384, seed: 2)
    let gradient = Self.floats(33, 48, seed: 3)
    let exactForward = layer(x)
    layer.useBFloat16Weight()
    let forward = layer(x)
    let inputGradient = layer.inputGradient(outputGradient: gradient)
    var largest = 0.0
    for (error, bound) in Self.errorsAndBounds(forward, x, weight, transposed: true)
      + Self.errorsAndBounds(inputGradient, gradient, weight, transposed: false)
    {
      #expect(error <= bound)
      largest = max(largest, error / bound)
    }
    // The products are rounded, not exact: the error is a visible part of its bound.
    #expect(largest > 0.05, "largest error / bound \(largest)")
    #expect(forward != exactForward)
    // Changing W drops the rounded copy: the layer is Float32 again.
    layer.weight = weight
    #expect(layer.bfloat16Weight == nil)
    #expect(layer(x) == exactForward)
  }

  @Test("a bias is added to the bfloat16 product")
  func biasIsAdded() {
    let weight = Self.floats(5, 20, seed: 6)
    let bias: [Float] = [1, -2, 3, 0.5, 100]
    var layer = Linear(weight: weight, bias: bias)
    layer.useBFloat16Weight()
    let x = Self.floats(4, 20, seed: 7)
    let withBias = layer(x)
    layer.bias = nil
    let without = layer(x)
    for row in 0..<4 {
      for column in 0..<5 {
        #expect(abs(withBias[row, column] - without[row, column] - bias[column]) <= 1e-4 * 100)
      }
    }
  }

  @Test("per-example gradients of the tiny BERT in bfloat16 are within 1.5 % of Float32's")
  func perExampleGradients() throws {
    var model = try ShardedGradientTests.floatClassifier()
    let batch = ShardedGradientTests.batch
    let labels = ShardedGradientTests.labels
    let exact = model.perExampleGradients(batch, labels: labels).gradients
    model.encoder.useBFloat16FrozenWeights()
    #expect(model.encoder.layers[0].projections[.query]!.base.bfloat16Weight != nil)
    let reduced = model.perExampleGradients(batch, labels: labels).gradients
    for example in 0..<batch.examples {
      let e = exact.gradient(ofExample: example).flattened()
      let r = reduced.gradient(ofExample: example).flattened()
      let difference = zip(e, r).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        .squareRoot()
      let norm = e.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
      #expect(difference <= 0.015 * norm, "example \(example): \(difference) against \(norm)")
      #expect(difference > 0, "example \(example): bfloat16 changed nothing")
    }
  }

  @Test(
    "all-MiniLM-L6-v2's embeddings in bfloat16 are within 1.5 % of Float32's",
    .enabled(if: MiniLMAssets.available, MiniLMAssets.skipReason))
  func miniLMEmbeddings() throws {
    var encoder = try BertEncoder<Float>(folder: MiniLMAssets.folder)
    let tokenizer = try WordPieceTokenizer(
      vocabulary: MiniLMAssets.folder.appendingPathComponent("vocab.txt"))
    let batch = TokenBatch(
      tokenizer.encodeBatch(
        [
          "The quick brown fox jumps over the lazy dog.",
          "Differential privacy bounds what one person's data can change.",
          "Shall I compare thee to a summer's day?",
        ], maxLength: 32))
    let model = TextClassifier(encoder: encoder, classes: 2, seed: 1)
    let exact = model.embeddings(batch)
    encoder.useBFloat16FrozenWeights()
    let reduced = TextClassifier(encoder: encoder, classes: 2, seed: 1).embeddings(batch)
    for row in 0..<exact.rows {
      let e = (0..<exact.columns).map { exact[row, $0] }
      let r = (0..<exact.columns).map { reduced[row, $0] }
      let difference = zip(e, r).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        .squareRoot()
      let norm = e.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
      #expect(difference <= 0.015 * norm, "sentence \(row): \(difference) against \(norm)")
    }
  }
}
