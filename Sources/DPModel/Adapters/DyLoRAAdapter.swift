/// DyLoRA (Valipour et al., EACL 2023, arXiv 2210.07558): one rank-`maximumRank` adapter
/// usable at every rank b ≤ maximumRank. At active rank b the layer uses A[:b], B[:, :b]
/// with scale α/b (the official √(r/b) on each factor).
///
/// In `frozen` mode (the official default) components 1…b−1 enter the forward pass but
/// get no gradient, so only component b trains; otherwise all of 1…b train. Components
/// beyond b are unused and untouched. DP-DyLoRA draws b once per round for the whole
/// cohort, from public randomness.
public struct DyLoRAAdapter<Scalar: BLASScalar>: Adapter {
  public var factors: LowRankFactors<Scalar>
  public let alpha: Double
  /// Whether only component b trains at active rank b.
  public let frozen: Bool

  /// A fresh adapter: A Kaiming-uniform from `generator`, B = 0.
  public init<G: RandomNumberGenerator>(
    inputs: Int, outputs: Int, maximumRank: Int, alpha: Double, frozen: Bool,
    using generator: inout G
  ) {
    self.init(
      factors: .kaimingUniformDown(
        rank: maximumRank, inputs: inputs, outputs: outputs, using: &generator),
      alpha: alpha, frozen: frozen)
  }

  /// An adapter with given factors (no core R).
  public init(factors: LowRankFactors<Scalar>, alpha: Double, frozen: Bool) {
    precondition(factors.core == nil, "DyLoRA has no core R")
    precondition(alpha > 0, "DyLoRA alpha must be > 0; got \(alpha)")
    self.factors = factors
    self.alpha = alpha
    self.frozen = frozen
  }

  public var trainableNames: [String] { ["lora_A", "lora_B"] }
  /// The requested rank, or the maximum rank when none is named.
  public func resolvedRank(_ activeRank: Int?) -> Int {
    let b = activeRank ?? rank
    precondition(b >= 1 && b <= rank, "DyLoRA active rank must be in 1...\(rank); got \(b)")
    return b
  }
  /// α/b.
  public func scale(activeRank b: Int) -> Double { alpha / Double(b) }
  public func trainable(activeRank b: Int) -> LowRankFactors<Scalar>.Trainable {
    .init(down: true, up: true, core: false, components: Self.trainedComponents(activeRank: b, frozen: frozen))
  }

  /// The rank components that train at active rank b: component b alone (frozen) or 1…b,
  /// as 0-based indices. The only statement of DyLoRA's rank rule; the federated code asks
  /// it which coordinates a round can change.
  public static func trainedComponents(activeRank b: Int, frozen: Bool) -> Range<Int> {
    frozen ? (b - 1)..<b : 0..<b
  }
}
