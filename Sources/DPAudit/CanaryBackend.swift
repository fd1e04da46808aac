import DPFederated
import DPModel

/// A backend that adds the audit's canary clients to every round (Andrew et al., ICLR 2024,
/// §4): each inserted canary joins a round with the deployment's sampling probability
/// q = m_noise/N, drawn from the round's seed, and sends its direction restricted to the
/// round's live coordinates, scaled to the round's clipping bound — through the run's own
/// mechanism, so it is clipped, coded and noised as any client's update. The real clients
/// run on the wrapped backend unchanged.
///
/// In a simulation (m_sim trained clients standing for m_noise) the noise on the sum is
/// scaled by m_sim/m_noise; the canary is scaled by the same factor, so its update stands
/// to the noise as one client's does in the deployment the accounting describes.
struct CanaryBackend<Model: ClassificationModel>: FederatedBackend where Model.Scalar == Float {
  /// Where the task's clients run.
  let inner: any FederatedBackend<Model>
  /// The canaries.
  let canaries: CanaryDirections
  /// The run's mechanism (its client side only is used).
  let mechanism: any PrivacyMechanism
  /// q, each canary's chance to join a round.
  let samplingProbability: Double
  /// The factor on the canary's norm C (m_sim/m_noise in a simulation, at most 1).
  let scale: Double
  /// The first client index of a canary (the task's client count).
  let firstIndex: Int
  /// Where the rounds each canary joined are counted.
  let log: ParticipationLog

  func runClients(
    _ context: RoundContext, global: Model, authorization: ReleaseAuthorization
  ) throws -> [ClientResult] {
    var results = try inner.runClients(context, global: global, authorization: authorization)
    let template = global.trainableParameters
    let live = context.live.indices(in: template)
    let joining = sampled(roundSeed: context.seed)
    log.record(joining)
    for canary in joining {
      let update = self.update(canary, template: template, live: live, norm: context.clippingBound)
      results.append(
        ClientResult(
          message: mechanism.message(
            for: update, client: firstIndex + canary, context: context),
          loss: 0, exampleCount: 0, clippedExamples: 0, localEpochs: 0))
    }
    return results
  }

  /// The inserted canaries that join the round of `roundSeed` (Poisson, probability q).
  func sampled(roundSeed: UInt64) -> [Int] {
    var generator = Xoshiro256StarStar(seed: roundSeed ^ 0x6361_6E61_7279)
    return canaries.inserted.filter { _ in
      Double.random(in: 0..<1, using: &generator) < samplingProbability
    }
  }

  /// Canary j's update: its direction on the live coordinates, of norm scale·C.
  func update(_ j: Int, template: ParameterSet<Float>, live: [Int], norm: Double)
    -> ParameterSet<Float>
  {
    CanaryDirections.update(
      canaries.direction(j), template: template, live: live, norm: scale * norm)
  }
}
