/// Which adapter to put on which layers, and its hyper-parameters: the part of a run's
/// configuration the model core needs.
public struct AdapterConfiguration: Codable, Equatable, Sendable {
  /// The LoRA-family method.
  public enum Kind: String, Codable, CaseIterable, Sendable {
    /// LoRA: A and B train, scale α/r.
    case lora
    /// DyLoRA: A and B train at a per-step active rank b, scale α/b.
    case dyLoRA = "dylora"
    /// FFA-LoRA: A frozen from a public seed, B trains.
    case ffaLoRA = "ffa-lora"
    /// Fed-SB: B and A frozen, the r×r core R trains.
    case fedSB = "fed-sb"
  }

  /// The method.
  public var kind: Kind
  /// r (DyLoRA: the maximum rank).
  public var rank: Int
  /// α.
  public var alpha: Double
  /// DyLoRA only: whether only component b trains at active rank b.
  public var frozen: Bool
  /// The public seed the factors are drawn from (layer i uses a seed derived from it).
  public var seed: UInt64

  /// A configuration; the defaults are the DyLoRA paper's GLUE settings (r = 8, α = 16).
  public init(kind: Kind, rank: Int = 8, alpha: Double = 16, frozen: Bool = true, seed: UInt64 = 0)
  {
    self.kind = kind
    self.rank = rank
    self.alpha = alpha
    self.frozen = frozen
    self.seed = seed
  }

  /// A fresh adapter for an `inputs → outputs` layer, drawn from this configuration's
  /// seed combined with `layerIndex`, so every client builds the same factors.
  ///
  /// Fed-SB here starts from public random factors: A and B Kaiming-uniform, R = 0 (the
  /// layer starts at W₀). LoRA-SB's SVD initialisation needs data; supply such factors
  /// through ``FedSBAdapter/init(factors:alpha:)``.
  public func makeAdapter<Scalar: BLASScalar>(inputs: Int, outputs: Int, layerIndex: Int)
    -> any Adapter<Scalar>
  {
    var generator = Xoshiro256StarStar(seed: seed &+ 0x9E37_79B9 &* UInt64(layerIndex + 1))
    switch kind {
    case .lora:
      return LoRAAdapter<Scalar>(
        inputs: inputs, outputs: outputs, rank: rank, alpha: alpha, using: &generator)
    case .dyLoRA:
      return DyLoRAAdapter<Scalar>(
        inputs: inputs, outputs: outputs, maximumRank: rank, alpha: alpha, frozen: frozen,
        using: &generator)
    case .ffaLoRA:
      return FFALoRAAdapter<Scalar>(
        factors: .kaimingUniformDown(
          rank: rank, inputs: inputs, outputs: outputs, using: &generator),
        alpha: alpha)
    case .fedSB:
      let down = LowRankFactors<Scalar>.kaimingUniformDown(
        rank: rank, inputs: inputs, outputs: outputs, using: &generator)
      let bound = 1 / Scalar(rank).squareRoot()
      let up = Matrix<Scalar>.uniform(
        rows: outputs, columns: rank, in: -bound...bound, using: &generator)
      return FedSBAdapter<Scalar>(
        factors: LowRankFactors(down: down.down, up: up, core: Matrix(rows: rank, columns: rank)),
        alpha: alpha)
    }
  }
}
