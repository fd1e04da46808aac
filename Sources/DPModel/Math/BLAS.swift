import COpenBLAS
import RealModule

/// The element types the model core computes in: `Float` for training, `Double` for
/// gradient checks. Each supplies the handful of CBLAS kernels the layers need; the
/// conformances below are the only place in dpfl that calls CBLAS.
///
/// Every kernel takes raw pointers with explicit leading dimensions, so a layer can work
/// on a block of a larger matrix (one attention head, one example's rows) without copying.
/// Callers go through ``BLAS``, which checks shapes first.
public protocol BLASScalar: Real, BinaryFloatingPoint, Codable, Sendable
where RawSignificand: FixedWidthInteger {
  /// C ← α·op(A)·op(B) + β·C, row-major; op(A) is m×k, op(B) is k×n.
  static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Self, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
    beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
  /// y ← α·op(A)·x + β·y, row-major; A is m×n.
  static func gemv(
    transpose: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
    x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)
  /// y ← α·x + y over n contiguous elements.
  static func axpy(n: Int, alpha: Self, x: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>)
  /// Σ xᵢyᵢ over n contiguous elements.
  static func dot(n: Int, x: UnsafePointer<Self>, y: UnsafePointer<Self>) -> Self
  /// x ← α·x over n contiguous elements.
  static func scal(n: Int, alpha: Self, x: UnsafeMutablePointer<Self>)
}

extension Float: BLASScalar {
  public static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_sgemm(
      CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }

  public static func gemv(
    transpose: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
  ) {
    cblas_sgemv(
      CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a,
      Int32(lda), x, 1, beta, y, 1)
  }

  public static func axpy(
    n: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
  ) {
    cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
  }

  public static func dot(n: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
    cblas_sdot(Int32(n), x, 1, y, 1)
  }

  public static func scal(n: Int, alpha: Float, x: UnsafeMutablePointer<Float>) {
    cblas_sscal(Int32(n), alpha, x, 1)
  }
}

extension Double: BLASScalar {
  public static func gemm(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
    beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    cblas_dgemm(
      CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }

  public static func gemv(
    transpose: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
    x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>
  ) {
    cblas_dgemv(
      CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a,
      Int32(lda), x, 1, beta, y, 1)
  }

  public static func axpy(
    n: Int, alpha: Double, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>
  ) {
    cblas_daxpy(Int32(n), alpha, x, 1, y, 1)
  }

  public static func dot(n: Int, x: UnsafePointer<Double>, y: UnsafePointer<Double>) -> Double {
    cblas_ddot(Int32(n), x, 1, y, 1)
  }

  public static func scal(n: Int, alpha: Double, x: UnsafeMutablePointer<Double>) {
    cblas_dscal(Int32(n), alpha, x, 1)
  }
}

/// Shape-checked linear algebra on ``Matrix``. Every product in the model core goes
/// through here; a shape mismatch is a programming error and traps with the shapes named.
public enum BLAS {
  /// The product op(a)·op(b), where op transposes when asked.
  /// - Precondition: the inner dimensions agree.
  public static func matmul<Scalar>(
    _ a: Matrix<Scalar>, _ b: Matrix<Scalar>, transposeA: Bool = false,
    transposeB: Bool = false, scale: Scalar = 1
  ) -> Matrix<Scalar> {
    let m = transposeA ? a.columns : a.rows
    let n = transposeB ? b.rows : b.columns
    var c = Matrix<Scalar>(rows: m, columns: n)
    matmul(a, b, transposeA: transposeA, transposeB: transposeB, scale: scale, accumulateInto: &c)
    return c
  }

  /// c ← scale·op(a)·op(b) + c (or + 0·c when `overwrite`).
  /// - Precondition: the inner dimensions agree and c has the product's shape.
  public static func matmul<Scalar>(
    _ a: Matrix<Scalar>, _ b: Matrix<Scalar>, transposeA: Bool = false,
    transposeB: Bool = false, scale: Scalar = 1, accumulateInto c: inout Matrix<Scalar>
  ) {
    let (m, k) = transposeA ? (a.columns, a.rows) : (a.rows, a.columns)
    let (kb, n) = transposeB ? (b.columns, b.rows) : (b.rows, b.columns)
    precondition(
      k == kb && c.rows == m && c.columns == n,
      "matmul: op(a) is \(m)×\(k), op(b) is \(kb)×\(n), c is \(c.rows)×\(c.columns)")
    guard m > 0, n > 0, k > 0 else { return }
    a.values.withUnsafeBufferPointer { pa in
      b.values.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          Scalar.gemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: scale,
            a: pa.baseAddress!, lda: a.columns, b: pb.baseAddress!, ldb: b.columns, beta: 1,
            c: pc.baseAddress!, ldc: n)
        }
      }
    }
  }

  /// op(a)·x for a vector x.
  /// - Precondition: x has as many entries as op(a) has columns.
  public static func matvec<Scalar>(
    _ a: Matrix<Scalar>, _ x: [Scalar], transpose: Bool = false
  ) -> [Scalar] {
    let (inner, outer) = transpose ? (a.rows, a.columns) : (a.columns, a.rows)
    precondition(
      x.count == inner, "matvec: op(a) has \(inner) columns, x has \(x.count) entries")
    var y = [Scalar](repeating: 0, count: outer)
    guard inner > 0, outer > 0 else { return y }
    a.values.withUnsafeBufferPointer { pa in
      x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
          Scalar.gemv(
            transpose: transpose, m: a.rows, n: a.columns, alpha: 1, a: pa.baseAddress!,
            lda: a.columns, x: px.baseAddress!, beta: 0, y: py.baseAddress!)
        }
      }
    }
    return y
  }

  /// y ← y + α·x, elementwise over matrices of one shape.
  /// - Precondition: x and y have the same shape.
  public static func axpy<Scalar>(_ alpha: Scalar, _ x: Matrix<Scalar>, _ y: inout Matrix<Scalar>) {
    precondition(
      x.rows == y.rows && x.columns == y.columns,
      "axpy: x is \(x.rows)×\(x.columns), y is \(y.rows)×\(y.columns)")
    guard x.count > 0 else { return }
    x.values.withUnsafeBufferPointer { px in
      y.withUnsafeMutableBufferPointer { py in
        Scalar.axpy(n: px.count, alpha: alpha, x: px.baseAddress!, y: py.baseAddress!)
      }
    }
  }

  /// Σ xᵢyᵢ over all entries of two matrices of one shape.
  /// - Precondition: x and y have the same shape.
  public static func dot<Scalar>(_ x: Matrix<Scalar>, _ y: Matrix<Scalar>) -> Scalar {
    precondition(
      x.rows == y.rows && x.columns == y.columns,
      "dot: x is \(x.rows)×\(x.columns), y is \(y.rows)×\(y.columns)")
    guard x.count > 0 else { return 0 }
    return x.values.withUnsafeBufferPointer { px in
      y.values.withUnsafeBufferPointer { py in
        Scalar.dot(n: px.count, x: px.baseAddress!, y: py.baseAddress!)
      }
    }
  }

  /// x ← α·x.
  public static func scale<Scalar>(_ x: inout Matrix<Scalar>, by alpha: Scalar) {
    guard x.count > 0 else { return }
    x.withUnsafeMutableBufferPointer { px in
      Scalar.scal(n: px.count, alpha: alpha, x: px.baseAddress!)
    }
  }
}

extension BLAS {
  /// A rectangular block of a matrix: the rows and columns it spans.
  public struct Block: Equatable, Sendable {
    /// The rows the block spans.
    public var rows: Range<Int>
    /// The columns the block spans.
    public var columns: Range<Int>

    /// The block spanning `rows` and `columns`.
    public init(rows: Range<Int>, columns: Range<Int>) {
      self.rows = rows
      self.columns = columns
    }

    /// The whole of `matrix`.
    public init<Scalar>(_ matrix: Matrix<Scalar>) {
      self.init(rows: 0..<matrix.rows, columns: 0..<matrix.columns)
    }

    func shape(transposed: Bool) -> (Int, Int) {
      transposed ? (columns.count, rows.count) : (rows.count, columns.count)
    }

    func isInside<Scalar>(_ matrix: Matrix<Scalar>) -> Bool {
      rows.lowerBound >= 0 && rows.upperBound <= matrix.rows && columns.lowerBound >= 0
        && columns.upperBound <= matrix.columns
    }
  }

  /// c[cBlock] ← scale·op(a[aBlock])·op(b[bBlock]) + beta·c[cBlock], without copying the
  /// blocks: one attention head's columns, or one example's rows, are products in place.
  /// - Precondition: every block lies inside its matrix and the shapes agree.
  public static func matmul<Scalar>(
    _ a: Matrix<Scalar>, block aBlock: Block, transposeA: Bool = false,
    _ b: Matrix<Scalar>, block bBlock: Block, transposeB: Bool = false,
    scale: Scalar = 1, beta: Scalar = 0,
    into c: inout Matrix<Scalar>, block cBlock: Block
  ) {
    let (m, k) = aBlock.shape(transposed: transposeA)
    let (kb, n) = bBlock.shape(transposed: transposeB)
    precondition(
      aBlock.isInside(a) && bBlock.isInside(b) && cBlock.isInside(c),
      "matmul: a block \(aBlock) of \(a.rows)×\(a.columns), b block \(bBlock) of "
        + "\(b.rows)×\(b.columns), c block \(cBlock) of \(c.rows)×\(c.columns)")
    precondition(
      k == kb && cBlock.rows.count == m && cBlock.columns.count == n,
      "matmul: op(a) is \(m)×\(k), op(b) is \(kb)×\(n), c block is "
        + "\(cBlock.rows.count)×\(cBlock.columns.count)")
    guard m > 0, n > 0 else { return }
    guard k > 0 else {
      // An empty product: c ← beta·c, block by block.
      for row in cBlock.rows { for column in cBlock.columns { c[row, column] *= beta } }
      return
    }
    let ldc = c.columns
    a.values.withUnsafeBufferPointer { pa in
      b.values.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          Scalar.gemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: scale,
            a: pa.baseAddress! + aBlock.rows.lowerBound * a.columns + aBlock.columns.lowerBound,
            lda: a.columns,
            b: pb.baseAddress! + bBlock.rows.lowerBound * b.columns + bBlock.columns.lowerBound,
            ldb: b.columns, beta: beta,
            c: pc.baseAddress! + cBlock.rows.lowerBound * ldc + cBlock.columns.lowerBound,
            ldc: ldc)
        }
      }
    }
  }
}
