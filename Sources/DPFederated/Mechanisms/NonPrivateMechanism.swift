import Accountants

/// No privacy (`--no-privacy`): the same round without clipping or noise, the comparison
/// row of every experiment. Each round costs `.nonPrivate` (ε = ∞).
public struct NonPrivateMechanism: PlainSumMechanism {
  public var clippingBound: Double

  public init(clippingBound: Double) { self.clippingBound = clippingBound }

  public var noiseMultiplier: Double { 0 }

  public var roundEvent: DPEvent { .nonPrivate }

  public var localSteps: any LocalStepRule { MinibatchSteps() }
  public var samplesLocally: Bool { false }

  public var assumptions: [String] { ["no privacy: no clipping, no noise"] }
}
