/// A fully connected layer y = x·Wᵀ + b, with W stored out × in as PyTorch stores it, so
/// safetensors weights load without a transpose.
public struct Linear<Scalar: BLASScalar>: Equatable, Sendable {
  /// W, `outputCount × inputCount`.
  public var weight: Matrix<Scalar>
  /// b, `outputCount` entries; `nil` for a layer without bias.
  public var bias: [Scalar]?

  /// The gradient of a loss with respect to W and b.
  public struct Gradient: Equatable, Sendable {
    /// ∂L/∂W, `outputCount × inputCount`.
    public var weight: Matrix<Scalar>
    /// ∂L/∂b; `nil` when the layer has no bias.
    public var bias: [Scalar]?
  }

  /// A layer with the given weights.
  /// - Precondition: `bias`, when present, has one entry per output.
  public init(weight: Matrix<Scalar>, bias: [Scalar]?) {
    precondition(
      bias.map { $0.count == weight.rows } ?? true,
      "Linear bias has \(bias?.count ?? 0) entries for \(weight.rows) outputs")
    self.weight = weight
    self.bias = bias
  }

  /// A layer initialised as PyTorch's `nn.Linear` does: W and b uniform in ±1/√inputs.
  public init<G: RandomNumberGenerator>(
    inputs: Int, outputs: Int, bias: Bool = true, using generator: inout G
  ) {
    let bound = 1 / Scalar(inputs).squareRoot()
    let weight = Matrix<Scalar>.uniform(
      rows: outputs, columns: inputs, in: -bound...bound, using: &generator)
    let bias =
      bias ? (0..<outputs).map { _ in Scalar.random(in: -bound...bound, using: &generator) } : nil
    self.init(weight: weight, bias: bias)
  }

  /// The number of inputs each row of x must have.
  public var inputCount: Int { weight.columns }
  /// The number of outputs per row.
  public var outputCount: Int { weight.rows }

  /// x·Wᵀ + b for every row of x.
  /// - Precondition: `x.columns == inputCount`.
  public func callAsFunction(_ x: Matrix<Scalar>) -> Matrix<Scalar> {
    // The bias fills y and the product accumulates onto it: one pass over y, not a zero
    // fill and then a pass adding the bias.
    var y = bias.map { Matrix(rows: x.rows, eachRow: $0) } ?? Matrix(rows: x.rows, columns: outputCount)
    BLAS.matmul(x, weight, transposeB: true, accumulateInto: &y)
    return y
  }

  /// ∂L/∂x = ∂L/∂y · W.
  public func inputGradient(outputGradient: Matrix<Scalar>) -> Matrix<Scalar> {
    BLAS.matmul(outputGradient, weight)
  }

  /// ∂L/∂W = (∂L/∂y)ᵀ·x and ∂L/∂b = Σ rows of ∂L/∂y, summed over every row of the batch.
  public func parameterGradient(input x: Matrix<Scalar>, outputGradient: Matrix<Scalar>)
    -> Gradient
  {
    Gradient(
      weight: BLAS.matmul(outputGradient, x, transposeA: true),
      bias: bias == nil ? nil : outputGradient.columnSums())
  }

  /// The same layer with every weight converted to another scalar type.
  public func converted<Other>(to _: Other.Type) -> Linear<Other> {
    Linear<Other>(weight: Matrix<Other>(weight), bias: bias?.map { Other($0) })
  }
}
