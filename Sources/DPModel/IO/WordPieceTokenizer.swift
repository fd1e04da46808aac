import Foundation

/// BERT's uncased WordPiece tokenizer, as used by all-MiniLM-L6-v2 and bert-base-uncased.
///
/// It reproduces Hugging Face `tokenizers`' `BertWordPieceTokenizer(vocab, lowercase=True)`
/// (the "fast" tokenizer behind `BertTokenizerFast`), checked on the sentences in
/// `Tests/DPModelTests/Fixtures/wordpiece_reference.json`. Text goes through four stages,
/// all on Unicode scalars (code points), never on `Character`s:
///
/// 1. **Special tokens.** The vocabulary's `[CLS]`, `[SEP]`, `[UNK]`, `[PAD]` and `[MASK]`
///    written verbatim in the text (case-sensitive, anywhere) are kept as single tokens;
///    the text between them goes through the next stages.
/// 2. **Normalisation** (BertNormalizer, in this order): drop U+0000, U+FFFD and every
///    scalar of general category C* except tab, newline and carriage return; map White_Space
///    scalars to a space; surround CJK ideographs (the blocks listed in ``isCJKIdeograph(_:)``)
///    with spaces; decompose (NFD) and drop nonspacing marks (Mn), which strips accents;
///    lowercase each scalar with its full Unicode mapping.
/// 3. **Pre-tokenisation** (BertPreTokenizer): split on whitespace, which is dropped, and
///    on punctuation — ASCII symbols `!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~` and general
///    categories P* — each of which becomes a token of its own.
/// 4. **WordPiece**: each word longer than ``maximumCharactersPerWord`` scalars becomes
///    `[UNK]`; otherwise it is split greedily, longest vocabulary match first, continuation
///    pieces carrying the `##` prefix; a word with any unmatched remainder becomes one `[UNK]`.
///
/// Tokens are looked up by their exact UTF-8 bytes. (Swift's `String` equality is canonical
/// equivalence, under which a decomposed Hangul syllable would match its precomposed
/// vocabulary entry; the reference compares bytes.)
public struct WordPieceTokenizer: Sendable {
  /// Replaces a word that cannot be split into vocabulary pieces.
  public static let unknownToken = "[UNK]"
  /// Starts every encoded sequence.
  public static let classificationToken = "[CLS]"
  /// Ends every encoded sequence.
  public static let separatorToken = "[SEP]"
  /// Fills batch rows up to a common length.
  public static let paddingToken = "[PAD]"
  /// BERT's masked-language-model token; matched verbatim in text when in the vocabulary.
  public static let maskToken = "[MASK]"
  /// Marks a piece that continues a word.
  public static let continuationPrefix = "##"
  /// Words longer than this many Unicode scalars become ``unknownToken`` (BERT's 100).
  public static let maximumCharactersPerWord = 100

  /// The tokens by id: `vocabulary[id]`, id = line number − 1 in `vocab.txt`.
  public let vocabulary: [String]
  /// Id of ``unknownToken``.
  public let unknownID: Int
  /// Id of ``classificationToken``.
  public let classificationID: Int
  /// Id of ``separatorToken``.
  public let separatorID: Int
  /// Id of ``paddingToken``.
  public let paddingID: Int
  /// Where the vocabulary came from (its path, or the label given), for error messages.
  public let source: String

  /// Token (as UTF-8 bytes) → id.
  private let ids: [[UInt8]: Int]
  /// The special tokens matched verbatim in text (stage 1), longest first, with their ids.
  private let verbatim: [(scalars: [Unicode.Scalar], token: String, id: Int)]

  /// Loads a BERT `vocab.txt`: one token per line, the id of a token being its line number
  /// minus one. Line ends (`\n` or `\r\n`) and trailing whitespace are not part of tokens,
  /// and a final newline does not add an empty token.
  ///
  /// - Parameter url: the vocabulary file; its `path` names it in errors.
  /// - Throws: ``ModelError/fileUnreadable(file:reason:)`` if the file cannot be read or is
  ///   not UTF-8; ``ModelError/duplicateVocabularyToken(file:token:firstLine:line:)``;
  ///   ``ModelError/missingSpecialToken(file:token:)`` if `[UNK]`, `[CLS]`, `[SEP]` or
  ///   `[PAD]` is absent.
  public init(vocabulary url: URL) throws {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw ModelError.fileUnreadable(file: url.path, reason: error.localizedDescription)
    }
    try self.init(vocabularyData: data, source: url.path)
  }

  /// Parses the bytes of a `vocab.txt` as ``init(vocabulary:)`` does.
  ///
  /// - Parameters:
  ///   - data: the whole file.
  ///   - source: names the vocabulary in errors.
  /// - Throws: as ``init(vocabulary:)``.
  public init(vocabularyData data: Data, source: String) throws {
    guard let text = String(validating: data, as: UTF8.self) else {
      throw ModelError.fileUnreadable(file: source, reason: "bytes that are not UTF-8")
    }
    // Split on scalars: as a Character, "\r\n" is one grapheme and not equal to "\n".
    var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    let tokens = lines.map { line in
      var scalars = String.UnicodeScalarView(line)
      while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
      return String(scalars)
    }
    try self.init(tokens: tokens, source: source)
  }

  /// A tokenizer over `tokens`, whose ids are their indices.
  ///
  /// - Parameters:
  ///   - tokens: the vocabulary in id order.
  ///   - source: names the vocabulary in errors.
  /// - Throws: ``ModelError/duplicateVocabularyToken(file:token:firstLine:line:)`` (lines
  ///   counted from 1) and ``ModelError/missingSpecialToken(file:token:)``.
  public init(tokens: [String], source: String = "<vocabulary>") throws {
    var ids: [[UInt8]: Int] = [:]
    ids.reserveCapacity(tokens.count)
    for (id, token) in tokens.enumerated() {
      if let first = ids.updateValue(id, forKey: Array(token.utf8)) {
        throw ModelError.duplicateVocabularyToken(
          file: source, token: token, firstLine: first + 1, line: id + 1)
      }
    }
    func required(_ token: String) throws -> Int {
      guard let id = ids[Array(token.utf8)] else {
        throw ModelError.missingSpecialToken(file: source, token: token)
      }
      return id
    }
    self.vocabulary = tokens
    self.source = source
    self.ids = ids
    self.unknownID = try required(Self.unknownToken)
    self.classificationID = try required(Self.classificationToken)
    self.separatorID = try required(Self.separatorToken)
    self.paddingID = try required(Self.paddingToken)
    let special = [
      Self.separatorToken, Self.classificationToken, Self.unknownToken, Self.paddingToken,
      Self.maskToken,
    ]
    self.verbatim =
      special
      .compactMap { token in ids[Array(token.utf8)].map { (Array(token.unicodeScalars), token, $0) }
      }
      .sorted { $0.scalars.count > $1.scalars.count }
  }

  /// Checks that every id of this vocabulary has a row in a model's embedding table of
  /// `modelVocabularySize` rows; a larger `vocab.txt` would make the encoder index past
  /// its table on the first rare word.
  ///
  /// - Throws: ``ModelError/vocabularyExceedsModel(file:tokenCount:modelVocabularySize:)``.
  public func checkFits(modelVocabularySize: Int) throws {
    guard vocabulary.count <= modelVocabularySize else {
      throw ModelError.vocabularyExceedsModel(
        file: source, tokenCount: vocabulary.count, modelVocabularySize: modelVocabularySize)
    }
  }

  /// The id of `token` (compared byte for byte), or nil when it is not in the vocabulary.
  public func id(for token: String) -> Int? {
    ids[Array(token.utf8)]
  }

  // MARK: Tokenising

  /// The WordPiece tokens of `text`, without `[CLS]` and `[SEP]`.
  ///
  /// ```swift
  /// tokenizer.tokenize("Café naïve, unaffable!")
  /// // ["cafe", "naive", ",", "una", "##ffa", "##ble", "!"]  (bert-base-uncased vocabulary)
  /// ```
  public func tokenize(_ text: String) -> [String] {
    pieces(of: text).map(\.token)
  }

  /// The ids of `[CLS]`, the tokens of `text`, `[SEP]`.
  ///
  /// - Parameters:
  ///   - text: any string; nothing is refused (unknown words become `[UNK]`).
  ///   - maxLength: if given, the tokens are cut so that the whole sequence, `[CLS]` and
  ///     `[SEP]` included, has at most this many ids; `[SEP]` is always the last id.
  /// - Returns: between 2 and `maxLength` ids.
  /// - Precondition: `maxLength` ≥ 2.
  public func encode(_ text: String, maxLength: Int? = nil) -> [Int] {
    var tokenIDs = pieces(of: text).map(\.id)
    if let maxLength {
      precondition(
        maxLength >= 2, "maxLength must be at least 2 ([CLS] and [SEP]); got \(maxLength)")
      if tokenIDs.count > maxLength - 2 { tokenIDs.removeLast(tokenIDs.count - (maxLength - 2)) }
    }
    return [classificationID] + tokenIDs + [separatorID]
  }

  // MARK: Batches

  /// Encoded sequences padded to one length, with the attention mask a BERT encoder takes.
  public struct Batch: Equatable, Sendable {
    /// One row per text: `[CLS] … [SEP]` then `[PAD]` ids up to ``length``.
    public var ids: [[Int]]
    /// 1 where ``ids`` holds a real token (specials included), 0 on padding.
    public var attentionMask: [[Int]]
    /// The common row length.
    public var length: Int
  }

  /// Encodes each text (see ``encode(_:maxLength:)``) and pads every row with `[PAD]` to
  /// the longest row.
  ///
  /// - Precondition: `maxLength` ≥ 2.
  public func encodeBatch(_ texts: [String], maxLength: Int? = nil) -> Batch {
    let rows = texts.map { encode($0, maxLength: maxLength) }
    return padded(rows, to: rows.map(\.count).max() ?? 0)
  }

  /// Encodes each text cut to at most `length` ids (`[SEP]` kept) and pads every row with
  /// `[PAD]` to exactly `length`, for models that need a fixed sequence length.
  ///
  /// - Precondition: `length` ≥ 2.
  public func encodeBatch(_ texts: [String], fixedLength length: Int) -> Batch {
    padded(texts.map { encode($0, maxLength: length) }, to: length)
  }

  private func padded(_ rows: [[Int]], to length: Int) -> Batch {
    Batch(
      ids: rows.map { $0 + Array(repeating: paddingID, count: length - $0.count) },
      attentionMask: rows.map {
        Array(repeating: 1, count: $0.count) + Array(repeating: 0, count: length - $0.count)
      },
      length: length)
  }

  // MARK: Stages

  /// Stages 1–4 of the type's documentation: (token, id) pairs of `text`.
  private func pieces(of text: String) -> [(token: String, id: Int)] {
    var result: [(token: String, id: Int)] = []
    var plain: [Unicode.Scalar] = []
    let scalars = Array(text.unicodeScalars)
    var index = 0
    func flush() {
      for word in Self.preTokenize(Self.normalize(plain)) { wordPieces(word, into: &result) }
      plain.removeAll(keepingCapacity: true)
    }
    scan: while index < scalars.count {
      if scalars[index] == "[" {
        for special in verbatim where scalars[index...].starts(with: special.scalars) {
          flush()
          result.append((special.token, special.id))
          index += special.scalars.count
          continue scan
        }
      }
      plain.append(scalars[index])
      index += 1
    }
    flush()
    return result
  }

  /// Stage 2, BertNormalizer with clean_text, handle_chinese_chars, strip_accents and
  /// lowercase on.
  static func normalize(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
    var cleaned = String.UnicodeScalarView()
    for scalar in scalars {
      if scalar.value == 0 || scalar.value == 0xFFFD || isControl(scalar) { continue }
      if isWhitespace(scalar) {
        cleaned.append(" ")
      } else if isCJKIdeograph(scalar) {
        cleaned.append(" ")
        cleaned.append(scalar)
        cleaned.append(" ")
      } else {
        cleaned.append(scalar)
      }
    }
    var result: [Unicode.Scalar] = []
    result.reserveCapacity(cleaned.count)
    for scalar in String(cleaned).decomposedStringWithCanonicalMapping.unicodeScalars
    where scalar.properties.generalCategory != .nonspacingMark {
      result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
    }
    return result
  }

  /// Stage 3: words split on whitespace (dropped) and punctuation (kept, one per word).
  static func preTokenize(_ scalars: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
    var words: [[Unicode.Scalar]] = []
    var current: [Unicode.Scalar] = []
    for scalar in scalars {
      if scalar.properties.isWhitespace {
        if !current.isEmpty { words.append(current) }
        current = []
      } else if isPunctuation(scalar) {
        if !current.isEmpty { words.append(current) }
        words.append([scalar])
        current = []
      } else {
        current.append(scalar)
      }
    }
    if !current.isEmpty { words.append(current) }
    return words
  }

  /// Stage 4: greedy longest-match-first WordPiece of one word.
  private func wordPieces(_ word: [Unicode.Scalar], into output: inout [(token: String, id: Int)]) {
    guard word.count <= Self.maximumCharactersPerWord else {
      output.append((Self.unknownToken, unknownID))
      return
    }
    let prefix = Array(Self.continuationPrefix.utf8)
    var found: [(token: String, id: Int)] = []
    var start = 0
    while start < word.count {
      var end = word.count
      var match: (token: String, id: Int)?
      while start < end {
        var bytes: [UInt8] = start > 0 ? prefix : []
        for scalar in word[start..<end] { bytes.append(contentsOf: UTF8.encode(scalar)!) }
        if let id = ids[bytes] {
          match = (vocabulary[id], id)
          break
        }
        end -= 1
      }
      guard let match else {
        output.append((Self.unknownToken, unknownID))
        return
      }
      found.append(match)
      start = end
    }
    output.append(contentsOf: found)
  }

  // MARK: Character classes

  /// Tab, newline, carriage return, and the White_Space property (Rust's
  /// `char::is_whitespace`, which the reference uses).
  static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar.properties.isWhitespace
  }

  /// General category C* (control, format, surrogate, private use, unassigned), except
  /// tab, newline and carriage return, which count as whitespace.
  static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    if scalar == "\t" || scalar == "\n" || scalar == "\r" { return false }
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned: return true
    default: return false
    }
  }

  /// ASCII symbols (33–47, 58–64, 91–96, 123–126, which BERT counts as punctuation though
  /// some are Unicode symbols, like `$` and `^`) and general categories Pc, Pd, Ps, Pe, Pi,
  /// Pf, Po.
  static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 33...47, 58...64, 91...96, 123...126: return true
    default: break
    }
    switch scalar.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
      .initialPunctuation, .finalPunctuation, .otherPunctuation:
      return true
    default:
      return false
    }
  }

  /// The CJK Unified Ideographs blocks the reference treats as one-character words:
  /// U+4E00–9FFF, 3400–4DBF, 20000–2A6DF, 2A700–2B73F, 2B740–2B81F, 2B920–2CEAF, F900–FAFF
  /// and 2F800–2FA1F. (Hangul, Hiragana and Katakana are not among them.) The ranges are
  /// `tokenizers`' list, which differs from Google's BERT in 2B820–2B91F.
  static func isCJKIdeograph(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
      0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
      return true
    default:
      return false
    }
  }
}
