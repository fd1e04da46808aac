extension String {
  /// The string as a JSON string literal: quoted, with `"` and `\` escaped by a backslash and
  /// control characters as `\n`-style escapes or `\u00XX`; everything else verbatim, slashes
  /// and non-ASCII included. That is how serde_json (safetensors' reference writer) and
  /// Foundation's encoder with `.withoutEscapingSlashes` escape.
  public var jsonLiteral: String {
    if !utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
      return "\"" + self + "\""
    }
    var result = "\""
    for scalar in unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      case "\u{08}": result += "\\b"
      case "\u{0C}": result += "\\f"
      case "\u{00}"..."\u{1F}":
        let hex = String(scalar.value, radix: 16)
        result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result + "\""
  }
}
