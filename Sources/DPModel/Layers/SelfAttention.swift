import RealModule

/// Scaled dot-product attention over several heads, with a key padding mask:
/// for each example and head h, softmax(Q_h K_hᵀ/√d + M) V_h, where masked keys get −∞.
///
/// Q, K and V are the projected activations (one row per token, examples one after
/// another, heads side by side in the columns); the projections themselves are
/// ``Linear`` layers, possibly adapted, owned by the encoder layer.
public struct SelfAttention: Equatable, Sendable {
  /// The number of heads; the hidden width must be a multiple of it.
  public let heads: Int

  /// What the backward pass needs.
  public struct Cache<Scalar: BLASScalar>: Sendable {
    var query, key, value: Matrix<Scalar>
    /// Attention probabilities: rows (example·heads + head)·S ..< +S, S columns.
    var probabilities: Matrix<Scalar>
    var sequenceLength: Int
  }

  /// Attention with `heads` heads.
  /// - Precondition: `heads > 0`.
  public init(heads: Int) {
    precondition(heads > 0, "attention needs at least one head; got \(heads)")
    self.heads = heads
  }

  /// The attended context (same shape as `query`) and the cache for the backward pass.
  /// - Parameters:
  ///   - keyMask: one entry per row; `false` marks a padding token no query attends to.
  ///   - sequenceLength: tokens per example; the rows hold `rows / sequenceLength` examples.
  /// - Precondition: Q, K, V have one shape, its width divisible by `heads`; every example
  ///   has at least one unmasked key.
  public func forward<Scalar>(
    query: Matrix<Scalar>, key: Matrix<Scalar>, value: Matrix<Scalar>, keyMask: [Bool],
    sequenceLength: Int
  ) -> (Matrix<Scalar>, Cache<Scalar>) {
    let (examples, width) = checkShapes(query, key, value, keyMask, sequenceLength)
    let headWidth = width / heads
    let length = sequenceLength
    let scale = 1 / Scalar(headWidth).squareRoot()
    var probabilities = Matrix<Scalar>(rows: examples * heads * length, columns: length)
    var context = Matrix<Scalar>(rows: query.rows, columns: width)
    let keyOffsets = keyMask.map { $0 ? 0 : -Scalar.infinity }
    for example in 0..<examples {
      let tokens = (example * length)..<((example + 1) * length)
      for head in 0..<heads {
        let columns = (head * headWidth)..<((head + 1) * headWidth)
        let block = BLAS.Block(
          rows: ((example * heads + head) * length)..<((example * heads + head + 1) * length),
          columns: 0..<length)
        BLAS.matmul(
          query, block: .init(rows: tokens, columns: columns),
          key, block: .init(rows: tokens, columns: columns), transposeB: true,
          scale: scale, into: &probabilities, block: block)
        probabilities.withUnsafeMutableBufferPointer { p in
          keyOffsets.withUnsafeBufferPointer { offsets in
            for row in block.rows {
              Self.maskedSoftmax(
                p.baseAddress! + row * length,
                keyOffsets: offsets.baseAddress! + tokens.lowerBound, count: length)
            }
          }
        }
        BLAS.matmul(
          probabilities, block: block, value, block: .init(rows: tokens, columns: columns),
          into: &context, block: .init(rows: tokens, columns: columns))
      }
    }
    return (
      context,
      Cache(
        query: query, key: key, value: value, probabilities: probabilities, sequenceLength: length)
    )
  }

  /// ∂L/∂Q, ∂L/∂K and ∂L/∂V from ∂L/∂context.
  public func backward<Scalar>(_ cache: Cache<Scalar>, outputGradient: Matrix<Scalar>)
    -> (query: Matrix<Scalar>, key: Matrix<Scalar>, value: Matrix<Scalar>)
  {
    let length = cache.sequenceLength
    let width = cache.query.columns
    let headWidth = width / heads
    let examples = cache.query.rows / length
    let scale = 1 / Scalar(headWidth).squareRoot()
    var queryGradient = Matrix<Scalar>(rows: cache.query.rows, columns: width)
    var keyGradient = queryGradient
    var valueGradient = queryGradient
    var scores = Matrix<Scalar>(rows: length, columns: length)
    let whole = BLAS.Block(scores)
    for example in 0..<examples {
      let tokens = (example * length)..<((example + 1) * length)
      for head in 0..<heads {
        let slice = BLAS.Block(rows: tokens, columns: (head * headWidth)..<((head + 1) * headWidth))
        let block = BLAS.Block(
          rows: ((example * heads + head) * length)..<((example * heads + head + 1) * length),
          columns: 0..<length)
        // dV = Pᵀ dC;  dP = dC Vᵀ.
        BLAS.matmul(
          cache.probabilities, block: block, transposeA: true, outputGradient, block: slice,
          into: &valueGradient, block: slice)
        BLAS.matmul(
          outputGradient, block: slice, cache.value, block: slice, transposeB: true,
          into: &scores, block: whole)
        // dS = P ⊙ (dP − rowsum(dP ⊙ P)), the softmax Jacobian row by row.
        scores.withUnsafeMutableBufferPointer { ds in
          cache.probabilities.values.withUnsafeBufferPointer { p in
            for row in 0..<length {
              let base = (block.rows.lowerBound + row) * length
              var inner: Scalar = 0
              for column in 0..<length { inner += ds[row * length + column] * p[base + column] }
              for column in 0..<length {
                ds[row * length + column] = p[base + column] * (ds[row * length + column] - inner)
              }
            }
          }
        }
        // dQ = dS K /√d;  dK = dSᵀ Q /√d.
        BLAS.matmul(
          scores, block: whole, cache.key, block: slice, scale: scale,
          into: &queryGradient, block: slice)
        BLAS.matmul(
          scores, block: whole, transposeA: true, cache.query, block: slice, scale: scale,
          into: &keyGradient, block: slice)
      }
    }
    return (queryGradient, keyGradient, valueGradient)
  }

  /// Softmax in place over the `count` scores at `scores`, each first shifted by its
  /// key's offset (0, or −∞ for a masked key, which gets weight 0). Float runs sixteen
  /// scores at a time with ``vectorExp(_:)``; Double (gradient checks) uses libm's exp.
  @inline(__always)
  private static func maskedSoftmax<Scalar: BLASScalar>(
    _ scores: UnsafeMutablePointer<Scalar>, keyOffsets: UnsafePointer<Scalar>, count: Int
  ) {
    if Scalar.self == Float.self {
      floatMaskedSoftmax(
        UnsafeMutableRawPointer(scores).assumingMemoryBound(to: Float.self),
        keyOffsets: UnsafeRawPointer(keyOffsets).assumingMemoryBound(to: Float.self),
        count: count)
      return
    }
    var maximum = -Scalar.infinity
    for column in 0..<count {
      scores[column] += keyOffsets[column]
      maximum = Swift.max(maximum, scores[column])
    }
    var total: Scalar = 0
    for column in 0..<count {
      scores[column] = Scalar.exp(scores[column] - maximum)
      total += scores[column]
    }
    let inverse = 1 / total
    for column in 0..<count { scores[column] *= inverse }
  }

  private static func floatMaskedSoftmax(
    _ scores: UnsafeMutablePointer<Float>, keyOffsets: UnsafePointer<Float>, count: Int
  ) {
    typealias Lanes = SIMD16<Float>
    let whole = count / Lanes.scalarCount * Lanes.scalarCount
    let raw = UnsafeMutableRawPointer(scores)
    let offsets = UnsafeRawPointer(keyOffsets)
    let stride = MemoryLayout<Lanes>.stride
    var maxima = Lanes(repeating: -.infinity)
    for byte in Swift.stride(from: 0, to: whole * 4, by: stride) {
      let shifted =
        raw.loadUnaligned(fromByteOffset: byte, as: Lanes.self)
        + offsets.loadUnaligned(fromByteOffset: byte, as: Lanes.self)
      raw.storeBytes(of: shifted, toByteOffset: byte, as: Lanes.self)
      maxima.replace(with: shifted, where: shifted .> maxima)
    }
    var maximum = maxima.max()
    for column in whole..<count {
      scores[column] += keyOffsets[column]
      maximum = Swift.max(maximum, scores[column])
    }
    var totals = Lanes()
    for byte in Swift.stride(from: 0, to: whole * 4, by: stride) {
      let weights = vectorExp(raw.loadUnaligned(fromByteOffset: byte, as: Lanes.self) - maximum)
      raw.storeBytes(of: weights, toByteOffset: byte, as: Lanes.self)
      totals += weights
    }
    var total = totals.sum()
    for column in whole..<count {
      scores[column] = vectorExp(Lanes(repeating: scores[column] - maximum))[0]
      total += scores[column]
    }
    let inverse = 1 / total
    for column in 0..<count { scores[column] *= inverse }
  }

  private func checkShapes<Scalar>(
    _ query: Matrix<Scalar>, _ key: Matrix<Scalar>, _ value: Matrix<Scalar>, _ keyMask: [Bool],
    _ sequenceLength: Int
  ) -> (examples: Int, width: Int) {
    precondition(
      query.rows == key.rows && query.rows == value.rows && query.columns == key.columns
        && query.columns == value.columns,
      "attention: Q \(query.rows)×\(query.columns), K \(key.rows)×\(key.columns), V \(value.rows)×\(value.columns)"
    )
    precondition(
      query.columns % heads == 0,
      "attention width \(query.columns) is not a multiple of \(heads) heads")
    precondition(
      sequenceLength > 0 && query.rows % sequenceLength == 0 && keyMask.count == query.rows,
      "attention: \(query.rows) rows, sequence length \(sequenceLength), \(keyMask.count) mask entries"
    )
    let examples = query.rows / sequenceLength
    for example in 0..<examples {
      precondition(
        keyMask[(example * sequenceLength)..<((example + 1) * sequenceLength)].contains(true),
        "attention: example \(example) has every key masked")
    }
    return (examples, query.columns)
  }
}
