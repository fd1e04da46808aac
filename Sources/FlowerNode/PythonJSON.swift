/// JSON text as Python's `json.dumps` writes it with its defaults (separators `", "` and
/// `": "`, every character outside ASCII escaped), which is how Flower writes the bodies of
/// `RecordDict`, `ArrayRecord` and `Array` objects. Writing the same bytes gives the same
/// object ids as Flower for the same content.
enum PythonJSON {
  /// A JSON string literal.
  static func string(_ text: String) -> String {
    var out = "\""
    for unit in text.utf16 {
      switch unit {
      case 0x22: out += "\\\""
      case 0x5C: out += "\\\\"
      case 0x0A: out += "\\n"
      case 0x0D: out += "\\r"
      case 0x09: out += "\\t"
      case 0x08: out += "\\b"
      case 0x0C: out += "\\f"
      case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
      default:
        let hex = String(unit, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      }
    }
    return out + "\""
  }

  /// A JSON object from (key, already-encoded value) pairs, in order.
  static func object(_ members: some Sequence<(String, String)>) -> String {
    "{" + members.map { string($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}"
  }

  /// A JSON array of integers.
  static func array(_ values: [Int]) -> String {
    "[" + values.map(String.init).joined(separator: ", ") + "]"
  }
}
