import Accountants
import DPModel

/// DP-REC's mechanism (spec §6): each client clips its update to C and sends, for each block
/// of it, the index of a candidate drawn by an exact relative entropy coder
/// (``CandidateCodebook``), so the server decodes a sample of the clipped update plus the
/// client's share s of the Gaussian noise. The m_sim clients' shares add up to the
/// simulated sum's noise: s = (m_sim/m_noise)·σC/√m_sim. A block that fails to code is
/// noised by the server itself, so the decoded sum is exactly the Gaussian release the
/// event names (``RelativeEntropyCoder`` states why no correction for K is needed).
///
/// Trust model: the round key is a secret of the server and the cohort (from the OS CSPRNG
/// with secure noise); the server sees each client's noisy sample; anyone else sees only the
/// models. Needs fixed-size cohorts, so that the clients' noise adds up to the calibrated
/// noise.
public struct CodedGaussianMechanism: PrivacyMechanism {
  public let noiseMultiplier: Double
  public var clippingBound: Double
  /// How cohorts are drawn (fixed-size) and the noise scale of the simulation.
  public let sampler: CohortSampler
  /// The coder every client uses: its parameters are part of the event.
  public let coder: RelativeEntropyCoder
  /// D, the coordinates of an update.
  public let coordinates: Int
  /// Where the round key, the clients' acceptance draws and the failed blocks' noise come
  /// from.
  public let noiseSource: NoiseSource

  /// The mechanism at noise multiplier σ and bound C for updates of D coordinates, with the
  /// coder of fewest bits for one client's share of the noise.
  public init(
    noiseMultiplier: Double, clippingBound: Double, sampler: CohortSampler, coordinates: Int,
    noiseSource: NoiseSource
  ) {
    self.noiseMultiplier = noiseMultiplier
    self.clippingBound = clippingBound
    self.sampler = sampler
    self.coordinates = coordinates
    self.noiseSource = noiseSource
    coder = CandidateCodebook.design(
      coordinates: coordinates, clippingBound: clippingBound,
      noiseStandardDeviation: Self.clientNoise(
        sampler: sampler, noiseMultiplier: noiseMultiplier, clippingBound: clippingBound))
  }

  /// s, each of the m_sim clients' noise, such that their m_sim draws add up to the
  /// simulated sum's noise (m_sim/m_noise)·σC: s = (m_sim/m_noise)·σC/√m_sim.
  static func clientNoise(sampler: CohortSampler, noiseMultiplier: Double, clippingBound: Double)
    -> Double
  {
    sampler.noiseScale
      * GaussianNoise(clippingBound: clippingBound, noiseMultiplier: noiseMultiplier)
      .standardDeviation / Double(sampler.cohortSize).squareRoot()
  }

  public var roundEvent: DPEvent {
    .relativeEntropyCoded(coder, sampler.event(noiseMultiplier: noiseMultiplier))
  }

  public var localSteps: any LocalStepRule { MinibatchSteps() }
  public var samplesLocally: Bool { false }

  public var assumptions: [String] {
    [
      "user level: add or remove one client's whole data; one clip per client per round, Gaussian noise on the cohort sum (central DP: the server sees clipped updates)",
      sampler.samplingAssumption,
      "DP-REC: each client sends block indices of an exact relative entropy coder whose decoded sample is its clipped update plus its share of the Gaussian noise; the server (sharing each client's secret round key) sees these noisy samples, everyone else only the models; the coder's failure and index laws do not depend on the data, so ε is that of the Gaussian release (no correction for K)",
    ]
  }

  /// The round's candidate key: from the OS CSPRNG with secure noise, from the round seed
  /// in seeded simulation.
  public func cohortKey(roundSeed: UInt64) -> UInt64? {
    var generator = noiseSource.generator(roundSeed: roundSeed ^ 0x7265_6300)
    return generator.next()
  }

  /// The round's codebook (from the context's secret key).
  func codebook(_ context: RoundContext) -> CandidateCodebook {
    guard let key = context.cohortKey else { preconditionFailure("DP-REC round without a key") }
    return CandidateCodebook(
      coder: coder, coordinates: coordinates, clippingBound: clippingBound,
      noiseStandardDeviation: Self.clientNoise(
        sampler: sampler, noiseMultiplier: noiseMultiplier, clippingBound: clippingBound),
      roundKey: key)
  }

  public func message(for update: ParameterSet<Float>, client: Int, context: RoundContext)
    -> ClientMessage
  {
    var clipped = update
    let (_, wasClipped) = GaussianNoise.clip(&clipped, to: context.clippingBound)
    var acceptance = noiseSource.generator(
      roundSeed: context.clientSeed(client) ^ 0x6163_6365_7074)
    let indices = codebook(context).encode(
      clipped.flattened(), client: client, acceptance: &acceptance)
    return ClientMessage(client: client, payload: .codedBlocks(indices), withinBound: !wasClipped)
  }

  public mutating func release(
    _ results: [ClientResult], template: ParameterSet<Float>, context: RoundContext,
    authorization: ReleaseAuthorization
  ) -> Release {
    let codebook = codebook(context)
    var generator = noiseSource.generator(roundSeed: context.seed)
    var values = [Float](repeating: 0, count: template.scalarCount)
    for result in results {
      guard case .codedBlocks(let indices) = result.message.payload else {
        preconditionFailure("client \(result.message.client) sent an uncoded update")
      }
      var (decoded, failed) = codebook.decode(indices, client: result.message.client)
      codebook.addBlockNoise(to: &decoded, blocks: failed, using: &generator)
      for index in values.indices { values[index] += decoded[index] }
    }
    return Release(
      sum: template.with(flattened: values), clipFraction: results.clippedClientFraction,
      clippingBound: context.clippingBound, bitsPerClient: codebook.bitsPerClient)
  }

  /// The communication of this run's coder and of a deployment client's (noise
  /// σC/√m_noise each).
  public func codingReport(adapter: FederatedMethod) -> CodingReport? {
    let deploymentNoise =
      GaussianNoise(clippingBound: clippingBound, noiseMultiplier: noiseMultiplier)
      .standardDeviation / Double(sampler.noiseCohortSize).squareRoot()
    return CodingReport(
      adapter: adapter.rawValue, coder: coder,
      deployment: CandidateCodebook.design(
        coordinates: coordinates, clippingBound: clippingBound,
        noiseStandardDeviation: deploymentNoise),
      coordinates: coordinates)
  }
}
