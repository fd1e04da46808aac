import DPTestSupport
import Foundation
import Testing

@testable import DPModel

/// A text batch larger than ``TextClassifier/shardSize(for:)`` is computed in shards, each
/// padded to its own longest text, on any number of threads: the gradients must be each
/// example's own, and the same bits whatever the number of threads.
@Suite("TextClassifier shards")
struct ShardedGradientTests {
  /// 19 texts of 3 to 30 tokens (three shards of 8, 8 and 3), ids from the tiny vocabulary.
  static let encodings: [[Int]] = {
    var generator = SeededGenerator(seed: 7)
    return (0..<19).map { index in
      let length = index == 4 ? 30 : Int.random(in: 1...10, using: &generator)
      return [2] + (0..<length).map { _ in Int.random(in: 5..<64, using: &generator) } + [3]
    }
  }()
  static let batch = TokenBatch(encodings: encodings, paddingID: 0)
  static let labels = (0..<19).map { $0 % 3 }

  /// The tiny BERT in Float with LoRA (B = 0) on query and value and a 3-class head.
  static func floatClassifier() throws -> TextClassifier<Float> {
    TextClassifier(
      encoder: try tinyBert(
        Float.self, adapters: AdapterConfiguration(kind: .lora, rank: 3, alpha: 6)),
      classes: 3, seed: 41)
  }

  @Test("a shard is padded only to its own longest text")
  func shardTrimsPadding() {
    let shard = Self.batch.examples(8..<16)
    let longest = Self.encodings[8..<16].map(\.count).max()!
    #expect(Self.batch.sequenceLength == 32)
    #expect(shard.sequenceLength == longest)
    #expect(shard == TokenBatch(encodings: Array(Self.encodings[8..<16]), paddingID: 0))
    #expect(TextClassifier<Float>.shardSize(for: Self.batch) == 8)
    let long = TokenBatch(encodings: [Array(repeating: 5, count: 128)], paddingID: 0)
    #expect(TextClassifier<Float>.shardSize(for: long) == 4)
    let longer = TokenBatch(encodings: [Array(repeating: 5, count: 600)], paddingID: 0)
    #expect(TextClassifier<Float>.shardSize(for: longer) == 1)
  }

  @Test("per-example gradients and losses of a sharded batch are each example's alone")
  func shardedPerExampleGradients() throws {
    let model = try PerExampleGradientTests.textClassifier(.lora)
    let (losses, gradients) = model.perExampleGradients(Self.batch, labels: Self.labels)
    #expect(gradients.examples == 19)
    for example in [0, 4, 8, 15, 18] {
      let alone = TokenBatch(encodings: [Self.encodings[example]], paddingID: 0)
      let (loss, single) = model.perExampleGradients(alone, labels: [Self.labels[example]])
      expectClose(losses[example], loss[0], relative: 1e-12)
      let expected = single.gradient(ofExample: 0).flattened()
      let actual = gradients.gradient(ofExample: example).flattened()
      #expect(expected.count == actual.count)
      let scale = expected.map(abs).max()!
      #expect(scale > 1e-3, "example \(example) needs a gradient to compare")
      for (a, e) in zip(actual, expected) {
        expectClose(a, e, relative: 0, absolute: 1e-12 * scale)
      }
    }
  }

  @Test("the batch gradient of a sharded batch is the sum of the per-example gradients")
  func shardedBatchGradient() throws {
    let model = try PerExampleGradientTests.textClassifier(.lora)
    let summed = model.perExampleGradients(Self.batch, labels: Self.labels).gradients.sum()
      .flattened()
    let (_, batchGradient) = model.batchGradient(Self.batch, labels: Self.labels)
    let scale = summed.map(abs).max()!
    for (a, e) in zip(batchGradient.flattened(), summed) {
      expectClose(a, e, relative: 0, absolute: 1e-12 * scale)
    }
  }

  @Test("two threads give the same bits as one, with dropout, per example and summed")
  func threadCountDoesNotChangeResults() throws {
    var model = try Self.floatClassifier()
    func run(_ workers: Int) -> ([Float], [Float], [Float]) {
      model.workers = workers
      let (losses, perExample) = model.perExampleGradients(
        Self.batch, labels: Self.labels, dropoutSeed: 99)
      let (_, summed) = model.batchGradient(Self.batch, labels: Self.labels, dropoutSeed: 99)
      return (losses, perExample.norms(), summed.flattened())
    }
    let one = run(1)
    let two = run(2)
    #expect(one.0 == two.0)
    #expect(one.1 == two.1)
    #expect(one.2 == two.2)
    #expect(one.1.allSatisfy { $0 > 0 })
    // The shards draw different dropout masks (the seed is mixed with the shard's index).
    let withoutDropout = model.perExampleGradients(Self.batch, labels: Self.labels).losses
    #expect(withoutDropout != one.0)
  }

  @Test("stacking keeps factored blocks factored and every example's gradient")
  func stackingFactoredBlocks() {
    func part(_ examples: Int, seed: UInt64) -> PerExampleGradients<Double> {
      var gradients = PerExampleGradients<Double>(examples: examples)
      gradients.append(
        "w", outputGradients: randomMatrix(examples, 3, seed: seed),
        inputs: randomMatrix(examples, 4, seed: seed + 1))
      gradients.append("b", rows: 1, columns: 3, block: randomMatrix(examples, 3, seed: seed + 2))
      return gradients
    }
    let parts = [part(2, seed: 1), part(3, seed: 10)]
    let stacked = PerExampleGradients(stacking: parts)
    #expect(stacked.examples == 5)
    guard case .outerProducts = stacked.blocks[0] else {
      Issue.record("the factored block was formed")
      return
    }
    for example in 0..<5 {
      let (index, offset) = example < 2 ? (0, example) : (1, example - 2)
      #expect(
        stacked.gradient(ofExample: example).flattened()
          == parts[index].gradient(ofExample: offset).flattened())
    }
    let summed = stacked.summedOverExamples()
    #expect(summed.examples == 1)
    #expect(summed.gradient(ofExample: 0).flattened() == stacked.sum().flattened())
  }
}
