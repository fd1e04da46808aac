/// The gradient of every trainable parameter for each example of a batch, as a value:
/// one block per parameter whose row i is example i's gradient of that parameter,
/// flattened row-major.
///
/// This is what record-level DP-SGD needs: each example's gradient norm (over all
/// parameters), each example's clipped gradient, and their sum. Nothing is stored on the
/// parameters themselves. A weight whose example gradients are outer products gᵢxᵢᵀ (a
/// layer that sees one row per example, as the perceptron's do) is kept as its two
/// factors, never formed: ‖gᵢxᵢᵀ‖ = ‖gᵢ‖·‖xᵢ‖ and Σᵢ wᵢgᵢxᵢᵀ = gᵀ·diag(w)·x is one
/// matrix product (Goodfellow 2015's per-example norm; Li et al. 2022's ghost clipping).
public struct PerExampleGradients<Scalar: BLASScalar>: Equatable, Sendable {
  /// One parameter's per-example gradients.
  public enum Block: Equatable, Sendable {
    /// `examples × (rows·columns)`: row i is example i's gradient.
    case dense(Matrix<Scalar>)
    /// Example i's gradient is the outer product of row i of `outputGradients`
    /// (`examples × rows`) and row i of `inputs` (`examples × columns`).
    case outerProducts(outputGradients: Matrix<Scalar>, inputs: Matrix<Scalar>)
  }

  /// The number of examples (rows of every block).
  public let examples: Int
  /// Parameter names, shapes and per-example blocks, in the model's parameter order.
  public private(set) var names: [String] = []
  /// The shape (rows, columns) of each parameter.
  public private(set) var shapes: [(rows: Int, columns: Int)] = []
  /// The per-example gradients of each parameter.
  public private(set) var blocks: [Block] = []

  /// An empty collection for a batch of `examples`.
  public init(examples: Int) { self.examples = examples }

  /// Equal gradients, whether kept as factors or formed.
  public static func == (lhs: Self, rhs: Self) -> Bool {
    lhs.examples == rhs.examples && lhs.names == rhs.names
      && lhs.shapes.elementsEqual(rhs.shapes) { $0 == $1 }
      && zip(lhs.blocks, rhs.blocks).allSatisfy { Self.formed($0) == Self.formed($1) }
  }

  /// Adds the per-example gradients of one parameter of shape `rows × columns`.
  /// - Precondition: `block` is `examples × (rows·columns)` and `name` is new.
  public mutating func append(_ name: String, rows: Int, columns: Int, block: Matrix<Scalar>) {
    precondition(
      block.rows == examples && block.columns == rows * columns,
      "per-example block for \(name) is \(block.rows)×\(block.columns); expected \(examples)×\(rows * columns)"
    )
    append(name, rows: rows, columns: columns, .dense(block))
  }

  /// Adds a weight whose example i's gradient is `outputGradients` row i (`examples × rows`)
  /// times `inputs` row i (`examples × columns`) transposed, kept as those factors.
  /// - Precondition: both have a row per example and `name` is new.
  public mutating func append(
    _ name: String, outputGradients: Matrix<Scalar>, inputs: Matrix<Scalar>
  ) {
    precondition(
      outputGradients.rows == examples && inputs.rows == examples,
      "outer-product factors for \(name) have \(outputGradients.rows) and \(inputs.rows) rows; expected \(examples)"
    )
    append(
      name, rows: outputGradients.columns, columns: inputs.columns,
      .outerProducts(outputGradients: outputGradients, inputs: inputs))
  }

  private mutating func append(_ name: String, rows: Int, columns: Int, _ block: Block) {
    precondition(!names.contains(name), "parameter \(name) appears twice")
    names.append(name)
    shapes.append((rows, columns))
    blocks.append(block)
  }

  /// Appends every block of `other`, names prefixed with `prefix`.
  public mutating func append(contentsOf other: PerExampleGradients, prefix: String = "") {
    precondition(other.examples == examples, "batch sizes differ: \(examples) vs \(other.examples)")
    for index in other.names.indices {
      append(
        prefix + other.names[index], rows: other.shapes[index].rows,
        columns: other.shapes[index].columns, other.blocks[index])
    }
  }

  /// The examples of `parts` one after another: the gradients of a batch computed in parts.
  /// - Precondition: at least one part; all have the same parameters and shapes, and a
  ///   parameter is kept as factors in all of them or in none.
  public init(stacking parts: [PerExampleGradients]) {
    precondition(!parts.isEmpty, "stacking needs at least one part")
    self.init(examples: parts.reduce(0) { $0 + $1.examples })
    let first = parts[0]
    for index in first.names.indices {
      precondition(
        parts.allSatisfy {
          $0.names[index] == first.names[index] && $0.shapes[index] == first.shapes[index]
        }, "the parts' parameters differ at \(first.names[index])")
      let blocks = parts.map { $0.blocks[index] }
      let stacked: Block
      switch first.blocks[index] {
      case .dense:
        stacked = .dense(Matrix(stacking: blocks.map(Self.formed)))
      case .outerProducts:
        let factors = blocks.map { block in
          guard case .outerProducts(let gradients, let inputs) = block else {
            preconditionFailure("\(first.names[index]) is factored in one part only")
          }
          return (gradients, inputs)
        }
        stacked = .outerProducts(
          outputGradients: Matrix(stacking: factors.map(\.0)),
          inputs: Matrix(stacking: factors.map(\.1)))
      }
      append(
        first.names[index], rows: first.shapes[index].rows, columns: first.shapes[index].columns,
        stacked)
    }
  }

  /// One row holding Σᵢ gᵢ: what a batch gradient computed in parts adds up to.
  public func summedOverExamples() -> PerExampleGradients {
    var result = PerExampleGradients(examples: 1)
    for (name, matrix) in zip(names, sum().matrices) {
      result.append(
        name, rows: matrix.rows, columns: matrix.columns,
        block: Matrix(rows: 1, columns: matrix.count, values: matrix.values))
    }
    return result
  }

  /// The `examples × (rows·columns)` matrix of a block, formed from its factors if need be.
  static func formed(_ block: Block) -> Matrix<Scalar> {
    switch block {
    case .dense(let matrix): return matrix
    case .outerProducts(let gradients, let inputs):
      return Matrix(
        rows: gradients.rows, columns: gradients.columns * inputs.columns,
        values: (0..<gradients.rows).flatMap { formedRow(block, example: $0) })
    }
  }

  /// Example `example`'s gradient in a block, flattened row-major.
  static func formedRow(_ block: Block, example: Int) -> [Scalar] {
    switch block {
    case .dense(let matrix): return matrix.rows(example..<(example + 1)).values
    case .outerProducts(let gradients, let inputs):
      return (0..<gradients.columns).flatMap { row in
        (0..<inputs.columns).map { gradients[example, row] * inputs[example, $0] }
      }
    }
  }

  /// Each example's gradient as a ``ParameterSet``.
  public func gradient(ofExample example: Int) -> ParameterSet<Scalar> {
    ParameterSet(
      names.indices.map { index in
        (
          names[index],
          Matrix(
            rows: shapes[index].rows, columns: shapes[index].columns,
            values: Self.formedRow(blocks[index], example: example))
        )
      })
  }

  /// ‖gᵢ‖₂ over all parameters, per example.
  public func norms() -> [Scalar] {
    var squares = [Scalar](repeating: 0, count: examples)
    for block in blocks {
      switch block {
      case .dense(let matrix):
        let rowSquares = Self.rowSquares(matrix)
        for example in 0..<examples { squares[example] += rowSquares[example] }
      case .outerProducts(let gradients, let inputs):
        let gradientSquares = Self.rowSquares(gradients)
        let inputSquares = Self.rowSquares(inputs)
        for example in 0..<examples {
          squares[example] += gradientSquares[example] * inputSquares[example]
        }
      }
    }
    return squares.map { $0.squareRoot() }
  }

  /// The squared L2 norm of each row.
  private static func rowSquares(_ matrix: Matrix<Scalar>) -> [Scalar] {
    guard matrix.columns > 0 else { return [Scalar](repeating: 0, count: matrix.rows) }
    return matrix.values.withUnsafeBufferPointer { values in
      (0..<matrix.rows).map { row in
        let start = values.baseAddress! + row * matrix.columns
        return Scalar.dot(n: matrix.columns, x: start, y: start)
      }
    }
  }

  /// Σᵢ wᵢ·gᵢ as a ``ParameterSet``: one matrix–vector product per formed parameter, one
  /// matrix product per factored one.
  /// - Precondition: one weight per example.
  public func weightedSum(_ weights: [Scalar]) -> ParameterSet<Scalar> {
    precondition(weights.count == examples, "\(weights.count) weights for \(examples) examples")
    return ParameterSet(
      names.indices.map { index in
        let (rows, columns) = shapes[index]
        switch blocks[index] {
        case .dense(let matrix):
          return (
            names[index],
            Matrix(
              rows: rows, columns: columns,
              values: BLAS.matvec(matrix, weights, transpose: true))
          )
        case .outerProducts(let gradients, var inputs):
          for example in 0..<examples where weights[example] != 1 {
            for column in 0..<columns { inputs[example, column] *= weights[example] }
          }
          return (names[index], BLAS.matmul(gradients, inputs, transposeA: true))
        }
      })
  }

  /// Σᵢ gᵢ: the gradient of the summed loss.
  public func sum() -> ParameterSet<Scalar> {
    weightedSum([Scalar](repeating: 1, count: examples))
  }

  /// Σᵢ min(1, C/‖gᵢ‖)·gᵢ, each example clipped to L2 norm `clippingBound` before the sum
  /// (DP-SGD's clip-and-accumulate), with the norms before clipping.
  ///
  /// An example with ‖gᵢ‖ = 0 has factor 1 (nothing to scale); no constant is added to
  /// the norm, so a clipped example has norm exactly C up to rounding.
  /// - Precondition: `clippingBound > 0`.
  public func clippedSum(clippingBound: Scalar) -> (sum: ParameterSet<Scalar>, norms: [Scalar]) {
    precondition(clippingBound > 0, "clipping bound must be > 0; got \(clippingBound)")
    let norms = norms()
    let factors = norms.map { $0 > clippingBound ? clippingBound / $0 : 1 }
    return (weightedSum(factors), norms)
  }
}
