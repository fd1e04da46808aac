/// A `Decoder` over a parsed ``StrictJSON/Value``: numbers are converted from their literal
/// text to the type asked for, exactly or not at all, and every error carries the coding
/// path, so that ``StrictJSON/decode(_:from:source:options:)`` can say where it is.
///
/// Foundation's `JSONDecoder` is not used for strict reads because it reports a number that
/// does not fit the type asked for (`"count": 2.5` for an `Int`, `99999999999999999999`) as
/// "The given data was not valid JSON." with an empty coding path, and reads `1e9` as the
/// integer 10⁹ — neither says which key is wrong.
///
/// Integers: an integer literal that fits the type; also a literal with a fraction or
/// exponent whose value is an integer below 2⁵³ in magnitude (`2.0`, `1e3`). Floats: any
/// number literal (the strict pass has already refused those beyond a Double's range), and,
/// with ``StrictJSON/DecodingOptions/nonFiniteStrings``, the strings that stand for ±∞ and
/// NaN.
struct StrictValueDecoder: Decoder {
  let value: StrictJSON.Value
  let codingPath: [any CodingKey]
  let options: StrictJSON.DecodingOptions
  var userInfo: [CodingUserInfoKey: Any] { [:] }

  func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
    guard case .object(let members) = value else {
      throw DecodingError.typeMismatch(
        [String: Any].self,
        .init(codingPath: codingPath, debugDescription: "expected an object"))
    }
    var byKey: [String: (key: String, value: StrictJSON.Value)] = [:]
    for (key, member) in members {
      byKey[options.convertsFromSnakeCase ? Self.camelCase(key) : key] = (key, member)
    }
    return KeyedDecodingContainer(
      Keyed<Key>(byKey: byKey, order: members.map(\.key), codingPath: codingPath, options: options))
  }

  func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
    guard case .array(let elements) = value else {
      throw DecodingError.typeMismatch(
        [Any].self, .init(codingPath: codingPath, debugDescription: "expected an array"))
    }
    return Unkeyed(elements: elements, codingPath: codingPath, options: options)
  }

  func singleValueContainer() throws -> any SingleValueDecodingContainer {
    Single(value: value, codingPath: codingPath, options: options)
  }

  /// Foundation's `convertFromSnakeCase`: `vocab_size` → `vocabSize`, leading and trailing
  /// underscores kept.
  static func camelCase(_ key: String) -> String {
    guard key.contains("_") else { return key }
    let leading = key.prefix { $0 == "_" }
    let trailing = key.reversed().prefix { $0 == "_" }
    let core = key.dropFirst(leading.count).dropLast(trailing.count)
    let words = core.split(separator: "_", omittingEmptySubsequences: true)
    guard let first = words.first else { return key }
    let rest = words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }
    return String(leading) + first.lowercased() + rest.joined() + String(trailing)
  }

  /// A key for a path: the JSON key as written, or an array index.
  struct PathKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
      self.stringValue = "Index \(intValue)"
      self.intValue = intValue
    }
  }

  struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let byKey: [String: (key: String, value: StrictJSON.Value)]
    let order: [String]
    let codingPath: [any CodingKey]
    let options: StrictJSON.DecodingOptions

    var allKeys: [Key] { byKey.keys.sorted().compactMap(Key.init(stringValue:)) }

    func contains(_ key: Key) -> Bool { byKey[key.stringValue] != nil }

    func member(_ key: Key) throws -> (path: [any CodingKey], value: StrictJSON.Value) {
      guard let found = byKey[key.stringValue] else {
        throw DecodingError.keyNotFound(
          key, .init(codingPath: codingPath, debugDescription: "no key \(key.stringValue)"))
      }
      return (codingPath + [PathKey(stringValue: found.key)], found.value)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key).value == .null }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
      let (path, value) = try member(key)
      return try Single(value: value, codingPath: path, options: options).decode(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key)
      throws -> KeyedDecodingContainer<NestedKey>
    {
      let (path, value) = try member(key)
      return try StrictValueDecoder(value: value, codingPath: path, options: options)
        .container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
      let (path, value) = try member(key)
      return try StrictValueDecoder(value: value, codingPath: path, options: options)
        .unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
      guard let found = byKey["super"] else {
        return StrictValueDecoder(value: .null, codingPath: codingPath, options: options)
      }
      return StrictValueDecoder(
        value: found.value, codingPath: codingPath + [PathKey(stringValue: "super")],
        options: options)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
      let (path, value) = try member(key)
      return StrictValueDecoder(value: value, codingPath: path, options: options)
    }
  }

  struct Unkeyed: UnkeyedDecodingContainer {
    let elements: [StrictJSON.Value]
    let codingPath: [any CodingKey]
    let options: StrictJSON.DecodingOptions
    var currentIndex = 0

    init(
      elements: [StrictJSON.Value], codingPath: [any CodingKey], options: StrictJSON.DecodingOptions
    ) {
      self.elements = elements
      self.codingPath = codingPath
      self.options = options
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func next() throws -> (path: [any CodingKey], value: StrictJSON.Value) {
      guard !isAtEnd else {
        throw DecodingError.valueNotFound(
          Any.self,
          .init(
            codingPath: codingPath + [PathKey(intValue: currentIndex)],
            debugDescription: "the array has only \(elements.count) elements"))
      }
      defer { currentIndex += 1 }
      return (codingPath + [PathKey(intValue: currentIndex)], elements[currentIndex])
    }

    mutating func decodeNil() throws -> Bool {
      guard !isAtEnd, elements[currentIndex] == .null else { return false }
      currentIndex += 1
      return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
      let (path, value) = try next()
      return try Single(value: value, codingPath: path, options: options).decode(T.self)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
      -> KeyedDecodingContainer<NestedKey>
    {
      let (path, value) = try next()
      return try StrictValueDecoder(value: value, codingPath: path, options: options)
        .container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
      let (path, value) = try next()
      return try StrictValueDecoder(value: value, codingPath: path, options: options)
        .unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
      let (path, value) = try next()
      return StrictValueDecoder(value: value, codingPath: path, options: options)
    }
  }

  struct Single: SingleValueDecodingContainer {
    let value: StrictJSON.Value
    let codingPath: [any CodingKey]
    let options: StrictJSON.DecodingOptions

    func mismatch(_ type: Any.Type) -> DecodingError {
      if value == .null {
        return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "null"))
      }
      return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: value.summary))
    }

    func decodeNil() -> Bool { value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
      guard case .bool(let flag) = value else { throw mismatch(type) }
      return flag
    }

    func decode(_ type: String.Type) throws -> String {
      guard case .string(let text) = value else { throw mismatch(type) }
      return text
    }

    func decode(_ type: Double.Type) throws -> Double {
      switch value {
      case .number(let text):
        guard let number = Double(text) else { throw mismatch(type) }
        return number
      case .string(let text):
        if let strings = options.nonFiniteStrings {
          if text == strings.positiveInfinity { return .infinity }
          if text == strings.negativeInfinity { return -.infinity }
          if text == strings.nan { return .nan }
        }
        throw mismatch(type)
      default:
        throw mismatch(type)
      }
    }

    func decode(_ type: Float.Type) throws -> Float {
      let number = try decode(Double.self)
      let single = Float(number)
      guard single.isFinite || !number.isFinite else { throw mismatch(type) }
      return single
    }

    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
      guard case .number(let text) = value else { throw mismatch(type) }
      if let exact = I(text) { return exact }
      // 2.0 or 1e3: an integer written with a fraction or exponent, below 2⁵³.
      if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }),
        let number = Double(text), number.rounded() == number, abs(number) < 0x1p53,
        let exact = I(exactly: number)
      {
        return exact
      }
      throw mismatch(type)
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
      switch type {
      case is Double.Type: return try decode(Double.self) as! T
      case is Float.Type: return try decode(Float.self) as! T
      case is Int.Type: return try decode(Int.self) as! T
      case is Int64.Type: return try decode(Int64.self) as! T
      case is UInt64.Type: return try decode(UInt64.self) as! T
      case is Int32.Type: return try decode(Int32.self) as! T
      case is UInt32.Type: return try decode(UInt32.self) as! T
      case is String.Type: return try decode(String.self) as! T
      case is Bool.Type: return try decode(Bool.self) as! T
      default:
        return try T(
          from: StrictValueDecoder(value: value, codingPath: codingPath, options: options))
      }
    }
  }
}
