import CDNNL

/// A frozen weight matrix in bfloat16 (the upper 16 bits of a Float32: its 8 exponent bits
/// and 8 of its 24 significand bits), for the matrix products of a frozen encoder in the
/// spirit of QLoRA: the inputs are rounded to bfloat16 too, every product accumulates in
/// Float32, and whatever trains (adapters, head) stays Float32.
///
/// The products run in oneDNN (`dnnl_gemm_bf16bf16f32`), on the CPU's AMX or AVX512-BF16
/// units where it has them: several times the Float32 rate of OpenBLAS on this project's
/// machines. Each entry's relative rounding error is at most 2⁻⁸, so a product's error is
/// at most about 2⁻⁷·Σₖ|aᵢₖ||bₖⱼ| (tested); a MiniLM sentence embedding moves by about 0.5 %, and a per-example gradient of
/// the adapters by about as much.
/// Privacy does not depend on it: clipping bounds whatever gradient the model computes.
public struct BFloat16Weight: Equatable, Sendable {
  /// The shape of the weight.
  public let rows: Int, columns: Int
  /// The entries, row-major.
  let values: [UInt16]

  /// The weight rounded to bfloat16 (to nearest, ties to even).
  public init(_ weight: Matrix<Float>) {
    rows = weight.rows
    columns = weight.columns
    values = Self.rounded(weight.values)
  }

  /// Whether this CPU runs oneDNN's bfloat16 products (it needs AVX-512).
  public static let isSupported: Bool = {
    var a: [UInt16] = [0x3F80]  // 1.0
    var c: [Float] = [0]
    let status = dnnl_gemm_bf16bf16f32(
      "N".utf8Int8, "N".utf8Int8, 1, 1, 1, 1, &a, 1, &a, 1, 0, &c, 1)
    return status == dnnl_success && c[0] == 1
  }()

  /// Whether the CPU has bfloat16 arithmetic of its own (AVX512-BF16 or AMX-BF16), where
  /// oneDNN's products are fast; with plain AVX-512 it emulates them.
  public static var hasNativeUnits: Bool {
    isSupported && !OpenBLASKernel.cpuFlags().isDisjoint(with: ["avx512_bf16", "amx_bf16"])
  }

  /// The Float32 values the entries stand for.
  public var floatValues: Matrix<Float> {
    Matrix(
      rows: rows, columns: columns,
      values: values.map { Float(bitPattern: UInt32($0) << 16) })
  }

  /// Float32 to bfloat16, rounding to nearest (ties to even), sixteen at a time; a NaN
  /// stays a NaN.
  static func rounded(_ floats: [Float]) -> [UInt16] {
    [UInt16](unsafeUninitializedCapacity: floats.count) { output, initialized in
      floats.withUnsafeBufferPointer { input in
        let whole = input.count / 16 * 16
        for start in stride(from: 0, to: whole, by: 16) {
          let lanes = UnsafeRawPointer(input.baseAddress! + start)
            .loadUnaligned(as: SIMD16<Float>.self)
          UnsafeMutableRawPointer(output.baseAddress! + start)
            .storeBytes(of: round(lanes), as: SIMD16<UInt16>.self)
        }
        for index in whole..<input.count {
          output[index] = round(SIMD16(repeating: input[index]))[0]
        }
      }
      initialized = floats.count
    }
  }

  @inline(__always)
  private static func round(_ lanes: SIMD16<Float>) -> SIMD16<UInt16> {
    let bits = unsafeBitCast(lanes, to: SIMD16<UInt32>.self)
    let rounded = (bits &+ 0x7FFF &+ ((bits &>> 16) & 1)) &>> 16
    return SIMD16<UInt16>(
      truncatingIfNeeded: rounded.replacing(with: 0x7FC0, where: lanes .!= lanes))
  }

  /// c ← x·Wᵀ + c (`transposed`, a linear layer's forward pass: x is m × columns) or
  /// c ← x·W + c (its input gradient: x is m × rows), x rounded to bfloat16 first.
  /// - Precondition: the shapes agree; ``isSupported``.
  func multiply(_ x: Matrix<Float>, transposed: Bool, accumulateInto c: inout Matrix<Float>) {
    let (inner, outer) = transposed ? (columns, rows) : (rows, columns)
    precondition(
      x.columns == inner && c.rows == x.rows && c.columns == outer,
      "bfloat16 product: x is \(x.rows)×\(x.columns), W is \(rows)×\(columns)\(transposed ? "ᵀ" : ""), c is \(c.rows)×\(c.columns)"
    )
    guard x.rows > 0, outer > 0, inner > 0 else { return }
    dpfl_dnnl_use_calling_thread_only()
    let input = Self.rounded(x.values)
    let status = input.withUnsafeBufferPointer { a in
      values.withUnsafeBufferPointer { b in
        c.withUnsafeMutableBufferPointer { out in
          dnnl_gemm_bf16bf16f32(
            "N".utf8Int8, (transposed ? "T" : "N").utf8Int8, dnnl_dim_t(x.rows),
            dnnl_dim_t(outer), dnnl_dim_t(inner), 1, a.baseAddress, dnnl_dim_t(inner),
            b.baseAddress, dnnl_dim_t(columns), 1, out.baseAddress, dnnl_dim_t(outer))
        }
      }
    }
    precondition(
      status == dnnl_success, "oneDNN's bfloat16 product failed (status \(status.rawValue))")
  }
}

extension StringProtocol {
  /// The first byte as a C `char`: oneDNN's transpose flags.
  fileprivate var utf8Int8: CChar { CChar(bitPattern: utf8.first!) }
}
