/// An n-dimensional array in NumPy's `.npy` format, as Flower carries every array whose
/// `stype` is `numpy.ndarray` (what `np.save(…, allow_pickle=False)` writes).
///
/// Reads versions 1.0 and 2.0 of the format, little-endian, C order; writes version 1.0
/// byte for byte as NumPy 2 does (header padded so that the data starts on a multiple of
/// 64 bytes, with NumPy's spare space after the dictionary).
public struct NumpyArray: Equatable, Sendable {
  /// The element types dpfl exchanges.
  public enum ElementType: String, CaseIterable, Sendable {
    case float32, float64, int32, int64

    /// NumPy's type string (`descr`) for the little-endian type.
    public var descriptor: String {
      switch self {
      case .float32: "<f4"
      case .float64: "<f8"
      case .int32: "<i4"
      case .int64: "<i8"
      }
    }

    /// Bytes per element.
    public var byteWidth: Int {
      switch self {
      case .float32, .int32: 4
      case .float64, .int64: 8
      }
    }

    init?(descriptor: String) {
      guard let type = Self.allCases.first(where: { $0.descriptor == descriptor }) else {
        return nil
      }
      self = type
    }
  }

  /// What a `.npy` file can be refused for.
  public enum FormatError: Error, Equatable, CustomStringConvertible {
    case notNpy
    case unsupportedVersion(major: UInt8, minor: UInt8)
    case malformedHeader(String)
    case unsupportedDescriptor(String)
    case fortranOrder
    case dataLength(expected: Int, found: Int)

    public var description: String {
      switch self {
      case .notNpy: "not a .npy array (no \\x93NUMPY magic)"
      case .unsupportedVersion(let major, let minor):
        ".npy version \(major).\(minor) is not supported (1.0 and 2.0 are)"
      case .malformedHeader(let header): "malformed .npy header: \(header)"
      case .unsupportedDescriptor(let descriptor):
        ".npy element type '\(descriptor)' is not supported (allowed: "
          + ElementType.allCases.map(\.descriptor).joined(separator: ", ") + ")"
      case .fortranOrder: ".npy array in Fortran order is not supported (C order is)"
      case .dataLength(let expected, let found):
        ".npy data holds \(found) bytes where its shape needs \(expected)"
      }
    }
  }

  /// The type of every element.
  public let elementType: ElementType
  /// The extent of each axis (empty for a scalar).
  public let shape: [Int]
  /// The elements in C order, little-endian.
  public let data: [UInt8]

  /// The number of elements.
  public var count: Int { shape.reduce(1, *) }

  /// An array of `float32` values in C order; `values.count` must equal the product of `shape`.
  public init(float32 values: [Float], shape: [Int]) {
    precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
    var bytes = [UInt8]()
    bytes.reserveCapacity(values.count * 4)
    for value in values {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }
    self.init(elementType: .float32, shape: shape, data: bytes)
  }

  private init(elementType: ElementType, shape: [Int], data: [UInt8]) {
    self.elementType = elementType
    self.shape = shape
    self.data = data
  }

  /// The elements as `Float` (`float64` is rounded; integer types are refused).
  public func floatValues() -> [Float]? {
    switch elementType {
    case .float32:
      return (0..<count).map { index in
        Float(bitPattern: littleEndianWord(at: index * 4, as: UInt32.self))
      }
    case .float64:
      return (0..<count).map { index in
        Float(Double(bitPattern: littleEndianWord(at: index * 8, as: UInt64.self)))
      }
    case .int32, .int64:
      return nil
    }
  }

  private func littleEndianWord<Word: FixedWidthInteger>(at offset: Int, as _: Word.Type) -> Word {
    var word = Word.zero
    for byte in 0..<Word.bitWidth / 8 {
      word |= Word(data[offset + byte]) << (8 * byte)
    }
    return word
  }
}

// MARK: - The file format

extension NumpyArray {
  private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
  /// NumPy aligns the start of the data to this many bytes.
  private static let alignment = 64
  /// NumPy leaves room in the header for the first axis to grow to this many digits.
  private static let growthAxisDigits = 21

  /// The `.npy` file (format version 1.0), as `np.save(…, allow_pickle=False)` writes it.
  public var npy: [UInt8] {
    var header = "{'descr': '\(elementType.descriptor)', 'fortran_order': False, "
    header += "'shape': \(Self.pythonTuple(shape)), }"
    if let first = shape.first {
      header += String(repeating: " ", count: Self.growthAxisDigits - String(first).utf8.count)
    }
    let unpadded = Self.magic.count + 2 + 2 + header.utf8.count + 1
    let padding = (Self.alignment - unpadded % Self.alignment) % Self.alignment
    header += String(repeating: " ", count: padding) + "\n"
    let headerLength = UInt16(header.utf8.count)
    var file = Self.magic + [1, 0, UInt8(headerLength & 0xff), UInt8(headerLength >> 8)]
    file += Array(header.utf8)
    file += data
    return file
  }

  /// Reads a `.npy` file.
  public init(npy file: [UInt8]) throws(FormatError) {
    guard file.count >= 10, Array(file[0..<6]) == Self.magic else { throw .notNpy }
    let (major, minor) = (file[6], file[7])
    let headerStart: Int
    let headerLength: Int
    switch (major, minor) {
    case (1, 0):
      headerStart = 10
      headerLength = Int(file[8]) | Int(file[9]) << 8
    case (2, 0):
      guard file.count >= 12 else { throw .notNpy }
      headerStart = 12
      headerLength = (8..<12).reduce(0) { $0 | Int(file[$1]) << (8 * ($1 - 8)) }
    default:
      throw .unsupportedVersion(major: major, minor: minor)
    }
    guard headerStart + headerLength <= file.count,
      let header = String(validating: file[headerStart..<headerStart + headerLength], as: UTF8.self)
    else { throw .malformedHeader("header runs past the end of the file") }
    let fields = try Self.headerFields(header)
    guard let elementType = ElementType(descriptor: fields.descriptor) else {
      throw .unsupportedDescriptor(fields.descriptor)
    }
    guard !fields.fortranOrder else { throw .fortranOrder }
    let data = Array(file[(headerStart + headerLength)...])
    let expected = fields.shape.reduce(1, *) * elementType.byteWidth
    guard data.count == expected else { throw .dataLength(expected: expected, found: data.count) }
    self.init(elementType: elementType, shape: fields.shape, data: data)
  }

  /// `(3, 4)`, `(5,)` or `()`, as Python prints a tuple.
  private static func pythonTuple(_ values: [Int]) -> String {
    values.count == 1
      ? "(\(values[0]),)" : "(" + values.map(String.init).joined(separator: ", ") + ")"
  }

  /// The three keys of the header's Python dictionary literal.
  private static func headerFields(_ header: String) throws(FormatError) -> (
    descriptor: String, fortranOrder: Bool, shape: [Int]
  ) {
    func value(of key: String) -> Substring? {
      guard let keyRange = header.range(of: "'\(key)':") else { return nil }
      return header[keyRange.upperBound...].drop(while: { $0 == " " })
    }
    guard let descriptorText = value(of: "descr"), descriptorText.first == "'",
      let closing = descriptorText.dropFirst().firstIndex(of: "'"),
      let fortranText = value(of: "fortran_order"),
      let shapeText = value(of: "shape"), shapeText.first == "(",
      let shapeEnd = shapeText.firstIndex(of: ")")
    else { throw .malformedHeader(header) }
    let descriptor = String(
      descriptorText[descriptorText.index(after: descriptorText.startIndex)..<closing])
    let fortranOrder: Bool
    if fortranText.hasPrefix("True") {
      fortranOrder = true
    } else if fortranText.hasPrefix("False") {
      fortranOrder = false
    } else {
      throw .malformedHeader(header)
    }
    var shape = [Int]()
    for part in shapeText[shapeText.index(after: shapeText.startIndex)..<shapeEnd].split(
      separator: ",")
    {
      guard let extent = Int(part.filter { $0 != " " }), extent >= 0 else {
        throw .malformedHeader(header)
      }
      shape.append(extent)
    }
    return (descriptor, fortranOrder, shape)
  }
}
