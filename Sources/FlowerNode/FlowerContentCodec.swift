import Foundation
import SwiftProtobuf

/// A message's content as Flower's object store holds it: the objects by id, and the tree
/// of ids (children before parents) that a SuperNode names when it pushes a reply.
public struct FlowerObjectGraph: Sendable {
  /// Every object, by id.
  public private(set) var objects: [String: FlowerObject] = [:]
  /// The largest `ArrayChunk` body this graph writes: Flower's
  /// `FLWR_PRIVATE_MAX_ARRAY_CHUNK_SIZE`, 5 MiB unless a test sets it smaller.
  public let maximumChunkBytes: Int

  public init(maximumChunkBytes: Int = 5 * 1024 * 1024) {
    precondition(maximumChunkBytes > 0, "chunk size \(maximumChunkBytes) must be positive")
    self.maximumChunkBytes = maximumChunkBytes
  }

  /// Adds the object of `kind` with these children and body; returns its tree.
  mutating func add(_ kind: FlowerObject.Kind, children: [Flwr_Proto_ObjectTree], body: [UInt8])
    -> Flwr_Proto_ObjectTree
  {
    var seen = Set<String>()
    let unique = children.filter { seen.insert($0.objectID).inserted }
    let object = FlowerObject(kind: kind, childIDs: unique.map(\.objectID), body: body)
    objects[object.id] = object
    var tree = Flwr_Proto_ObjectTree()
    tree.objectID = object.id
    tree.children = unique
    return tree
  }

  /// Adds the objects of `content` (Flower's `RecordDict.deflate` and its children's).
  mutating func add(_ content: FlowerRecordDict) -> Flwr_Proto_ObjectTree {
    let records = content.values.map { record in
      switch record {
      case .arrays(let arrays): add(arrays)
      case .config(let values):
        add(.configRecord, children: [], body: Self.configProto(values))
      case .metrics(let values):
        add(.metricRecord, children: [], body: Self.metricProto(values))
      }
    }
    return add(.recordDict, children: records, body: Self.references(content.names, records))
  }

  private mutating func add(_ arrays: NamedValues<NumpyArray>) -> Flwr_Proto_ObjectTree {
    let trees = arrays.values.map { add($0) }
    return add(.arrayRecord, children: trees, body: Self.references(arrays.names, trees))
  }

  private mutating func add(_ array: NumpyArray) -> Flwr_Proto_ObjectTree {
    let file = array.npy
    let chunks = stride(from: 0, to: file.count, by: maximumChunkBytes).map {
      add(
        .arrayChunk, children: [], body: Array(file[$0..<min($0 + maximumChunkBytes, file.count)]))
    }
    var unique = [String]()
    for chunk in chunks where !unique.contains(chunk.objectID) { unique.append(chunk.objectID) }
    let metadata = PythonJSON.object([
      ("dtype", PythonJSON.string(array.elementType.rawValue)),
      ("shape", PythonJSON.array(array.shape)),
      ("stype", PythonJSON.string(Self.numpyStype)),
      ("arraychunk_ids", PythonJSON.array(chunks.map { unique.firstIndex(of: $0.objectID)! })),
    ])
    return add(.array, children: chunks, body: Array(metadata.utf8))
  }

  /// The `stype` of an array carried as a `.npy` file.
  static let numpyStype = "numpy.ndarray"

  private static func references(_ names: [String], _ trees: [Flwr_Proto_ObjectTree]) -> [UInt8] {
    Array(PythonJSON.object(zip(names, trees.map { PythonJSON.string($0.objectID) })).utf8)
  }

  private static func configProto(_ values: NamedValues<FlowerValue>) -> [UInt8] {
    var record = Flwr_Proto_ConfigRecord()
    record.items = values.entries.map { name, value in
      var item = Flwr_Proto_ConfigRecord.Item()
      item.key = name
      item.value.value = FlowerValueProto.config(value)
      return item
    }
    return try! record.serializedBytes()
  }

  private static func metricProto(_ values: NamedValues<FlowerValue>) -> [UInt8] {
    var record = Flwr_Proto_MetricRecord()
    record.items = values.entries.map { name, value in
      precondition(value.isMetric, "metric '\(name)' must be numeric, not \(value)")
      var item = Flwr_Proto_MetricRecord.Item()
      item.key = name
      item.value.value = FlowerValueProto.metric(value)
      return item
    }
    return try! record.serializedBytes()
  }
}

// MARK: - Inflating

/// What a message's content can be refused for.
public enum FlowerContentError: Error, Equatable, CustomStringConvertible {
  case missingObject(String)
  case unexpectedKind(id: String, expected: FlowerObject.Kind, found: FlowerObject.Kind)
  case malformedBody(FlowerObject.Kind, String)
  case unsupportedStype(String)
  case array(NumpyArray.FormatError)

  public var description: String {
    switch self {
    case .missingObject(let id): "Flower object \(id) was named but not received"
    case .unexpectedKind(let id, let expected, let found):
      "Flower object \(id) is a \(found.rawValue) where a \(expected.rawValue) was expected"
    case .malformedBody(let kind, let detail): "malformed \(kind.rawValue) body: \(detail)"
    case .unsupportedStype(let stype):
      "Flower array of stype '\(stype)' is not supported (allowed: numpy.ndarray)"
    case .array(let error): error.description
    }
  }
}

extension FlowerObjectGraph {
  /// Adds objects received from the SuperLink (already checked against their ids).
  public mutating func insert(_ object: FlowerObject) {
    objects[object.id] = object
  }

  /// The `RecordDict` whose object is `id`, with everything below it.
  public func recordDict(_ id: String) throws(FlowerContentError) -> FlowerRecordDict {
    var content = FlowerRecordDict()
    for (name, childID) in try references(object(id, .recordDict)) {
      guard let child = objects[childID] else { throw .missingObject(childID) }
      switch child.kind {
      case .arrayRecord: content[name] = .arrays(try arrayRecord(child))
      case .configRecord:
        content[name] = .config(try values(child, Flwr_Proto_ConfigRecord.self))
      case .metricRecord:
        content[name] = .metrics(try values(child, Flwr_Proto_MetricRecord.self))
      default: throw .malformedBody(.recordDict, "child \(childID) is a \(child.kind.rawValue)")
      }
    }
    return content
  }

  private func object(_ id: String, _ kind: FlowerObject.Kind) throws(FlowerContentError)
    -> FlowerObject
  {
    guard let object = objects[id] else { throw .missingObject(id) }
    guard object.kind == kind else {
      throw .unexpectedKind(id: id, expected: kind, found: object.kind)
    }
    return object
  }

  private func references(_ object: FlowerObject) throws(FlowerContentError) -> [(String, String)] {
    guard let pairs = OrderedJSONObject.stringPairs(object.body) else {
      throw .malformedBody(object.kind, String(decoding: object.body, as: UTF8.self))
    }
    return pairs
  }

  private func arrayRecord(_ record: FlowerObject) throws(FlowerContentError)
    -> NamedValues<NumpyArray>
  {
    var arrays = NamedValues<NumpyArray>()
    for (name, id) in try references(record) { arrays[name] = try array(object(id, .array)) }
    return arrays
  }

  private struct ArrayMetadata: Decodable {
    let dtype: String
    let shape: [Int]
    let stype: String
    let arraychunk_ids: [Int]
  }

  private func array(_ array: FlowerObject) throws(FlowerContentError) -> NumpyArray {
    let metadata: ArrayMetadata
    do {
      metadata = try JSONDecoder().decode(ArrayMetadata.self, from: Data(array.body))
    } catch {
      throw .malformedBody(.array, String(decoding: array.body, as: UTF8.self))
    }
    guard metadata.stype == Self.numpyStype else { throw .unsupportedStype(metadata.stype) }
    var file = [UInt8]()
    for index in metadata.arraychunk_ids {
      guard array.childIDs.indices.contains(index) else {
        throw .malformedBody(.array, "chunk index \(index) of \(array.childIDs.count) children")
      }
      file += try object(array.childIDs[index], .arrayChunk).body
    }
    let decoded: NumpyArray
    do { decoded = try NumpyArray(npy: file) } catch { throw .array(error) }
    guard decoded.elementType.rawValue == metadata.dtype, decoded.shape == metadata.shape else {
      throw .malformedBody(
        .array, "metadata \(metadata.dtype) \(metadata.shape) does not match the .npy data")
    }
    return decoded
  }

  private func values<Record: FlowerValueRecord>(_ object: FlowerObject, _: Record.Type)
    throws(FlowerContentError) -> NamedValues<FlowerValue>
  {
    let record: Record
    do { record = try Record(serializedBytes: object.body) } catch {
      throw .malformedBody(object.kind, "not a protobuf \(Record.protoMessageName)")
    }
    var values = NamedValues<FlowerValue>()
    for (key, value) in record.keyedValues {
      guard let value else { throw .malformedBody(object.kind, "'\(key)' has no value") }
      values[key] = value
    }
    return values
  }
}
