/// A dense row-major matrix of `Float` (training) or `Double` (gradient checks).
///
/// Storage is a Swift array, so copies share it until one of them is written
/// (copy-on-write). A batch of token activations is one matrix with a row per token,
/// examples one after another; a vector is a 1×n matrix.
///
/// Invariant: `values.count == rows × columns`. Shape mismatches are programming errors
/// and trap with the shapes named.
public struct Matrix<Scalar: BLASScalar>: Equatable, Sendable, Codable {
  /// Number of rows.
  public let rows: Int
  /// Number of columns.
  public let columns: Int
  /// The entries, row after row.
  public private(set) var values: [Scalar]

  /// A matrix of the given shape, every entry `value` (zero by default).
  /// - Precondition: `rows ≥ 0` and `columns ≥ 0`.
  public init(rows: Int, columns: Int, repeating value: Scalar = 0) {
    precondition(
      rows >= 0 && columns >= 0, "Matrix shape must be non-negative; got \(rows)×\(columns)")
    self.rows = rows
    self.columns = columns
    self.values = [Scalar](repeating: value, count: rows * columns)
  }

  /// A matrix holding `values` row after row.
  /// - Precondition: `values.count == rows × columns`.
  public init(rows: Int, columns: Int, values: [Scalar]) {
    precondition(
      rows >= 0 && columns >= 0 && values.count == rows * columns,
      "Matrix \(rows)×\(columns) needs \(rows * columns) values; got \(values.count)")
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  enum CodingKeys: String, CodingKey { case rows, columns, values }

  /// Decodes `{"rows": r, "columns": c, "values": [...]}`.
  /// - Throws: `DecodingError.dataCorrupted` when the value count is not rows × columns.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let rows = try container.decode(Int.self, forKey: .rows)
    let columns = try container.decode(Int.self, forKey: .columns)
    let values = try container.decode([Scalar].self, forKey: .values)
    let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
    guard rows >= 0, columns >= 0, !overflow, values.count == count else {
      throw DecodingError.dataCorruptedError(
        forKey: .values, in: container,
        debugDescription:
          "a \(rows)×\(columns) matrix needs \(overflow ? "more" : "\(count)") values; got \(values.count)")
    }
    self.init(rows: rows, columns: columns, values: values)
  }

  /// The same entries converted to another scalar type (e.g. Float weights to Double for
  /// a gradient check).
  public init<Other>(_ other: Matrix<Other>) {
    self.init(rows: other.rows, columns: other.columns, values: other.values.map { Scalar($0) })
  }

  /// The number of entries.
  public var count: Int { values.count }

  /// The entry at `row`, `column`.
  public subscript(row: Int, column: Int) -> Scalar {
    get {
      precondition(
        row >= 0 && row < rows && column >= 0 && column < columns,
        "Matrix index (\(row), \(column)) is outside \(rows)×\(columns)")
      return values[row * columns + column]
    }
    set {
      precondition(
        row >= 0 && row < rows && column >= 0 && column < columns,
        "Matrix index (\(row), \(column)) is outside \(rows)×\(columns)")
      values[row * columns + column] = newValue
    }
  }

  /// Calls `body` with the entries, row after row, for in-place work.
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R
  ) rethrows -> R {
    try values.withUnsafeMutableBufferPointer(body)
  }

  /// The rows in `range` as a new matrix.
  public func rows(_ range: Range<Int>) -> Matrix {
    precondition(
      range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) outside 0..<\(rows)")
    return Matrix(
      rows: range.count, columns: columns,
      values: Array(values[(range.lowerBound * columns)..<(range.upperBound * columns)]))
  }

  /// The rows of `parts`, one part after another.
  /// - Precondition: at least one part, all with the same number of columns.
  public init(stacking parts: [Matrix]) {
    precondition(
      !parts.isEmpty && parts.allSatisfy { $0.columns == parts[0].columns },
      "stacking needs matrices of one width; got \(parts.map { "\($0.rows)×\($0.columns)" })")
    self.init(
      rows: parts.reduce(0) { $0 + $1.rows }, columns: parts[0].columns,
      values: parts.flatMap(\.values))
  }

  /// The columns in `range` as a new matrix.
  public func columns(_ range: Range<Int>) -> Matrix {
    precondition(
      range.lowerBound >= 0 && range.upperBound <= columns,
      "columns \(range) outside 0..<\(columns)")
    var result = Matrix(rows: rows, columns: range.count)
    for row in 0..<rows {
      for (offset, column) in range.enumerated() {
        result.values[row * range.count + offset] = values[row * columns + column]
      }
    }
    return result
  }

  /// The transpose.
  public func transposed() -> Matrix {
    var result = Matrix(rows: columns, columns: rows)
    for row in 0..<rows {
      for column in 0..<columns {
        result.values[column * rows + row] = values[row * columns + column]
      }
    }
    return result
  }

  /// The same entries read as `rows × columns`.
  /// - Precondition: the entry count is unchanged.
  public func reshaped(rows: Int, columns: Int) -> Matrix {
    Matrix(rows: rows, columns: columns, values: values)
  }

  /// Every entry transformed by `transform`.
  public func map(_ transform: (Scalar) -> Scalar) -> Matrix {
    Matrix(rows: rows, columns: columns, values: values.map(transform))
  }

  /// √(Σ entries²).
  public var frobeniusNorm: Scalar { BLAS.dot(self, self).squareRoot() }

  /// Entries drawn uniformly from `range`, e.g. LoRA's A in ±1/√(fan-in).
  public static func uniform<G: RandomNumberGenerator>(
    rows: Int, columns: Int, in range: ClosedRange<Scalar>, using generator: inout G
  ) -> Matrix {
    Matrix(
      rows: rows, columns: columns,
      values: (0..<(rows * columns)).map { _ in Scalar.random(in: range, using: &generator) })
  }

  /// The sum of two matrices of one shape.
  public static func + (lhs: Matrix, rhs: Matrix) -> Matrix {
    var result = lhs
    BLAS.axpy(1, rhs, &result)
    return result
  }

  /// The difference of two matrices of one shape.
  public static func - (lhs: Matrix, rhs: Matrix) -> Matrix {
    var result = lhs
    BLAS.axpy(-1, rhs, &result)
    return result
  }

  /// Every entry multiplied by `scalar`.
  public static func * (scalar: Scalar, matrix: Matrix) -> Matrix {
    var result = matrix
    BLAS.scale(&result, by: scalar)
    return result
  }

  /// `rows` copies of `row`, one under another (a bias broadcast over a batch).
  public init(rows: Int, eachRow row: [Scalar]) {
    let values = [Scalar](unsafeUninitializedCapacity: rows * row.count) { buffer, count in
      row.withUnsafeBufferPointer { source in
        for index in 0..<rows {
          _ = UnsafeMutableBufferPointer(rebasing: buffer[(index * row.count)...])
            .initialize(from: source)
        }
      }
      count = rows * row.count
    }
    self.init(rows: rows, columns: row.count, values: values)
  }

  /// The sum of the rows (a bias gradient).
  public func columnSums() -> [Scalar] {
    var sums = [Scalar](repeating: 0, count: columns)
    for row in 0..<rows {
      for column in 0..<columns { sums[column] += values[row * columns + column] }
    }
    return sums
  }
}
