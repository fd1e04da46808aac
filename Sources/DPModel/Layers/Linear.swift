/// A fully connected layer y = x·Wᵀ + b, with W stored out × in as PyTorch stores it, so
/// safetensors weights load without a transpose.
public struct Linear<Scalar: BLASScalar>: Equatable, Sendable {
  /// W, `outputCount × inputCount`. Changing it drops ``bfloat16Weight``.
  public var weight: Matrix<Scalar> {
    didSet { bfloat16Weight = nil }
  }
  /// W rounded to bfloat16, which the products use instead of W when present
  /// (``useBFloat16Weight()``; Float layers only).
  public private(set) var bfloat16Weight: BFloat16Weight?
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
    if let bfloat16Weight, Scalar.self == Float.self {
      // A temporary, so that the product writes into it without a copy.
      var floats = unsafeBitCast(biasRows(x.rows), to: Matrix<Float>.self)
      bfloat16Weight.multiply(
        unsafeBitCast(x, to: Matrix<Float>.self), transposed: true, accumulateInto: &floats)
      return unsafeBitCast(floats, to: Matrix<Scalar>.self)
    }
    var y = biasRows(x.rows)
    BLAS.matmul(x, weight, transposeB: true, accumulateInto: &y)
    return y
  }

  /// `rows` rows of b (zeros without a bias), for the product to accumulate onto.
  private func biasRows(_ rows: Int) -> Matrix<Scalar> {
    bias.map { Matrix(rows: rows, eachRow: $0) } ?? Matrix(rows: rows, columns: outputCount)
  }

  /// ∂L/∂x = ∂L/∂y · W.
  public func inputGradient(outputGradient: Matrix<Scalar>) -> Matrix<Scalar> {
    if let bfloat16Weight, Scalar.self == Float.self {
      var floats = Matrix<Float>(rows: outputGradient.rows, columns: inputCount)
      bfloat16Weight.multiply(
        unsafeBitCast(outputGradient, to: Matrix<Float>.self), transposed: false,
        accumulateInto: &floats)
      return unsafeBitCast(floats, to: Matrix<Scalar>.self)
    }
    return BLAS.matmul(outputGradient, weight)
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

extension Linear where Scalar == Float {
  /// Runs the layer's products with W rounded to bfloat16 (``BFloat16Weight``), its inputs
  /// rounded too and the sums in Float32: for a frozen W only (a change to W drops the
  /// rounded copy, and the layer computes in Float32 again).
  /// - Precondition: ``BFloat16Weight/isSupported``.
  public mutating func useBFloat16Weight() {
    precondition(BFloat16Weight.isSupported, "this CPU cannot run oneDNN's bfloat16 products")
    bfloat16Weight = BFloat16Weight(weight)
  }
}
