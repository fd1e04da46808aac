import DPModel
import Foundation

/// Decoding a flat settings file into a `Decodable` type whose properties are optional
/// scalars (strings, integers, floats, booleans and string-backed enums), such as
/// ``TrainSettings``.
///
/// Each value is checked against the type the property wants, and every error names the
/// file, the line and the key: `run.toml:3: rounds must be an integer; got the float 2.5`.
/// An integer is accepted where a float is wanted (`epsilon = 2`), as TOML readers in other
/// languages accept it; a float is never taken for an integer.
extension FlatTOML {
  /// Reads the settings file at `path` into `T`.
  ///
  /// - Parameters:
  ///   - allowedKeys: every key `T` reads; any other key is an error listing these.
  /// - Throws: ``CLIError/unreadableFile(path:reason:)`` when the file cannot be read or is
  ///   not UTF-8; ``CLIError/malformedFile(path:reason:)`` with the path as `path:line`
  ///   for a syntax error, an unknown key or a value of the wrong type.
  static func decode<T: Decodable>(_ type: T.Type, path: String, allowedKeys: [String])
    throws(CLIError) -> T
  {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .unreadableFile(path: path, reason: "no such file, or not readable.")
    }
    guard let text = String(validating: data, as: UTF8.self) else {
      throw .unreadableFile(path: path, reason: "the file is not UTF-8 text.")
    }
    return try decode(type, text: text, path: path, allowedKeys: allowedKeys)
  }

  /// ``decode(_:path:allowedKeys:)`` of text already read; `path` names it in errors.
  static func decode<T: Decodable>(
    _ type: T.Type, text: String, path: String, allowedKeys: [String]
  ) throws(CLIError) -> T {
    let entries: [Entry]
    do {
      entries = try parse(text)
    } catch {
      throw .malformedFile(path: "\(path):\(error.line)", reason: error.message + ".")
    }
    let allowed = Set(allowedKeys)
    if let unknown = entries.first(where: { !allowed.contains($0.key) }) {
      throw .malformedFile(
        path: "\(path):\(unknown.line)",
        reason:
          "unknown key \(MessageText.quoted(unknown.key)); allowed keys are \(allowedKeys.sorted().joined(separator: ", "))."
      )
    }
    do {
      return try T(from: SettingsDecoder(entries: entries))
    } catch let error as Error {
      throw .malformedFile(path: "\(path):\(error.line)", reason: error.message + ".")
    } catch {
      throw .malformedFile(path: path, reason: MessageText.truncated("\(error)", limit: 200))
    }
  }

  /// A `Decoder` over the entries of one file: one keyed container at the top, one
  /// single-value container per setting.
  private struct SettingsDecoder: Decoder {
    var entries: [Entry]
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
      var byKey: [String: Entry] = [:]
      for entry in entries { byKey[entry.key] = entry }
      return KeyedDecodingContainer(Keyed<Key>(byKey: byKey))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
      throw FlatTOML.Error(line: 1, column: 1, message: "a settings file is not a list")
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
      throw FlatTOML.Error(line: 1, column: 1, message: "a settings file is not a single value")
    }
  }

  private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    var byKey: [String: Entry]
    var codingPath: [any CodingKey] = []
    var allKeys: [Key] { byKey.keys.compactMap(Key.init(stringValue:)) }

    func contains(_ key: Key) -> Bool { byKey[key.stringValue] != nil }

    func entry(_ key: Key) throws -> Entry {
      guard let entry = byKey[key.stringValue] else {
        throw FlatTOML.Error(
          line: 1, column: 1, message: "\(key.stringValue) is required; got no such key")
      }
      return entry
    }

    func decodeNil(forKey key: Key) throws -> Bool { false }

    func setting(_ key: Key) throws -> Setting { Setting(entry: try entry(key)) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
      try setting(key).decode(T.self)
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try setting(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
      try setting(key).decode(type)
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
      try setting(key).decode(type)
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
      try setting(key).decode(type)
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try setting(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try setting(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
      try setting(key).decode(type)
    }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
      try setting(key).decode(type)
    }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
      try setting(key).decode(type)
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try setting(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
      try setting(key).decode(type)
    }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
      try setting(key).decode(type)
    }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
      try setting(key).decode(type)
    }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
      try setting(key).decode(type)
    }

    func nestedContainer<NestedKey: CodingKey>(
      keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
      let entry = try entry(key)
      throw FlatTOML.Error(
        line: entry.line, column: 1,
        message: "\(entry.key) must be a table; got \(entry.value.summary)")
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
      let entry = try entry(key)
      throw FlatTOML.Error(
        line: entry.line, column: 1,
        message: "\(entry.key) must be an array; got \(entry.value.summary)")
    }

    func superDecoder() throws -> any Decoder {
      throw FlatTOML.Error(line: 1, column: 1, message: "settings have no super decoder")
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
      Setting(entry: try entry(key))
    }
  }

  /// One setting, as a decoder and its single-value container.
  private struct Setting: Decoder, SingleValueDecodingContainer {
    var entry: Entry
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
      throw mismatch("a table")
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
      throw mismatch("an array")
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func mismatch(_ wanted: String) -> FlatTOML.Error {
      FlatTOML.Error(
        line: entry.line, column: 1,
        message: "\(entry.key) must be \(wanted); got \(entry.value.summary)")
    }

    func decodeNil() -> Bool { false }

    func decode(_ type: Bool.Type) throws -> Bool {
      guard case .boolean(let value) = entry.value else { throw mismatch("true or false") }
      return value
    }

    func decode(_ type: String.Type) throws -> String {
      guard case .string(let value) = entry.value else { throw mismatch("a string (in quotes)") }
      return value
    }

    func decode(_ type: Double.Type) throws -> Double {
      switch entry.value {
      case .float(let value): return value
      case .integer(let value): return Double(value)
      default: throw mismatch("a number")
      }
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
      guard case .integer(let value) = entry.value else { throw mismatch("an integer") }
      guard let result = I(exactly: value) else {
        throw mismatch("an integer from \(I.min) to \(I.max)")
      }
      return result
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }

    /// Other types (string-backed enums) decode themselves from this container; an enum
    /// that refuses the string is reported with its allowed values.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
      do {
        return try T(from: self)
      } catch DecodingError.dataCorrupted {
        if let choices = T.self as? any (CaseIterable & RawRepresentable).Type {
          throw mismatch("one of \(Self.names(choices).joined(separator: ", "))")
        }
        throw mismatch("an allowed value")
      }
    }

    static func names<C: CaseIterable & RawRepresentable>(_ type: C.Type) -> [String] {
      C.allCases.map { "\($0.rawValue)" }
    }
  }
}
