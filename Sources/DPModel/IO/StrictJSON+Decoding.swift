import Foundation

/// Reading a JSON file strictly: the one path for files whose every value matters (ledgers,
/// run-folder records), so that a damaged or hostile file is refused with its file, line,
/// column and what is wrong, and is never half-read.
///
/// A document is first read by ``StrictJSON`` with every check on: RFC 8259 syntax (with a
/// UTF-8 byte-order mark allowed at the start), no key twice in one object (Foundation keeps
/// one of the two values silently, Python the last, so a record with a repeated key has no
/// single meaning), nesting at most ``maximumFileDepth`` levels, and every number finite as
/// a Double. Then ``StrictValueDecoder`` decodes the parsed value (numbers converted from
/// their literal text, exactly), and a `DecodingError`, if any, becomes one line naming the
/// key path and where the value is (`events[2].count must be an integer; got the string
/// "12"`).
extension StrictJSON {
  /// How a strict read maps JSON onto Swift values.
  public struct DecodingOptions: Sendable {
    /// Strings that stand for +∞, −∞ and NaN in floating-point fields (as a `JSONEncoder`
    /// with `.convertToString` writes them), or nil to refuse strings there.
    public var nonFiniteStrings: (positiveInfinity: String, negativeInfinity: String, nan: String)?
    /// Match `snake_case` JSON keys to `camelCase` coding keys (Foundation's
    /// `convertFromSnakeCase`).
    public var convertsFromSnakeCase: Bool

    /// Options with every choice named; the defaults are plain JSON and keys as written.
    public init(
      nonFiniteStrings: (positiveInfinity: String, negativeInfinity: String, nan: String)? = nil,
      convertsFromSnakeCase: Bool = false
    ) {
      self.nonFiniteStrings = nonFiniteStrings
      self.convertsFromSnakeCase = convertsFromSnakeCase
    }
  }

  /// Most levels of nested arrays and objects in a strictly read file (a ledger of nested
  /// events takes two levels per event).
  public static let maximumFileDepth = 256

  /// Reads and decodes the JSON file at `url` strictly (see the extension's documentation).
  ///
  /// - Parameters:
  ///   - type: what the document holds.
  ///   - url: the file; its `path` names it in errors.
  ///   - options: non-finite strings and key conversion.
  /// - Returns: the decoded value.
  /// - Throws: ``ModelError/fileUnreadable(file:reason:)`` when the file cannot be read;
  ///   ``ModelError/malformedJSON(file:line:column:reason:)`` when it is not strict JSON or
  ///   does not decode as `type`.
  public static func decode<T: Decodable>(
    _ type: T.Type, contentsOf url: URL, options: DecodingOptions = DecodingOptions()
  ) throws -> T {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw ModelError.fileUnreadable(file: url.path, reason: error.localizedDescription)
    }
    return try decode(type, from: data, source: url.path, options: options)
  }

  /// Decodes `data` strictly (see the extension's documentation).
  ///
  /// - Parameters:
  ///   - type: what the document holds.
  ///   - data: the whole document.
  ///   - source: names the document in errors (a path, or "stdin").
  ///   - options: non-finite strings and key conversion.
  /// - Returns: the decoded value.
  /// - Throws: ``ModelError/malformedJSON(file:line:column:reason:)``, whose line and
  ///   column (1-based; the column counts bytes) are where reading stopped or where the
  ///   offending value starts.
  public static func decode<T: Decodable>(
    _ type: T.Type, from data: Data, source: String, options: DecodingOptions = DecodingOptions()
  ) throws -> T {
    var bytes = [UInt8](data)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
    let root: Value
    do {
      root = try parse(
        bytes,
        options: Options(
          maximumDepth: maximumFileDepth, rejectsDuplicateKeys: true,
          rejectsOutOfRangeNumbers: true))
    } catch {
      let (line, column) = lineAndColumn(of: error.offset, in: bytes)
      throw ModelError.malformedJSON(
        file: source, line: line, column: column, reason: error.message)
    }
    do {
      return try T(from: StrictValueDecoder(value: root, codingPath: [], options: options))
    } catch let error as DecodingError {
      let (path, reason) = describe(error, root: root)
      let (line, column) =
        offset(of: path, in: bytes).map { lineAndColumn(of: $0, in: bytes) }
        ?? (0, 0)
      throw ModelError.malformedJSON(file: source, line: line, column: column, reason: reason)
    } catch {
      throw ModelError.malformedJSON(
        file: source, line: 0, column: 0, reason: MessageText.truncated("\(error)", limit: 200))
    }
  }

  /// The path a decoding error is about and one phrase saying what is wrong there.
  static func describe(_ error: DecodingError, root: Value) -> ([PathComponent], String) {
    func components(_ codingPath: [any CodingKey]) -> [PathComponent] {
      codingPath.map { key in
        if let index = key.intValue,
          key.stringValue == "Index \(index)" || key.stringValue == "\(index)"
        {
          return .index(index)
        }
        return .key(key.stringValue)
      }
    }
    func found(_ path: [PathComponent]) -> String {
      root.value(at: path)?.summary ?? "nothing"
    }
    switch error {
    case .keyNotFound(let key, let context):
      let path = components(context.codingPath)
      return (
        path,
        "\(render(path, whole: "the top-level object")) must have the key \(MessageText.quoted(key.stringValue)); got none"
      )
    case .typeMismatch(let type, let context):
      let path = components(context.codingPath)
      return (path, "\(render(path)) must be \(phrase(for: type)); got \(found(path))")
    case .valueNotFound(let type, let context):
      let path = components(context.codingPath)
      return (path, "\(render(path)) must be \(phrase(for: type)); got \(found(path))")
    case .dataCorrupted(let context):
      let path = components(context.codingPath)
      let detail = MessageText.truncated(context.debugDescription, limit: 160)
      return (path, "\(render(path)) is invalid (\(detail)); got \(found(path))")
    @unknown default:
      return ([], MessageText.truncated("\(error)", limit: 200))
    }
  }

  /// `events[2].count`, or `whole` for the empty path.
  static func render(_ path: [PathComponent], whole: String = "the value") -> String {
    guard !path.isEmpty else { return whole }
    var text = ""
    for component in path {
      switch component {
      case .key(let key):
        let simple =
          !key.isEmpty
          && key.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
              || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
          }
        let shown = simple ? MessageText.truncated(key) : MessageText.quoted(key)
        text += text.isEmpty ? shown : "." + shown
      case .index(let index): text += "[\(index)]"
      }
    }
    return text
  }

  /// "a number", "an integer", … for a type a decoder wanted.
  static func phrase(for type: Any.Type) -> String {
    let name = String(describing: type)
    switch name {
    case "Double", "Float": return "a number"
    case "Int", "Int64", "Int32", "UInt64", "UInt32", "UInt", "Int16", "Int8", "UInt8", "UInt16":
      return "an integer"
    case "String": return "a string"
    case "Bool": return "true or false"
    default:
      if name.hasPrefix("Array") { return "an array" }
      if name.hasPrefix("Dictionary") { return "an object" }
      return "a value of type \(MessageText.truncated(name))"
    }
  }
}

extension StrictJSON.Value {
  /// The value at `path`, or nil when the path leaves the document.
  func value(at path: [StrictJSON.PathComponent]) -> StrictJSON.Value? {
    var value = self
    for component in path {
      switch (component, value) {
      case (.key(let key), .object(let members)):
        guard let member = members.last(where: { $0.key == key }) else { return nil }
        value = member.value
      case (.index(let index), .array(let elements)):
        guard elements.indices.contains(index) else { return nil }
        value = elements[index]
      default:
        return nil
      }
    }
    return value
  }
}
