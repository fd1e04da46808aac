/// The computation every LoRA-family adapter shares: the additive output
/// Δy = s·B·R·A·x of a low-rank update, truncated to the first b rank components, and its
/// backward pass with per-example gradients of the factors that train.
///
/// A is `rank × inputs`, B is `outputs × rank`, and the optional core R (Fed-SB) is
/// `rank × rank`; without R the product is s·B·A. Rows of x are tokens, `examples` blocks
/// of equal length one after another.
public struct LowRankFactors<Scalar: BLASScalar>: Equatable, Sendable {
  /// A, `rank × inputs`.
  public internal(set) var down: Matrix<Scalar>
  /// B, `outputs × rank`.
  public internal(set) var up: Matrix<Scalar>
  /// R, `rank × rank`, or `nil` for the plain product B·A.
  public internal(set) var core: Matrix<Scalar>?

  /// r, the number of rank components.
  public var rank: Int { down.rows }

  /// What the backward pass needs: x, z = x·A_bᵀ, w = z·Rᵀ (or z), the rank b and scale s.
  public struct Cache: Sendable {
    var input: Matrix<Scalar>
    var projected: Matrix<Scalar>
    var mixed: Matrix<Scalar>
    var activeRank: Int
    var scale: Scalar
  }

  /// Which factors get per-example gradients, and for which rank components (DyLoRA's
  /// frozen mode trains component b alone).
  public struct Trainable: Equatable, Sendable {
    /// Whether A trains.
    public var down: Bool
    /// Whether B trains.
    public var up: Bool
    /// Whether R trains.
    public var core: Bool
    /// The rank components (rows of A, columns of B) that train.
    public var components: Range<Int>

    /// The factors and components that train.
    public init(down: Bool, up: Bool, core: Bool, components: Range<Int>) {
      self.down = down
      self.up = up
      self.core = core
      self.components = components
    }
  }

  /// Factors A (`rank × inputs`), B (`outputs × rank`) and optional R (`rank × rank`).
  /// - Precondition: the shapes agree.
  public init(down: Matrix<Scalar>, up: Matrix<Scalar>, core: Matrix<Scalar>?) {
    precondition(
      up.columns == down.rows,
      "low-rank factors: A is \(down.rows)×\(down.columns), B is \(up.rows)×\(up.columns)")
    if let core {
      precondition(
        core.rows == down.rows && core.columns == down.rows,
        "low-rank core R is \(core.rows)×\(core.columns) for rank \(down.rows)")
    }
    self.down = down
    self.up = up
    self.core = core
  }

  /// Δy = s·x·A_bᵀ·Rᵀ·B_bᵀ for every row of x, and the cache for the backward pass.
  public func forward(_ x: Matrix<Scalar>, activeRank b: Int, scale: Scalar) -> (
    Matrix<Scalar>, Cache
  ) {
    precondition(b >= 1 && b <= rank, "active rank must be in 1...\(rank); got \(b)")
    precondition(
      x.columns == down.columns, "adapter input has \(x.columns) columns; A expects \(down.columns)"
    )
    precondition(core == nil || b == rank, "an adapter with a core R runs at full rank")
    var projected = Matrix<Scalar>(rows: x.rows, columns: b)
    BLAS.matmul(
      x, block: .init(x), down, block: .init(rows: 0..<b, columns: 0..<down.columns),
      transposeB: true, into: &projected, block: .init(projected))
    let mixed = core.map { BLAS.matmul(projected, $0, transposeB: true) } ?? projected
    var output = Matrix<Scalar>(rows: x.rows, columns: up.rows)
    BLAS.matmul(
      mixed, block: .init(mixed), up, block: .init(rows: 0..<up.rows, columns: 0..<b),
      transposeB: true, scale: scale, into: &output, block: .init(output))
    return (
      output, Cache(input: x, projected: projected, mixed: mixed, activeRank: b, scale: scale)
    )
  }

  /// ∂L/∂x and the per-example gradients (named "lora_A", "lora_B", "lora_R") of the
  /// trainable factors, full-shaped with zeros outside the trained components.
  /// - Parameter needsInputGradient: `false` skips ∂L/∂x (returned as `nil`) where nothing
  ///   below needs it, e.g. in the first adapted layer.
  public func backward(
    _ cache: Cache, outputGradient g: Matrix<Scalar>, examples: Int, trainable: Trainable,
    needsInputGradient: Bool = true
  ) -> (Matrix<Scalar>?, PerExampleGradients<Scalar>) {
    let b = cache.activeRank
    let x = cache.input
    precondition(
      g.rows == x.rows && g.columns == up.rows,
      "adapter output gradient is \(g.rows)×\(g.columns); expected \(x.rows)×\(up.rows)")
    precondition(
      examples > 0 && x.rows % examples == 0,
      "\(x.rows) rows do not split into \(examples) examples")
    precondition(
      trainable.components.lowerBound >= 0 && trainable.components.upperBound <= b,
      "trained components \(trainable.components) outside the active rank \(b)")
    let length = x.rows / examples
    let components = trainable.components
    // dw = s·g·B_b
    var mixedGradient = Matrix<Scalar>(rows: x.rows, columns: b)
    BLAS.matmul(
      g, block: .init(g), up, block: .init(rows: 0..<up.rows, columns: 0..<b), scale: cache.scale,
      into: &mixedGradient, block: .init(mixedGradient))
    let projectedGradient = core.map { BLAS.matmul(mixedGradient, $0) } ?? mixedGradient
    var perExample = PerExampleGradients<Scalar>(examples: examples)
    if trainable.down {
      // dA_i = dz_iᵀ x_i, rows of the trained components.
      var block = Matrix<Scalar>(rows: examples * rank, columns: down.columns)
      for example in 0..<examples {
        let tokens = (example * length)..<((example + 1) * length)
        BLAS.matmul(
          projectedGradient, block: .init(rows: tokens, columns: components), transposeA: true,
          x, block: .init(rows: tokens, columns: 0..<x.columns),
          into: &block,
          block: .init(
            rows: (example * rank + components.lowerBound)..<(example * rank + components.upperBound),
            columns: 0..<down.columns))
      }
      perExample.append(
        "lora_A", rows: rank, columns: down.columns,
        block: block.reshaped(rows: examples, columns: rank * down.columns))
    }
    if trainable.up {
      // dB_i = s·g_iᵀ w_i, columns of the trained components.
      var block = Matrix<Scalar>(rows: examples * up.rows, columns: rank)
      for example in 0..<examples {
        let tokens = (example * length)..<((example + 1) * length)
        BLAS.matmul(
          g, block: .init(rows: tokens, columns: 0..<g.columns), transposeA: true,
          cache.mixed, block: .init(rows: tokens, columns: components), scale: cache.scale,
          into: &block,
          block: .init(rows: (example * up.rows)..<((example + 1) * up.rows), columns: components))
      }
      perExample.append(
        "lora_B", rows: up.rows, columns: rank,
        block: block.reshaped(rows: examples, columns: up.rows * rank))
    }
    if trainable.core, core != nil {
      // dR_i = dw_iᵀ z_i.
      var block = Matrix<Scalar>(rows: examples * rank, columns: rank)
      for example in 0..<examples {
        let tokens = (example * length)..<((example + 1) * length)
        BLAS.matmul(
          mixedGradient, block: .init(rows: tokens, columns: 0..<rank), transposeA: true,
          cache.projected, block: .init(rows: tokens, columns: 0..<rank),
          into: &block,
          block: .init(rows: (example * rank)..<((example + 1) * rank), columns: 0..<rank))
      }
      perExample.append(
        "lora_R", rows: rank, columns: rank,
        block: block.reshaped(rows: examples, columns: rank * rank))
    }
    guard needsInputGradient else { return (nil, perExample) }
    // dx = dz·A_b
    var inputGradient = Matrix<Scalar>(rows: x.rows, columns: x.columns)
    BLAS.matmul(
      projectedGradient, block: .init(projectedGradient),
      down, block: .init(rows: 0..<b, columns: 0..<down.columns),
      into: &inputGradient, block: .init(inputGradient))
    return (inputGradient, perExample)
  }

  /// s·B_b·R·A_b, the `outputs × inputs` change the adapter makes to the base weight.
  public func weightDelta(activeRank b: Int, scale: Scalar) -> Matrix<Scalar> {
    precondition(b >= 1 && b <= rank, "active rank must be in 1...\(rank); got \(b)")
    let downB = down.rows(0..<b)
    let mixedDown = core.map { BLAS.matmul($0, downB) } ?? downB
    var delta = Matrix<Scalar>(rows: up.rows, columns: down.columns)
    BLAS.matmul(
      up, block: .init(rows: 0..<up.rows, columns: 0..<b), mixedDown, block: .init(mixedDown),
      scale: scale, into: &delta, block: .init(delta))
    return delta
  }

  /// Where a factor's rank components lie: the rows of A (`lora_A`), the columns of B
  /// (`lora_B`); `nil` for the core and for parameters that are not factors.
  public enum ComponentAxis: Sendable { case rows, columns }

  /// The axis of the rank components of the parameter named `name` (a factor's name, with
  /// or without a layer prefix).
  public static func componentAxis(ofParameterNamed name: String) -> ComponentAxis? {
    if name.hasSuffix("lora_A") { return .rows }
    if name.hasSuffix("lora_B") { return .columns }
    return nil
  }

  /// The factors as named parameters: lora_A, lora_B (and lora_R).
  public var parameters: ParameterSet<Scalar> {
    var set = ParameterSet<Scalar>([("lora_A", down), ("lora_B", up)])
    if let core { set.append("lora_R", core) }
    return set
  }

  /// Replaces the factors from named parameters of the same shapes.
  public mutating func update(from parameters: ParameterSet<Scalar>) {
    for name in parameters.names {
      let value = parameters[name]!
      switch name {
      case "lora_A":
        precondition(value.rows == down.rows && value.columns == down.columns, "lora_A shape");
        down = value
      case "lora_B":
        precondition(value.rows == up.rows && value.columns == up.columns, "lora_B shape");
        up = value
      case "lora_R" where core != nil:
        precondition(value.rows == rank && value.columns == rank, "lora_R shape"); core = value
      default: preconditionFailure("adapter has no parameter \(name)")
      }
    }
  }
}
