import DPTestSupport
import Foundation
import Testing

@testable import DPModel

@Suite("WordPieceTokenizer")
struct WordPieceTokenizerTests {
  /// `wordpiece_reference.json`, written by `Scripts/crosscheck/tokenizer_reference.py`.
  struct Reference: Decodable, Sendable {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
      var text: String
      var tokens: [String]
      var ids: [Int]

      var testDescription: String {
        let escaped = text.unicodeScalars.map { $0.escaped(asASCII: false) }.joined()
        return escaped.count > 48 ? "\"\(escaped.prefix(48))…\"" : "\"\(escaped)\""
      }
    }
    struct Truncation: Decodable, Sendable, CustomTestStringConvertible {
      var text: String
      var maxLength: Int
      var ids: [Int]

      var testDescription: String { "\"\(text.prefix(24))\" to \(maxLength)" }
    }
    var source: String
    var vocabulary: String
    var cases: [Case]
    var truncated: [Truncation]
  }

  static let reference = Golden.required(Reference.self, "wordpiece_reference.json", in: .module)

  static let vocabularyURL: URL = {
    guard let url = Bundle.module.url(forResource: "Fixtures/vocab.txt", withExtension: nil) else {
      preconditionFailure("Fixtures/vocab.txt is missing from the test bundle")
    }
    return url
  }()

  /// all-MiniLM-L6-v2's vocabulary (= bert-base-uncased's), committed as a fixture.
  static let tokenizer: WordPieceTokenizer = {
    do {
      return try WordPieceTokenizer(vocabulary: vocabularyURL)
    } catch {
      preconditionFailure("cannot load Fixtures/vocab.txt: \(error)")
    }
  }()

  /// A five-piece vocabulary for hand-checked cases.
  static func tiny(_ extra: [String]) throws -> WordPieceTokenizer {
    try WordPieceTokenizer(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] + extra, source: "tiny")
  }

  // MARK: Against the reference

  @Test("the fixture has at least 60 sentences, the empty one among them")
  func fixtureCoverage() {
    #expect(Self.reference.cases.count >= 60)
    #expect(Self.reference.cases.contains { $0.text.isEmpty })
    #expect(Self.reference.source.hasPrefix("tokenizers "))
  }

  @Test("tokens and ids match tokenizers' BertWordPieceTokenizer", arguments: reference.cases)
  func matchesReference(_ item: Reference.Case) {
    let tokenizer = Self.tokenizer
    let ids = tokenizer.encode(item.text)
    #expect(ids == item.ids)
    // Compare bytes: String equality would accept canonically equivalent tokens.
    let tokens =
      [WordPieceTokenizer.classificationToken] + tokenizer.tokenize(item.text)
      + [WordPieceTokenizer.separatorToken]
    #expect(
      tokens.map { Array($0.utf8) } == item.tokens.map { Array($0.utf8) },
      "\(tokens) vs \(item.tokens)")
  }

  @Test("truncated encodings match the reference", arguments: reference.truncated)
  func matchesReferenceTruncation(_ item: Reference.Truncation) {
    #expect(Self.tokenizer.encode(item.text, maxLength: item.maxLength) == item.ids)
  }

  // MARK: Behaviour

  @Test("truncation keeps [CLS] first and [SEP] last at every length")
  func truncationKeepsSeparator() throws {
    let tokenizer = Self.tokenizer
    let text = try #require(Self.reference.cases.last).text
    let full = tokenizer.encode(text)
    #expect(full.count > 40)
    for maxLength in 2...(full.count + 2) {
      let ids = tokenizer.encode(text, maxLength: maxLength)
      #expect(ids.count == min(maxLength, full.count))
      #expect(ids.first == tokenizer.classificationID)
      #expect(ids.last == tokenizer.separatorID)
      #expect(Array(ids.dropLast()) == Array(full.prefix(ids.count - 1)))
    }
    #expect(tokenizer.encode("Hello, world!", maxLength: 2) == [101, 102])
  }

  @Test("unknown words become one [UNK]: unmatched pieces and words over 100 scalars")
  func unknownWords() throws {
    let tokenizer = Self.tokenizer
    #expect(tokenizer.tokenize("abc😀def") == ["[UNK]"])
    #expect(tokenizer.tokenize("ok ǅ ok") == ["ok", "[UNK]", "ok"])
    #expect(tokenizer.tokenize(String(repeating: "a", count: 101)) == ["[UNK]"])
    #expect(tokenizer.tokenize(String(repeating: "a", count: 100)).count > 1)
    // 100 scalars, not 100 characters: "é" decomposes, but the limit applies to the word
    // after normalisation, where the accent is gone.
    #expect(tokenizer.tokenize(String(repeating: "e\u{301}", count: 100)).first != "[UNK]")
    let tiny = try Self.tiny(["un", "##aff", "##able", "aff"])
    #expect(
      tiny.tokenize("unaffable affable xyz") == ["un", "##aff", "##able", "aff", "##able", "[UNK]"])
    #expect(tiny.tokenize("unx") == ["[UNK]"])
    #expect(tiny.encode("xyz") == [2, 1, 3])
  }

  @Test("WordPiece is greedy, longest match first")
  func greedyLongestMatch() throws {
    let tiny = try Self.tiny(["a", "ab", "##c", "##bc", "##b"])
    #expect(tiny.tokenize("abc") == ["ab", "##c"])
    #expect(tiny.tokenize("abbc") == ["ab", "##bc"])
    #expect(tiny.tokenize("ABC") == ["ab", "##c"])
  }

  @Test("special tokens written in the text are kept whole, case-sensitively")
  func verbatimSpecialTokens() {
    let tokenizer = Self.tokenizer
    #expect(tokenizer.tokenize("a[MASK]b [SEP]") == ["a", "[MASK]", "b", "[SEP]"])
    #expect(tokenizer.tokenize("[mask]") == ["[", "mask", "]"])
  }

  @Test("ids are line numbers − 1; the tokens BERT needs are where vocab.txt puts them")
  func fixtureVocabulary() {
    let tokenizer = Self.tokenizer
    #expect(tokenizer.vocabulary.count == 30522)
    #expect(tokenizer.paddingID == 0)
    #expect(tokenizer.unknownID == 100)
    #expect(tokenizer.classificationID == 101)
    #expect(tokenizer.separatorID == 102)
    #expect(tokenizer.id(for: "[MASK]") == 103)
    #expect(tokenizer.id(for: "the") == 1996)
    #expect(tokenizer.id(for: "no such token") == nil)
  }

  @Test("batches are padded with [PAD] and carry an attention mask")
  func batches() {
    let tokenizer = Self.tokenizer
    let batch = tokenizer.encodeBatch(["Hello, world!", "", "a b c d e f g"], maxLength: 6)
    #expect(batch.length == 6)
    #expect(batch.ids[0] == [101, 7592, 1010, 2088, 999, 102])
    #expect(batch.ids[1] == [101, 102, 0, 0, 0, 0])
    #expect(batch.ids[2].count == 6 && batch.ids[2].last == 102)
    #expect(batch.attentionMask == [[1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
    let fixed = tokenizer.encodeBatch(["Hello"], fixedLength: 8)
    #expect(fixed.ids == [[101, 7592, 102, 0, 0, 0, 0, 0]])
    #expect(fixed.attentionMask == [[1, 1, 1, 0, 0, 0, 0, 0]])
    #expect(tokenizer.encodeBatch([]).ids.isEmpty)
  }

  // MARK: Vocabulary files

  static func vocabularyFile(_ contents: Data) throws -> URL {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("dpfl-vocab-\(UUID().uuidString).txt")
    try contents.write(to: url)
    return url
  }

  @Test("vocab.txt lines: CRLF and trailing whitespace are not part of tokens")
  func vocabularyLines() throws {
    let url = try Self.vocabularyFile(Data("[PAD]\r\n[UNK]  \n[CLS]\n[SEP]\nhello\n##s\n".utf8))
    defer { try? FileManager.default.removeItem(at: url) }
    let tokenizer = try WordPieceTokenizer(vocabulary: url)
    #expect(tokenizer.vocabulary == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "##s"])
    #expect(tokenizer.encode("Hellos") == [2, 4, 5, 3])
  }

  @Test("a malformed vocabulary is refused with an error naming the file")
  func malformedVocabularies() throws {
    let duplicate = try Self.vocabularyFile(Data("[PAD]\n[UNK]\n[CLS]\n[SEP]\nword\nword\n".utf8))
    let noUnknown = try Self.vocabularyFile(Data("[PAD]\n[CLS]\n[SEP]\n".utf8))
    let binary = try Self.vocabularyFile(Data([0x5B, 0xFF, 0xFE, 0x0A]))
    defer {
      for url in [duplicate, noUnknown, binary] { try? FileManager.default.removeItem(at: url) }
    }
    #expect(
      throws: ModelError.duplicateVocabularyToken(
        file: duplicate.path, token: "word", firstLine: 5, line: 6)
    ) {
      try WordPieceTokenizer(vocabulary: duplicate)
    }
    #expect(throws: ModelError.missingSpecialToken(file: noUnknown.path, token: "[UNK]")) {
      try WordPieceTokenizer(vocabulary: noUnknown)
    }
    #expect(
      throws: ModelError.fileUnreadable(file: binary.path, reason: "bytes that are not UTF-8")
    ) {
      try WordPieceTokenizer(vocabulary: binary)
    }
    let missing = URL(fileURLWithPath: "/nonexistent/dpfl/vocab.txt")
    do {
      _ = try WordPieceTokenizer(vocabulary: missing)
      Issue.record("loaded a vocabulary that does not exist")
    } catch let error as ModelError {
      guard case .fileUnreadable(let file, _) = error else {
        Issue.record("expected fileUnreadable; got \(error)")
        return
      }
      #expect(file == missing.path)
      #expect(error.description.hasPrefix("\(missing.path) must be readable; got "))
    }
    let message = ModelError.duplicateVocabularyToken(
      file: "v.txt", token: "word", firstLine: 5, line: 6
    ).description
    #expect(message == "Tokens in vocabulary v.txt must be unique; got \"word\" on lines 5 and 6.")
  }
}
