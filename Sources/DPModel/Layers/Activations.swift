import RealModule

/// The exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)), as BERT's `hidden_act = "gelu"` computes it.
public enum GELU {
  /// What the backward pass needs: the input and Φ(x), so erf is evaluated once per entry.
  public struct Cache<Scalar: BLASScalar>: Sendable {
    var input: Matrix<Scalar>
    var cumulative: [Scalar]
  }

  /// GELU of every entry.
  public static func forward<Scalar>(_ x: Matrix<Scalar>) -> Matrix<Scalar> {
    trainingForward(x).0
  }

  /// GELU of every entry and the cache for ``backward(_:outputGradient:)``.
  public static func trainingForward<Scalar>(_ x: Matrix<Scalar>) -> (Matrix<Scalar>, Cache<Scalar>)
  {
    let cumulative = standardNormalCDF(x.values)
    var output = x
    output.withUnsafeMutableBufferPointer { values in
      for index in values.indices { values[index] *= cumulative[index] }
    }
    return (output, Cache(input: x, cumulative: cumulative))
  }

  /// Φ(x) = ½(1 + erf(x/√2)) for every entry. Double uses libm's erf (gradient checks);
  /// Float uses a rational approximation of erf (Eigen's `generic_fast_erf_float`)
  /// whose error is below 4.2e-7 everywhere (tested against erf in Double), about as
  /// accurate as Float itself near 1, and which vectorises where `erff` is a call per
  /// entry (it was 11 % of a MiniLM training step).
  static func standardNormalCDF<Scalar: BLASScalar>(_ x: [Scalar]) -> [Scalar] {
    if Scalar.self == Float.self {
      let floats = unsafeBitCast(x, to: [Float].self)
      let result = [Float](unsafeUninitializedCapacity: floats.count) { output, initialized in
        floats.withUnsafeBufferPointer { input in
          let whole = input.count / 8 * 8
          if let source = UnsafeRawPointer(input.baseAddress),
            let destination = UnsafeMutableRawPointer(output.baseAddress)
          {
            let stride8 = MemoryLayout<SIMD8<Float>>.stride
            for offset in stride(from: 0, to: whole / 8 * stride8, by: stride8) {
              let lanes = source.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
              let cdf = (fastErf(lanes * 0.707_106_77) + 1) * 0.5
              destination.storeBytes(of: cdf, toByteOffset: offset, as: SIMD8<Float>.self)
            }
          }
          for index in whole..<input.count {
            output[index] = (fastErf(SIMD8(repeating: input[index] * 0.707_106_77))[0] + 1) / 2
          }
        }
        initialized = floats.count
      }
      return unsafeBitCast(result, to: [Scalar].self)
    }
    let invSqrt2 = 1 / Scalar(2).squareRoot()
    return x.map { (1 + Scalar.erf($0 * invSqrt2)) / 2 }
  }

  /// erf(x) in Float, eight lanes at a time: odd rational approximation on [−4, 4], ±1
  /// outside (where Float's erf rounds to ±1 anyway).
  @inline(__always)
  static func fastErf(_ value: SIMD8<Float>) -> SIMD8<Float> {
    let x = value.replacing(with: 4, where: value .> 4).replacing(with: -4, where: value .< -4)
    let x2 = x * x
    var p = SIMD8<Float>(repeating: -2.726_142_258_013_06e-10)
    p = p * x2 + 2.770_681_424_959_02e-08
    p = p * x2 - 2.101_024_020_825_08e-06
    p = p * x2 - 5.692_506_394_623_46e-05
    p = p * x2 - 7.349_906_303_268_55e-04
    p = p * x2 - 2.954_599_808_540_25e-03
    p = p * x2 - 1.609_603_332_624_15e-02
    var q = SIMD8<Float>(repeating: -1.456_607_184_649_96e-05)
    q = q * x2 - 2.133_740_552_789_05e-04
    q = q * x2 - 1.682_826_974_382_03e-03
    q = q * x2 - 7.373_329_167_204_68e-03
    q = q * x2 - 1.426_473_905_141_89e-02
    return x * p / q
  }

  /// ∂L/∂x = ∂L/∂y · (Φ(x) + x·φ(x)).
  public static func backward<Scalar>(_ cache: Cache<Scalar>, outputGradient: Matrix<Scalar>)
    -> Matrix<Scalar>
  {
    let x = cache.input
    precondition(
      x.rows == outputGradient.rows && x.columns == outputGradient.columns,
      "GELU backward: input \(x.rows)×\(x.columns), gradient \(outputGradient.rows)×\(outputGradient.columns)"
    )
    let invSqrt2Pi = 1 / (2 * Scalar.pi).squareRoot()
    var result = outputGradient
    result.withUnsafeMutableBufferPointer { gradient in
      x.values.withUnsafeBufferPointer { input in
        cache.cumulative.withUnsafeBufferPointer { cumulative in
          var start = 0
          if Scalar.self == Float.self {
            start = gradient.count / 16 * 16
            floatDerivativeProduct(
              gradient: UnsafeMutableRawPointer(gradient.baseAddress!),
              input: UnsafeRawPointer(input.baseAddress!),
              cumulative: UnsafeRawPointer(cumulative.baseAddress!), count: start)
          }
          for index in start..<gradient.count {
            let value = input[index]
            let density = invSqrt2Pi * Scalar.exp(-value * value / 2)
            gradient[index] *= cumulative[index] + value * density
          }
        }
      }
    }
    return result
  }

  /// The backward pass on `count` Floats (a multiple of 16), sixteen at a time with
  /// ``vectorExp(_:)`` for φ(x).
  private static func floatDerivativeProduct(
    gradient: UnsafeMutableRawPointer, input: UnsafeRawPointer, cumulative: UnsafeRawPointer,
    count: Int
  ) {
    typealias Lanes = SIMD16<Float>
    let invSqrt2Pi: Float = 0.398_942_28
    for byte in stride(from: 0, to: count * 4, by: MemoryLayout<Lanes>.stride) {
      let value = input.loadUnaligned(fromByteOffset: byte, as: Lanes.self)
      let density = invSqrt2Pi * vectorExp(-value * value * 0.5)
      let factor = cumulative.loadUnaligned(fromByteOffset: byte, as: Lanes.self) + value * density
      let product = gradient.loadUnaligned(fromByteOffset: byte, as: Lanes.self) * factor
      gradient.storeBytes(of: product, toByteOffset: byte, as: Lanes.self)
    }
  }
}

/// Inverted dropout: in training each entry is zeroed with probability `rate` and the
/// survivors are scaled by 1/(1 − rate), so evaluation needs no rescaling.
public struct Dropout: Equatable, Sendable {
  /// The probability that an entry is zeroed, in [0, 1).
  public let rate: Double

  /// Dropout with the given rate.
  /// - Precondition: `0 ≤ rate < 1`.
  public init(rate: Double) {
    precondition(rate >= 0 && rate < 1, "Dropout rate must be in [0, 1); got \(rate)")
    self.rate = rate
  }

  /// The kept-and-scaled multipliers (0 or 1/(1 − rate)) for a matrix of `count` entries,
  /// drawn from `generator`; `nil` when the rate is 0 (nothing to do).
  public func mask<Scalar: BLASScalar, G: RandomNumberGenerator>(
    count: Int, using generator: inout G
  ) -> [Scalar]? {
    guard rate > 0 else { return nil }
    let keep = 1 / Scalar(1 - rate)
    return (0..<count).map { _ in Double.random(in: 0..<1, using: &generator) < rate ? 0 : keep }
  }

  /// x ⊙ mask (the same mask scales the gradient in the backward pass).
  public static func apply<Scalar>(_ mask: [Scalar]?, to x: Matrix<Scalar>) -> Matrix<Scalar> {
    guard let mask else { return x }
    precondition(mask.count == x.count, "dropout mask has \(mask.count) entries for \(x.count)")
    var result = x
    result.withUnsafeMutableBufferPointer { values in
      for index in values.indices { values[index] *= mask[index] }
    }
    return result
  }
}
