import Accountants

/// Example-level privacy: DP-SGD inside each client (``DPSGDSteps``: per-example clipping
/// to C and N(0, (σC)²) on every local step's sum), so what a client sends is already
/// private and the server adds its updates up as they are.
///
/// Its event is that of the least protected client's local DP-SGD in one round
/// (``PrivacyPlan/roundEvent(noiseMultiplier:)``).
public struct LocalDPSGDMechanism: PlainSumMechanism {
  public let noiseMultiplier: Double
  /// C of the per-example clip (fixed).
  public var clippingBound: Double
  /// The accounting of the least protected client.
  public let plan: PrivacyPlan
  /// Where the local noise comes from.
  public let noiseSource: NoiseSource

  public init(
    noiseMultiplier: Double, clippingBound: Double, plan: PrivacyPlan, noiseSource: NoiseSource
  ) {
    self.noiseMultiplier = noiseMultiplier
    self.clippingBound = clippingBound
    self.plan = plan
    self.noiseSource = noiseSource
  }

  public var roundEvent: DPEvent { plan.roundEvent(noiseMultiplier: noiseMultiplier) }

  public var localSteps: any LocalStepRule {
    DPSGDSteps(noise: GaussianNoise(clippingBound: clippingBound, noiseMultiplier: noiseMultiplier))
  }

  public var assumptions: [String] {
    [
      "example level: add or remove one example; per-example clipping and local noise inside each client (DP-SGD)",
      "an example is exposed only in the rounds its client takes part in (probability q = \(plan.sampler.samplingProbability), independent of the data, possibly visible to the server); ε is that of the least protected client (local Poisson sampling rate \(plan.localSampling?.probability ?? 1), \(plan.localSampling?.steps ?? 0) steps per round)",
      "each client's number of examples is treated as public, as Opacus treats the dataset size (it sets the local sampling rate B/n and the step count)",
    ]
  }
}
