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
  public static func trainingForward<Scalar>(_ x: Matrix<Scalar>) -> (Matrix<Scalar>, Cache<Scalar>) {
    let invSqrt2 = 1 / Scalar(2).squareRoot()
    let cumulative = x.values.map { (1 + Scalar.erf($0 * invSqrt2)) / 2 }
    var output = x
    output.withUnsafeMutableBufferPointer { values in
      for index in values.indices { values[index] *= cumulative[index] }
    }
    return (output, Cache(input: x, cumulative: cumulative))
  }

  /// ∂L/∂x = ∂L/∂y · (Φ(x) + x·φ(x)).
  public static func backward<Scalar>(_ cache: Cache<Scalar>, outputGradient: Matrix<Scalar>)
    -> Matrix<Scalar>
  {
    let x = cache.input
    precondition(x.rows == outputGradient.rows && x.columns == outputGradient.columns,
      "GELU backward: input \(x.rows)×\(x.columns), gradient \(outputGradient.rows)×\(outputGradient.columns)")
    let invSqrt2Pi = 1 / (2 * Scalar.pi).squareRoot()
    var result = outputGradient
    result.withUnsafeMutableBufferPointer { gradient in
      x.values.withUnsafeBufferPointer { input in
        for index in gradient.indices {
          let value = input[index]
          let density = invSqrt2Pi * Scalar.exp(-value * value / 2)
          gradient[index] *= cache.cumulative[index] + value * density
        }
      }
    }
    return result
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
