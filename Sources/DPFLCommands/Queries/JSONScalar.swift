/// One value of a flat JSON object, as read from a batch line.
enum JSONScalar: Decodable, Equatable, Sendable {
  case number(Double)
  case string(String)
  case bool(Bool)
  case null
  /// An array or object, which no query field accepts.
  case nested

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
      throw .malformedField(key: key, reason: "expected a number; got \"\(text)\".")
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
      throw .malformedField(key: key, reason: "expected one of \(allowed); got \"\(text)\".")
    }
    return value
  }
}
