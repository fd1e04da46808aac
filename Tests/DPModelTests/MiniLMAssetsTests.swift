import DPTestSupport
import Foundation
import Testing

@testable import DPModel

/// Where `Scripts/fetch-assets` puts all-MiniLM-L6-v2: `<repository>/.cache/assets/`,
/// found from this file's path (Tests/DPModelTests/ is two levels below the root).
enum MiniLMAssets {
  static let folder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".cache/assets/all-MiniLM-L6-v2")

  static var available: Bool {
    ["model.safetensors", "config.json", "vocab.txt"].allSatisfy {
      FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
    }
  }

  static let skipReason: Comment =
    "all-MiniLM-L6-v2 is not in .cache/assets (run Scripts/fetch-assets to enable these tests)"
}

/// Checks on the real all-MiniLM-L6-v2 files. The cache is not committed, so every test
/// here is skipped (not failed) when it is absent.
@Suite("all-MiniLM-L6-v2 assets", .enabled(if: MiniLMAssets.available, MiniLMAssets.skipReason))
struct MiniLMAssetsTests {
  @Test("the real weights pass every safetensors check and have BERT's shapes")
  func readsModel() throws {
    let contents = try Safetensors.read(
      contentsOf: MiniLMAssets.folder.appendingPathComponent("model.safetensors"))
    #expect(contents.tensors.count == 104)
    #expect(contents.metadata == ["format": "pt"])
    let words = try contents.tensor(named: "embeddings.word_embeddings.weight")
    #expect(words.dtype == .float32)
    #expect(words.shape == [30522, 384])
    #expect(words.floatValues().allSatisfy { $0.isFinite })
    let positions = try contents.tensor(named: "embeddings.position_ids")
    #expect(try positions.integerValues() == (0..<512).map(Int64.init))
    for layer in 0..<6 {
      let query = try contents.tensor(named: "encoder.layer.\(layer).attention.self.query.weight")
      #expect(query.shape == [384, 384])
    }
  }

  @Test("config.json describes the encoder the weights hold")
  func config() throws {
    struct Config: Decodable { var hiddenSize, numHiddenLayers, numAttentionHeads, vocabSize: Int }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let config = try decoder.decode(
      Config.self, from: Data(contentsOf: MiniLMAssets.folder.appendingPathComponent("config.json"))
    )
    #expect(config.hiddenSize == 384)
    #expect(config.numHiddenLayers == 6)
    #expect(config.numAttentionHeads == 12)
    #expect(config.vocabSize == 30522)
  }

  @Test("the fetched vocab.txt is the committed fixture")
  func vocabularyMatchesFixture() throws {
    let fetched = try Data(contentsOf: MiniLMAssets.folder.appendingPathComponent("vocab.txt"))
    #expect(fetched == (try Data(contentsOf: WordPieceTokenizerTests.vocabularyURL)))
  }
}

/// all-MiniLM-L6-v2 in dpfl against transformers (minilm_reference.json, float64
/// reference of the float32 weights, Scripts/crosscheck/minilm_reference.py).
@Suite("all-MiniLM-L6-v2 embeddings", .enabled(if: MiniLMAssets.available, MiniLMAssets.skipReason))
struct MiniLMEmbeddingTests {
  struct Reference: Decodable {
    struct Case: Decodable {
      var text: String
      var inputIds: [Int]
      var meanPooled: [Double]
      var meanPooled2Layers: [Double]?
    }
    var cases: [Case]
  }

  static let reference = Golden.required(Reference.self, "minilm_reference.json", in: .module)

  @Test("mean-pooled embeddings of 15 sentences match transformers within 1e-4 (6 and 2 layers)")
  func embeddingsMatch() throws {
    let tokenizer = try WordPieceTokenizer(
      vocabulary: MiniLMAssets.folder.appendingPathComponent("vocab.txt"))
    let full = try BertEncoder<Float>(folder: MiniLMAssets.folder)
    let firstTwo = try BertEncoder<Float>(folder: MiniLMAssets.folder, layers: 2)
    #expect(Self.reference.cases.count >= 10)
    for reference in Self.reference.cases {
      let ids = tokenizer.encode(reference.text, maxLength: 128)
      #expect(ids == reference.inputIds, "\(reference.text)")
      let batch = TokenBatch(tokenizer.encodeBatch([reference.text], maxLength: 128))
      for (encoder, expected) in [
        (full, reference.meanPooled), (firstTwo, reference.meanPooled2Layers),
      ] {
        guard let expected else { continue }
        let pooled = MeanPooling.forward(
          encoder.forward(batch).0, mask: batch.mask, sequenceLength: batch.sequenceLength)
        let worst = zip(pooled.values, expected).map { abs(Double($0) - $1) }.max()!
        #expect(
          worst < 1e-4, "\(reference.text) (\(encoder.layers.count) layers): max |Δ| = \(worst)")
      }
    }
  }
}
