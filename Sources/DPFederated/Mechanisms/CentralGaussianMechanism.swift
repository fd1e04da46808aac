import Accountants
import DPModel

/// User-level DP-FedAvg's mechanism (McMahan et al., ICLR 2018; spec §1): each client's
/// whole update is clipped to C, and one Gaussian draw per live coordinate goes on the
/// cohort's sum. Simulating a deployment of m_noise clients per round with m_sim trained
/// ones, the noise on the simulated sum is scaled by m_sim/m_noise, so the noise on the
/// mean is the deployment's σC/m_noise.
///
/// With adaptive clipping (Andrew et al., NeurIPS 2021; spec §2) the server also releases
/// the count of clients whose update fitted, under noise σ_b, and moves C towards the
/// target quantile. Both releases together are one Gaussian mechanism with noise multiplier
/// σ (``AdaptiveClipping/updateNoiseMultiplier(overall:indicatorNoise:)``), so the event is
/// the same as with a fixed bound.
public struct CentralGaussianMechanism: PrivacyMechanism {
  public let noiseMultiplier: Double
  public var clippingBound: Double
  /// How cohorts are drawn and the noise scale of the simulation.
  public let sampler: CohortSampler
  /// Adaptive clipping's parameters (`nil`: C is fixed).
  public let adaptive: AdaptiveClipping?
  /// Where the noise comes from.
  public let noiseSource: NoiseSource
  /// z_Δ, the noise multiplier of the update (σ, or more with adaptive clipping).
  let updateNoiseMultiplier: Double
  /// σ_b, the noise on the count of unclipped clients.
  let indicatorNoise: Double

  /// The mechanism at noise multiplier σ, starting at bound C.
  /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)`` when adaptive
  ///   clipping's count noise leaves no noise for the update (σ ≥ 2σ_b).
  public init(
    noiseMultiplier: Double, clippingBound: Double, sampler: CohortSampler,
    adaptive: AdaptiveClipping?, noiseSource: NoiseSource
  ) throws {
    self.noiseMultiplier = noiseMultiplier
    self.clippingBound = clippingBound
    self.sampler = sampler
    self.adaptive = adaptive
    self.noiseSource = noiseSource
    indicatorNoise = (adaptive?.indicatorNoiseFraction ?? 0) * Double(sampler.noiseCohortSize)
    updateNoiseMultiplier =
      adaptive == nil
      ? noiseMultiplier
      : try AdaptiveClipping.updateNoiseMultiplier(
        overall: noiseMultiplier, indicatorNoise: indicatorNoise)
  }

  public var roundEvent: DPEvent { sampler.event(noiseMultiplier: noiseMultiplier) }

  public var localSteps: any LocalStepRule { MinibatchSteps() }

  public var assumptions: [String] {
    [
      "user level: add or remove one client's whole data; one clip per client per round, Gaussian noise on the cohort sum (central DP: the server sees clipped updates)",
      sampler.samplingAssumption,
    ]
  }

  public func message(for update: ParameterSet<Float>, client: Int, context: RoundContext)
    -> ClientMessage
  {
    var clipped = update
    let (_, wasClipped) = GaussianNoise.clip(&clipped, to: context.clippingBound)
    return ClientMessage(client: client, payload: .update(clipped), withinBound: !wasClipped)
  }

  public mutating func release(
    _ results: [ClientResult], template: ParameterSet<Float>, context: RoundContext,
    authorization: ReleaseAuthorization
  ) -> Release {
    var sum = results.updateSum(template: template)
    var generator = noiseSource.generator(roundSeed: context.seed)
    GaussianNoise(clippingBound: context.clippingBound, noiseMultiplier: updateNoiseMultiplier)
      .add(to: &sum, live: context.live, scale: sampler.noiseScale, using: &generator)
    if let adaptive {
      // The noisy fraction of clients whose update fitted, then the geometric step.
      let unclipped = Double(results.filter(\.message.withinBound).count)
      let noisyCount =
        unclipped + indicatorNoise * sampler.noiseScale * generator.nextStandardNormal()
      clippingBound = adaptive.nextBound(
        context.clippingBound, unclippedFraction: noisyCount / Double(sampler.cohortSize))
    }
    return Release(
      sum: sum, clipFraction: results.clippedClientFraction,
      clippingBound: context.clippingBound, bitsPerClient: nil)
  }
}
