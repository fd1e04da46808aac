/// Reads a JSON object whose values are all strings, keeping the order of its keys (which
/// Foundation's JSON readers do not): the body of a Flower `RecordDict` or `ArrayRecord`,
/// name → child object id.
enum OrderedJSONObject {
  /// The (key, value) pairs in order, or nil when `bytes` is not such an object.
  static func stringPairs(_ bytes: [UInt8]) -> [(String, String)]? {
    var reader = Reader(bytes: bytes)
    guard reader.consume(UInt8(ascii: "{")) else { return nil }
    var pairs = [(String, String)]()
    if reader.consume(UInt8(ascii: "}")) { return reader.atEnd ? pairs : nil }
    repeat {
      guard let key = reader.string(), reader.consume(UInt8(ascii: ":")),
        let value = reader.string()
      else { return nil }
      pairs.append((key, value))
    } while reader.consume(UInt8(ascii: ","))
    return reader.consume(UInt8(ascii: "}")) && reader.atEnd ? pairs : nil
  }

  private struct Reader {
    let bytes: [UInt8]
    var position = 0

    var atEnd: Bool {
      mutating get {
        skipSpace()
        return position == bytes.count
      }
    }

    mutating func skipSpace() {
      while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) {
        position += 1
      }
    }

    mutating func consume(_ byte: UInt8) -> Bool {
      skipSpace()
      guard position < bytes.count, bytes[position] == byte else { return false }
      position += 1
      return true
    }

    /// A string literal, its escapes resolved.
    mutating func string() -> String? {
      guard consume(UInt8(ascii: "\"")) else { return nil }
      var units = [UInt16]()
      var raw = [UInt8]()
      func flushRaw() {
        units += String(decoding: raw, as: UTF8.self).utf16
        raw.removeAll()
      }
      while position < bytes.count {
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""):
          flushRaw()
          return String(decoding: units, as: UTF16.self)
        case UInt8(ascii: "\\"):
          flushRaw()
          guard position < bytes.count else { return nil }
          let escape = bytes[position]
          position += 1
          switch escape {
          case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
            units.append(UInt16(escape))
          case UInt8(ascii: "n"): units.append(0x0A)
          case UInt8(ascii: "r"): units.append(0x0D)
          case UInt8(ascii: "t"): units.append(0x09)
          case UInt8(ascii: "b"): units.append(0x08)
          case UInt8(ascii: "f"): units.append(0x0C)
          case UInt8(ascii: "u"):
            guard position + 4 <= bytes.count,
              let unit = UInt16(
                String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
            else { return nil }
            units.append(unit)
            position += 4
          default: return nil
          }
        default: raw.append(byte)
        }
      }
      return nil
    }
  }
}
