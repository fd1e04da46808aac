import DPModel

extension FlatTOML {
  /// Reads a settings file scalar by scalar, keeping the line and column for errors.
  struct Reader {
    let scalars: [Unicode.Scalar]
    var position = 0
    var line = 1
    var lineStart = 0

    init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    func peek(_ offset: Int) -> Unicode.Scalar? {
      position + offset < scalars.count ? scalars[position + offset] : nil
    }

    func error(_ message: String) -> Error {
      Error(line: line, column: position - lineStart + 1, message: message)
    }

    mutating func skipSpaces() {
      while current == " " || current == "\t" { position += 1 }
    }

    /// Skips a comment, then requires the end of the line (or of the file) and moves past it.
    mutating func endOfLine(after what: String) throws(Error) {
      skipSpaces()
      if current == "#" {
        while let scalar = current, scalar != "\n", scalar != "\r" {
          guard scalar == "\t" || (scalar.value >= 0x20 && scalar.value != 0x7F) else {
            throw error("a comment must not contain control characters; got U+\(hex(scalar))")
          }
          position += 1
        }
      }
      switch current {
      case nil: return
      case "\n":
        position += 1
      case "\r" where peek(1) == "\n":
        position += 2
      case "\r":
        throw error("a line must end with LF or CRLF; got a lone carriage return")
      case let scalar?:
        throw error(
          "\(what) must be followed by the end of the line or a comment; got \(describe(scalar))")
      }
      line += 1
      lineStart = position
    }

    /// The next `key = value`, skipping blank and comment lines; nil at the end.
    mutating func nextEntry() throws(Error) -> Entry? {
      while true {
        skipSpaces()
        guard let scalar = current else { return nil }
        switch scalar {
        case "#", "\n", "\r":
          try endOfLine(after: "a blank line")
          continue
        case "[":
          throw error(
            "tables ([section]) are not used in dpfl settings; write every key at the top level")
        default:
          let keyLine = line
          let key = try readKey()
          skipSpaces()
          if current == "." {
            throw error(
              "dotted keys are not used in dpfl settings (they make tables); write \(MessageText.truncated(key)) = … at the top level"
            )
          }
          guard current == "=" else {
            throw error(
              "\(MessageText.truncated(key)) must be followed by '='; got \(current.map(describe) ?? "the end of the file")"
            )
          }
          position += 1
          skipSpaces()
          let value = try readValue(key: key)
          try endOfLine(after: "the value of \(MessageText.truncated(key))")
          return Entry(key: key, value: value, line: keyLine)
        }
      }
    }

    mutating func readKey() throws(Error) -> String {
      switch current {
      case "\"":
        if peek(1) == "\"" && peek(2) == "\"" {
          throw error("a key must not be a multi-line string")
        }
        return try basicString()
      case "'":
        if peek(1) == "'" && peek(2) == "'" { throw error("a key must not be a multi-line string") }
        return try literalString()
      default:
        var key = String.UnicodeScalarView()
        while let scalar = current, isBareKeyScalar(scalar) {
          key.append(scalar)
          position += 1
        }
        guard !key.isEmpty else {
          throw error(
            "a line must be a key = value setting or a comment; got \(current.map(describe) ?? "the end of the file")"
          )
        }
        return String(key)
      }
    }

    mutating func readValue(key: String) throws(Error) -> Value {
      let name = MessageText.truncated(key)
      guard let scalar = current else { throw error("\(name) must have a value; got none") }
      switch scalar {
      case "\"":
        if peek(1) == "\"" && peek(2) == "\"" {
          throw error("\(name): multi-line strings are not used in dpfl settings")
        }
        return .string(try basicString())
      case "'":
        if peek(1) == "'" && peek(2) == "'" {
          throw error("\(name): multi-line strings are not used in dpfl settings")
        }
        return .string(try literalString())
      case "[":
        throw error("\(name): arrays are not used in dpfl settings; give one value")
      case "{":
        throw error("\(name): inline tables are not used in dpfl settings; give one value")
      case "\n", "\r", "#":
        throw error("\(name) must have a value; got none")
      default:
        let start = position
        var token = ""
        while let scalar = current, scalar != " ", scalar != "\t", scalar != "\n",
          scalar != "\r", scalar != "#"
        {
          token.unicodeScalars.append(scalar)
          position += 1
        }
        let value = FlatTOML.scalarValue(token)
        position = start
        if case .float(let number)? = value, number.isInfinite, !token.hasSuffix("inf") {
          throw error(
            "\(name): the number \(MessageText.truncated(token)) is out of range (a float holds magnitudes up to 1.8e308)"
          )
        }
        if let value {
          position = start + token.unicodeScalars.count
          return value
        }
        if FlatTOML.isDecimalInteger(token) {
          throw error(
            "\(name) must be an integer from -9223372036854775808 to 9223372036854775807; got \(MessageText.truncated(token))"
          )
        }
        if FlatTOML.looksLikeDate(token) {
          throw error("\(name): dates and times are not used in dpfl settings")
        }
        throw error(
          "\(name) must be a string (in quotes), a number or true/false; got \(MessageText.truncated(token))"
        )
      }
    }

    /// `"…"` with TOML's escapes: \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX.
    mutating func basicString() throws(Error) -> String {
      position += 1
      var text = String.UnicodeScalarView()
      while true {
        guard let scalar = current, scalar != "\n", scalar != "\r" else {
          throw error("a string must end with \" on the same line")
        }
        position += 1
        switch scalar {
        case "\"":
          return String(text)
        case "\\":
          text.append(try escape())
        default:
          guard scalar == "\t" || (scalar.value >= 0x20 && scalar.value != 0x7F) else {
            position -= 1
            throw error("a string must not contain control characters; got U+\(hex(scalar))")
          }
          text.append(scalar)
        }
      }
    }

    mutating func escape() throws(Error) -> Unicode.Scalar {
      guard let scalar = current else { throw error("a string must end with \" on the same line") }
      position += 1
      switch scalar {
      case "b": return "\u{08}"
      case "t": return "\t"
      case "n": return "\n"
      case "f": return "\u{0C}"
      case "r": return "\r"
      case "\"": return "\""
      case "\\": return "\\"
      case "u", "U":
        let digits = scalar == "u" ? 4 : 8
        var value: UInt32 = 0
        for _ in 0..<digits {
          guard let digit = current, let nibble = hexValue(digit) else {
            throw error("\\\(scalar) must be followed by \(digits) hexadecimal digits")
          }
          value = value &* 16 &+ nibble
          position += 1
        }
        guard let result = Unicode.Scalar(value) else {
          throw error(
            "\\\(scalar) must name a Unicode scalar value; got U+\(String(value, radix: 16))")
        }
        return result
      default:
        position -= 1
        throw error(
          "a string escape must be one of \\b \\t \\n \\f \\r \\\" \\\\ \\u \\U; got \\\(describe(scalar))"
        )
      }
    }

    /// `'…'`: no escapes.
    mutating func literalString() throws(Error) -> String {
      position += 1
      var text = String.UnicodeScalarView()
      while true {
        guard let scalar = current, scalar != "\n", scalar != "\r" else {
          throw error("a string must end with ' on the same line")
        }
        position += 1
        if scalar == "'" { return String(text) }
        guard scalar == "\t" || (scalar.value >= 0x20 && scalar.value != 0x7F) else {
          position -= 1
          throw error("a string must not contain control characters; got U+\(hex(scalar))")
        }
        text.append(scalar)
      }
    }

    func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
      switch scalar {
      case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
      default: false
      }
    }

    func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
      switch scalar {
      case "0"..."9": scalar.value - 0x30
      case "a"..."f": scalar.value - 0x61 + 10
      case "A"..."F": scalar.value - 0x41 + 10
      default: nil
      }
    }

    func hex(_ scalar: Unicode.Scalar) -> String {
      let digits = String(scalar.value, radix: 16, uppercase: true)
      return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    func describe(_ scalar: Unicode.Scalar) -> String {
      scalar.value < 0x20 || scalar.value == 0x7F
        ? "U+\(hex(scalar))" : "'\(MessageText.truncated(String(scalar)))'"
    }
  }
}
