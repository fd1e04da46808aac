/// A LoRA-family adapter on one linear layer: an additive low-rank update
/// Δy = s·B·R·A·x to the frozen base output W₀x. The adapter's factors are the only
/// trainable parameters of the layer; which of them train, at which rank and with which
/// scale s is what distinguishes LoRA, DyLoRA, FFA-LoRA and Fed-SB.
///
/// Mathematical properties (each tested):
/// - B = 0 leaves the base output unchanged.
/// - ``fused(into:activeRank:)`` gives a plain layer whose output equals base + adapter.
/// - DyLoRA at active rank = maximum rank equals LoRA with the same factors.
public protocol Adapter<Scalar>: Sendable {
  /// The scalar type of the factors.
  associatedtype Scalar: BLASScalar
  /// The factors A, B (and R).
  var factors: LowRankFactors<Scalar> { get set }
  /// The rank r (DyLoRA: the maximum rank).
  var rank: Int { get }
  /// LoRA's α; the scale s is derived from it (α/r for LoRA).
  var alpha: Double { get }
  /// The names of the factors that train ("lora_A", "lora_B", "lora_R").
  var trainableNames: [String] { get }
  /// The rank a forward pass uses when the caller names none (or names `activeRank`).
  /// - Precondition: `activeRank`, when given, is in `1...rank` (and is allowed by the adapter).
  func resolvedRank(_ activeRank: Int?) -> Int
  /// The scale s at rank b.
  func scale(activeRank b: Int) -> Double
  /// What trains at rank b.
  func trainable(activeRank b: Int) -> LowRankFactors<Scalar>.Trainable
}

extension Adapter {
  /// r, the factors' rank.
  public var rank: Int { factors.rank }

  /// Fixed-rank adapters (all but DyLoRA) run at their rank only.
  public func resolvedRank(_ activeRank: Int?) -> Int {
    precondition(
      activeRank == nil || activeRank == rank,
      "\(Self.self) runs at its rank \(rank); got active rank \(activeRank!)")
    return rank
  }

  /// α/r, LoRA's scale.
  public func scale(activeRank b: Int) -> Double { alpha / Double(rank) }

  /// Every factor, named as PEFT names them without the layer prefix.
  public var parameters: ParameterSet<Scalar> { factors.parameters }

  /// The trainable factors only.
  public var trainableParameters: ParameterSet<Scalar> {
    let all = factors.parameters
    return ParameterSet(trainableNames.map { ($0, all[$0]!) })
  }

  /// Δy for every row of x, and the cache for ``backward(_:outputGradient:examples:)``.
  public func forward(_ x: Matrix<Scalar>, activeRank: Int? = nil)
    -> (Matrix<Scalar>, LowRankFactors<Scalar>.Cache)
  {
    let setting = setting(activeRank: activeRank)
    return factors.forward(x, activeRank: setting.rank, scale: setting.scale)
  }

  /// The rank and scale a pass at `activeRank` uses. Callers holding an `any Adapter`
  /// ask for this, then run the concrete ``factors`` themselves, so the arithmetic is
  /// compiled for the concrete scalar type rather than through the existential.
  public func setting(activeRank: Int?) -> (rank: Int, scale: Scalar) {
    let rank = resolvedRank(activeRank)
    return (rank, Scalar(scale(activeRank: rank)))
  }

  /// ∂L/∂x and the per-example gradients of the trainable factors (full-shaped; zero
  /// outside the components that train this step).
  public func backward(
    _ cache: LowRankFactors<Scalar>.Cache, outputGradient: Matrix<Scalar>, examples: Int
  ) -> (inputGradient: Matrix<Scalar>, perExample: PerExampleGradients<Scalar>) {
    let (inputGradient, perExample) = factors.backward(
      cache, outputGradient: outputGradient, examples: examples,
      trainable: trainable(activeRank: cache.activeRank))
    return (inputGradient!, perExample)
  }

  /// The change s·B·R·A the adapter makes to the base weight at a rank.
  public func weightDelta(activeRank: Int? = nil) -> Matrix<Scalar> {
    let rank = resolvedRank(activeRank)
    return factors.weightDelta(activeRank: rank, scale: Scalar(scale(activeRank: rank)))
  }

  /// The base layer with the adapter merged into its weight: W₀ + s·B·R·A.
  public func fused(into base: Linear<Scalar>, activeRank: Int? = nil) -> Linear<Scalar> {
    Linear(weight: base.weight + weightDelta(activeRank: activeRank), bias: base.bias)
  }
}

extension LowRankFactors {
  /// Kaiming-uniform A (±1/√inputs, as loralib and PEFT draw it) and B = 0, so a fresh
  /// adapter leaves the layer's output unchanged.
  public static func kaimingUniformDown<G: RandomNumberGenerator>(
    rank: Int, inputs: Int, outputs: Int, using generator: inout G
  ) -> LowRankFactors {
    precondition(
      rank >= 1 && inputs >= 1 && outputs >= 1,
      "adapter shapes must be positive; got rank \(rank), \(inputs) inputs, \(outputs) outputs")
    let bound = 1 / Scalar(inputs).squareRoot()
    return LowRankFactors(
      down: .uniform(rows: rank, columns: inputs, in: -bound...bound, using: &generator),
      up: Matrix(rows: outputs, columns: rank), core: nil)
  }
}
