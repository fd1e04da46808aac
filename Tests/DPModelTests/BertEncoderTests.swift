import DPTestSupport
import Foundation
import Testing

@testable import DPModel

/// The BERT encoder against Hugging Face transformers on the committed tiny random BERT
/// (tiny_bert_reference.json, float64 reference from Scripts/crosscheck/tiny_bert_fixture.py).
@Suite("BertEncoder")
struct BertEncoderTests {
  struct Reference: Decodable {
    struct Case: Decodable {
      var layers: Int
      var inputIds: [[Int]]
      var attentionMask: [[Int]]
      var tokenTypeIds: [[Int]]
      var lastHiddenState: [Double]
      var meanPooled: [Double]
    }
    var cases: [Case]
  }

  static let reference = Golden.required(Reference.self, "tiny_bert_reference.json", in: .module)

  static func batch(_ reference: Reference.Case) -> TokenBatch {
    TokenBatch(
      ids: reference.inputIds.flatMap { $0 }, typeIDs: reference.tokenTypeIds.flatMap { $0 },
      mask: reference.attentionMask.flatMap { $0 }.map { $0 == 1 },
      sequenceLength: reference.inputIds[0].count)
  }

  @Test("Double encoder matches transformers to 1e-10 (all and first-k layers, padding)")
  func matchesTransformersInDouble() throws {
    for reference in Self.reference.cases {
      let encoder = try tinyBert(Double.self, layers: reference.layers)
      let batch = Self.batch(reference)
      let (hidden, _) = encoder.forward(batch)
      #expect(
        relativeError(hidden.values, reference.lastHiddenState) < 1e-10,
        "layers \(reference.layers)")
      let pooled = MeanPooling.forward(
        hidden, mask: batch.mask, sequenceLength: batch.sequenceLength)
      #expect(relativeError(pooled.values, reference.meanPooled) < 1e-10)
    }
  }

  @Test("Float encoder matches transformers within 1e-5 per entry")
  func matchesTransformersInFloat() throws {
    for reference in Self.reference.cases {
      let encoder = try tinyBert(Float.self, layers: reference.layers)
      let (hidden, _) = encoder.forward(Self.batch(reference))
      let worst = zip(hidden.values, reference.lastHiddenState).map { abs(Double($0) - $1) }.max()!
      #expect(worst < 1e-5, "layers \(reference.layers): max |Δ| = \(worst)")
    }
  }

  @Test("adapters with B = 0 leave the encoder's output unchanged")
  func freshAdaptersAreIdentity() throws {
    let reference = Self.reference.cases[0]
    let plain = try tinyBert(Double.self)
    let adapted = try tinyBert(
      Double.self, adapters: AdapterConfiguration(kind: .lora, rank: 4),
      targets: Set(BertProjection.allCases))
    #expect(adapted.forward(Self.batch(reference)).0 == plain.forward(Self.batch(reference)).0)
    #expect(adapted.trainableParameters.names.count == 2 * 6 * 2)
  }

  @Test("bad inputs are typed errors naming the value")
  func errors() throws {
    #expect(throws: ModelError.self) { try tinyBert(Float.self, layers: 3) }
    let weights = try Safetensors.read(
      contentsOf: tinyBertFolder.appendingPathComponent("model.safetensors"))
    var configuration = try BertConfiguration(
      contentsOf: tinyBertFolder.appendingPathComponent("config.json"))
    configuration.hiddenSize = 48
    #expect(throws: ModelError.self) {
      try BertEncoder<Float>(configuration: configuration, weights: weights)
    }
    let error = ModelError.unexpectedShape(
      file: "m.safetensors", tensor: "w", expected: [3, 4], actual: [4, 3])
    #expect(
      error.description == "Tensor \"w\" in m.safetensors must have shape [3, 4]; got [4, 3].")
  }
}
