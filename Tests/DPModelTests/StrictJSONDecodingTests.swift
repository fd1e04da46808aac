import Foundation
import Testing

@testable import DPModel

/// `StrictJSON.decode`: the one "read this JSON file strictly" path for ledgers and run
/// records. Every refusal is one line naming the file, line, column and what is wrong.
@Suite("StrictJSON decoding")
struct StrictJSONDecodingTests {
  struct Event: Codable, Equatable {
    var type: String
    var count: Int?
    var noiseMultiplier: Double?
    var events: [Event]?

    enum CodingKeys: String, CodingKey {
      case type, count, events
      case noiseMultiplier = "noise_multiplier"
    }
  }

  /// The error `text` is refused with, as (line, column, reason).
  static func refusal(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws
    -> (line: Int, column: Int, reason: String)
  {
    let error = try #require(throws: ModelError.self, sourceLocation: sourceLocation) {
      try StrictJSON.decode(Event.self, from: Data(text.utf8), source: "ledger.json")
    }
    guard case .malformedJSON(let file, let line, let column, let reason) = error else {
      Issue.record("expected malformedJSON, got \(error)", sourceLocation: sourceLocation)
      throw CancellationError()
    }
    #expect(file == "ledger.json", sourceLocation: sourceLocation)
    #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
    return (line, column, reason)
  }

  @Test("a well-formed document decodes, a UTF-8 byte-order mark included")
  func decodes() throws {
    let text =
      "\u{FEFF}{\"type\": \"Composed\", \"events\": [{\"type\": \"Gaussian\", \"noise_multiplier\": 2}]}"
    let event = try StrictJSON.decode(Event.self, from: Data(text.utf8), source: "x")
    #expect(event.events?.first?.noiseMultiplier == 2)
  }

  @Test("a key given twice is refused with its position and the first one's")
  func duplicateKeys() throws {
    let (line, column, reason) = try Self.refusal(
      "{\"type\": \"Gaussian\",\n \"noise_multiplier\": 1,\n \"noise_multiplier\": 2}")
    #expect(line == 3 && column == 2)
    #expect(reason == "duplicate key \"noise_multiplier\" (first at line 2, column 2)")
  }

  @Test("a number beyond a Double's range is refused, not read as infinity")
  func outOfRange() throws {
    let (line, column, reason) = try Self.refusal(
      "{\"type\": \"Gaussian\", \"noise_multiplier\": 1e400}")
    #expect(line == 1 && column == 42)
    #expect(reason.hasPrefix("the number 1e400 is out of range"))
  }

  @Test("nesting deeper than the file limit is refused with the depth, not 'not valid JSON'")
  func deep() throws {
    let depth = StrictJSON.maximumFileDepth + 1
    let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
    let (line, column, reason) = try Self.refusal(text)
    #expect(line == 1 && column == StrictJSON.maximumFileDepth + 1)
    #expect(reason == "nesting deeper than \(StrictJSON.maximumFileDepth) levels")
  }

  @Test("a value of the wrong type names its key path, its position and what it is")
  func typeMismatch() throws {
    let (line, column, reason) = try Self.refusal(
      "{\"type\": \"Composed\", \"events\": [\n  {\"type\": \"SelfComposed\", \"count\": \"12\"}]}")
    #expect(line == 2 && column == 37)
    #expect(reason == "events[0].count must be an integer; got the string \"12\"")
  }

  @Test("a missing key is named with the object that lacks it")
  func missingKey() throws {
    let (line, column, reason) = try Self.refusal("{\"events\": []}")
    #expect(line == 1 && column == 1)
    #expect(reason == "the top-level object must have the key \"type\"; got none")
  }

  @Test("syntax errors say where reading stopped")
  func syntax() throws {
    let (line, column, reason) = try Self.refusal("{\"type\": \"Gaussian\",\n  \"count\": 1,}")
    #expect(line == 2 && column == 14)
    #expect(reason == "expected a string key")
  }

  @Test("a 1 MB value is cut to a short excerpt in the message")
  func longValues() throws {
    let long = String(repeating: "x", count: 1 << 20)
    let (_, _, reason) = try Self.refusal("{\"type\": \"Gaussian\", \"count\": \"\(long)\"}")
    #expect(reason.utf8.count < 200)
    #expect(reason.hasSuffix("(1048576 bytes)"))
  }

  @Test("a file that cannot be read is fileUnreadable naming it")
  func unreadable() {
    let url = URL(fileURLWithPath: "/nonexistent/dpfl/ledger.json")
    #expect {
      try StrictJSON.decode(Event.self, contentsOf: url)
    } throws: { error in
      guard case .fileUnreadable(let file, _) = error as? ModelError else { return false }
      return file == url.path
    }
  }
}

@Suite("MessageText")
struct MessageTextTests {
  @Test("short values are shown whole; long ones are cut with their size in bytes")
  func truncation() {
    #expect(MessageText.truncated("abc") == "abc")
    #expect(MessageText.quoted("abc") == "\"abc\"")
    let long = String(repeating: "é", count: 100)
    #expect(
      MessageText.truncated(long) == String(repeating: "é", count: 64) + "… (200 bytes)")
    #expect(
      MessageText.quoted(long) == "\"" + String(repeating: "é", count: 64) + "…\" (200 bytes)")
  }

  @Test("control characters are escaped, so a message stays one line")
  func control() {
    #expect(MessageText.truncated("a\nb\u{1}") == "a\\nb\\u{1}")
  }
}

@Suite("Model assets are checked at load")
struct ModelAssetCheckTests {
  @Test("a vocabulary larger than the model's embedding table is refused naming the file")
  func vocabularyTooLarge() throws {
    let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b"]
    let tokenizer = try WordPieceTokenizer(tokens: tokens, source: "vocab.txt")
    try tokenizer.checkFits(modelVocabularySize: 6)
    let error = try #require(throws: ModelError.self) {
      try tokenizer.checkFits(modelVocabularySize: 5)
    }
    #expect(
      error == .vocabularyExceedsModel(file: "vocab.txt", tokenCount: 6, modelVocabularySize: 5))
    #expect(
      error.description
        == "Vocabulary vocab.txt must have at most 5 tokens (the model's vocab_size, its embedding rows); got 6."
    )
  }

  @Test("one NaN weight in the model file is refused naming the file and the tensor")
  func nanWeight() throws {
    let original = try Safetensors.read(
      contentsOf: tinyBertFolder.appendingPathComponent("model.safetensors"))
    let name = "encoder.layer.1.attention.self.query.weight"
    var tensors = original.tensors
    let position = try #require(tensors.firstIndex { $0.name == name })
    var values = tensors[position].floatValues()
    values[7] = .nan
    tensors[position] = Tensor(name: name, shape: tensors[position].shape, floats: values)
    let damaged = try Safetensors.read(
      from: Safetensors.encode(tensors), source: "model.safetensors")
    let configuration = try BertConfiguration(
      contentsOf: tinyBertFolder.appendingPathComponent("config.json"))
    let error = try #require(throws: ModelError.self) {
      try BertEncoder<Float>(configuration: configuration, weights: damaged)
    }
    #expect(
      error == .nonFiniteWeight(file: "model.safetensors", tensor: name, index: 7, value: "nan"))
  }

  @Test("a config.json that is not strict JSON is refused with its line, not a DecodingError dump")
  func configuration() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dpfl-cfg-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let url = folder.appendingPathComponent("config.json")
    try Data("{\"vocab_size\": 10,\n \"vocab_size\": 11}".utf8).write(to: url)
    let error = try #require(throws: ModelError.self) { try BertConfiguration(contentsOf: url) }
    #expect(
      error.description
        == "\(url.path):2:2: duplicate key \"vocab_size\" (first at line 1, column 2).")
  }
}

@Suite("StrictJSON decoder")
struct StrictValueDecoderTests {
  struct Record: Codable, Equatable {
    var seed: UInt64
    var rate: Double
    var steps: [Int]
    var name: String?
    var flag: Bool
  }

  @Test(
    "numbers convert exactly: UInt64 beyond Int64, 2.0 and 1e3 as integers, inf strings as asked")
  func numbers() throws {
    let text =
      #"{"seed": 18446744073709551615, "rate": "inf", "steps": [2.0, 1e3, -7], "flag": false}"#
    let record = try StrictJSON.decode(
      Record.self, from: Data(text.utf8), source: "r.json",
      options: .init(nonFiniteStrings: ("inf", "-inf", "nan")))
    #expect(
      record == Record(seed: .max, rate: .infinity, steps: [2, 1000, -7], name: nil, flag: false))
  }

  @Test(
    "a number that does not fit its field is named with its path, not 'not valid JSON'",
    arguments: [
      (
        #"{"seed": -1, "rate": 1, "steps": [], "flag": true}"#,
        "seed must be an integer; got the number -1"
      ),
      (
        #"{"seed": 1, "rate": 1, "steps": [1, 2.5], "flag": true}"#,
        "steps[1] must be an integer; got the number 2.5"
      ),
      (
        #"{"seed": 1, "rate": "inf", "steps": [], "flag": true}"#,
        "rate must be a number; got the string \"inf\""
      ),
      (
        #"{"seed": 1, "rate": 1, "steps": [], "flag": null}"#,
        "flag must be true or false; got null"
      ),
      (
        #"{"seed": 1, "rate": 1, "steps": {}, "flag": true}"#,
        "steps must be an array; got an object"
      ),
    ])
  func mismatches(_ text: String, _ reason: String) throws {
    let error = try #require(throws: ModelError.self) {
      try StrictJSON.decode(Record.self, from: Data(text.utf8), source: "r.json")
    }
    guard case .malformedJSON(_, let line, _, let found) = error else {
      Issue.record("expected malformedJSON, got \(error)")
      return
    }
    #expect(found == reason)
    #expect(line == 1)
  }
}
