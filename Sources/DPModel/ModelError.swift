/// Everything DPModel throws. Problems in files a user supplies (safetensors weights,
/// WordPiece vocabularies) are errors; shape mismatches between values built in code are
/// preconditions instead (STYLE.md §2.4).
///
/// Each case carries the facts needed to fix the problem, with the file (as the path it
/// was opened with, or the label given to an in-memory read) and the tensor named, and
/// its ``description`` is one sentence of the form "<what> must <requirement>; got <value>."
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
  // MARK: Files

  /// A file could not be read, or its bytes are not the expected encoding; `reason` is the
  /// system's explanation or names the problem.
  case fileUnreadable(file: String, reason: String)

  /// A file could not be written; `reason` is the system's explanation.
  case fileUnwritable(file: String, reason: String)

  // MARK: Safetensors layout

  /// The file is shorter than the 8-byte header-length prefix.
  case truncatedHeaderLength(file: String, byteCount: Int)

  /// The header length read from the first 8 bytes exceeds the bytes that follow it, or
  /// the format's limit on header size (``Safetensors/maximumHeaderByteCount``).
  case headerLengthOutOfBounds(file: String, headerByteCount: UInt64, limit: Int)

  /// The JSON header is not well-formed UTF-8 JSON, is not an object, or an entry lacks
  /// a field or has one of the wrong type. `reason` says which and where.
  case malformedHeader(file: String, reason: String)

  /// Two header entries share a tensor name (JSON parsers would silently keep one).
  case duplicateTensorName(file: String, tensor: String)

  /// The `__metadata__` entry is not an object mapping strings to strings.
  case malformedMetadata(file: String, reason: String)

  /// A tensor's `dtype` is not one this reader supports (see ``Tensor/DType``).
  case unsupportedDType(file: String, tensor: String, dtype: String)

  /// A tensor's shape has a negative entry, or its element count overflows `Int`.
  case invalidShape(file: String, tensor: String, shape: [Int])

  /// A tensor's `data_offsets` [begin, end] are decreasing or end past the payload.
  case dataOffsetsOutOfBounds(
    file: String, tensor: String, begin: Int, end: Int, payloadByteCount: Int)

  /// A tensor's byte range does not hold exactly product(shape) × dtype size bytes.
  case byteCountMismatch(file: String, tensor: String, expected: Int, actual: Int)

  /// A tensor does not start where the previous one (in offset order) ends: the tensors
  /// overlap, or leave a gap. `expectedBegin` is the previous tensor's end (0 for the first).
  case nonContiguousData(file: String, tensor: String, begin: Int, expectedBegin: Int)

  /// The payload has bytes after the last tensor's end.
  case trailingPayloadBytes(file: String, payloadByteCount: Int, usedByteCount: Int)

  // MARK: Lookups and conversions

  /// A tensor that a caller required is absent from the file.
  case tensorNotFound(file: String, tensor: String)

  /// A tensor has a dtype the caller cannot use (e.g. integers where floats are needed).
  case unexpectedDType(tensor: String, expected: String, actual: Tensor.DType)

  /// A tensor has a shape other than the model needs.
  case unexpectedShape(file: String, tensor: String, expected: [Int], actual: [Int])

  /// A model configuration (e.g. config.json) holds a value the model cannot use.
  case invalidConfiguration(file: String, reason: String)

  // MARK: Tokenizer vocabulary

  /// A vocabulary file lists the same token on two lines (ids would be ambiguous).
  case duplicateVocabularyToken(file: String, token: String, firstLine: Int, line: Int)

  /// A vocabulary file lacks a token the tokenizer needs ([UNK], [CLS], [SEP], [PAD]).
  case missingSpecialToken(file: String, token: String)

  /// A vocabulary has more tokens than the model has embedding rows, so some token ids
  /// would index past the embedding table.
  case vocabularyExceedsModel(file: String, tokenCount: Int, modelVocabularySize: Int)

  // MARK: Values

  /// A weight of a pre-trained model is NaN or infinite; `index` is the first such element
  /// (row-major) and `value` its text.
  case nonFiniteWeight(file: String, tensor: String, index: Int, value: String)

  /// A JSON document is not strict JSON, or does not hold what it should; `line` and
  /// `column` (1-based, the column in bytes; 0 when unknown) say where, `reason` what.
  case malformedJSON(file: String, line: Int, column: Int, reason: String)

  /// One sentence naming the problem, the file and tensor involved, and the value found.
  public var description: String {
    switch self {
    case .fileUnreadable(let file, let reason):
      return "\(file) must be readable; got \(reason)."
    case .fileUnwritable(let file, let reason):
      return "\(file) must be writable; got \(reason)."
    case .truncatedHeaderLength(let file, let byteCount):
      return "\(file) must begin with an 8-byte header length; got a file of \(byteCount) bytes."
    case .headerLengthOutOfBounds(let file, let headerByteCount, let limit):
      return "The header length of \(file) must be at most \(limit) bytes; got \(headerByteCount)."
    case .malformedHeader(let file, let reason):
      return "The header of \(file) must be a JSON object of tensor entries; got \(reason)."
    case .duplicateTensorName(let file, let tensor):
      return "Tensor names in \(file) must be unique; got \(MessageText.quoted(tensor)) twice."
    case .malformedMetadata(let file, let reason):
      return "__metadata__ in \(file) must map strings to strings; got \(reason)."
    case .unsupportedDType(let file, let tensor, let dtype):
      let supported = Tensor.DType.allCases.map(\.rawValue).joined(separator: ", ")
      return
        "The dtype of tensor \(MessageText.quoted(tensor)) in \(file) must be one of \(supported); got \(MessageText.quoted(dtype))."
    case .invalidShape(let file, let tensor, let shape):
      return
        "The shape of tensor \(MessageText.quoted(tensor)) in \(file) must have non-negative entries whose product fits in Int; got \(MessageText.truncated("\(shape)"))."
    case .dataOffsetsOutOfBounds(let file, let tensor, let begin, let end, let payloadByteCount):
      return
        "data_offsets of tensor \(MessageText.quoted(tensor)) in \(file) must satisfy begin ≤ end ≤ \(payloadByteCount) (the payload size); got [\(begin), \(end)]."
    case .byteCountMismatch(let file, let tensor, let expected, let actual):
      return
        "Tensor \(MessageText.quoted(tensor)) in \(file) must span product(shape) × dtype size = \(expected) bytes; got \(actual)."
    case .nonContiguousData(let file, let tensor, let begin, let expectedBegin):
      return
        "Tensor \(MessageText.quoted(tensor)) in \(file) must start at byte \(expectedBegin), where the previous tensor ends (no gaps or overlaps); got \(begin)."
    case .trailingPayloadBytes(let file, let payloadByteCount, let usedByteCount):
      return
        "The payload of \(file) must end with the last tensor at byte \(usedByteCount); got \(payloadByteCount) bytes."
    case .tensorNotFound(let file, let tensor):
      return "\(file) must contain a tensor named \(MessageText.quoted(tensor)); got none."
    case .unexpectedDType(let tensor, let expected, let actual):
      return "Tensor \(MessageText.quoted(tensor)) must have \(expected); got \(actual.rawValue)."
    case .unexpectedShape(let file, let tensor, let expected, let actual):
      return
        "Tensor \(MessageText.quoted(tensor)) in \(file) must have shape \(expected); got \(MessageText.truncated("\(actual)"))."
    case .invalidConfiguration(let file, let reason):
      return "The model configuration \(file) must describe a usable model; got \(reason)."
    case .duplicateVocabularyToken(let file, let token, let firstLine, let line):
      return
        "Tokens in vocabulary \(file) must be unique; got \(MessageText.quoted(token)) on lines \(firstLine) and \(line)."
    case .missingSpecialToken(let file, let token):
      return "Vocabulary \(file) must contain \(token); got none."
    case .vocabularyExceedsModel(let file, let tokenCount, let modelVocabularySize):
      return
        "Vocabulary \(file) must have at most \(modelVocabularySize) tokens (the model's vocab_size, its embedding rows); got \(tokenCount)."
    case .nonFiniteWeight(let file, let tensor, let index, let value):
      return
        "Tensor \(MessageText.quoted(tensor)) in \(file) must hold finite numbers; got \(value) at element \(index)."
    case .malformedJSON(let file, let line, let column, let reason):
      let place = line > 0 ? ":\(line):\(column)" : ""
      return "\(file)\(place): \(reason)."
    }
  }
}
