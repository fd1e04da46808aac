import Foundation

/// Reading and writing the safetensors format (huggingface/safetensors).
///
/// Layout of a file:
/// ```
/// [8 bytes]  N, the header's byte count, unsigned little-endian
/// [N bytes]  UTF-8 JSON: {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]},
///            …, "__metadata__": {"<key>": "<value>", …}}   (metadata optional)
/// [rest]     the payload: tensor t's little-endian elements are bytes b..<e of it
/// ```
///
/// The reader trusts nothing in the file. It refuses, with a ``ModelError`` that names the
/// file and the tensor: a file shorter than 8 bytes; a header length past the end of the
/// file or above ``maximumHeaderByteCount``; a header that is not UTF-8 JSON, not an object,
/// or has an entry without `dtype`, `shape` or `data_offsets` of the right JSON types; a
/// repeated tensor name; `__metadata__` that is not string → string; an unknown dtype; a
/// negative shape entry or an element count that overflows; offsets with begin > end or
/// end past the payload; a byte range whose length is not product(shape) × dtype size;
/// tensors that overlap or leave gaps (in offset order, each starts where the previous
/// ended, the first at 0); and bytes after the last tensor. These are the checks of the
/// reference implementation's `SafeTensors::deserialize`, plus the repeated-name check.
///
/// The writer is deterministic and byte-compatible with the reference `serialize`:
/// tensors ordered by dtype (the reference's enum order, descending — largest elements
/// first, so every offset is a multiple of its element size) and then by name; compact
/// JSON; the header padded with spaces to a multiple of 8 bytes. Metadata keys are sorted
/// (the reference keeps them in a hash map, so with several keys its own order varies
/// from run to run; with one key the bytes are identical).
public enum Safetensors {
  /// Largest header accepted, in bytes (the reference implementation's limit, 100 MB).
  public static let maximumHeaderByteCount = 100_000_000

  /// The key that holds string metadata instead of a tensor.
  public static let metadataKey = "__metadata__"

  /// What a safetensors file holds.
  public struct Contents: Equatable, Sendable {
    /// The path or label the contents were read from, used in error messages.
    public var source: String
    /// Tensors in the order of their data in the payload.
    public var tensors: [Tensor]
    /// The `__metadata__` entries (empty when the file has none).
    public var metadata: [String: String]

    /// The tensor called `name`, or nil.
    public subscript(name: String) -> Tensor? {
      tensors.first { $0.name == name }
    }

    /// The tensor called `name`.
    ///
    /// - Throws: ``ModelError/tensorNotFound(file:tensor:)`` when there is none.
    public func tensor(named name: String) throws -> Tensor {
      guard let tensor = self[name] else {
        throw ModelError.tensorNotFound(file: source, tensor: name)
      }
      return tensor
    }
  }

  // MARK: Reading

  /// Reads and validates the safetensors file at `url`.
  ///
  /// - Parameter url: a file URL; its `path` names the file in errors.
  /// - Returns: every tensor and the metadata.
  /// - Throws: ``ModelError/fileUnreadable(file:reason:)`` when the file cannot be read,
  ///   and the errors of ``read(from:source:)`` when it is not a valid safetensors file.
  public static func read(contentsOf url: URL) throws -> Contents {
    let data: Data
    do {
      data = try Data(contentsOf: url, options: .mappedIfSafe)
    } catch {
      throw ModelError.fileUnreadable(file: url.path, reason: error.localizedDescription)
    }
    return try read(from: data, source: url.path)
  }

  /// Validates and decodes safetensors bytes.
  ///
  /// - Parameters:
  ///   - data: a whole safetensors file.
  ///   - source: the file's name or another label, used in errors and kept in the result.
  /// - Returns: every tensor (in payload order) and the metadata.
  /// - Throws: a ``ModelError`` naming `source` and the offending tensor; the type's
  ///   documentation lists every check.
  public static func read(from data: Data, source: String) throws -> Contents {
    let bytes = data.startIndex == 0 ? data : Data(data)
    let header = try Header(bytes, source: source)
    let payloadStart = 8 + header.byteCount
    let tensors = header.entries.map { entry in
      Tensor(
        name: entry.name, dtype: entry.dtype, shape: entry.shape,
        bytes: bytes.subdata(in: (payloadStart + entry.begin)..<(payloadStart + entry.end)))
    }
    return Contents(source: source, tensors: tensors, metadata: header.metadata)
  }

  // MARK: Writing

  /// The safetensors bytes for `tensors` and `metadata`, laid out as the reference
  /// implementation does (see the type's documentation), so equal inputs give equal bytes.
  ///
  /// - Precondition: tensor names are unique, and none is ``metadataKey``.
  public static func encode(_ tensors: [Tensor], metadata: [String: String] = [:]) -> Data {
    let names = tensors.map(\.name)
    precondition(Set(names).count == names.count, "tensor names must be unique; got \(names)")
    precondition(!names.contains(metadataKey), "\(metadataKey) cannot name a tensor")
    let rank = Dictionary(uniqueKeysWithValues: Tensor.DType.allCases.enumerated().map { ($1, $0) })
    let ordered = tensors.sorted { left, right in
      rank[left.dtype]! != rank[right.dtype]!
        ? rank[left.dtype]! > rank[right.dtype]! : left.name < right.name
    }

    var json = "{"
    var members: [String] = []
    if !metadata.isEmpty {
      let pairs = metadata.keys.sorted().map { "\($0.jsonLiteral):\(metadata[$0]!.jsonLiteral)" }
      members.append("\(metadataKey.jsonLiteral):{\(pairs.joined(separator: ","))}")
    }
    var offset = 0
    for tensor in ordered {
      let end = offset + tensor.bytes.count
      let shape = tensor.shape.map(String.init).joined(separator: ",")
      members.append(
        "\(tensor.name.jsonLiteral):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}"
      )
      offset = end
    }
    json += members.joined(separator: ",") + "}"
    var header = Array(json.utf8)
    header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

    var data = Data(capacity: 8 + header.count + offset)
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: header)
    for tensor in ordered { data.append(tensor.bytes) }
    return data
  }

  /// Writes ``encode(_:metadata:)``'s bytes to `url` through ``DurableFile``: a new
  /// temporary file (never a link followed), fsync, rename, fsync of the folder; mode 0644.
  /// A reader never sees half a file, and a completed write survives a crash.
  ///
  /// - Throws: ``ModelError/fileUnwritable(file:reason:)`` when the file cannot be written.
  /// - Precondition: as for ``encode(_:metadata:)``.
  public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], to url: URL)
    throws
  {
    try DurableFile.write(encode(tensors, metadata: metadata), to: url)
  }
}

// MARK: - Header validation

extension Safetensors {
  /// A validated header: entries in payload order, metadata, and the header's length.
  fileprivate struct Header {
    struct Entry {
      var name: String
      var dtype: Tensor.DType
      var shape: [Int]
      var begin: Int
      var end: Int
    }

    var byteCount: Int
    var entries: [Entry] = []
    var metadata: [String: String] = [:]

    /// Runs every check in the order a reader meets the bytes: length prefix, header bounds,
    /// JSON, each entry (in header order), then the layout of the payload.
    init(_ data: Data, source file: String) throws {
      guard data.count >= 8 else {
        throw ModelError.truncatedHeaderLength(file: file, byteCount: data.count)
      }
      let declared = data.withUnsafeBytes {
        UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))
      }
      let limit = min(Safetensors.maximumHeaderByteCount, data.count - 8)
      guard declared <= UInt64(limit) else {
        throw ModelError.headerLengthOutOfBounds(
          file: file, headerByteCount: declared, limit: limit)
      }
      byteCount = Int(declared)
      let payloadByteCount = data.count - 8 - byteCount

      let root: StrictJSON.Value
      do {
        root = try StrictJSON.parse([UInt8](data[8..<(8 + byteCount)]))
      } catch {
        throw ModelError.malformedHeader(file: file, reason: "invalid JSON (\(error.description))")
      }
      guard case .object(let members) = root else {
        throw ModelError.malformedHeader(file: file, reason: root.summary)
      }

      var seen = Set<String>()
      for (name, value) in members {
        guard seen.insert(name).inserted else {
          if name == Safetensors.metadataKey {
            throw ModelError.malformedMetadata(file: file, reason: "two \(name) entries")
          }
          throw ModelError.duplicateTensorName(file: file, tensor: name)
        }
        if name == Safetensors.metadataKey {
          metadata = try Self.metadata(value, file: file)
        } else {
          entries.append(
            try Self.entry(name, value, file: file, payloadByteCount: payloadByteCount))
        }
      }

      // Payload layout: sorted by offset, each tensor starts where the previous ended.
      entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
      var expectedBegin = 0
      for entry in entries {
        guard entry.begin == expectedBegin else {
          throw ModelError.nonContiguousData(
            file: file, tensor: entry.name, begin: entry.begin, expectedBegin: expectedBegin)
        }
        expectedBegin = entry.end
      }
      guard expectedBegin == payloadByteCount else {
        throw ModelError.trailingPayloadBytes(
          file: file, payloadByteCount: payloadByteCount, usedByteCount: expectedBegin)
      }
    }

    static func metadata(_ value: StrictJSON.Value, file: String) throws -> [String: String] {
      guard case .object(let pairs) = value else {
        throw ModelError.malformedMetadata(file: file, reason: value.summary)
      }
      var result: [String: String] = [:]
      for (key, item) in pairs {
        guard case .string(let text) = item else {
          throw ModelError.malformedMetadata(
            file: file, reason: "\(item.summary) for key \(MessageText.quoted(key))")
        }
        guard result.updateValue(text, forKey: key) == nil else {
          throw ModelError.malformedMetadata(
            file: file, reason: "key \(MessageText.quoted(key)) twice")
        }
      }
      return result
    }

    static func entry(
      _ name: String, _ value: StrictJSON.Value, file: String, payloadByteCount: Int
    )
      throws -> Entry
    {
      func malformed(_ reason: String) -> ModelError {
        .malformedHeader(
          file: file, reason: "\(reason) in the entry for tensor \(MessageText.quoted(name))")
      }
      guard case .object(let fields) = value else { throw malformed(value.summary) }
      var byKey: [String: StrictJSON.Value] = [:]
      for (key, field) in fields {
        guard byKey.updateValue(field, forKey: key) == nil else {
          throw malformed("key \(MessageText.quoted(key)) twice")
        }
      }
      // Unknown keys are ignored, as the reference reader does.
      guard let dtypeValue = byKey["dtype"] else { throw malformed("no dtype") }
      guard let shapeValue = byKey["shape"] else { throw malformed("no shape") }
      guard let offsetsValue = byKey["data_offsets"] else { throw malformed("no data_offsets") }

      guard case .string(let dtypeName) = dtypeValue else {
        throw malformed("\(dtypeValue.summary) as dtype")
      }
      guard let dtype = Tensor.DType(rawValue: dtypeName) else {
        throw ModelError.unsupportedDType(file: file, tensor: name, dtype: dtypeName)
      }

      guard case .array(let shapeItems) = shapeValue else {
        throw malformed("\(shapeValue.summary) as shape")
      }
      let shape = try shapeItems.map { item in
        guard let dimension = item.integer else { throw malformed("\(item.summary) in shape") }
        return dimension
      }
      guard let elementCount = Tensor.checkedElementCount(shape) else {
        throw ModelError.invalidShape(file: file, tensor: name, shape: shape)
      }

      guard case .array(let offsetItems) = offsetsValue, offsetItems.count == 2 else {
        throw malformed("\(offsetsValue.summary) as data_offsets (need [begin, end])")
      }
      let offsets = try offsetItems.map { item in
        guard let offset = item.integer, offset >= 0 else {
          throw malformed("\(item.summary) in data_offsets (need a non-negative integer)")
        }
        return offset
      }
      let (begin, end) = (offsets[0], offsets[1])
      guard begin <= end, end <= payloadByteCount else {
        throw ModelError.dataOffsetsOutOfBounds(
          file: file, tensor: name, begin: begin, end: end, payloadByteCount: payloadByteCount)
      }
      let (expected, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteCount)
      guard !overflow else { throw ModelError.invalidShape(file: file, tensor: name, shape: shape) }
      guard end - begin == expected else {
        throw ModelError.byteCountMismatch(
          file: file, tensor: name, expected: expected, actual: end - begin)
      }
      return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }
  }
}
