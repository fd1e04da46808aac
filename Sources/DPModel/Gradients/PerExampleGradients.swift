/// The gradient of every trainable parameter for each example of a batch, as a value:
/// one block per parameter, each an `examples × parameter size` matrix whose row i is
/// example i's gradient of that parameter, flattened row-major.
///
/// This is what record-level DP-SGD needs: each example's gradient norm (over all
/// parameters), each example's clipped gradient, and their sum. Nothing is stored on the
/// parameters themselves.
public struct PerExampleGradients<Scalar: BLASScalar>: Equatable, Sendable {
  /// The number of examples (rows of every block).
  public let examples: Int
  /// Parameter names, shapes and per-example blocks, in the model's parameter order.
  public private(set) var names: [String] = []
  /// The shape (rows, columns) of each parameter.
  public private(set) var shapes: [(rows: Int, columns: Int)] = []
  /// `examples × (rows·columns)` per parameter.
  public private(set) var blocks: [Matrix<Scalar>] = []

  /// An empty collection for a batch of `examples`.
  public init(examples: Int) { self.examples = examples }

  public static func == (lhs: Self, rhs: Self) -> Bool {
    lhs.examples == rhs.examples && lhs.names == rhs.names && lhs.blocks == rhs.blocks
      && lhs.shapes.elementsEqual(rhs.shapes) { $0 == $1 }
  }

  /// Adds the per-example gradients of one parameter of shape `rows × columns`.
  /// - Precondition: `block` is `examples × (rows·columns)` and `name` is new.
  public mutating func append(_ name: String, rows: Int, columns: Int, block: Matrix<Scalar>) {
    precondition(
      block.rows == examples && block.columns == rows * columns,
      "per-example block for \(name) is \(block.rows)×\(block.columns); expected \(examples)×\(rows * columns)"
    )
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
        columns: other.shapes[index].columns, block: other.blocks[index])
    }
  }

  /// Each example's gradient as a ``ParameterSet``.
  public func gradient(ofExample example: Int) -> ParameterSet<Scalar> {
    ParameterSet(
      names.indices.map { index in
        (
          names[index],
          blocks[index].rows(example..<(example + 1))
            .reshaped(rows: shapes[index].rows, columns: shapes[index].columns)
        )
      })
  }

  /// ‖gᵢ‖₂ over all parameters, per example.
  public func norms() -> [Scalar] {
    var squares = [Scalar](repeating: 0, count: examples)
    for block in blocks where block.columns > 0 {
      block.values.withUnsafeBufferPointer { values in
        for example in 0..<examples {
          let row = values.baseAddress! + example * block.columns
          squares[example] += Scalar.dot(n: block.columns, x: row, y: row)
        }
      }
    }
    return squares.map { $0.squareRoot() }
  }

  /// Σᵢ wᵢ·gᵢ as a ``ParameterSet``: one matrix–vector product per parameter.
  /// - Precondition: one weight per example.
  public func weightedSum(_ weights: [Scalar]) -> ParameterSet<Scalar> {
    precondition(weights.count == examples, "\(weights.count) weights for \(examples) examples")
    return ParameterSet(
      names.indices.map { index in
        (
          names[index],
          Matrix(
            rows: shapes[index].rows, columns: shapes[index].columns,
            values: BLAS.matvec(blocks[index], weights, transpose: true))
        )
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
