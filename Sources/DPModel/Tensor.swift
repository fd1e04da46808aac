import Foundation

/// A named n-dimensional array as a safetensors file stores it: a dtype, a shape and the
/// raw little-endian bytes of its elements in row-major order.
///
/// Storage is the file's bytes, not `[Float]`, for three reasons: a read–write round trip
/// is exact for every dtype (I64 and U64 do not fit in `Float`, F64 loses precision); F16
/// and BF16 weights stay half the size until a layer asks for them; and the writer emits
/// bytes unchanged. The model core converts once, when it builds a layer, with
/// ``floatValues()`` (F32 is a plain copy on little-endian hosts). The initialisers that
/// take values encode them in the requested dtype, rounding to nearest-even where needed.
///
/// Invariant: `bytes.count == elementCount × dtype.byteCount`, with every shape entry ≥ 0.
/// A scalar has shape `[]` and one element; a shape with a 0 entry has no elements.
public struct Tensor: Equatable, Sendable {
  /// The element types safetensors names, in the reference implementation's enum order
  /// (huggingface/safetensors `Dtype`), which its writer sorts by (descending) so that every
  /// tensor's offset is a multiple of its element size.
  public enum DType: String, CaseIterable, Codable, Sendable {
    case bool = "BOOL"
    case uint8 = "U8"
    case int8 = "I8"
    case int16 = "I16"
    case uint16 = "U16"
    /// IEEE 754 binary16.
    case float16 = "F16"
    /// bfloat16: the upper 16 bits of a binary32.
    case bfloat16 = "BF16"
    case int32 = "I32"
    case uint32 = "U32"
    case float32 = "F32"
    case float64 = "F64"
    case int64 = "I64"
    case uint64 = "U64"

    /// Bytes per element.
    public var byteCount: Int {
      switch self {
      case .bool, .uint8, .int8: 1
      case .int16, .uint16, .float16, .bfloat16: 2
      case .int32, .uint32, .float32: 4
      case .float64, .int64, .uint64: 8
      }
    }

    /// Whether elements are floating-point numbers (F16, BF16, F32, F64).
    public var isFloatingPoint: Bool {
      switch self {
      case .float16, .bfloat16, .float32, .float64: true
      default: false
      }
    }
  }

  /// The tensor's key in its file, e.g. `encoder.layer.0.attention.self.query.weight`.
  public var name: String
  /// The element type of ``bytes``.
  public let dtype: DType
  /// Dimensions, outermost first; `[]` for a scalar.
  public let shape: [Int]
  /// `elementCount × dtype.byteCount` little-endian bytes, row-major.
  public let bytes: Data

  /// The number of elements: the product of ``shape`` (1 for a scalar).
  public var elementCount: Int { shape.reduce(1, *) }

  /// A tensor over raw little-endian bytes.
  ///
  /// - Precondition: every shape entry is ≥ 0 and
  ///   `bytes.count == product(shape) × dtype.byteCount`.
  public init(name: String, dtype: DType, shape: [Int], bytes: Data) {
    precondition(shape.allSatisfy { $0 >= 0 }, "tensor \(name): negative shape entry in \(shape)")
    let count = Self.checkedElementCount(shape)
    precondition(count != nil, "tensor \(name): element count of \(shape) overflows Int")
    precondition(
      bytes.count == count! * dtype.byteCount,
      "tensor \(name): \(dtype.rawValue) \(shape) needs \(count! * dtype.byteCount) bytes; got \(bytes.count)"
    )
    self.name = name
    self.dtype = dtype
    self.shape = shape
    // A zero-based copy, so index arithmetic on `bytes` never meets a slice's offset.
    self.bytes = bytes.startIndex == 0 ? bytes : Data(bytes)
  }

  /// A floating-point tensor holding `values`, encoded in `dtype` (F16 and BF16 round to
  /// nearest-even; F64 widens exactly).
  ///
  /// - Precondition: `dtype.isFloatingPoint` and `values.count == product(shape)`.
  public init(name: String, shape: [Int], floats values: [Float], dtype: DType = .float32) {
    precondition(dtype.isFloatingPoint, "tensor \(name): \(dtype.rawValue) is not a float dtype")
    precondition(
      Self.checkedElementCount(shape) == values.count,
      "tensor \(name): shape \(shape) needs product(shape) values; got \(values.count)")
    let bytes: Data
    switch dtype {
    case .float32: bytes = Self.encode(values) { $0.bitPattern }
    case .float64: bytes = Self.encode(values) { Double($0).bitPattern }
    case .float16: bytes = Self.encode(values) { HalfPrecision.binary16Bits($0) }
    case .bfloat16: bytes = Self.encode(values) { HalfPrecision.bfloat16Bits($0) }
    default: preconditionFailure("unreachable: \(dtype) is floating point")
    }
    self.init(name: name, dtype: dtype, shape: shape, bytes: bytes)
  }

  /// An F64 tensor holding `values` exactly.
  ///
  /// - Precondition: `values.count == product(shape)`.
  public init(name: String, shape: [Int], doubles values: [Double]) {
    precondition(
      Self.checkedElementCount(shape) == values.count,
      "tensor \(name): shape \(shape) needs product(shape) values; got \(values.count)")
    self.init(
      name: name, dtype: .float64, shape: shape, bytes: Self.encode(values) { $0.bitPattern })
  }

  /// An integer (or BOOL) tensor holding `values`, encoded in `dtype`. U64 elements above
  /// `Int64.max` are written through ``init(name:dtype:shape:bytes:)``.
  ///
  /// - Precondition: `dtype` is not floating point, `values.count == product(shape)`, and
  ///   every value fits in `dtype` (0 or 1 for BOOL).
  public init(name: String, shape: [Int], integers values: [Int64], dtype: DType = .int64) {
    precondition(!dtype.isFloatingPoint, "tensor \(name): \(dtype.rawValue) is a float dtype")
    precondition(
      Self.checkedElementCount(shape) == values.count,
      "tensor \(name): shape \(shape) needs product(shape) values; got \(values.count)")
    func fitting<T: FixedWidthInteger>(_: T.Type) -> (Int64) -> T {
      { value in
        guard let converted = T(exactly: value) else {
          preconditionFailure("tensor \(name): \(value) does not fit in \(dtype.rawValue)")
        }
        return converted
      }
    }
    let bytes: Data
    switch dtype {
    case .bool:
      bytes = Self.encode(values) { value -> UInt8 in
        precondition(value == 0 || value == 1, "tensor \(name): BOOL value \(value)")
        return UInt8(value)
      }
    case .uint8: bytes = Self.encode(values, fitting(UInt8.self))
    case .int8: bytes = Self.encode(values, fitting(Int8.self))
    case .int16: bytes = Self.encode(values, fitting(Int16.self))
    case .uint16: bytes = Self.encode(values, fitting(UInt16.self))
    case .int32: bytes = Self.encode(values, fitting(Int32.self))
    case .uint32: bytes = Self.encode(values, fitting(UInt32.self))
    case .int64: bytes = Self.encode(values) { $0 }
    case .uint64: bytes = Self.encode(values, fitting(UInt64.self))
    case .float16, .bfloat16, .float32, .float64:
      preconditionFailure("unreachable: \(dtype) is floating point")
    }
    self.init(name: name, dtype: dtype, shape: shape, bytes: bytes)
  }
}

// MARK: - Reading elements

extension Tensor {
  /// The elements as `Float`, the model core's type. F32, F16 and BF16 convert exactly;
  /// F64 rounds to nearest; integers convert exactly up to 2²⁴ in magnitude and are rounded
  /// beyond (through `Double`); BOOL gives 0 or 1.
  public func floatValues() -> [Float] {
    switch dtype {
    case .float32:
      #if _endian(little)
        return bytes.withUnsafeBytes { raw in
          [Float](unsafeUninitializedCapacity: elementCount) { buffer, initialized in
            _ = raw.copyBytes(to: UnsafeMutableRawBufferPointer(buffer))
            initialized = elementCount
          }
        }
      #else
        return decode(UInt32.self) { Float(bitPattern: $0) }
      #endif
    case .float16: return decode(UInt16.self) { HalfPrecision.float(binary16Bits: $0) }
    case .bfloat16: return decode(UInt16.self) { HalfPrecision.float(bfloat16Bits: $0) }
    case .float64: return decode(UInt64.self) { Float(Double(bitPattern: $0)) }
    default: return doubleValues().map { Float($0) }
    }
  }

  /// The elements as `Double`: floats widen exactly; integers convert exactly up to 2⁵³ in
  /// magnitude and round beyond; BOOL gives 0 or 1.
  public func doubleValues() -> [Double] {
    switch dtype {
    case .float64: decode(UInt64.self) { Double(bitPattern: $0) }
    case .float32, .float16, .bfloat16: floatValues().map { Double($0) }
    case .bool, .uint8: decode(UInt8.self) { Double($0) }
    case .int8: decode(UInt8.self) { Double(Int8(bitPattern: $0)) }
    case .int16: decode(UInt16.self) { Double(Int16(bitPattern: $0)) }
    case .uint16: decode(UInt16.self) { Double($0) }
    case .int32: decode(UInt32.self) { Double(Int32(bitPattern: $0)) }
    case .uint32: decode(UInt32.self) { Double($0) }
    case .int64: decode(UInt64.self) { Double(Int64(bitPattern: $0)) }
    case .uint64: decode(UInt64.self) { Double($0) }
    }
  }

  /// The elements of an integer or BOOL tensor as `Int64`, exactly.
  ///
  /// - Throws: ``ModelError/unexpectedDType(tensor:expected:actual:)`` for a floating-point
  ///   dtype, or for U64 when an element exceeds `Int64.max`.
  public func integerValues() throws -> [Int64] {
    switch dtype {
    case .bool, .uint8: return decode(UInt8.self) { Int64($0) }
    case .int8: return decode(UInt8.self) { Int64(Int8(bitPattern: $0)) }
    case .int16: return decode(UInt16.self) { Int64(Int16(bitPattern: $0)) }
    case .uint16: return decode(UInt16.self) { Int64($0) }
    case .int32: return decode(UInt32.self) { Int64(Int32(bitPattern: $0)) }
    case .uint32: return decode(UInt32.self) { Int64($0) }
    case .int64: return decode(UInt64.self) { Int64(bitPattern: $0) }
    case .uint64:
      let raw = decode(UInt64.self) { $0 }
      guard raw.allSatisfy({ $0 <= UInt64(Int64.max) }) else {
        throw ModelError.unexpectedDType(
          tensor: name, expected: "elements at most Int64.max", actual: dtype)
      }
      return raw.map { Int64($0) }
    case .float16, .bfloat16, .float32, .float64:
      throw ModelError.unexpectedDType(tensor: name, expected: "an integer dtype", actual: dtype)
    }
  }
}

// MARK: - Byte coding

extension Tensor {
  /// product(shape), or nil when an entry is negative or the product overflows `Int`.
  static func checkedElementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for dimension in shape {
      guard dimension >= 0 else { return nil }
      let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
      guard !overflow else { return nil }
      count = product
    }
    return count
  }

  /// Little-endian bytes of `values` mapped through `word`.
  fileprivate static func encode<Value, Word: FixedWidthInteger>(
    _ values: [Value], _ word: (Value) -> Word
  ) -> Data {
    var data = Data(count: values.count * MemoryLayout<Word>.size)
    data.withUnsafeMutableBytes { raw in
      for (index, value) in values.enumerated() {
        raw.storeBytes(
          of: word(value).littleEndian, toByteOffset: index * MemoryLayout<Word>.size, as: Word.self
        )
      }
    }
    return data
  }

  /// Each element's little-endian `Word` mapped through `transform`.
  fileprivate func decode<Word: FixedWidthInteger, Value>(
    _: Word.Type, _ transform: (Word) -> Value
  ) -> [Value] {
    bytes.withUnsafeBytes { raw in
      (0..<elementCount).map { index in
        transform(
          Word(
            littleEndian: raw.loadUnaligned(
              fromByteOffset: index * Word.bitWidth / 8, as: Word.self)))
      }
    }
  }
}

/// Conversions between `Float` and the two 16-bit float formats, written out so they behave
/// the same on every platform (`Float16` is unavailable on some). Rounding is to
/// nearest-even, as in NumPy and PyTorch; NaNs stay NaN (quiet), infinities stay infinite.
enum HalfPrecision {
  /// IEEE 754 binary16 bits of `value`: overflow gives ±∞, tiny values become subnormals
  /// or ±0.
  static func binary16Bits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xFF)
    let mantissa = bits & 0x7F_FFFF
    if exponent == 0xFF {  // ∞ or NaN (keep the top payload bits, force quiet)
      return sign | 0x7C00
        | (mantissa == 0 ? 0 : 0x200 | UInt16(truncatingIfNeeded: mantissa >> 13))
    }
    // Rebias 127 → 15.
    let halfExponent = exponent - 127 + 15
    if halfExponent >= 31 { return sign | 0x7C00 }
    if halfExponent <= 0 {
      // Subnormal half: value = m · 2⁻²⁴ with m = significand · 2^(halfExponent − 14).
      if halfExponent < -10 { return sign }  // below half the smallest subnormal
      let significand = mantissa | 0x80_0000
      let shift = UInt32(14 - halfExponent)
      return sign | UInt16(roundShifted(significand, by: shift))
    }
    let rounded = roundShifted(UInt32(halfExponent) << 23 | mantissa, by: 13)
    // A carry out of the mantissa bumps the exponent, up to ∞, which is the right answer.
    return sign | UInt16(min(rounded, 0x7C00))
  }

  /// The `Float` that binary16 `bits` encode (exact).
  static func float(binary16Bits bits: UInt16) -> Float {
    let sign: Float = bits & 0x8000 == 0 ? 1 : -1
    let exponent = UInt32((bits >> 10) & 0x1F)
    let mantissa = UInt32(bits & 0x3FF)
    switch exponent {
    case 0: return sign * Float(mantissa) * 0x1p-24
    case 31:
      return Float(bitPattern: UInt32(bits & 0x8000) << 16 | 0x7F80_0000 | mantissa << 13)
    default:
      return Float(
        bitPattern: UInt32(bits & 0x8000) << 16 | (exponent + 112) << 23 | mantissa << 13)
    }
  }

  /// bfloat16 bits of `value` (its top 16 bits after rounding to nearest-even).
  static func bfloat16Bits(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }
    return UInt16(truncatingIfNeeded: roundShifted(bits, by: 16))
  }

  /// The `Float` that bfloat16 `bits` encode (exact).
  static func float(bfloat16Bits bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
  }

  /// `value >> shift`, rounded to nearest with ties to even. `shift` is in 1...31.
  private static func roundShifted(_ value: UInt32, by shift: UInt32) -> UInt32 {
    let kept = value >> shift
    let dropped = value & ((1 << shift) - 1)
    let half: UInt32 = 1 << (shift - 1)
    return dropped > half || (dropped == half && kept & 1 == 1) ? kept + 1 : kept
  }
}
