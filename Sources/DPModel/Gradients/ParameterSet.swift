/// Named matrices in a fixed order: the trainable parameters of a model (adapter factors,
/// the task head), a gradient of them, or an update to them. The order is part of the
/// value, so flattening, norms and noise draws are reproducible.
public struct ParameterSet<Scalar: BLASScalar>: Equatable, Sendable, Codable {
  /// The names, in order; each appears once.
  public private(set) var names: [String]
  /// The matrices, in the order of ``names``.
  public private(set) var matrices: [Matrix<Scalar>]

  enum CodingKeys: String, CodingKey { case names, matrices }

  /// Decodes `{"names": [...], "matrices": [...]}`.
  /// - Throws: `DecodingError.dataCorrupted` for unequal counts or repeated names.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let names = try container.decode([String].self, forKey: .names)
    let matrices = try container.decode([Matrix<Scalar>].self, forKey: .matrices)
    guard names.count == matrices.count, Set(names).count == names.count else {
      throw DecodingError.dataCorruptedError(
        forKey: .names, in: container, debugDescription: "names must be unique, one per matrix")
    }
    self.names = names
    self.matrices = matrices
  }

  /// An empty set.
  public init() {
    names = []
    matrices = []
  }

  /// The pairs in order.
  /// - Precondition: names are unique.
  public init(_ pairs: [(String, Matrix<Scalar>)]) {
    self.init()
    for (name, matrix) in pairs { append(name, matrix) }
  }

  /// Adds `matrix` under `name` at the end.
  /// - Precondition: `name` is not already present.
  public mutating func append(_ name: String, _ matrix: Matrix<Scalar>) {
    precondition(!names.contains(name), "parameter \(name) appears twice")
    names.append(name)
    matrices.append(matrix)
  }

  /// Appends every entry of `other`, each name prefixed with `prefix`.
  public mutating func append(contentsOf other: ParameterSet, prefix: String = "") {
    for (name, matrix) in zip(other.names, other.matrices) { append(prefix + name, matrix) }
  }

  /// The matrix named `name`, if present; setting replaces it with one of the same shape.
  public subscript(name: String) -> Matrix<Scalar>? {
    get { names.firstIndex(of: name).map { matrices[$0] } }
    set {
      guard let index = names.firstIndex(of: name), let newValue else {
        preconditionFailure("no parameter \(name) to replace")
      }
      precondition(
        newValue.rows == matrices[index].rows && newValue.columns == matrices[index].columns,
        "parameter \(name) is \(matrices[index].rows)×\(matrices[index].columns); got \(newValue.rows)×\(newValue.columns)"
      )
      matrices[index] = newValue
    }
  }

  /// The total number of scalars.
  public var scalarCount: Int { matrices.reduce(0) { $0 + $1.count } }

  /// Every scalar, matrix after matrix in order.
  public func flattened() -> [Scalar] { matrices.flatMap(\.values) }

  /// A set of the same names and shapes holding `values` (as ``flattened()`` orders them).
  /// - Precondition: `values.count == scalarCount`.
  public func with(flattened values: [Scalar]) -> ParameterSet {
    precondition(
      values.count == scalarCount, "\(values.count) values for \(scalarCount) parameters")
    var result = self
    var offset = 0
    for (index, matrix) in matrices.enumerated() {
      result.matrices[index] = Matrix(
        rows: matrix.rows, columns: matrix.columns,
        values: Array(values[offset..<(offset + matrix.count)]))
      offset += matrix.count
    }
    return result
  }

  /// √(Σ of every scalar²).
  public var l2Norm: Scalar {
    matrices.reduce(0) { $0 + BLAS.dot($1, $1) }.squareRoot()
  }

  /// self ← self + α·other, matrix by matrix.
  /// - Precondition: the same names and shapes in the same order.
  public mutating func add(_ other: ParameterSet, scaledBy alpha: Scalar = 1) {
    precondition(names == other.names, "parameter sets differ: \(names) vs \(other.names)")
    for index in matrices.indices { BLAS.axpy(alpha, other.matrices[index], &matrices[index]) }
  }
}
