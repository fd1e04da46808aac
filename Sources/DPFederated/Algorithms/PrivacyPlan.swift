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
  public let accountant: FederatedConfiguration.AccountantChoice

  /// One round's event at noise multiplier σ.
  public func roundEvent(noiseMultiplier: Double) -> DPEvent {
    sampler.event(wrapping: .gaussian(noiseMultiplier: noiseMultiplier))
  }

  /// The smallest σ for which `rounds` rounds stay within `targetEpsilon` at δ.
  /// - Throws: ``FederatedError/accounting(_:)`` when no σ ≤ 10⁶ meets the target.
  public func calibrate(targetEpsilon: Double, rounds: Int) throws -> Double {
    do {
      let target = try PrivacyBudget(epsilon: targetEpsilon, delta: delta)
      let event = { (sigma: Double) in DPEvent.selfComposed(roundEvent(noiseMultiplier: sigma), count: rounds) }
      switch accountant {
      case .pld: return try Calibration.noiseMultiplier(target: target, accountant: { PLDAccountant() }, event: event)
      case .rdp: return try Calibration.noiseMultiplier(target: target, accountant: { RDPAccountant() }, event: event)
      }
    } catch {
      throw FederatedError.accounting("\(error)")
    }
  }

  /// ε(δ) of `ledger` with the plan's accountant.
  public func epsilon(of ledger: DPEvent) throws -> Double {
    do {
      switch accountant {
      case .pld:
        var pld = PLDAccountant()
        try pld.compose(ledger)
        return try pld.epsilon(delta: delta)
      case .rdp:
        var rdp = RDPAccountant()
        try rdp.compose(ledger)
        return try rdp.epsilon(delta: delta)
      }
    } catch {
      throw FederatedError.accounting("\(error)")
    }
  }
}
