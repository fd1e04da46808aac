import Accountants
import DPModel

/// Example level with the noise added once, to the cohort's sum (`--example-noise server`):
/// each client takes one step of per-example clipped gradients over a Poisson sample of its
/// examples at rate min(1, B/n), divided by B (``PerRecordClippedSteps``), and sends the
/// update −η·Σ clip_C(g_i)/B as it is. Adding or removing one example moves that update by
/// at most ηC/B and no other client's at all, so the server adds N(0, (σηC/B)²) to every
/// live coordinate of the sum (scaled by m_sim/m_noise in a simulation, as
/// ``CentralGaussianMechanism`` scales it).
///
/// The round's event is the same as local DP-SGD's with one step
/// (``PrivacyPlan/roundEvent(noiseMultiplier:)``): the example's client takes part with
/// probability q, public and possibly visible, and then the example enters the sum with
/// probability min(1, B/n) under a Gaussian of noise multiplier σ. So σ and ε are those of
/// ``LocalDPSGDMechanism`` with one local step; what differs is the trust and the noise on
/// the mean. The server (or a secure aggregation adding the noise jointly) sees clipped,
/// un-noised updates, as at user level; in return the deployment's mean of m_noise updates
/// carries σηC/(B·m_noise) instead of local DP-SGD's σηC/(B·√m_noise).
///
/// One step is what makes the bound hold: after a second step the gradients of the other
/// examples would depend on the first step's, and the update would move by more than ηC/B
/// (``FederatedConfiguration`` refuses more than one local epoch).
public struct CentralDPSGDMechanism: PrivacyMechanism {
  public let noiseMultiplier: Double
  /// C of the per-example clip (fixed).
  public var clippingBound: Double
  /// B, the expected batch every client's gradient sum is divided by.
  public let batchSize: Int
  /// η, the clients' local learning rate (the update is η times the gradient).
  public let learningRate: Double
  /// The accounting of the least protected client.
  public let plan: PrivacyPlan
  /// Where the server's noise comes from.
  public let noiseSource: NoiseSource

  public init(
    noiseMultiplier: Double, clippingBound: Double, batchSize: Int, learningRate: Double,
    plan: PrivacyPlan, noiseSource: NoiseSource
  ) {
    self.noiseMultiplier = noiseMultiplier
    self.clippingBound = clippingBound
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.plan = plan
    self.noiseSource = noiseSource
  }

  public var roundEvent: DPEvent { plan.roundEvent(noiseMultiplier: noiseMultiplier) }

  public var localSteps: any LocalStepRule { PerRecordClippedSteps(clippingBound: clippingBound) }
  public var samplesLocally: Bool { true }

  /// The noise on the sum: σ times the sensitivity ηC/B of one client's update.
  public var noise: GaussianNoise {
    GaussianNoise(
      clippingBound: learningRate * clippingBound / Double(batchSize),
      noiseMultiplier: noiseMultiplier)
  }

  public var assumptions: [String] {
    [
      "example level: add or remove one example; each client takes one step of per-example gradients clipped to C = \(clippingBound) and divided by B = \(batchSize) (its update moves by at most ηC/B), and Gaussian noise σηC/B goes on the cohort's sum (central DP: the server, or a secure aggregation adding the noise, sees clipped updates without noise)",
      "an example is exposed only in the rounds its client takes part in (probability q = \(plan.sampler.samplingProbability), independent of the data, possibly visible to the server), then enters the step with probability min(1, B/n), at most \(plan.localSampling?.probability ?? 1) for the least protected client",
      "each client's number of examples is treated as public, as Opacus treats the dataset size (it sets the sampling rate B/n)",
    ]
  }

  /// The update as the client's one clipped step made it.
  public func message(for update: ParameterSet<Float>, client: Int, context: RoundContext)
    -> ClientMessage
  {
    .unclipped(update, client: client)
  }

  /// The plain release of the updates (their sum, the fraction of examples clipped) plus
  /// N(0, (scale·σηC/B)²) on every live coordinate.
  public mutating func release(
    _ results: [ClientResult], template: ParameterSet<Float>, context: RoundContext,
    authorization: ReleaseAuthorization
  ) -> Release {
    var release = results.plainRelease(template: template)
    var generator = noiseSource.generator(roundSeed: context.seed)
    noise.add(
      to: &release.sum, live: context.live, scale: plan.sampler.noiseScale, using: &generator)
    return release
  }
}
