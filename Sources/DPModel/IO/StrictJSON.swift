/// A small, strict JSON reader (RFC 8259) for the headers of untrusted files.
///
/// Foundation's `JSONSerialization` would do, except that it silently keeps one of two
/// equal keys, and a safetensors header with a repeated tensor name must be refused. This
/// reader keeps every object's members in order (callers check for repeats), keeps numbers
/// as their literal text (so 64-bit offsets are converted exactly, and "1.0" is not taken
/// for an integer), and bounds nesting so that hostile input cannot exhaust the stack.
public enum StrictJSON {
  /// A parsed JSON value.
  public indirect enum Value: Equatable, Sendable {
    /// Members in document order, repeats included.
    case object([(key: String, value: Value)])
    case array([Value])
    case string(String)
    /// The number's literal text, e.g. `-12`, `3.5e2`.
    case number(String)
    case bool(Bool)
    case null

    public static func == (lhs: Value, rhs: Value) -> Bool {
      switch (lhs, rhs) {
      case (.object(let l), .object(let r)):
        l.count == r.count && zip(l, r).allSatisfy { $0.key == $1.key && $0.value == $1.value }
      case (.array(let l), .array(let r)): l == r
      case (.string(let l), .string(let r)): l == r
      case (.number(let l), .number(let r)): l == r
      case (.bool(let l), .bool(let r)): l == r
      case (.null, .null): true
      default: false
      }
    }

    /// The kind of value, for error messages ("an array", "the number 1.5").
    public var summary: String {
      switch self {
      case .object: "an object"
      case .array: "an array"
      case .string(let text): "the string \(MessageText.quoted(text))"
      case .number(let text): "the number \(MessageText.truncated(text))"
      case .bool(let flag): "\(flag)"
      case .null: "null"
      }
    }

    /// The value as an `Int` if it is an integer literal (no fraction or exponent) that
    /// fits; otherwise nil.
    public var integer: Int? {
      guard case .number(let text) = self else { return nil }
      return Int(text)
    }
  }

  /// Why a document is not JSON, with the byte offset where reading stopped.
  public struct SyntaxError: Error, Equatable, Sendable {
    /// What is wrong.
    public var message: String
    /// The byte offset where reading stopped.
    public var offset: Int

    /// The message and the offset.
    public var description: String { "\(message) at byte \(offset)" }
  }

  /// Most levels of nested arrays and objects accepted; a safetensors header needs 3.
  public static let maximumDepth = 64

  /// What a parse refuses beyond RFC 8259 syntax.
  public struct Options: Equatable, Sendable {
    /// Most levels of nested arrays and objects.
    public var maximumDepth = StrictJSON.maximumDepth
    /// Refuse an object that names a key twice (RFC 8259 leaves the meaning undefined;
    /// Foundation keeps one of the two values, Python the last).
    public var rejectsDuplicateKeys = false
    /// Refuse a number whose magnitude does not fit in a Double (`1e400`), which a decoder
    /// would otherwise report as a type mismatch or read as infinity.
    public var rejectsOutOfRangeNumbers = false

    /// Options with every check named; the defaults are the safetensors header's.
    public init(
      maximumDepth: Int = StrictJSON.maximumDepth, rejectsDuplicateKeys: Bool = false,
      rejectsOutOfRangeNumbers: Bool = false
    ) {
      self.maximumDepth = maximumDepth
      self.rejectsDuplicateKeys = rejectsDuplicateKeys
      self.rejectsOutOfRangeNumbers = rejectsOutOfRangeNumbers
    }
  }

  /// Parses one JSON value from `bytes`, allowing whitespace (the format's space padding)
  /// before and after it.
  ///
  /// - Throws: ``SyntaxError`` for anything that is not exactly one JSON value, including
  ///   invalid UTF-8 inside strings and lone surrogate escapes, and for what `options`
  ///   refuses.
  public static func parse(_ bytes: [UInt8], options: Options = Options()) throws(SyntaxError)
    -> Value
  {
    var reader = Reader(bytes: bytes, options: options)
    return try reader.document()
  }

  /// The byte offset where the value at `path` begins (object keys as strings, array
  /// indices as integers), or where the deepest existing part of `path` begins when the
  /// rest is absent; nil when `bytes` is not JSON. Used to say where a decoding error is.
  static func offset(of path: [PathComponent], in bytes: [UInt8]) -> Int? {
    var reader = Reader(bytes: bytes, options: Options(maximumDepth: Int.max / 2))
    reader.target = path
    guard (try? reader.document()) != nil else { return nil }
    return reader.found?.offset
  }

  /// One step of a path into a document.
  enum PathComponent: Equatable {
    case key(String)
    case index(Int)
  }

  /// The 1-based line and column (in bytes) of `offset`; lines end at `\n`.
  public static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
    var line = 1
    var lineStart = 0
    for index in 0..<min(offset, bytes.count) where bytes[index] == 0x0A {
      line += 1
      lineStart = index + 1
    }
    return (line, offset - lineStart + 1)
  }

  private struct Reader {
    let bytes: [UInt8]
    let options: Options
    var position = 0
    /// With a target, the path to the current value and the deepest match so far.
    var target: [PathComponent]?
    var path: [PathComponent] = []
    var found: (depth: Int, offset: Int)?

    init(bytes: [UInt8], options: Options) {
      self.bytes = bytes
      self.options = options
    }

    mutating func document() throws(SyntaxError) -> Value {
      skipWhitespace()
      let value = try value(depth: 0)
      skipWhitespace()
      guard position == bytes.count else {
        throw error("unexpected content after the JSON value")
      }
      return value
    }

    func error(_ message: String) -> SyntaxError {
      SyntaxError(message: message, offset: position)
    }

    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
      while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
        position += 1
      }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(SyntaxError) {
      guard current == byte else { throw error("expected \(what)") }
      position += 1
    }

    /// Records where the current value starts if its path is a prefix of the target.
    mutating func note() {
      guard let target, path.count <= target.count, found.map({ $0.depth < path.count }) ?? true,
        target.starts(with: path)
      else { return }
      found = (path.count, position)
    }

    mutating func value(depth: Int) throws(SyntaxError) -> Value {
      guard depth < options.maximumDepth else {
        throw error("nesting deeper than \(options.maximumDepth) levels")
      }
      if target != nil { note() }
      guard let byte = current else { throw error("unexpected end of input") }
      switch byte {
      case UInt8(ascii: "{"): return try object(depth: depth)
      case UInt8(ascii: "["): return try array(depth: depth)
      case UInt8(ascii: "\""): return .string(try string())
      case UInt8(ascii: "t"): try literal("true"); return .bool(true)
      case UInt8(ascii: "f"): try literal("false"); return .bool(false)
      case UInt8(ascii: "n"): try literal("null"); return .null
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
      default: throw error("unexpected character")
      }
    }

    mutating func literal(_ word: String) throws(SyntaxError) {
      for byte in word.utf8 {
        guard current == byte else { throw error("invalid literal (expected \(word))") }
        position += 1
      }
    }

    mutating func object(depth: Int) throws(SyntaxError) -> Value {
      position += 1  // {
      var members: [(key: String, value: Value)] = []
      var firstOffsets: [String: Int] = [:]
      skipWhitespace()
      if current == UInt8(ascii: "}") {
        position += 1
        return .object(members)
      }
      while true {
        skipWhitespace()
        guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
        let keyOffset = position
        let key = try string()
        if options.rejectsDuplicateKeys {
          if let first = firstOffsets.updateValue(keyOffset, forKey: key) {
            let (line, column) = StrictJSON.lineAndColumn(of: first, in: bytes)
            position = keyOffset
            throw error(
              "duplicate key \(MessageText.quoted(key)) (first at line \(line), column \(column))")
          }
        }
        skipWhitespace()
        try expect(UInt8(ascii: ":"), "':'")
        skipWhitespace()
        if target != nil { path.append(.key(key)) }
        members.append((key, try value(depth: depth + 1)))
        if target != nil { path.removeLast() }
        skipWhitespace()
        if current == UInt8(ascii: ",") {
          position += 1
          continue
        }
        try expect(UInt8(ascii: "}"), "',' or '}'")
        return .object(members)
      }
    }

    mutating func array(depth: Int) throws(SyntaxError) -> Value {
      position += 1  // [
      var elements: [Value] = []
      skipWhitespace()
      if current == UInt8(ascii: "]") {
        position += 1
        return .array(elements)
      }
      while true {
        skipWhitespace()
        if target != nil { path.append(.index(elements.count)) }
        elements.append(try value(depth: depth + 1))
        if target != nil { path.removeLast() }
        skipWhitespace()
        if current == UInt8(ascii: ",") {
          position += 1
          continue
        }
        try expect(UInt8(ascii: "]"), "',' or ']'")
        return .array(elements)
      }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, returned as text.
    mutating func number() throws(SyntaxError) -> String {
      let start = position
      func isDigit(_ byte: UInt8?) -> Bool {
        byte.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false
      }
      if current == UInt8(ascii: "-") { position += 1 }
      if current == UInt8(ascii: "0") {
        position += 1
      } else if isDigit(current) {
        while isDigit(current) { position += 1 }
      } else {
        throw error("invalid number")
      }
      if current == UInt8(ascii: ".") {
        position += 1
        guard isDigit(current) else { throw error("invalid number") }
        while isDigit(current) { position += 1 }
      }
      if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
        position += 1
        if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
        guard isDigit(current) else { throw error("invalid number") }
        while isDigit(current) { position += 1 }
      }
      let text = String(decoding: bytes[start..<position], as: UTF8.self)
      if options.rejectsOutOfRangeNumbers, !(Double(text)?.isFinite ?? false) {
        position = start
        throw error(
          "the number \(MessageText.truncated(text)) is out of range (a Double holds magnitudes up to 1.8e308)"
        )
      }
      return text
    }

    mutating func string() throws(SyntaxError) -> String {
      position += 1  // opening quote
      var utf8: [UInt8] = []
      while true {
        guard let byte = current else { throw error("unterminated string") }
        switch byte {
        case UInt8(ascii: "\""):
          position += 1
          guard let text = String(validating: utf8, as: UTF8.self) else {
            throw error("invalid UTF-8 in a string")
          }
          return text
        case UInt8(ascii: "\\"):
          position += 1
          try escape(into: &utf8)
        case 0x00..<0x20:
          throw error("unescaped control character in a string")
        default:
          utf8.append(byte)
          position += 1
        }
      }
    }

    mutating func escape(into utf8: inout [UInt8]) throws(SyntaxError) {
      guard let byte = current else { throw error("unterminated escape") }
      position += 1
      let simple: [UInt8: UInt8] = [
        UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F,
        UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A,
        UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
      ]
      if let replacement = simple[byte] {
        utf8.append(replacement)
        return
      }
      guard byte == UInt8(ascii: "u") else { throw error("invalid escape") }
      var scalar = try hex4()
      if (0xD800..<0xDC00).contains(scalar) {
        guard current == UInt8(ascii: "\\") else { throw error("lone high surrogate escape") }
        position += 1
        try expect(UInt8(ascii: "u"), "a low surrogate escape")
        let low = try hex4()
        guard (0xDC00..<0xE000).contains(low) else { throw error("lone high surrogate escape") }
        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
      } else if (0xDC00..<0xE000).contains(scalar) {
        throw error("lone low surrogate escape")
      }
      // Valid by construction: not a surrogate, at most 0x10FFFF.
      utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
    }

    mutating func hex4() throws(SyntaxError) -> UInt32 {
      var value: UInt32 = 0
      for _ in 0..<4 {
        guard let byte = current, let digit = hexDigit(byte) else {
          throw error("invalid \\u escape")
        }
        value = value << 4 | digit
        position += 1
      }
      return value
    }

    func hexDigit(_ byte: UInt8) -> UInt32? {
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
      default: nil
      }
    }
  }
}
