import Accountants

/// Example-level privacy: DP-SGD inside each client (``DPSGDSteps``: per-example clipping
/// to C and N(0, (σC)²) on every local step's sum), so what a client sends is already
/// private and the server adds its updates up as they are.
///
/// Its event is that of the least protected client's local DP-SGD in one round
/// (``PrivacyPlan/roundEvent(noiseMultiplier:)``).
///
/// A simulation (m_sim clients trained per round standing for the m_noise of the deployment
/// it accounts) scales each client's local noise by √(m_sim/m_noise), so that the noise on
/// the server's mean of m_sim updates is that of the deployment's mean of m_noise, as the
/// central mechanisms scale the noise on the sum by m_sim/m_noise. The accounting is that
/// of the deployment's σ. With one local step per client and round (the text default) the
/// server's noisy mean then has the deployment's law exactly; with several local steps
/// (FedAvg) to first order in the local learning rate.
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
    DPSGDSteps(
      noise: GaussianNoise(
        clippingBound: clippingBound,
        noiseMultiplier: noiseMultiplier * plan.sampler.noiseScale.squareRoot()))
  }

  public var samplesLocally: Bool { true }

  public var assumptions: [String] {
    [
      "example level: add or remove one example; per-example clipping and local noise inside each client (DP-SGD)",
      "an example is exposed only in the rounds its client takes part in (probability q = \(plan.sampler.samplingProbability), independent of the data, possibly visible to the server); ε is that of the least protected client (local Poisson sampling rate \(plan.localSampling?.probability ?? 1), \(plan.localSampling?.steps ?? 0) steps per round)",
      "each client's number of examples is treated as public, as Opacus treats the dataset size (it sets the local sampling rate B/n and the step count)",
    ] + simulationAssumption
  }

  /// In a simulation, what the local noise's scale stands for.
  private var simulationAssumption: [String] {
    let sampler = plan.sampler
    guard sampler.noiseScale < 1 else { return [] }
    return [
      "simulation: each of the \(sampler.cohortSize) clients trained per round adds √(\(sampler.cohortSize)/\(sampler.noiseCohortSize)) of its local noise, so that the noise on the mean is that of \(sampler.noiseCohortSize) clients' full local noise"
    ]
  }
}
