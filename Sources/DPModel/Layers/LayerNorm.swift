/// Layer normalisation over each row: y = γ ⊙ (x − μ)/√(σ² + ε) + β, with the biased
/// variance, as PyTorch's `nn.LayerNorm` and BERT compute it.
public struct LayerNorm<Scalar: BLASScalar>: Equatable, Sendable {
  /// γ, one entry per column.
  public var gain: [Scalar]
  /// β, one entry per column.
  public var shift: [Scalar]
  /// ε added to the variance (BERT: 1e-12).
  public let epsilon: Scalar

  /// What the backward pass needs from the forward pass.
  public struct Cache: Sendable {
    /// (x − μ)/√(σ² + ε), per row.
    var normalized: Matrix<Scalar>
    /// 1/√(σ² + ε), one per row.
    var inverseDeviation: [Scalar]
  }

  /// The gradient with respect to γ and β.
  public struct Gradient: Equatable, Sendable {
    /// ∂L/∂γ.
    public var gain: [Scalar]
    /// ∂L/∂β.
    public var shift: [Scalar]
  }

  /// A layer norm with the given parameters.
  /// - Precondition: γ and β have the same length and ε > 0.
  public init(gain: [Scalar], shift: [Scalar], epsilon: Scalar) {
    precondition(
      gain.count == shift.count, "LayerNorm γ has \(gain.count) entries, β \(shift.count)")
    precondition(epsilon > 0, "LayerNorm ε must be > 0; got \(epsilon)")
    self.gain = gain
    self.shift = shift
    self.epsilon = epsilon
  }

  /// The normalised rows and the cache for ``backward(_:outputGradient:)``.
  public func forward(_ x: Matrix<Scalar>) -> (Matrix<Scalar>, Cache) {
    let width = x.columns
    precondition(width == gain.count, "LayerNorm over \(gain.count) columns got \(width)")
    var inverseDeviation = [Scalar](repeating: 0, count: x.rows)
    var normalizedValues = [Scalar]()
    // Written row by row into uninitialised storage: no copies of x to overwrite.
    let outputValues = [Scalar](unsafeUninitializedCapacity: x.count) { out, outCount in
      normalizedValues = [Scalar](unsafeUninitializedCapacity: x.count) { norm, normCount in
        x.values.withUnsafeBufferPointer { input in
          gain.withUnsafeBufferPointer { gain in
            shift.withUnsafeBufferPointer { shift in
              for row in 0..<x.rows {
                let base = row * width
                var mean: Scalar = 0
                for column in 0..<width { mean += input[base + column] }
                mean /= Scalar(width)
                var variance: Scalar = 0
                for column in 0..<width {
                  let centred = input[base + column] - mean
                  variance += centred * centred
                }
                variance /= Scalar(width)
                let inverse = 1 / (variance + epsilon).squareRoot()
                inverseDeviation[row] = inverse
                for column in 0..<width {
                  let value = (input[base + column] - mean) * inverse
                  norm[base + column] = value
                  out[base + column] = gain[column] * value + shift[column]
                }
              }
            }
          }
        }
        normCount = x.count
      }
      outCount = x.count
    }
    let output = Matrix(rows: x.rows, columns: width, values: outputValues)
    let normalized = Matrix(rows: x.rows, columns: width, values: normalizedValues)
    return (output, Cache(normalized: normalized, inverseDeviation: inverseDeviation))
  }

  /// ∂L/∂x = (1/σ)(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) with ĝ = γ ⊙ ∂L/∂y, row by row.
  public func inputGradient(_ cache: Cache, outputGradient: Matrix<Scalar>) -> Matrix<Scalar> {
    let width = gain.count
    var result = outputGradient
    result.withUnsafeMutableBufferPointer { gradient in
      cache.normalized.values.withUnsafeBufferPointer { norm in
        for row in 0..<outputGradient.rows {
          let base = row * width
          var meanGradient: Scalar = 0
          var meanProduct: Scalar = 0
          for column in 0..<width {
            let scaled = gradient[base + column] * gain[column]
            meanGradient += scaled
            meanProduct += scaled * norm[base + column]
          }
          meanGradient /= Scalar(width)
          meanProduct /= Scalar(width)
          let inverse = cache.inverseDeviation[row]
          for column in 0..<width {
            let scaled = gradient[base + column] * gain[column]
            gradient[base + column] =
              inverse * (scaled - meanGradient - norm[base + column] * meanProduct)
          }
        }
      }
    }
    return result
  }

  /// ∂L/∂γ = Σ ∂L/∂y ⊙ x̂ and ∂L/∂β = Σ ∂L/∂y over the rows.
  public func parameterGradient(_ cache: Cache, outputGradient: Matrix<Scalar>) -> Gradient {
    var gain = [Scalar](repeating: 0, count: self.gain.count)
    for row in 0..<outputGradient.rows {
      for column in 0..<gain.count {
        gain[column] += outputGradient[row, column] * cache.normalized[row, column]
      }
    }
    return Gradient(gain: gain, shift: outputGradient.columnSums())
  }
}
