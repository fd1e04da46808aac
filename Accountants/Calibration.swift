import RealModule

/// Calibration: the mechanism parameter that just meets a privacy target.
///
/// Every search builds a *fresh* accountant for each trial value (the accountant you
/// pass is a factory, never mutated) and returns a value whose ε has been evaluated and
/// found ≤ the target: the conservative end of the final bracket. The searches work in
/// log space (σ and q span orders of magnitude) to a relative tolerance.
///
/// ```swift
/// let target = try PrivacyBudget(epsilon: 2, delta: 1e-6)
/// let sigma = try Calibration.noiseMultiplier(target: target, accountant: { RDPAccountant() }) {
///   .selfComposed(.poissonSampled(probability: 1e-3, .gaussian(noiseMultiplier: $0)), count: 2000)
/// }
/// ```
public enum Calibration {
  /// The relative tolerance of continuous searches: the returned σ is within a factor
  /// 1 + 1e-6 of the smallest σ meeting the target (and the returned q of the largest q).
  public static let defaultRelativeTolerance = 1e-6

  /// The range searched for noise multipliers. Above 10⁶ the target is treated as
  /// unreachable (Opacus uses the same cap); below 10⁻⁴ noise is irrelevant.
  public static let noiseMultiplierRange: ClosedRange<Double> = 1e-4...1e6

  /// The range searched for sampling probabilities.
  public static let samplingProbabilityRange: ClosedRange<Double> = 1e-12...1

  /// The smallest noise multiplier σ whose event meets `target`, within
  /// `relativeTolerance`; ε(returned σ) ≤ target.ε always holds.
  ///
  /// - Parameters:
  ///   - target: the (ε, δ) to meet.
  ///   - accountant: makes a fresh, empty accountant per trial.
  ///   - relativeTolerance: the search stops when the bracket [σ_lo, σ_hi] has
  ///     σ_hi/σ_lo ≤ 1 + tolerance; σ_hi is returned.
  ///   - event: the event of the whole run for a given σ; ε must not increase with σ.
  /// - Throws: ``AccountingError/noBracketFound(reason:)`` when even σ = 10⁶ misses the
  ///   target, ``AccountingError/cannotCompose(_:)`` when the accountant rejects the event.
  /// - Complexity: about 10–25 accountant evaluations.
  public static func noiseMultiplier<A: PrivacyAccountant>(
    target: PrivacyBudget,
    accountant: () -> A,
    relativeTolerance: Double = defaultRelativeTolerance,
    event: (Double) -> DPEvent
  ) throws(AccountingError) -> Double {
    try continuousBoundary(
      target: target, range: noiseMultiplierRange, epsilonIncreases: false,
      relativeTolerance: relativeTolerance, name: "noise multiplier", accountant: accountant,
      event: event)
  }

  /// The largest sampling probability q whose event meets `target`, within
  /// `relativeTolerance`; ε(returned q) ≤ target.ε always holds. Returns 1 when q = 1
  /// meets the target.
  ///
  /// - Parameter event: the event of the whole run for a given q; ε must not decrease with q.
  /// - Throws: ``AccountingError/noBracketFound(reason:)`` when even q = 10⁻¹² misses
  ///   the target; ``AccountingError/cannotCompose(_:)`` when the accountant rejects the event.
  public static func samplingProbability<A: PrivacyAccountant>(
    target: PrivacyBudget,
    accountant: () -> A,
    relativeTolerance: Double = defaultRelativeTolerance,
    event: (Double) -> DPEvent
  ) throws(AccountingError) -> Double {
    try continuousBoundary(
      target: target, range: samplingProbabilityRange, epsilonIncreases: true,
      relativeTolerance: relativeTolerance, name: "sampling probability", accountant: accountant,
      event: event)
  }

  /// The largest count n ≤ `limit` (steps, rounds) whose event meets `target`:
  /// ε(n) ≤ target.ε < ε(n + 1), exactly.
  ///
  /// - Parameter event: the event of the whole run for n repetitions; ε must not decrease with n.
  /// - Throws: ``AccountingError/noBracketFound(reason:)`` when even n = 1 misses the
  ///   target; ``AccountingError/cannotCompose(_:)`` when the accountant rejects the event.
  /// - Complexity: O(log n) accountant evaluations.
  public static func count<A: PrivacyAccountant>(
    target: PrivacyBudget,
    accountant: () -> A,
    limit: Int = 1 << 40,
    event: (Int) -> DPEvent
  ) throws(AccountingError) -> Int {
    guard limit >= 1 else {
      throw .invalidArgument(name: "count limit", value: Double(limit), requirement: "be ≥ 1")
    }
    let found = try RootFinding.largestFeasibleInteger(limit: limit) {
      (n: Int) throws(AccountingError) -> Bool in
      try epsilon(of: event(n), target: target, accountant: accountant) <= target.epsilon
    }
    guard let found else {
      throw .noBracketFound(
        reason:
          "even a count of 1 exceeds ε = \(target.epsilon) at δ = \(target.delta); lower the noise's cost or raise the target."
      )
    }
    return found
  }

  // MARK: - Implementation

  /// The continuous search behind ``noiseMultiplier(target:accountant:relativeTolerance:event:)``
  /// and ``samplingProbability(target:accountant:relativeTolerance:event:)``, started from
  /// a cheap first answer for RDP and PLD accountants (see `Calibration+RDP.swift` and
  /// `Calibration+PLD.swift`).
  private static func continuousBoundary<A: PrivacyAccountant>(
    target: PrivacyBudget, range: ClosedRange<Double>, epsilonIncreases: Bool,
    relativeTolerance: Double, name: String, accountant: () -> A, event: (Double) -> DPEvent
  ) throws(AccountingError) -> Double {
    let search = Search(
      target: target, range: range, epsilonIncreases: epsilonIncreases,
      relativeTolerance: relativeTolerance, name: name)
    if let template = accountant() as? RDPAccountant, template.ledger == .noOp,
      let found = try search.startingFromIntegerOrders(template: template, event: event)
    {
      return found
    }
    if let template = accountant() as? PLDAccountant, template.ledger == .noOp,
      let found = try search.startingFromCoarseGrid(template: template, event: event)
    {
      return found
    }
    return try search.boundary(start: 1) { (x: Double) throws(AccountingError) -> Double in
      try epsilon(of: event(x), target: target, accountant: accountant)
    }
  }

  private static func epsilon<A: PrivacyAccountant>(
    of event: DPEvent, target: PrivacyBudget, accountant: () -> A
  ) throws(AccountingError) -> Double {
    var fresh = accountant()
    try fresh.compose(event)
    return try fresh.epsilon(delta: target.delta)
  }
}

extension Calibration {
  /// One continuous calibration problem: find the boundary of {x ∈ range : ε(x) ≤ target}
  /// for ε monotone in x.
  struct Search {
    var target: PrivacyBudget
    var range: ClosedRange<Double>
    var epsilonIncreases: Bool
    var relativeTolerance: Double
    var name: String

    /// The boundary for `fine`, searched from the boundary for `coarse`, an accountant whose
    /// ε is never below `fine`'s and cheaper to evaluate, with a bracket that grows from 2 %;
    /// `nil` when the search with `coarse` fails for any reason (no boundary, or a coarse
    /// PLD grid too large): the caller then searches with `fine` alone.
    func warmStarted<A: PrivacyAccountant>(
      coarse: A, fine: A, event: (Double) -> DPEvent
    ) throws(AccountingError) -> Double? {
      func epsilon(_ accountant: A, at x: Double) throws(AccountingError) -> Double {
        var fresh = accountant
        try fresh.compose(event(x))
        return try fresh.epsilon(delta: target.delta)
      }
      let start: Double
      do {
        start = try boundary(start: 1) { (x: Double) throws(AccountingError) -> Double in
          try epsilon(coarse, at: x)
        }
      } catch {
        return nil
      }
      return try boundary(start: start, initialStep: 0.02) {
        (x: Double) throws(AccountingError) -> Double in
        try epsilon(fine, at: x)
      }
    }

    /// The boundary for `epsilonAt`, searched in u = ±log x so that ε decreases in u,
    /// from x = `start`; returns the feasible end of the final bracket. The bracket grows
    /// from a factor `1 + initialStep` around the start, doubling its step each time.
    func boundary(
      start: Double, initialStep: Double = 1,
      _ epsilonAt: (Double) throws(AccountingError) -> Double
    ) throws(AccountingError) -> Double {
      guard relativeTolerance.isFinite, relativeTolerance > 0 else {
        throw .invalidArgument(
          name: "relative tolerance", value: relativeTolerance, requirement: "be finite and > 0")
      }
      let sign = epsilonIncreases ? -1.0 : 1.0
      func x(_ u: Double) -> Double {
        min(max(Double.exp(sign * u), range.lowerBound), range.upperBound)
      }
      // A trial the accountant cannot evaluate within its resource limits (a PLD grid too
      // large, at noise so small that the privacy loss spans a huge range) counts as
      // missing the target. Only a value evaluated and found within the target is ever
      // returned, so this can make the answer more conservative, never less.
      func gap(_ u: Double) throws(AccountingError) -> Double {
        do {
          return try epsilonAt(x(u)) - target.epsilon
        } catch .resourceLimitExceeded {
          return .infinity
        }
      }
      // In u, feasible points lie above the boundary; the feasible limit of the range is
      // its upper end in u.
      let feasibleLimit =
        epsilonIncreases ? -Double.log(range.lowerBound) : Double.log(range.upperBound)
      let infeasibleLimit =
        epsilonIncreases ? -Double.log(range.upperBound) : Double.log(range.lowerBound)
      var step = Double.log(onePlus: initialStep)
      var u = min(max(sign * Double.log(start), infeasibleLimit), feasibleLimit)
      var f = try gap(u)
      var infeasible: (u: Double, f: Double)
      var feasible: (u: Double, f: Double)
      if f <= 0 {
        feasible = (u, f)
        repeat {
          if feasible.u <= infeasibleLimit { return x(feasible.u) }
          u = max(feasible.u - step, infeasibleLimit)
          step *= 2
          f = try gap(u)
          if f <= 0 { feasible = (u, f) }
        } while f <= 0
        infeasible = (u, f)
      } else {
        infeasible = (u, f)
        repeat {
          guard infeasible.u < feasibleLimit else {
            throw .noBracketFound(
              reason:
                "no \(name) in [\(range.lowerBound), \(range.upperBound)] meets ε = \(target.epsilon) at δ = \(target.delta)."
            )
          }
          u = min(infeasible.u + step, feasibleLimit)
          step *= 2
          f = try gap(u)
          if f > 0 { infeasible = (u, f) }
        } while f > 0
        feasible = (u, f)
      }
      let tolerance = Double.log(onePlus: relativeTolerance)
      let found = try RootFinding.feasibleBoundary(
        infeasible: infeasible, feasible: feasible, tolerance: tolerance, gap)
      return x(found)
    }

  }
}
