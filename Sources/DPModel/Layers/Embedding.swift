/// A lookup table: row `id` of `table` is the vector for token (or position, or segment) id.
public struct Embedding<Scalar: BLASScalar>: Equatable, Sendable {
  /// The vectors, one row per id.
  public var table: Matrix<Scalar>

  /// An embedding with the given table.
  public init(table: Matrix<Scalar>) { self.table = table }

  /// The rows of `table` for `ids`, one output row per id.
  /// - Precondition: every id is in `0..<table.rows` (the caller validates user input).
  public func callAsFunction(_ ids: [Int]) -> Matrix<Scalar> {
    let width = table.columns
    var output = Matrix<Scalar>(rows: ids.count, columns: width)
    output.withUnsafeMutableBufferPointer { out in
      table.values.withUnsafeBufferPointer { rows in
        for (row, id) in ids.enumerated() {
          precondition(id >= 0 && id < table.rows, "embedding id \(id) outside 0..<\(table.rows)")
          for column in 0..<width { out[row * width + column] = rows[id * width + column] }
        }
      }
    }
    return output
  }

  /// ∂L/∂table: each output row's gradient added to the row of its id.
  public func tableGradient(ids: [Int], outputGradient: Matrix<Scalar>) -> Matrix<Scalar> {
    precondition(
      outputGradient.rows == ids.count && outputGradient.columns == table.columns,
      "embedding gradient is \(outputGradient.rows)×\(outputGradient.columns) for \(ids.count) ids")
    var gradient = Matrix<Scalar>(rows: table.rows, columns: table.columns)
    for (row, id) in ids.enumerated() {
      for column in 0..<table.columns { gradient[id, column] += outputGradient[row, column] }
    }
    return gradient
  }
}
