/// LoRA (Hu et al. 2021, arXiv 2106.09685): Δy = (α/r)·B·A·x, both factors trained.
public struct LoRAAdapter<Scalar: BLASScalar>: Adapter {
  public var factors: LowRankFactors<Scalar>
  public let alpha: Double

  /// A fresh adapter: A Kaiming-uniform from `generator`, B = 0.
  /// - Precondition: `rank ≥ 1`, `alpha > 0`.
  public init<G: RandomNumberGenerator>(
    inputs: Int, outputs: Int, rank: Int, alpha: Double, using generator: inout G
  ) {
    self.init(
      factors: .kaimingUniformDown(rank: rank, inputs: inputs, outputs: outputs, using: &generator),
      alpha: alpha)
  }

  /// An adapter with given factors (no core R).
  public init(factors: LowRankFactors<Scalar>, alpha: Double) {
    precondition(factors.core == nil, "LoRA has no core R")
    precondition(alpha > 0, "LoRA alpha must be > 0; got \(alpha)")
    self.factors = factors
    self.alpha = alpha
  }

  public var trainableNames: [String] { ["lora_A", "lora_B"] }
  public func trainable(activeRank b: Int) -> LowRankFactors<Scalar>.Trainable {
    .init(down: true, up: true, core: false, components: 0..<rank)
  }
}

/// FFA-LoRA (Sun et al., ICLR 2024): A frozen at its random initialisation from a public
/// seed, identical on every client; only B trains, so aggregation is exact and noise
/// enters linearly.
public struct FFALoRAAdapter<Scalar: BLASScalar>: Adapter {
  public var factors: LowRankFactors<Scalar>
  public let alpha: Double

  /// A fresh adapter: A Kaiming-uniform from the public `seed`, B = 0.
  public init(inputs: Int, outputs: Int, rank: Int, alpha: Double, publicSeed seed: UInt64) {
    var generator = Xoshiro256StarStar(seed: seed)
    self.init(
      factors: .kaimingUniformDown(rank: rank, inputs: inputs, outputs: outputs, using: &generator),
      alpha: alpha)
  }

  /// An adapter with given factors (no core R).
  public init(factors: LowRankFactors<Scalar>, alpha: Double) {
    precondition(factors.core == nil, "FFA-LoRA has no core R")
    precondition(alpha > 0, "FFA-LoRA alpha must be > 0; got \(alpha)")
    self.factors = factors
    self.alpha = alpha
  }

  public var trainableNames: [String] { ["lora_B"] }
  public func trainable(activeRank b: Int) -> LowRankFactors<Scalar>.Trainable {
    .init(down: false, up: true, core: false, components: 0..<rank)
  }
}

/// Fed-SB (Singhal et al. 2025, arXiv 2502.15436; LoRA-SB): W₀ + (α/r)·B·R·A with B and A
/// frozen and only the r×r core R trained, so the server averages R exactly and each
/// client sends r² numbers per layer. α = r (scale 1) by default, as LoRA-SB sets it.
///
/// The factors must come from public data (or be accounted for): LoRA-SB initialises them
/// from a truncated SVD of a gradient estimate, which is data-dependent.
public struct FedSBAdapter<Scalar: BLASScalar>: Adapter {
  public var factors: LowRankFactors<Scalar>
  public let alpha: Double

  /// An adapter with given frozen A, B and trainable core R.
  /// - Precondition: `factors.core` is present.
  public init(factors: LowRankFactors<Scalar>, alpha: Double? = nil) {
    precondition(factors.core != nil, "Fed-SB needs a core R")
    let alpha = alpha ?? Double(factors.rank)
    precondition(alpha > 0, "Fed-SB alpha must be > 0; got \(alpha)")
    self.factors = factors
    self.alpha = alpha
  }

  public var trainableNames: [String] { ["lora_R"] }
  public func trainable(activeRank b: Int) -> LowRankFactors<Scalar>.Trainable {
    .init(down: false, up: false, core: true, components: 0..<rank)
  }
}

extension FedSBAdapter {
  /// LoRA-SB's initialisation from a gradient estimate G (`outputs × inputs`) computed on
  /// public data: B = U_r and A = V_rᵀ from G's leading r singular vectors, so the trainable
  /// core works in the subspace where the loss falls fastest. R starts at 0 (the layer starts
  /// at W₀; LoRA-SB also takes the first step, R = −η·S_r, which dpfl leaves to training).
  /// - Precondition: 1 ≤ rank ≤ min(outputs, inputs).
  public static func initialized(
    fromGradient gradient: Matrix<Scalar>, rank: Int, alpha: Double? = nil, seed: UInt64 = 0
  ) -> FedSBAdapter {
    let (u, _, v) = TruncatedSVD.leading(Matrix<Double>(gradient), rank: rank, seed: seed)
    return FedSBAdapter(
      factors: LowRankFactors(
        down: Matrix<Scalar>(v.transposed()), up: Matrix<Scalar>(u),
        core: Matrix(rows: rank, columns: rank)),
      alpha: alpha)
  }
}
