/// The mean of each example's unmasked token rows, as sentence-transformers pools
/// all-MiniLM-L6-v2: Σₜ mₜhₜ / Σₜ mₜ over the tokens t of one example.
public enum MeanPooling {
  /// One row per example from a batch of `mask.count / sequenceLength` examples whose
  /// token rows follow one another.
  /// - Precondition: `x.rows == mask.count` and every example has an unmasked token.
  public static func forward<Scalar>(_ x: Matrix<Scalar>, mask: [Bool], sequenceLength: Int)
    -> Matrix<Scalar>
  {
    let examples = checkedExamples(rows: x.rows, mask: mask, sequenceLength: sequenceLength)
    var pooled = Matrix<Scalar>(rows: examples, columns: x.columns)
    for example in 0..<examples {
      let rows = (example * sequenceLength)..<((example + 1) * sequenceLength)
      let weight = 1 / Scalar(rows.filter { mask[$0] }.count)
      for row in rows where mask[row] {
        for column in 0..<x.columns { pooled[example, column] += weight * x[row, column] }
      }
    }
    return pooled
  }

  /// ∂L/∂hₜ = mₜ·∂L/∂pooled / Σₜ mₜ.
  public static func backward<Scalar>(
    outputGradient: Matrix<Scalar>, mask: [Bool], sequenceLength: Int
  ) -> Matrix<Scalar> {
    let examples = checkedExamples(rows: mask.count, mask: mask, sequenceLength: sequenceLength)
    precondition(
      outputGradient.rows == examples,
      "pooled gradient has \(outputGradient.rows) rows for \(examples) examples")
    var gradient = Matrix<Scalar>(rows: mask.count, columns: outputGradient.columns)
    for example in 0..<examples {
      let rows = (example * sequenceLength)..<((example + 1) * sequenceLength)
      let weight = 1 / Scalar(rows.filter { mask[$0] }.count)
      for row in rows where mask[row] {
        for column in 0..<outputGradient.columns {
          gradient[row, column] = weight * outputGradient[example, column]
        }
      }
    }
    return gradient
  }

  private static func checkedExamples(rows: Int, mask: [Bool], sequenceLength: Int) -> Int {
    precondition(
      sequenceLength > 0 && rows == mask.count && rows % sequenceLength == 0,
      "mean pooling: \(rows) rows, \(mask.count) mask entries, sequence length \(sequenceLength)")
    let examples = rows / sequenceLength
    for example in 0..<examples {
      precondition(
        mask[(example * sequenceLength)..<((example + 1) * sequenceLength)].contains(true),
        "mean pooling: example \(example) has no unmasked token")
    }
    return examples
  }
}

/// Row-wise L2 normalisation to a fixed norm: y = s·x/‖x‖. all-MiniLM-L6-v2's sentence
/// embedding is the normalised mean pooling; a classifier on the first blocks needs it
/// too, because a few hidden dimensions of a truncated BERT carry values far larger than
/// the rest and would swamp a linear head. s = √width keeps each coordinate near unit scale.
public enum RowNormalization {
  /// y = s·x/‖x‖ per row, and the norms ‖x‖ for the backward pass.
  /// - Precondition: no row is zero.
  public static func forward<Scalar>(_ x: Matrix<Scalar>, scale: Scalar) -> (
    Matrix<Scalar>, [Scalar]
  ) {
    var output = x
    var norms = [Scalar](repeating: 0, count: x.rows)
    for row in 0..<x.rows {
      let norm = (0..<x.columns).reduce(Scalar(0)) { $0 + x[row, $1] * x[row, $1] }.squareRoot()
      precondition(norm > 0, "row \(row) is zero and cannot be normalised")
      norms[row] = norm
      for column in 0..<x.columns { output[row, column] = scale * x[row, column] / norm }
    }
    return (output, norms)
  }

  /// ∂L/∂x = (s/‖x‖)(g − u·(uᵀg)) with u = x/‖x‖, row by row.
  public static func backward<Scalar>(
    output y: Matrix<Scalar>, norms: [Scalar], scale: Scalar, outputGradient g: Matrix<Scalar>
  ) -> Matrix<Scalar> {
    var result = g
    for row in 0..<g.rows {
      var inner: Scalar = 0
      for column in 0..<g.columns { inner += y[row, column] / scale * g[row, column] }
      for column in 0..<g.columns {
        result[row, column] = scale / norms[row] * (g[row, column] - y[row, column] / scale * inner)
      }
    }
    return result
  }
}
