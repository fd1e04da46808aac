import Accountants

/// The one place a round's release is accounted: compose the round's event, check the
/// budget, persist the ledger, and only then hand out the ``ReleaseAuthorization`` that a
/// mechanism needs to release anything (ARCHITECTURE, "accounting before release"). Every
/// backend goes through it, so no backend can release an unaccounted round.
public struct PrivacyLedger: Sendable {
  /// The accounting of the run: accountant, δ, sampling.
  public let plan: PrivacyPlan
  /// Whether rounds cost privacy (a `.nonPrivate` run has no budget).
  public let isPrivate: Bool
  /// The ledger after n rounds (``PrivacyMechanism/ledger(rounds:)``).
  private let ledgerOfRounds: @Sendable (Int) -> DPEvent
  /// The ε no round may take the run past (`nil`: no privacy, no budget).
  public let targetEpsilon: Double?
  /// The rounds the run plans (milestones of the per-round bound are fractions of it).
  public let plannedRounds: Int
  /// The events released so far.
  public private(set) var events: DPEvent
  /// Rounds charged so far.
  public private(set) var chargedRounds: Int
  /// An upper bound on ε spent so far (see ``spentBound(rounds:)``); ∞ without privacy.
  public private(set) var epsilonSpent: Double
  /// The plan's accountant's ε after milestone round counts, computed once each.
  private var milestones: [Int: Double] = [:]

  /// What ``authorize(record:)`` decided.
  public enum Decision: Sendable {
    /// The round was accounted and recorded: release it.
    case granted(ReleaseAuthorization)
    /// The round would take ε past the target and was not recorded; the ε it would reach.
    case refused(wouldReach: Double)
  }

  /// An empty ledger for a run whose rounds `mechanism` releases.
  public init(
    plan: PrivacyPlan, mechanism: any PrivacyMechanism, targetEpsilon: Double?, plannedRounds: Int
  ) {
    self.plan = plan
    isPrivate = mechanism.roundEvent != .nonPrivate
    ledgerOfRounds = { [mechanism] in mechanism.ledger(rounds: $0) }
    self.targetEpsilon = targetEpsilon
    self.plannedRounds = plannedRounds
    events = .noOp
    chargedRounds = 0
    epsilonSpent = 0
  }

  /// Accounts one more round: composes its event, checks the target, and calls `record`
  /// with the new ledger before returning the authorization.
  /// - Parameter record: persists the ledger; if it throws, nothing is authorised and the
  ///   ledger is unchanged.
  /// - Throws: ``FederatedError/accounting(_:)``, or what `record` throws.
  public mutating func authorize(record: (DPEvent) throws -> Void) throws -> Decision {
    let next = ledgerOfRounds(chargedRounds + 1)
    var spent = Double.infinity
    if isPrivate {
      let target = targetEpsilon ?? .infinity
      spent = try spentBound(rounds: chargedRounds + 1)
      if spent > target { spent = try plan.epsilon(of: next) }
      if spent > target { return .refused(wouldReach: spent) }
    }
    try record(next)
    events = next
    chargedRounds += 1
    epsilonSpent = spent
    return .granted(ReleaseAuthorization(round: chargedRounds - 1, epsilonSpent: spent))
  }

  /// The ledger of `rounds` rounds of this run.
  public func expectedLedger(rounds: Int) -> DPEvent { ledgerOfRounds(rounds) }

  /// Restores the ledger a run folder recorded, given the rounds its checkpoint completed.
  ///
  /// The ledger is written before a round's release and the checkpoint after it, so a run
  /// killed in between has one more round in its ledger than in its checkpoint. With seeded
  /// noise that round is re-run and releases exactly what it would have (same seeds), so it
  /// is not charged twice; with secure noise a re-run would be a second, different release,
  /// so the lost round stays charged and the next round is charged again.
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when the ledger matches neither
  ///   the checkpoint's round count nor one more.
  public mutating func restore(
    recorded: DPEvent, completedRounds: Int, reproducibleNoise: Bool, fallbackEpsilon: Double,
    folder: String
  ) throws {
    guard
      let recordedRounds = [completedRounds, completedRounds + 1].first(where: {
        expectedLedger(rounds: $0) == recorded
      })
    else {
      throw FederatedError.runFolder(
        path: folder,
        reason:
          "ledger.json does not match checkpoint.json (\(completedRounds) rounds) for this configuration"
      )
    }
    let charged = reproducibleNoise ? completedRounds : recordedRounds
    events = ledgerOfRounds(charged)
    chargedRounds = charged
    epsilonSpent = isPrivate && charged > 0 ? try spentBound(rounds: charged) : fallbackEpsilon
  }

  /// An upper bound on ε(δ) after `rounds` rounds, cheap enough for every round: RDP's ε,
  /// and for PLD the tighter of that and PLD's ε at the next milestone (every twentieth of
  /// the planned rounds), since a prefix of a composition spends no more than the whole.
  /// Exact at milestones; each milestone costs one PLD evaluation, once.
  mutating func spentBound(rounds: Int) throws -> Double {
    let ledger = expectedLedger(rounds: rounds)
    let rdp = try plan.with(accountant: .rdp).epsilon(of: ledger)
    guard plan.accountant == .pld else { return rdp }
    guard rounds <= plannedRounds else { return min(rdp, try plan.epsilon(of: ledger)) }
    let step = max(1, plannedRounds / 20)
    let milestone = min(plannedRounds, (rounds + step - 1) / step * step)
    if milestones[milestone] == nil {
      milestones[milestone] = try plan.epsilon(of: expectedLedger(rounds: milestone))
    }
    return min(rdp, milestones[milestone]!)
  }

  /// ε(δ) of the rounds released so far by the plan's accountant (∞ without privacy).
  public func exactEpsilonSpent() throws -> Double {
    isPrivate ? try plan.epsilon(of: events) : .infinity
  }
}

/// The ledger's proof that a round was accounted and recorded; a mechanism needs it to
/// release the round, and only ``PrivacyLedger/authorize(record:)`` makes one.
public struct ReleaseAuthorization: Sendable {
  /// The round authorised (0-based count of rounds charged before it).
  public let round: Int
  /// ε spent once the round is released (∞ without privacy).
  public let epsilonSpent: Double

  fileprivate init(round: Int, epsilonSpent: Double) {
    self.round = round
    self.epsilonSpent = epsilonSpent
  }
}
