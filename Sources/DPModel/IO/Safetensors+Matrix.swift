extension Safetensors.Contents {
  /// The floating-point tensor `name` as a `rows × columns` matrix (a vector is 1 × n).
  /// - Throws: ``ModelError/tensorNotFound(file:tensor:)``,
  ///   ``ModelError/unexpectedDType(tensor:expected:actual:)`` for integer tensors,
  ///   ``ModelError/unexpectedShape(file:tensor:expected:actual:)``,
  ///   ``ModelError/nonFiniteWeight(file:tensor:index:value:)`` for a NaN or infinite element
  ///   (a pre-trained weight is never one; a model holding one would compute NaN, or trap).
  public func matrix<Scalar: BLASScalar>(
    _ name: String, rows: Int, columns: Int, as _: Scalar.Type = Scalar.self
  ) throws -> Matrix<Scalar> {
    let tensor = try tensor(named: name)
    guard tensor.dtype.isFloatingPoint else {
      throw ModelError.unexpectedDType(
        tensor: name, expected: "a floating-point dtype", actual: tensor.dtype)
    }
    let (elementCount, overflow) = rows.multipliedReportingOverflow(by: columns)
    guard !overflow, tensor.shape.reduce(1, *) == elementCount,
      tensor.shape == [rows, columns] || tensor.shape == [columns] && rows == 1
    else {
      throw ModelError.unexpectedShape(
        file: source, tensor: name, expected: rows == 1 ? [columns] : [rows, columns],
        actual: tensor.shape)
    }
    let values: [Scalar] =
      Scalar.self == Double.self
      ? tensor.doubleValues().map { Scalar($0) } : tensor.floatValues().map { Scalar($0) }
    if let index = values.firstIndex(where: { !$0.isFinite }) {
      throw ModelError.nonFiniteWeight(
        file: source, tensor: name, index: index, value: "\(values[index])")
    }
    return Matrix(rows: rows, columns: columns, values: values)
  }

  /// The floating-point vector `name` of `count` entries.
  public func vector<Scalar: BLASScalar>(
    _ name: String, count: Int, as _: Scalar.Type = Scalar.self
  )
    throws -> [Scalar]
  {
    try matrix(name, rows: 1, columns: count, as: Scalar.self).values
  }

  /// The linear layer `prefix.weight` (`outputs × inputs`) and `prefix.bias`.
  public func linear<Scalar: BLASScalar>(_ prefix: String, inputs: Int, outputs: Int)
    throws -> Linear<Scalar>
  {
    Linear(
      weight: try matrix("\(prefix).weight", rows: outputs, columns: inputs),
      bias: try vector("\(prefix).bias", count: outputs))
  }

  /// The layer norm `prefix.weight` (γ) and `prefix.bias` (β).
  public func layerNorm<Scalar: BLASScalar>(_ prefix: String, width: Int, epsilon: Double)
    throws -> LayerNorm<Scalar>
  {
    LayerNorm(
      gain: try vector("\(prefix).weight", count: width),
      shift: try vector("\(prefix).bias", count: width), epsilon: Scalar(epsilon))
  }
}
