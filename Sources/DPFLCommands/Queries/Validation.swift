/// Range checks for query fields; each throws ``CLIError/invalidValue(_:value:requirement:)``
/// naming the field, the value and the allowed range. NaN and ±∞ fail every check.
enum Validate {
  /// x finite and > 0.
  static func positive(_ value: Double, _ field: QueryField) throws(CLIError) -> Double {
    guard value.isFinite, value > 0 else {
      throw .invalidValue(field, value: "\(value)", requirement: "be finite and > 0")
    }
    return value
  }

  /// x finite and ≥ 0.
  static func nonNegative(_ value: Double, _ field: QueryField) throws(CLIError) -> Double {
    guard value.isFinite, value >= 0 else {
      throw .invalidValue(field, value: "\(value)", requirement: "be finite and ≥ 0")
    }
    return value
  }

  /// A sampling rate in (0, 1].
  static func samplingRate(_ value: Double, _ field: QueryField) throws(CLIError) -> Double {
    guard value > 0, value <= 1 else {
      throw .invalidValue(field, value: "\(value)", requirement: "be in (0, 1]")
    }
    return value
  }

  /// A δ in (0, 1).
  static func delta(_ value: Double, _ field: QueryField) throws(CLIError) -> Double {
    guard value > 0, value < 1 else {
      throw .invalidValue(field, value: "\(value)", requirement: "be in (0, 1)")
    }
    return value
  }

  /// A count ≥ 1.
  static func count(_ value: Int, _ field: QueryField) throws(CLIError) -> Int {
    guard value >= 1 else { throw .invalidValue(field, value: "\(value)", requirement: "be ≥ 1") }
    return value
  }
}
