import DPTestSupport
import Foundation
import Testing

@testable import DPModel

@Suite("Safetensors")
struct SafetensorsTests {
  // MARK: Round trips

  /// One tensor of each dtype, with values that exercise its range.
  static func everyDType() -> [Tensor] {
    [
      Tensor(
        name: "f32", shape: [2, 3],
        floats: [0.1, -2.5, .greatestFiniteMagnitude, -0.0, 1e-40, .infinity]),
      Tensor(name: "f16", shape: [4], floats: [0.5, -65504, 0x1p-24, -.infinity], dtype: .float16),
      Tensor(name: "bf16", shape: [2, 2], floats: [1, -3.140625, 0x1p100, 0], dtype: .bfloat16),
      Tensor(name: "f64", shape: [3], doubles: [0.1, -1e300, .leastNonzeroMagnitude]),
      Tensor(name: "i64", shape: [2], integers: [.min, .max]),
      Tensor(
        name: "i32", shape: [3], integers: [Int64(Int32.min), Int64(Int32.max), 7], dtype: .int32),
      Tensor(name: "i16", shape: [2], integers: [-32768, 32767], dtype: .int16),
      Tensor(name: "i8", shape: [2], integers: [-128, 127], dtype: .int8),
      Tensor(name: "u8", shape: [2], integers: [0, 255], dtype: .uint8),
      Tensor(name: "u16", shape: [1], integers: [65535], dtype: .uint16),
      Tensor(name: "u32", shape: [1], integers: [4_294_967_295], dtype: .uint32),
      Tensor(name: "u64", shape: [1], integers: [.max], dtype: .uint64),
      Tensor(name: "bool", shape: [3], integers: [1, 0, 1], dtype: .bool),
      Tensor(name: "scalar", shape: [], floats: [3.5]),
      Tensor(name: "empty", shape: [0, 4], floats: []),
    ]
  }

  @Test("every dtype survives a write–read round trip, bytes and metadata included")
  func roundTripEveryDType() throws {
    let tensors = Self.everyDType()
    #expect(Set(tensors.map(\.dtype)) == Set(Tensor.DType.allCases))
    let metadata = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t é"]
    let contents = try Safetensors.read(
      from: Safetensors.encode(tensors, metadata: metadata), source: "memory")
    #expect(contents.metadata == metadata)
    #expect(contents.tensors.count == tensors.count)
    for tensor in tensors {
      #expect(contents[tensor.name] == tensor, "\(tensor.name)")
    }
    let f16 = try contents.tensor(named: "f16").floatValues()
    #expect(f16 == [0.5, -65504, 0x1p-24, -.infinity])
    #expect(try contents.tensor(named: "i64").integerValues() == [.min, .max])
    #expect(try contents.tensor(named: "scalar").floatValues() == [3.5])
    #expect(try contents.tensor(named: "empty").floatValues() == [])
  }

  @Test("random tensors round-trip through a file on disk", arguments: 0..<20)
  func randomRoundTrip(seed: UInt64) throws {
    var generator = SeededGenerator(seed: seed)
    let tensors = (0..<Int.random(in: 0...6, using: &generator)).map { index in
      let shape = (0..<Int.random(in: 0...3, using: &generator)).map { _ in
        Int.random(in: 0...5, using: &generator)
      }
      let count = shape.reduce(1, *)
      let dtype = Tensor.DType.allCases.randomElement(using: &generator)!
      let bytes = Data(
        (0..<(count * dtype.byteCount)).map { _ in UInt8.random(in: 0...255, using: &generator) })
      return Tensor(name: "t\(index).weight", dtype: dtype, shape: shape, bytes: bytes)
    }
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("dpfl-safetensors-\(seed)-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Safetensors.write(tensors, metadata: ["seed": "\(seed)"], to: url)
    let contents = try Safetensors.read(contentsOf: url)
    #expect(contents.source == url.path)
    #expect(contents.metadata == ["seed": "\(seed)"])
    #expect(Set(contents.tensors.map(\.name)) == Set(tensors.map(\.name)))
    for tensor in tensors {
      #expect(contents[tensor.name] == tensor, "seed \(seed), \(tensor.name)")
    }
  }

  @Test("the writer is deterministic: input order does not change the bytes")
  func deterministicWriter() {
    let tensors = Self.everyDType()
    let reference = Safetensors.encode(tensors, metadata: ["b": "2", "a": "1"])
    var generator = SeededGenerator(seed: 7)
    for _ in 0..<5 {
      #expect(
        Safetensors.encode(tensors.shuffled(using: &generator), metadata: ["a": "1", "b": "2"])
          == reference)
    }
  }

  @Test("the header is padded with spaces so the payload starts at a multiple of 8")
  func headerPadding() throws {
    for nameLength in 1...9 {
      let tensor = Tensor(name: String(repeating: "w", count: nameLength), shape: [1], floats: [1])
      let data = Safetensors.encode([tensor])
      let headerLength = Int(
        data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
      #expect(headerLength % 8 == 0)
      let header = String(decoding: data[8..<(8 + headerLength)], as: UTF8.self)
      #expect(
        header.hasPrefix(
          "{\"\(tensor.name)\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"))
      #expect(header.drop { $0 != "}" }.dropFirst(2).allSatisfy { $0 == " " })
      #expect(data.count == 8 + headerLength + 4)
    }
  }

  @Test("every offset the writer produces is a multiple of its element size")
  func alignedOffsets() throws {
    let tensors =
      Self.everyDType() + [Tensor(name: "odd", shape: [3], integers: [1, 2, 3], dtype: .uint8)]
    let data = Safetensors.encode(tensors)
    let headerLength = Int(
      data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
    guard case .object(let entries) = try StrictJSON.parse([UInt8](data[8..<(8 + headerLength)]))
    else {
      Issue.record("header is not an object")
      return
    }
    for (name, entry) in entries {
      guard case .object(let fields) = entry,
        case .string(let dtypeName)? = fields.first(where: { $0.key == "dtype" })?.value,
        case .array(let offsets)? = fields.first(where: { $0.key == "data_offsets" })?.value,
        let dtype = Tensor.DType(rawValue: dtypeName), let begin = offsets.first?.integer
      else {
        Issue.record("entry \(name) is malformed")
        continue
      }
      #expect(begin % dtype.byteCount == 0, "\(name) at \(begin)")
    }
  }

  // MARK: The reference implementation's file

  struct ReferenceFixture: Decodable, Sendable {
    struct Entry: Decodable, Sendable {
      var name: String
      var dtype: String
      var shape: [Int]
      var dataOffsets: [Int]
      var values: [ReferenceValue]
    }
    var source: String
    var file: String
    var byteCount: Int
    var sha256: String
    var metadata: [String: String]
    var tensors: [Entry]
  }

  /// A number from the fixture: an exact integer (I64, U64) or a float ("-0.0", "inf",
  /// "-inf", "nan" as strings, which JSON cannot hold).
  enum ReferenceValue: Decodable, Sendable {
    case integer(Int64)
    case unsigned(UInt64)
    case float(Double)

    init(from decoder: Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let value = try? container.decode(Int64.self) {
        self = .integer(value)
      } else if let value = try? container.decode(UInt64.self) {
        self = .unsigned(value)
      } else if let value = try? container.decode(Double.self) {
        self = .float(value)
      } else {
        let text = try container.decode(String.self)
        guard let value = Double(text) else {
          throw DecodingError.dataCorruptedError(
            in: container, debugDescription: "not a number: \(text)")
        }
        self = .float(value)
      }
    }

    var double: Double {
      switch self {
      case .integer(let value): Double(value)
      case .unsigned(let value): Double(value)
      case .float(let value): value
      }
    }
  }

  static let reference = Golden.required(
    ReferenceFixture.self, "reference_safetensors.json", in: .module)

  static func referenceData() throws -> Data {
    let url = try #require(
      Bundle.module.url(forResource: "Fixtures/reference.safetensors", withExtension: nil))
    return try Data(contentsOf: url)
  }

  @Test("a file written by huggingface/safetensors reads back with its exact values")
  func readsReferenceFile() throws {
    let fixture = Self.reference
    let data = try Self.referenceData()
    #expect(data.count == fixture.byteCount)
    let contents = try Safetensors.read(from: data, source: fixture.file)
    #expect(contents.metadata == fixture.metadata)
    #expect(contents.tensors.count == fixture.tensors.count)
    for entry in fixture.tensors {
      let tensor = try contents.tensor(named: entry.name)
      #expect(tensor.dtype.rawValue == entry.dtype, "\(entry.name)")
      #expect(tensor.shape == entry.shape, "\(entry.name)")
      let expected = entry.values.map(\.double)
      let actual = tensor.doubleValues()
      #expect(actual.count == expected.count, "\(entry.name)")
      for (got, want) in zip(actual, expected) {
        // Exact, including the sign of zero; NaN matches NaN.
        #expect(
          got.isNaN ? want.isNaN : got.bitPattern == want.bitPattern,
          "\(entry.name): \(got) vs \(want)")
      }
      if tensor.dtype.isFloatingPoint {
        let floats = tensor.floatValues()
        for (got, want) in zip(floats, expected) where !want.isNaN && tensor.dtype != .float64 {
          #expect(Double(got) == want, "\(entry.name)")
        }
      } else {
        let integers = try tensor.integerValues()
        for (got, want) in zip(integers, entry.values) {
          switch want {
          case .integer(let value): #expect(got == value, "\(entry.name)")
          case .unsigned(let value): #expect(UInt64(got) == value, "\(entry.name)")
          case .float: Issue.record("\(entry.name): float value for an integer dtype")
          }
        }
      }
    }
    // Payload order is the file's: the first tensor starts at offset 0.
    let first = try #require(fixture.tensors.min { $0.dataOffsets[0] < $1.dataOffsets[0] })
    #expect(contents.tensors.first?.name == first.name)
  }

  @Test("the writer reproduces the reference file byte for byte from the same values")
  func writerMatchesReference() throws {
    let fixture = Self.reference
    let tensors = try fixture.tensors.map { entry -> Tensor in
      let dtype = try #require(Tensor.DType(rawValue: entry.dtype))
      switch dtype {
      case .float64:
        return Tensor(name: entry.name, shape: entry.shape, doubles: entry.values.map(\.double))
      case .float32, .float16, .bfloat16:
        return Tensor(
          name: entry.name, shape: entry.shape, floats: entry.values.map { Float($0.double) },
          dtype: dtype)
      default:
        let integers = try entry.values.map { value -> Int64 in
          switch value {
          case .integer(let integer): return integer
          case .unsigned(let unsigned): return try #require(Int64(exactly: unsigned))
          case .float:
            throw ModelError.unexpectedDType(
              tensor: entry.name, expected: "integers", actual: dtype)
          }
        }
        return Tensor(name: entry.name, shape: entry.shape, integers: integers, dtype: dtype)
      }
    }
    let written = Safetensors.encode(tensors, metadata: fixture.metadata)
    #expect(written == (try Self.referenceData()))
    // And reading then writing the reference changes nothing.
    let contents = try Safetensors.read(from: try Self.referenceData(), source: fixture.file)
    #expect(
      Safetensors.encode(contents.tensors, metadata: contents.metadata)
        == (try Self.referenceData()))
  }

  // MARK: Corrupted files (one test per check)

  /// A file with `header` as its JSON header (declared length = its byte count unless
  /// `declaredLength` is given) and `payloadByteCount` zero bytes of payload.
  static func file(
    _ header: String, payload payloadByteCount: Int = 0, declaredLength: UInt64? = nil
  ) -> Data {
    let headerBytes = Array(header.utf8)
    var data = Data()
    withUnsafeBytes(of: (declaredLength ?? UInt64(headerBytes.count)).littleEndian) {
      data.append(contentsOf: $0)
    }
    data.append(contentsOf: headerBytes)
    data.append(Data(count: payloadByteCount))
    return data
  }

  /// One corrupted file and what the reader must say about it.
  struct Corruption: Sendable, CustomTestStringConvertible {
    enum Expectation: Sendable {
      case error(ModelError)
      case malformedHeader(containing: String)
      case malformedMetadata(containing: String)
    }
    var check: String
    var data: Data
    var expectation: Expectation

    var testDescription: String { check }
  }

  static let source = "corrupt.safetensors"

  static let corruptions: [Corruption] = {
    let f = source
    let a = #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
    return [
      Corruption(
        check: "a file shorter than the 8-byte length", data: Data([1, 0, 0]),
        expectation: .error(.truncatedHeaderLength(file: f, byteCount: 3))),
      Corruption(
        check: "a header length past the end of the file", data: file("{}", declaredLength: 3),
        expectation: .error(.headerLengthOutOfBounds(file: f, headerByteCount: 3, limit: 2))),
      Corruption(
        check: "a header length near 2⁶⁴", data: file("{}", declaredLength: .max),
        expectation: .error(.headerLengthOutOfBounds(file: f, headerByteCount: .max, limit: 2))),
      Corruption(
        check: "a header that is not UTF-8",
        data: file("{\"\u{FF}\":1}").replacingUTF8(0xC3, 0xBF, with: 0xFF),
        expectation: .malformedHeader(containing: "invalid UTF-8")),
      Corruption(
        check: "a header that is not JSON", data: file("{\"a\":"),
        expectation: .malformedHeader(containing: "invalid JSON")),
      Corruption(
        check: "a header with text after the JSON object", data: file("{} x"),
        expectation: .malformedHeader(containing: "after the JSON value")),
      Corruption(
        check: "a header nested deeper than the limit",
        data: file(
          "{\"a\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"),
        expectation: .malformedHeader(containing: "nesting deeper")),
      Corruption(
        check: "a header that is an array", data: file("[]"),
        expectation: .malformedHeader(containing: "an array")),
      Corruption(
        check: "an entry that is not an object", data: file(#"{"a":[1]}"#),
        expectation: .malformedHeader(containing: "tensor \"a\"")),
      Corruption(
        check: "an entry without dtype",
        data: file(#"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, payload: 8),
        expectation: .malformedHeader(containing: "no dtype")),
      Corruption(
        check: "an entry without shape",
        data: file(#"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, payload: 8),
        expectation: .malformedHeader(containing: "no shape")),
      Corruption(
        check: "an entry without data_offsets",
        data: file(#"{"a":{"dtype":"F32","shape":[2]}}"#, payload: 8),
        expectation: .malformedHeader(containing: "no data_offsets")),
      Corruption(
        check: "an entry with a key twice",
        data: file(
          #"{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, payload: 8),
        expectation: .malformedHeader(containing: "key \"dtype\" twice")),
      Corruption(
        check: "a dtype that is not a string",
        data: file(#"{"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}"#, payload: 8),
        expectation: .malformedHeader(containing: "the number 4 as dtype")),
      Corruption(
        check: "an unknown dtype",
        data: file(#"{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#, payload: 2),
        expectation: .error(.unsupportedDType(file: f, tensor: "a", dtype: "F8_E4M3"))),
      Corruption(
        check: "a shape that is not an array",
        data: file(#"{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}"#, payload: 8),
        expectation: .malformedHeader(containing: "as shape")),
      Corruption(
        check: "a shape with a fraction",
        data: file(#"{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, payload: 8),
        expectation: .malformedHeader(containing: "the number 2.0 in shape")),
      Corruption(
        check: "a negative shape entry",
        data: file(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, payload: 8),
        expectation: .error(.invalidShape(file: f, tensor: "a", shape: [-2]))),
      Corruption(
        check: "a shape whose element count overflows",
        data: file(
          #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, payload: 8
        ),
        expectation: .error(
          .invalidShape(file: f, tensor: "a", shape: [4_611_686_018_427_387_904, 4]))),
      Corruption(
        check: "a shape whose byte count overflows",
        data: file(
          #"{"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,8]}}"#, payload: 8),
        expectation: .error(.invalidShape(file: f, tensor: "a", shape: [2_305_843_009_213_693_952]))
      ),
      Corruption(
        check: "data_offsets with one number",
        data: file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}}"#, payload: 8),
        expectation: .malformedHeader(containing: "need [begin, end]")),
      Corruption(
        check: "a negative offset",
        data: file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, payload: 8),
        expectation: .malformedHeader(containing: "non-negative integer")),
      Corruption(
        check: "offsets with begin after end",
        data: file(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, payload: 8),
        expectation: .error(
          .dataOffsetsOutOfBounds(file: f, tensor: "a", begin: 8, end: 0, payloadByteCount: 8))),
      Corruption(
        check: "offsets past the payload", data: file("{\(a)}", payload: 4),
        expectation: .error(
          .dataOffsetsOutOfBounds(file: f, tensor: "a", begin: 0, end: 8, payloadByteCount: 4))),
      Corruption(
        check: "a byte range shorter than product(shape) × dtype size",
        data: file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, payload: 8),
        expectation: .error(.byteCountMismatch(file: f, tensor: "a", expected: 12, actual: 8))),
      Corruption(
        check: "a byte range longer than product(shape) × dtype size",
        data: file(#"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}"#, payload: 8),
        expectation: .error(.byteCountMismatch(file: f, tensor: "a", expected: 4, actual: 8))),
      Corruption(
        check: "overlapping tensors",
        data: file(#"{\#(a),"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, payload: 12),
        expectation: .error(.nonContiguousData(file: f, tensor: "b", begin: 4, expectedBegin: 8))),
      Corruption(
        check: "a gap between tensors",
        data: file(#"{\#(a),"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#, payload: 16),
        expectation: .error(.nonContiguousData(file: f, tensor: "b", begin: 12, expectedBegin: 8))),
      Corruption(
        check: "a first tensor that does not start at 0",
        data: file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, payload: 8),
        expectation: .error(.nonContiguousData(file: f, tensor: "a", begin: 4, expectedBegin: 0))),
      Corruption(
        check: "bytes after the last tensor", data: file("{\(a)}", payload: 12),
        expectation: .error(.trailingPayloadBytes(file: f, payloadByteCount: 12, usedByteCount: 8))),
      Corruption(
        check: "a tensor name used twice", data: file("{\(a),\(a)}", payload: 8),
        expectation: .error(.duplicateTensorName(file: f, tensor: "a"))),
      Corruption(
        check: "metadata that is not an object", data: file(#"{"__metadata__":["x"]}"#),
        expectation: .malformedMetadata(containing: "an array")),
      Corruption(
        check: "a metadata value that is not a string", data: file(#"{"__metadata__":{"n":1}}"#),
        expectation: .malformedMetadata(containing: "the number 1 for key \"n\"")),
      Corruption(
        check: "a metadata key twice", data: file(#"{"__metadata__":{"n":"1","n":"2"}}"#),
        expectation: .malformedMetadata(containing: "key \"n\" twice")),
      Corruption(
        check: "two metadata entries", data: file(#"{"__metadata__":{},"__metadata__":{}}"#),
        expectation: .malformedMetadata(containing: "two __metadata__ entries")),
    ]
  }()

  @Test(
    "a corrupted file is refused with an error naming the file and tensor", arguments: corruptions)
  func refusesCorruption(_ corruption: Corruption) {
    #expect(throws: ModelError.self) {
      try Safetensors.read(from: corruption.data, source: Self.source)
    }
    do {
      _ = try Safetensors.read(from: corruption.data, source: Self.source)
    } catch let error as ModelError {
      switch (corruption.expectation, error) {
      case (.error(let expected), _):
        #expect(error == expected)
      case (.malformedHeader(let fragment), .malformedHeader(let file, let reason)):
        #expect(file == Self.source)
        #expect(reason.contains(fragment), "\(reason)")
      case (.malformedMetadata(let fragment), .malformedMetadata(let file, let reason)):
        #expect(file == Self.source)
        #expect(reason.contains(fragment), "\(reason)")
      default:
        Issue.record("expected \(corruption.expectation); got \(error)")
      }
      #expect(error.description.contains(Self.source), "\(error)")
      #expect(error.description.contains(" must "), "\(error)")
      #expect(error.description.hasSuffix("."), "\(error)")
    } catch {
      Issue.record("not a ModelError: \(error)")
    }
  }

  @Test("the smallest valid files: an empty header, and tensors with no elements")
  func minimalFiles() throws {
    #expect(try Safetensors.read(from: Self.file("{}"), source: "empty").tensors == [])
    let padded = try Safetensors.read(from: Self.file("{}      "), source: "padded")
    #expect(padded.tensors.isEmpty && padded.metadata.isEmpty)
    let zeros = try Safetensors.read(
      from: Self.file(
        #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"I64","shape":[3,0],"data_offsets":[0,0]}}"#
      ),
      source: "zeros")
    #expect(zeros.tensors.map(\.elementCount) == [0, 0])
    let extraKey = try Safetensors.read(
      from: Self.file(
        #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"note":"ignored"}}"#, payload: 1),
      source: "extra")
    #expect(try extraKey["a"]?.integerValues() == [0])
  }

  @Test("a missing tensor and an unreadable file are errors naming them")
  func missingThings() throws {
    let contents = try Safetensors.read(
      from: Safetensors.encode(Self.everyDType()), source: "model.safetensors")
    #expect(throws: ModelError.tensorNotFound(file: "model.safetensors", tensor: "nope")) {
      try contents.tensor(named: "nope")
    }
    let missing = URL(fileURLWithPath: "/nonexistent/dpfl/model.safetensors")
    do {
      _ = try Safetensors.read(contentsOf: missing)
      Issue.record("read a file that does not exist")
    } catch let error as ModelError {
      guard case .fileUnreadable(let file, _) = error else {
        Issue.record("expected fileUnreadable; got \(error)")
        return
      }
      #expect(file == missing.path)
    }
    #expect(throws: ModelError.self) {
      try Safetensors.write([], to: URL(fileURLWithPath: "/nonexistent/dpfl/out.safetensors"))
    }
  }
}

extension Data {
  /// The data with the two-byte sequence `first second` replaced by `byte` (to forge
  /// invalid UTF-8 inside an otherwise well-formed header).
  fileprivate func replacingUTF8(_ first: UInt8, _ second: UInt8, with byte: UInt8) -> Data {
    var bytes = [UInt8](self)
    guard
      let index = bytes.indices.dropLast().first(where: {
        bytes[$0] == first && bytes[$0 + 1] == second
      })
    else { return self }
    bytes.replaceSubrange(index...(index + 1), with: [byte, byte])
    return Data(bytes)
  }
}
