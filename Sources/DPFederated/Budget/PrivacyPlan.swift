import Accountants

/// The accounting side of a run: the per-round event, σ calibrated for the whole run, and
/// ε of a ledger, with the accountant the configuration names. `dpfl plan` and
/// `dpfl train` share it, so a plan and a run of one configuration agree.
public struct PrivacyPlan: Equatable, Sendable {
  /// The sampler that wraps each round's mechanism.
  public let sampler: CohortSampler
  /// δ of every ε reported.
  public let delta: Double
  /// The accountant.
  public let accountant: AccountantKind
  /// Example-level runs: the local DP-SGD of the client whose examples are least protected
  /// (its Poisson sampling rate and steps per round); `nil` for user-level runs.
  public let localSampling: LocalSampling?
  /// The user-level release's Gaussian: continuous, or discrete on a grid.
  public let noise: NoiseDistribution

  /// Local DP-SGD in one client for one round: `steps` steps, each including each example
  /// independently with probability `probability`; with `momentum` β > 0 (DP-BREM) one
  /// step whose gradient enters the client's momentum, released round after round.
  public struct LocalSampling: Equatable, Sendable {
    public var probability: Double
    public var steps: Int
    public var momentum = 0.0
  }

  /// A plan for user-level (`localSampling == nil`) or example-level runs.
  public init(
    sampler: CohortSampler, delta: Double, accountant: AccountantKind,
    localSampling: LocalSampling? = nil, noise: NoiseDistribution = .continuous
  ) {
    self.sampler = sampler
    self.delta = delta
    self.accountant = accountant
    self.localSampling = localSampling
    self.noise = noise
  }

  /// The neighbouring relation of the accounting: the cohort sampler's at user level;
  /// add/remove one example at example level.
  var relation: NeighboringRelation {
    localSampling == nil ? sampler.scheme.neighboringRelation : .addOrRemoveOne
  }

  /// One round's event at noise multiplier σ.
  ///
  /// User level: one Gaussian (or discrete Gaussian) release of the clipped cohort sum,
  /// Poisson-sampled with q = m_noise/N. Example level: the local DP-SGD steps of the least protected client,
  /// which an example is exposed to only when its client is in the round's cohort: with
  /// probability q = m_noise/N, independently of the data, and visibly
  /// (``Accountants/DPEvent/participationSampled(probability:_:)``; exact for a server that
  /// sees who took part, and so for anyone who sees less).
  ///
  /// With momentum this is the per-round charge, each round at the full sensitivity with no
  /// record sampling: sound for a round on its own, and looser than the run's joint event
  /// (``runEvent(noiseMultiplier:rounds:)``), which the ledgers use.
  public func roundEvent(noiseMultiplier: Double) -> DPEvent {
    guard let localSampling else {
      return sampler.event(noiseMultiplier: noiseMultiplier, noise: noise)
    }
    if localSampling.momentum > 0 {
      return .participationSampled(
        probability: sampler.samplingProbability, .gaussian(noiseMultiplier: noiseMultiplier))
    }
    return .participationSampled(
      probability: sampler.samplingProbability,
      .selfComposed(
        .poissonSampled(
          probability: localSampling.probability, .gaussian(noiseMultiplier: noiseMultiplier)),
        count: localSampling.steps))
  }

  /// The ledger of `rounds` rounds at σ: the round's event composed that many times, or
  /// with momentum the whole run's ``Accountants/DPEvent/momentumGaussian(_:)`` (a record
  /// stays in the momentum, so its rounds are one release).
  public func runEvent(noiseMultiplier: Double, rounds: Int) -> DPEvent {
    guard let localSampling, localSampling.momentum > 0, rounds > 0 else {
      return Self.repeated(roundEvent(noiseMultiplier: noiseMultiplier), rounds: rounds)
    }
    return .momentumGaussian(
      MomentumGaussian(
        noiseMultiplier: noiseMultiplier, momentum: localSampling.momentum,
        recordProbability: localSampling.probability,
        participationProbability: sampler.samplingProbability, rounds: rounds))
  }

  /// `event` composed `rounds` times, as a ``Accountants/DPEventBuilder`` writes it
  /// (`noOp`, the event, or `selfComposed`).
  public static func repeated(_ event: DPEvent, rounds: Int) -> DPEvent {
    var builder = DPEventBuilder()
    if rounds > 0 { builder.compose(event, count: rounds) }
    return builder.build()
  }

  /// The same plan with another accountant.
  func with(accountant: AccountantKind) -> PrivacyPlan {
    PrivacyPlan(
      sampler: sampler, delta: delta, accountant: accountant, localSampling: localSampling,
      noise: noise)
  }

  /// The same plan for another local schedule (`nil`: user level).
  func with(localSampling: LocalSampling?) -> PrivacyPlan {
    PrivacyPlan(
      sampler: sampler, delta: delta, accountant: accountant, localSampling: localSampling,
      noise: noise)
  }

  /// The smallest σ for which `rounds` rounds stay within `targetEpsilon` at δ.
  /// - Throws: ``FederatedError/accounting(_:)`` when no σ ≤ 10⁶ meets the target.
  public func calibrate(targetEpsilon: Double, rounds: Int) throws -> Double {
    do {
      let target = try PrivacyBudget(epsilon: targetEpsilon, delta: delta)
      let event = { (sigma: Double) in runEvent(noiseMultiplier: sigma, rounds: rounds) }
      return try accountant.noiseMultiplier(
        target: target, neighboringRelation: relation, event: event)
    } catch {
      throw FederatedError.accounting("\(error)")
    }
  }

  /// ε(δ) of `ledger` with the plan's accountant (under the ledger's own neighbouring
  /// relation, ``LedgerAccounting/neighboringRelation(of:)``).
  public func epsilon(of ledger: DPEvent) throws -> Double {
    try Self.epsilon(of: ledger, delta: delta, accountant: accountant)
  }

  /// ε(δ) of `ledger` with `accountant`, its failure as ``FederatedError/accounting(_:)``.
  public static func epsilon(of ledger: DPEvent, delta: Double, accountant: AccountantKind)
    throws -> Double
  {
    switch LedgerAccounting.epsilon(ledger: ledger, delta: delta, methods: [accountant])[0].finding
    {
    case .success(let finding): return finding.bound.value
    case .failure(let error): throw FederatedError.accounting("\(error)")
    }
  }
}
