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
///
/// With a ``DiscreteGrid`` (`--noise-distribution discrete`) clients round their clipped
/// updates to the grid and the server adds exact discrete Gaussian noise to the integer sum;
/// the round's event is then `.poissonSampled(q, .discreteGaussian(σ))`.
public struct CentralGaussianMechanism: PrivacyMechanism {
  public let noiseMultiplier: Double
  public var clippingBound: Double
  /// How cohorts are drawn and the noise scale of the simulation.
  public let sampler: CohortSampler
  /// Adaptive clipping's parameters (`nil`: C is fixed).
  public let adaptive: AdaptiveClipping?
  /// Where the noise comes from.
  public let noiseSource: NoiseSource
  /// The grid of a discrete release (`nil`: continuous noise in floating point).
  public let grid: DiscreteGrid?
  /// z_Δ, the noise multiplier of the update (σ, or more with adaptive clipping).
  let updateNoiseMultiplier: Double
  /// σ_b, the noise on the count of unclipped clients.
  let indicatorNoise: Double

  /// The mechanism at noise multiplier σ, starting at bound C.
  /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)`` when adaptive
  ///   clipping's count noise leaves no noise for the update (σ ≥ 2σ_b), when it is combined
  ///   with a grid, or when the grid noise (in steps) is outside the discrete sampler's range.
  public init(
    noiseMultiplier: Double, clippingBound: Double, sampler: CohortSampler,
    adaptive: AdaptiveClipping?, noiseSource: NoiseSource, grid: DiscreteGrid? = nil
  ) throws {
    self.noiseMultiplier = noiseMultiplier
    self.clippingBound = clippingBound
    self.sampler = sampler
    self.adaptive = adaptive
    self.noiseSource = noiseSource
    self.grid = grid
    if let grid {
      let steps =
        sampler.noiseScale * noiseMultiplier * grid.gridBound(clippingBound: clippingBound)
      guard adaptive == nil, (try? DiscreteGaussian(gridStandardDeviation: steps)) != nil else {
        throw FederatedError.invalidConfiguration(
          field: "--noise-distribution", value: "discrete",
          allowed: "a fixed clipping bound and noise of 1/256 to 2^23 grid steps (here \(steps))")
      }
    }
    indicatorNoise = (adaptive?.indicatorNoiseFraction ?? 0) * Double(sampler.noiseCohortSize)
    updateNoiseMultiplier =
      adaptive == nil
      ? noiseMultiplier
      : try AdaptiveClipping.updateNoiseMultiplier(
        overall: noiseMultiplier, indicatorNoise: indicatorNoise)
  }

  public var roundEvent: DPEvent {
    sampler.event(noiseMultiplier: noiseMultiplier, noise: grid == nil ? .continuous : .discrete)
  }

  public var localSteps: any LocalStepRule { MinibatchSteps() }
  public var samplesLocally: Bool { false }

  public var assumptions: [String] {
    let noise =
      grid.map {
        "updates rounded to the grid \($0.granularity) (clipped to C − γ√d/2 first), exact discrete Gaussian noise on the integer sum"
      } ?? "Gaussian noise on the cohort sum"
    return [
      "user level: add or remove one client's whole data; one clip per client per round, \(noise) (central DP: the server sees clipped updates)",
      sampler.samplingAssumption,
    ]
  }

  public func message(for update: ParameterSet<Float>, client: Int, context: RoundContext)
    -> ClientMessage
  {
    if let grid {
      // A message already on the grid (a node's, received by a Flower server) is kept.
      if grid.holdsMessage(update, clippingBound: context.clippingBound) {
        return ClientMessage(client: client, payload: .update(update), withinBound: true)
      }
      let (steps, clipped) = grid.steps(
        update, clippingBound: context.clippingBound, live: context.live)
      return ClientMessage(
        client: client, payload: .update(grid.message(steps, like: update)), withinBound: !clipped)
    }
    return .clipped(update, to: context.clippingBound, client: client)
  }

  public mutating func release(
    _ results: [ClientResult], template: ParameterSet<Float>, context: RoundContext,
    authorization: ReleaseAuthorization
  ) -> Release {
    if let grid {
      var generator = noiseSource.bufferedGenerator(roundSeed: context.seed)
      return Release(
        sum: gridRelease(grid, results, template: template, context: context, using: &generator),
        clipFraction: results.clippedClientFraction, clippingBound: context.clippingBound,
        bitsPerClient: nil)
    }
    var generator = noiseSource.generator(roundSeed: context.seed)
    var sum = results.updateSum(template: template)
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

  /// The discrete release of the clients' grid updates (noise scale·σC, in grid steps
  /// checked at ``init(noiseMultiplier:clippingBound:sampler:adaptive:noiseSource:grid:)``).
  private func gridRelease(
    _ grid: DiscreteGrid, _ results: [ClientResult], template: ParameterSet<Float>,
    context: RoundContext, using generator: inout any RandomNumberGenerator
  ) -> ParameterSet<Float> {
    let updates = results.map { result -> ParameterSet<Float> in
      guard case .update(let update) = result.message.payload else {
        preconditionFailure("client \(result.message.client) sent a coded update")
      }
      return update
    }
    do {
      return try grid.release(
        updates, template: template, live: context.live,
        deviation: sampler.noiseScale * noiseMultiplier * context.clippingBound,
        using: &generator)
    } catch {
      preconditionFailure("grid noise checked at init: \(error)")
    }
  }
}
