import Crypto

/// One object of Flower's object store (its "inflatable" objects): the bytes
/// `"<Type> <child id>,<child id>,… <body length>"`, a NUL byte, then the body. Its id is the
/// lowercase hex SHA-256 of those bytes, so an object pulled from the SuperLink is checked
/// against the id it was asked for.
public struct FlowerObject: Equatable, Sendable {
  /// The object types a Fleet message is made of.
  public enum Kind: String, Sendable {
    case message = "Message"
    case recordDict = "RecordDict"
    case arrayRecord = "ArrayRecord"
    case array = "Array"
    case arrayChunk = "ArrayChunk"
    case configRecord = "ConfigRecord"
    case metricRecord = "MetricRecord"
  }

  /// What an object's bytes can be refused for.
  public enum FormatError: Error, Equatable, CustomStringConvertible {
    case noHead
    case malformedHead(String)
    case unknownKind(String)
    case bodyLength(declared: Int, found: Int)
    case idMismatch(expected: String, found: String)

    public var description: String {
      switch self {
      case .noHead: "Flower object without a head (no NUL byte)"
      case .malformedHead(let head): "malformed Flower object head '\(head)'"
      case .unknownKind(let kind): "unknown Flower object type '\(kind)'"
      case .bodyLength(let declared, let found):
        "Flower object body holds \(found) bytes where its head declares \(declared)"
      case .idMismatch(let expected, let found):
        "Flower object's SHA-256 is \(found), not the id \(expected) it was pulled as"
      }
    }
  }

  /// The object's type.
  public let kind: Kind
  /// The ids of its children, each once, in the order they were first named.
  public let childIDs: [String]
  /// The body: protobuf, JSON or raw bytes, by kind.
  public let body: [UInt8]
  /// The whole object as stored and sent: head, NUL, body.
  public let content: [UInt8]
  /// The lowercase hex SHA-256 of `content`.
  public let id: String

  /// The object of `kind` with these children (repeats dropped) and this body.
  public init(kind: Kind, childIDs: [String], body: [UInt8]) {
    var seen = Set<String>()
    let unique = childIDs.filter { seen.insert($0).inserted }
    let head = "\(kind.rawValue) \(unique.joined(separator: ",")) \(body.count)"
    self.kind = kind
    self.childIDs = unique
    self.body = body
    self.content = Array(head.utf8) + [0] + body
    self.id = Self.id(of: content)
  }

  /// Parses an object's bytes; when `expectedID` is given, the bytes must hash to it.
  public init(content: [UInt8], expectedID: String? = nil) throws(FormatError) {
    let id = Self.id(of: content)
    if let expectedID, expectedID != id { throw .idMismatch(expected: expectedID, found: id) }
    guard let divider = content.firstIndex(of: 0) else { throw .noHead }
    let headText = String(decoding: content[..<divider], as: UTF8.self)
    let parts = headText.split(separator: " ", omittingEmptySubsequences: false)
    guard parts.count == 3, let declared = Int(parts[2]) else { throw .malformedHead(headText) }
    guard let kind = Kind(rawValue: String(parts[0])) else { throw .unknownKind(String(parts[0])) }
    let body = Array(content[(divider + 1)...])
    guard body.count == declared else { throw .bodyLength(declared: declared, found: body.count) }
    self.kind = kind
    self.childIDs = parts[1].isEmpty ? [] : parts[1].split(separator: ",").map(String.init)
    self.body = body
    self.content = content
    self.id = id
  }

  /// The lowercase hex SHA-256 of `bytes`.
  static func id(of bytes: [UInt8]) -> String {
    SHA256.hash(data: bytes).map { byte in
      let hex = String(byte, radix: 16)
      return byte < 16 ? "0" + hex : hex
    }.joined()
  }
}
