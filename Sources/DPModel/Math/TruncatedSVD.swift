import RealModule

/// The leading singular triplets of a matrix, by subspace iteration (Halko, Martinsson &
/// Tropp 2011, arXiv 0909.4061, Algorithm 4.4) with a one-sided Jacobi SVD of the small
/// projected matrix. Used to initialise Fed-SB's frozen factors from a public gradient.
public enum TruncatedSVD {
  /// U (`rows × rank`, orthonormal columns), the singular values in decreasing order, and
  /// V (`columns × rank`, orthonormal columns) with matrix ≈ U·diag(S)·Vᵀ.
  /// - Precondition: 1 ≤ rank ≤ min(rows, columns).
  public static func leading(
    _ matrix: Matrix<Double>, rank: Int, iterations: Int = 30, seed: UInt64 = 0
  ) -> (u: Matrix<Double>, singularValues: [Double], v: Matrix<Double>) {
    precondition(
      rank >= 1 && rank <= min(matrix.rows, matrix.columns),
      "rank must be in 1...\(min(matrix.rows, matrix.columns)); got \(rank)")
    var generator = Xoshiro256StarStar(seed: seed)
    var right = orthonormalized(
      Matrix(
        rows: matrix.columns, columns: rank,
        values: (0..<(matrix.columns * rank)).map { _ in
          generator.nextStandardNormal()
        }))
    var left = orthonormalized(BLAS.matmul(matrix, right))
    for _ in 0..<iterations {
      right = orthonormalized(BLAS.matmul(matrix, left, transposeA: true))
      left = orthonormalized(BLAS.matmul(matrix, right))
    }
    // matrix ≈ left · (leftᵀ · matrix · right) · rightᵀ; decompose the small middle.
    let middle = BLAS.matmul(BLAS.matmul(left, matrix, transposeA: true), right)
    let (smallU, values, smallV) = jacobi(middle)
    return (BLAS.matmul(left, smallU), values, BLAS.matmul(right, smallV))
  }

  /// Modified Gram–Schmidt on the columns (re-orthogonalised once); a column that
  /// vanishes is replaced by zeros.
  static func orthonormalized(_ matrix: Matrix<Double>) -> Matrix<Double> {
    var columns = (0..<matrix.columns).map { column in (0..<matrix.rows).map { matrix[$0, column] }
    }
    for _ in 0..<2 {
      for j in columns.indices {
        for k in 0..<j {
          let projection = zip(columns[j], columns[k]).reduce(0) { $0 + $1.0 * $1.1 }
          for i in columns[j].indices { columns[j][i] -= projection * columns[k][i] }
        }
        let norm = columns[j].reduce(0) { $0 + $1 * $1 }.squareRoot()
        columns[j] = norm > 0 ? columns[j].map { $0 / norm } : columns[j].map { _ in 0 }
      }
    }
    var result = Matrix<Double>(rows: matrix.rows, columns: matrix.columns)
    for j in columns.indices { for i in 0..<matrix.rows { result[i, j] = columns[j][i] } }
    return result
  }

  /// One-sided Jacobi SVD of a small square matrix: rotations orthogonalise its columns.
  static func jacobi(_ matrix: Matrix<Double>) -> (Matrix<Double>, [Double], Matrix<Double>) {
    let n = matrix.columns
    var work = matrix
    var rotations = Matrix<Double>(rows: n, columns: n)
    for i in 0..<n { rotations[i, i] = 1 }
    for _ in 0..<60 {
      var rotated = false
      for p in 0..<n {
        for q in (p + 1)..<n {
          var alpha = 0.0, beta = 0.0, gamma = 0.0
          for i in 0..<work.rows {
            alpha += work[i, p] * work[i, p]
            beta += work[i, q] * work[i, q]
            gamma += work[i, p] * work[i, q]
          }
          guard abs(gamma) > 1e-15 * (alpha * beta).squareRoot() else { continue }
          rotated = true
          let zeta = (beta - alpha) / (2 * gamma)
          let t = (zeta >= 0 ? 1 : -1) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
          let c = 1 / (1 + t * t).squareRoot()
          let s = c * t
          for i in 0..<work.rows {
            let (x, y) = (work[i, p], work[i, q])
            work[i, p] = c * x - s * y
            work[i, q] = s * x + c * y
          }
          for i in 0..<n {
            let (x, y) = (rotations[i, p], rotations[i, q])
            rotations[i, p] = c * x - s * y
            rotations[i, q] = s * x + c * y
          }
        }
      }
      if !rotated { break }
    }
    let norms = (0..<n).map { j in
      (0..<work.rows).reduce(0.0) { $0 + work[$1, j] * work[$1, j] }.squareRoot()
    }
    let order = norms.indices.sorted { norms[$0] > norms[$1] }
    var u = Matrix<Double>(rows: work.rows, columns: n)
    var v = Matrix<Double>(rows: n, columns: n)
    for (target, source) in order.enumerated() {
      for i in 0..<work.rows {
        u[i, target] = norms[source] > 0 ? work[i, source] / norms[source] : 0
      }
      for i in 0..<n { v[i, target] = rotations[i, source] }
    }
    return (u, order.map { norms[$0] }, v)
  }
}
