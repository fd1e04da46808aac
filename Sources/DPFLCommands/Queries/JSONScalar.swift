import DPModel

/// One value of a flat JSON object, as read from a batch line.
enum JSONScalar: Decodable, Equatable, Sendable {
  case number(Double)
  case string(String)
  case bool(Bool)
  case null
  /// An array or object, which no query field accepts.
  case nested

  /// The members of one batch line, read strictly (``StrictJSON``): a line must be one
  /// JSON object; a key given twice is refused (its meaning would be ambiguous), and a
  /// number too large for a Double (`1e400`) is refused naming its key.
  ///
  /// - Throws: ``CLIError/malformedLine(reason:)`` saying what is wrong and at which column;
  ///   ``CLIError/malformedField(key:reason:)`` for a number out of range.
  static func object(line: ArraySlice<UInt8>) throws(CLIError) -> [String: JSONScalar] {
    let bytes = Array(line)
    let value: StrictJSON.Value
    do {
      value = try StrictJSON.parse(bytes, options: StrictJSON.Options(rejectsDuplicateKeys: true))
    } catch {
      let column = StrictJSON.lineAndColumn(of: error.offset, in: bytes).column
      throw .malformedLine(reason: "\(error.message) at column \(column).")
    }
    guard case .object(let members) = value else {
      throw .malformedLine(reason: "the line must be a JSON object; got \(value.summary).")
    }
    var object: [String: JSONScalar] = [:]
    for (key, member) in members {
      switch member {
      case .number(let text):
        guard let number = Double(text), number.isFinite else {
          throw .malformedField(
            key: key,
            reason:
              "the number \(MessageText.truncated(text)) is out of range (a Double holds magnitudes up to 1.8e308)."
          )
        }
        object[key] = .number(number)
      case .string(let text): object[key] = .string(text)
      case .bool(let flag): object[key] = .bool(flag)
      case .null: object[key] = .null
      case .array, .object: object[key] = .nested
      }
    }
    return object
  }

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else {
      self = .nested
    }
  }

  /// The value as a number; the strings "inf", "-inf" and "nan" are read as such so
  /// that validation, not parsing, rejects them with the usual message.
  func number(_ key: String) throws(CLIError) -> Double {
    switch self {
    case .number(let value): return value
    case .string(let text):
      if let value = Double(text), !value.isFinite { return value }
      throw .malformedField(key: key, reason: "expected a number; got \(MessageText.quoted(text)).")
    case .bool(let value):
      throw .malformedField(key: key, reason: "expected a number; got \(value).")
    case .null: throw .malformedField(key: key, reason: "expected a number; got null.")
    case .nested:
      throw .malformedField(key: key, reason: "expected a number; got an array or object.")
    }
  }

  /// The value as a whole number (2000 or 2000.0, not 2.5).
  func integer(_ key: String) throws(CLIError) -> Int {
    let value = try number(key)
    guard value.rounded() == value, abs(value) < 9.0e15 else {
      throw .malformedField(key: key, reason: "expected a whole number; got \(value).")
    }
    return Int(value)
  }

  /// The value as one of the string cases of `Choice`.
  func choice<Choice: RawRepresentable & CaseIterable>(_ key: String) throws(CLIError) -> Choice
  where Choice.RawValue == String {
    let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
    guard case .string(let text) = self else {
      throw .malformedField(key: key, reason: "expected one of \(allowed).")
    }
    guard let value = Choice(rawValue: text) else {
      throw .malformedField(
        key: key, reason: "expected one of \(allowed); got \(MessageText.quoted(text)).")
    }
    return value
  }
}
