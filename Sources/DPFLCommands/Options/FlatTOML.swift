import DPModel

/// A small, strict reader for dpfl's settings files: TOML v1.0.0 restricted to what a flat
/// settings file uses, written here rather than taken from a general TOML library.
///
/// Why not TOMLKit: its bundled toml++ 3.4.0 aborts the process on a table header that does
/// not start with a key (`[` then a newline, `[#`, `[=` …): `parse_table_header` calls
/// `parse_key` without checking the next character, and `parse_key` begins with
/// `TOML_ASSERT_ASSUME(is_bare_key_character(*cp) || is_string_delimiter(*cp))`. With
/// assertions on that is `abort()`; under `NDEBUG` it becomes `__builtin_assume` of a false
/// fact, which is undefined behaviour. A pre-validation pass would have to re-implement
/// toml++'s grammar to be sure never to pass it such input, which is a parser anyway; this
/// one is about 300 lines of Swift that the fuzzers cover, gives every error a line and
/// column, and knows that an integer is a fine value for a floating-point setting.
///
/// What is accepted, per line: blank lines; comments (`# …`); `key = value`, where the key
/// is bare (`A-Za-z0-9_-`) or quoted (`"…"`, `'…'`), and the value is a basic string
/// (`"…"` with TOML's escapes), a literal string (`'…'`), an integer (decimal with `_`
/// between digits, `0x`/`0o`/`0b`), a float (`1.5`, `2e-3`, `1_000.0`, `inf`, `nan`, signed)
/// or a boolean, followed by an optional comment. Line ends are LF or CRLF, and a UTF-8
/// byte-order mark may start the file. Everything else TOML has is refused with a message
/// naming it: tables (`[section]`) and dotted keys (settings are flat), arrays, inline
/// tables, dates and times, multi-line strings; so is a key given twice.
enum FlatTOML {
  /// A setting's value.
  enum Value: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)

    /// The value for a message: `the string "abc"`, `the integer 3`, `the float 0.5`, `true`.
    var summary: String {
      switch self {
      case .string(let text): "the string \(MessageText.quoted(text))"
      case .integer(let value): "the integer \(value)"
      case .float(let value): "the float \(value)"
      case .boolean(let value): "\(value)"
      }
    }
  }

  /// One `key = value` line.
  struct Entry: Equatable, Sendable {
    var key: String
    var value: Value
    /// 1-based line of the key.
    var line: Int
  }

  /// What is wrong and where (1-based line; column in Unicode scalars, 1-based).
  struct Error: Swift.Error, Equatable, Sendable {
    var line: Int
    var column: Int
    var message: String
  }

  /// The entries of `text` in file order.
  ///
  /// - Throws: ``Error`` at the first thing that is not a flat setting (see the type).
  static func parse(_ text: String) throws(Error) -> [Entry] {
    var scalars = Array(text.unicodeScalars)
    if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
    var reader = Reader(scalars: scalars)
    var entries: [Entry] = []
    var firstLine: [String: Int] = [:]
    while let entry = try reader.nextEntry() {
      if let first = firstLine[entry.key] {
        throw Error(
          line: entry.line, column: 1,
          message:
            "\(MessageText.truncated(entry.key)) must be given once; got it again (first on line \(first))"
        )
      }
      firstLine[entry.key] = entry.line
      entries.append(entry)
    }
    return entries
  }

  /// An integer, float or boolean token, or nil.
  static func scalarValue(_ token: String) -> Value? {
    switch token {
    case "true": return .boolean(true)
    case "false": return .boolean(false)
    case "inf", "+inf": return .float(.infinity)
    case "-inf": return .float(-.infinity)
    case "nan", "+nan", "-nan": return .float(.nan)
    default: break
    }
    let scalars = Array(token.unicodeScalars)
    guard !scalars.isEmpty else { return nil }
    // Prefixed integers: 0x, 0o, 0b (no sign).
    if scalars.count > 2, scalars[0] == "0", let radix = ["x": 16, "o": 8, "b": 2][scalars[1]] {
      guard let digits = digitsWithUnderscores(scalars[2...], radix: radix) else { return nil }
      return Int64(digits, radix: radix).map(Value.integer)
    }
    var rest = scalars[...]
    var sign = ""
    if let first = rest.first, first == "+" || first == "-" {
      sign = first == "-" ? "-" : ""
      rest = rest.dropFirst()
    }
    // Integer part: 0, or digits without a leading zero.
    let integerEnd = rest.firstIndex { $0 == "." || $0 == "e" || $0 == "E" } ?? rest.endIndex
    guard let integerPart = digitsWithUnderscores(rest[..<integerEnd], radix: 10),
      integerPart == "0" || !integerPart.hasPrefix("0")
    else { return nil }
    if integerEnd == rest.endIndex {
      return Int64(sign + integerPart).map(Value.integer)
    }
    var literal = sign + integerPart
    var index = integerEnd
    if rest[index] == "." {
      let fractionEnd =
        rest[(index + 1)...].firstIndex { $0 == "e" || $0 == "E" } ?? rest.endIndex
      guard let fraction = digitsWithUnderscores(rest[(index + 1)..<fractionEnd], radix: 10)
      else { return nil }
      literal += "." + fraction
      index = fractionEnd
    }
    if index < rest.endIndex {
      // rest[index] is e or E.
      var exponent = rest[(index + 1)...]
      var exponentSign = ""
      if let first = exponent.first, first == "+" || first == "-" {
        exponentSign = String(first)
        exponent = exponent.dropFirst()
      }
      guard let digits = digitsWithUnderscores(exponent, radix: 10) else { return nil }
      literal += "e" + exponentSign + digits
    }
    return Double(literal).map(Value.float)
  }

  /// The digits of `scalars` with single underscores between digits removed, or nil if
  /// they are empty, hold another character, or misplace an underscore.
  static func digitsWithUnderscores(_ scalars: ArraySlice<Unicode.Scalar>, radix: Int) -> String? {
    guard let first = scalars.first, let last = scalars.last, first != "_", last != "_" else {
      return nil
    }
    var digits = ""
    var previousWasUnderscore = false
    for scalar in scalars {
      if scalar == "_" {
        guard !previousWasUnderscore else { return nil }
        previousWasUnderscore = true
        continue
      }
      previousWasUnderscore = false
      guard let value = Int(String(scalar), radix: radix), value < radix,
        scalar.isASCII
      else { return nil }
      digits.unicodeScalars.append(scalar)
    }
    return digits
  }

  /// Whether `token` is a signed decimal integer literal, whatever its size.
  static func isDecimalInteger(_ token: String) -> Bool {
    var scalars = token.unicodeScalars[...]
    if let first = scalars.first, first == "+" || first == "-" { scalars = scalars.dropFirst() }
    return digitsWithUnderscores(ArraySlice(scalars), radix: 10) != nil
  }

  /// `1979-05-27`, `07:32:00` and the like.
  static func looksLikeDate(_ token: String) -> Bool {
    let scalars = Array(token.unicodeScalars)
    guard scalars.count >= 5, scalars[0].properties.numericType != nil else { return false }
    return (scalars.count > 4 && scalars[4] == "-") || (scalars.count > 2 && scalars[2] == ":")
  }
}
