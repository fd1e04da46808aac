import Accountants
import DPModel

/// DP-BREM's mechanism (spec `brem-flora.md` §1.3–1.5), record level. A client's gradient
/// is the sum of its per-record clipped gradients (bound R) over a Poisson sample, divided
/// by the expected batch size B (``PerRecordClippedSteps``), so one record moves it by at
/// most R/B; its momentum m = (1 − β)·Σ_k β^k·g_{t−k} then moves by at most
/// (1 − β)·Σ_k β^k·R/B < R/B, and the centered clip clip_τ(m − v) around the public v is a
/// projection, so it moves by no more. The server adds N(0, (σR/B)²) to the sum of the
/// clipped deviations: the noise does not depend on τ, which only bounds one client's pull
/// on the aggregate (2τ/m per round).
///
/// The round's event (``PrivacyPlan/roundEvent(noiseMultiplier:)`` with one step at the
/// sampling of ``NoiseCalibration``): the client takes part with probability q, public and
/// independent of the data (`participationSampled`); within a round,
/// - with β = 0 a record enters with probability p = min(1, B/n) and nowhere else: the
///   Poisson-subsampled Gaussian;
/// - with β > 0 a record sampled once stays in its client's momentum, hidden, in every later
///   round, so the rounds are one release: the run's ledger is
///   ``Accountants/DPEvent/momentumGaussian(_:)`` (``ledger(rounds:)``), which bounds the
///   momentum's shift in each round by the record's inclusions so far. ``roundEvent`` is the
///   per-round charge, each round at the full sensitivity R/B; a Flower node's own ledger
///   keeps the momentum release over the rounds it answers (``NodeLedger/merged(_:)``).
///   Counting only the fresh gradient's (1 − β)·R/B in every round would
///   under-count ρ about 1/(1 − β²)-fold.
///
/// Without privacy (`plan == nil`) the same round runs without the noise: the per-record
/// clip (which sets the gradients' scale against τ) and the centered clip (which makes the
/// method robust) are the algorithm and stay.
public struct CenteredClippingMechanism: PrivacyMechanism {
  public let noiseMultiplier: Double
  /// R, the per-record clip.
  public var clippingBound: Double
  /// B, the expected batch size every client gradient is divided by.
  public let batchSize: Int
  /// The accounting (`nil` without privacy).
  public let plan: PrivacyPlan?
  /// β.
  public let momentum: Double
  /// Where the noise comes from.
  public let noiseSource: NoiseSource

  public init(
    noiseMultiplier: Double, clippingBound: Double, batchSize: Int, plan: PrivacyPlan?,
    momentum: Double, noiseSource: NoiseSource
  ) {
    self.noiseMultiplier = noiseMultiplier
    self.clippingBound = clippingBound
    self.batchSize = batchSize
    self.plan = plan
    self.momentum = momentum
    self.noiseSource = noiseSource
  }

  public var roundEvent: DPEvent {
    plan.map { $0.roundEvent(noiseMultiplier: noiseMultiplier) } ?? .nonPrivate
  }

  public func ledger(rounds: Int) -> DPEvent {
    plan.map { $0.runEvent(noiseMultiplier: noiseMultiplier, rounds: rounds) }
      ?? PrivacyPlan.repeated(.nonPrivate, rounds: rounds)
  }

  public var localSteps: any LocalStepRule { PerRecordClippedSteps(clippingBound: clippingBound) }
  public var samplesLocally: Bool { true }

  /// The noise on the sum: σ times the sensitivity R/B.
  public var noise: GaussianNoise {
    GaussianNoise(
      clippingBound: clippingBound / Double(batchSize), noiseMultiplier: noiseMultiplier)
  }

  /// The norm of the noise one round adds to the server's momentum v = v + sum/m over D
  /// coordinates: σ(R/B)·√D/m_noise (0 without privacy).
  public func noiseNorm(coordinates: Int) -> Double {
    guard let plan else { return 0 }
    return noise.standardDeviation * Double(coordinates).squareRoot()
      / Double(plan.sampler.noiseCohortSize)
  }

  public var assumptions: [String] {
    guard let plan else {
      return [
        "no privacy: no noise (the per-record clip R = \(clippingBound) and the centered clip stay: they are the algorithm)"
      ]
    }
    let rounds =
      momentum > 0
      ? "with momentum β = \(momentum) a record stays in its client's momentum after it is sampled, so the run is one release (MomentumGaussian): in the k-th round its client takes part in, the momentum moves by at most c_k·R/B, c_k = (1 − β)·Σ_j β^(k−j)·b_j over the record's inclusions b_j (each with probability at most \(plan.localSampling?.probability ?? 1)), and ε is that of the mixture over every participation and inclusion pattern of Gaussians with shift √(Σ c_k²)/σ (PLD takes every b_j = 1; RDP counts the inclusions)"
      : "without momentum a record enters a round's gradient with probability min(1, B/n) (Poisson), at most \(plan.localSampling?.probability ?? 1) for the smallest client"
    return [
      "example level: add or remove one record of a client; per-record clip R = \(clippingBound), each client's gradient divided by the expected batch size B = \(batchSize) (sensitivity R/B), Gaussian noise σR/B on the sum of the clients' centered-clipped momenta (central DP: the server sees the clipped momenta)",
      "a client takes part with probability q = \(plan.sampler.samplingProbability), independent of the data and possibly visible to the server; \(rounds)",
      "each client's number of examples is treated as public, as Opacus treats the dataset size (it sets the sampling rate B/n)",
    ]
  }

  /// clip_τ(m − v): the client's momentum `update` centred at the round's v.
  public func message(for update: ParameterSet<Float>, client: Int, context: RoundContext)
    -> ClientMessage
  {
    guard let centeredClip = context.centeredClip else {
      preconditionFailure("a centered-clipping round without DP-BREM's centre")
    }
    return .clipped(
      update.with(flattened: centeredClip.deviation(update.flattened())),
      to: centeredClip.radius, client: client)
  }

  /// clip_τ of a node's message, which is already the deviation m − v (subtracting v again
  /// would move an honest node's message).
  public func received(_ sent: ParameterSet<Float>, client: Int, context: RoundContext)
    -> ClientMessage
  {
    guard let centeredClip = context.centeredClip else {
      preconditionFailure("a centered-clipping round without DP-BREM's centre")
    }
    return .clipped(sent, to: centeredClip.radius, client: client)
  }

  /// The sum of the clipped deviations plus N(0, (scale·σR/B)²) on every live coordinate.
  public mutating func release(
    _ results: [ClientResult], template: ParameterSet<Float>, context: RoundContext,
    authorization: ReleaseAuthorization
  ) -> Release {
    var sum = results.updateSum(template: template)
    if let plan {
      var generator = noiseSource.generator(roundSeed: context.seed)
      noise.add(to: &sum, live: context.live, scale: plan.sampler.noiseScale, using: &generator)
    }
    return Release(
      sum: sum, clipFraction: results.clippedClientFraction,
      clippingBound: context.centeredClip?.radius, bitsPerClient: nil)
  }
}
