import DPTestSupport
import Foundation
import Testing

@testable import DPModel

@Suite("Tensor")
struct TensorTests {
  @Test("F16 encoding rounds to nearest-even, with subnormals, overflow and NaN")
  func binary16Encoding() {
    let cases: [(Float, UInt16)] = [
      (0, 0x0000), (-0.0, 0x8000), (1, 0x3C00), (-2, 0xC000), (0.5, 0x3800),
      (65504, 0x7BFF),  // largest finite
      (65519.99, 0x7BFF),  // just below the rounding boundary
      (65520, 0x7C00),  // ties to even → ∞
      (1e6, 0x7C00), (-.infinity, 0xFC00), (.infinity, 0x7C00),
      (0x1p-14, 0x0400),  // smallest normal
      (0x1p-24, 0x0001),  // smallest subnormal
      (0x1p-25, 0x0000),  // half of it: tie to even → 0
      (0x1.8p-25, 0x0001),  // above the tie → rounds up
      (0x1.8p-24, 0x0002),  // 1.5 ulp: tie to even → 2
      (0x1.002p0, 0x3C00),  // 1 + 2⁻¹¹ (half an ulp): tie, 1.0 is even
      (0x1.006p0, 0x3C02),  // 1 + 3·2⁻¹¹: tie, rounds up to even
      (0x1.FFFp-15, 0x0400),  // subnormal that rounds up into the normal range
      (0.1, 0x2E66),
    ]
    for (value, bits) in cases {
      #expect(HalfPrecision.binary16Bits(value) == bits, "\(value)")
    }
    #expect(HalfPrecision.binary16Bits(.nan) & 0x7E00 == 0x7E00)
  }

  @Test("every F16 bit pattern decodes exactly and re-encodes to itself")
  func binary16AllPatterns() {
    for bits in UInt16.min...UInt16.max {
      let value = HalfPrecision.float(binary16Bits: bits)
      if value.isNaN {
        #expect(bits & 0x7C00 == 0x7C00 && bits & 0x3FF != 0)
        continue
      }
      #expect(HalfPrecision.binary16Bits(value) == bits, "bits \(String(bits, radix: 16))")
    }
    #expect(HalfPrecision.float(binary16Bits: 0x0001) == 0x1p-24)
    #expect(HalfPrecision.float(binary16Bits: 0x7BFF) == 65504)
    #expect(HalfPrecision.float(binary16Bits: 0xFC00) == -.infinity)
  }

  @Test("BF16 keeps the top 16 bits of a Float, rounded to nearest-even")
  func bfloat16Encoding() {
    #expect(HalfPrecision.bfloat16Bits(1) == 0x3F80)
    #expect(HalfPrecision.bfloat16Bits(-3.140625) == 0xC049)
    // Ties go to the even neighbour: down from 0x3F80_8000, up from 0x3F81_8000.
    #expect(HalfPrecision.bfloat16Bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)
    #expect(HalfPrecision.bfloat16Bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)
    #expect(HalfPrecision.bfloat16Bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
    #expect(HalfPrecision.bfloat16Bits(.greatestFiniteMagnitude) == 0x7F80)  // rounds to ∞
    #expect(HalfPrecision.bfloat16Bits(.nan) & 0x7FC0 == 0x7FC0)
    for bits in stride(from: UInt16(0), to: 0xFFFF, by: 97) where bits & 0x7F80 != 0x7F80 {
      #expect(HalfPrecision.bfloat16Bits(HalfPrecision.float(bfloat16Bits: bits)) == bits)
    }
  }

  @Test("values convert between dtypes as documented")
  func conversions() throws {
    let f64 = Tensor(name: "d", shape: [2], doubles: [0.1, 1e300])
    #expect(f64.floatValues() == [Float(0.1), .infinity])
    let ints = Tensor(name: "i", shape: [3], integers: [-5, 16_777_217, 0], dtype: .int32)
    #expect(ints.floatValues() == [-5, 16_777_216, 0])
    #expect(ints.doubleValues() == [-5, 16_777_217, 0])
    #expect(try ints.integerValues() == [-5, 16_777_217, 0])
    let flag = Tensor(name: "b", shape: [2], integers: [0, 1], dtype: .bool)
    #expect(flag.floatValues() == [0, 1])
    let big = Tensor(
      name: "u", dtype: .uint64, shape: [1], bytes: Data(repeating: 0xFF, count: 8))
    #expect(big.doubleValues() == [0x1p64])
    #expect(
      throws: ModelError.unexpectedDType(
        tensor: "u", expected: "elements at most Int64.max", actual: .uint64)
    ) {
      try big.integerValues()
    }
    #expect(
      throws: ModelError.unexpectedDType(
        tensor: "d", expected: "an integer dtype", actual: .float64)
    ) {
      try f64.integerValues()
    }
  }

  @Test("a scalar has one element and an empty shape; a zero dimension has none")
  func elementCounts() {
    #expect(Tensor(name: "s", shape: [], floats: [1]).elementCount == 1)
    #expect(Tensor(name: "z", shape: [3, 0, 2], floats: []).elementCount == 0)
    #expect(
      Tensor(name: "m", shape: [2, 3], floats: Array(repeating: 0, count: 6)).bytes.count == 24)
    #expect(Tensor.checkedElementCount([Int.max, 2]) == nil)
    #expect(Tensor.checkedElementCount([-1]) == nil)
  }

  @Test("bytes from a Data slice are rebased to index 0")
  func sliceRebased() {
    let backing = Data([9, 9, 0, 0, 128, 63])
    let tensor = Tensor(name: "x", dtype: .float32, shape: [1], bytes: backing[2...])
    #expect(tensor.bytes.startIndex == 0)
    #expect(tensor.floatValues() == [1])
  }
}
