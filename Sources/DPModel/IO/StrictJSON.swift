/// A small, strict JSON reader (RFC 8259) for the headers of untrusted files.
///
/// Foundation's `JSONSerialization` would do, except that it silently keeps one of two
/// equal keys, and a safetensors header with a repeated tensor name must be refused. This
/// reader keeps every object's members in order (callers check for repeats), keeps numbers
/// as their literal text (so 64-bit offsets are converted exactly, and "1.0" is not taken
/// for an integer), and bounds nesting so that hostile input cannot exhaust the stack.
enum StrictJSON {
  /// A parsed JSON value.
  indirect enum Value: Equatable {
    /// Members in document order, repeats included.
    case object([(key: String, value: Value)])
    case array([Value])
    case string(String)
    /// The number's literal text, e.g. `-12`, `3.5e2`.
    case number(String)
    case bool(Bool)
    case null

    static func == (lhs: Value, rhs: Value) -> Bool {
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
    var summary: String {
      switch self {
      case .object: "an object"
      case .array: "an array"
      case .string(let text): "the string \"\(text)\""
      case .number(let text): "the number \(text)"
      case .bool(let flag): "\(flag)"
      case .null: "null"
      }
    }

    /// The value as an `Int` if it is an integer literal (no fraction or exponent) that
    /// fits; otherwise nil.
    var integer: Int? {
      guard case .number(let text) = self else { return nil }
      return Int(text)
    }
  }

  /// Why a document is not JSON, with the byte offset where reading stopped.
  struct SyntaxError: Error, Equatable {
    var message: String
    var offset: Int

    var description: String { "\(message) at byte \(offset)" }
  }

  /// Most levels of nested arrays and objects accepted; a safetensors header needs 3.
  static let maximumDepth = 64

  /// Parses one JSON value from `bytes`, allowing whitespace (the format's space padding)
  /// before and after it.
  ///
  /// - Throws: ``SyntaxError`` for anything that is not exactly one JSON value, including
  ///   invalid UTF-8 inside strings and lone surrogate escapes.
  static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> Value {
    var reader = Reader(bytes: bytes)
    reader.skipWhitespace()
    let value = try reader.value(depth: 0)
    reader.skipWhitespace()
    guard reader.position == bytes.count else {
      throw reader.error("unexpected content after the JSON value")
    }
    return value
  }

  private struct Reader {
    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

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

    mutating func value(depth: Int) throws(SyntaxError) -> Value {
      guard depth < StrictJSON.maximumDepth else {
        throw error("nesting deeper than \(StrictJSON.maximumDepth)")
      }
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
      skipWhitespace()
      if current == UInt8(ascii: "}") {
        position += 1
        return .object(members)
      }
      while true {
        skipWhitespace()
        guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
        let key = try string()
        skipWhitespace()
        try expect(UInt8(ascii: ":"), "':'")
        skipWhitespace()
        members.append((key, try value(depth: depth + 1)))
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
        elements.append(try value(depth: depth + 1))
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
      return String(decoding: bytes[start..<position], as: UTF8.self)
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
