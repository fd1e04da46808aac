import Accountants
import DPFederated
import Foundation

/// Text (for people) and JSON (for programs) renderings of results.
enum Rendering {
  /// One line of JSON with sorted keys; infinities as the string "inf".
  static func json<T: Encodable>(_ value: T) -> String {
    do {
      return try CompactJSONEncoder.encode(value)
    } catch {
      // Every result type encodes plain numbers, strings and arrays; this is unreachable.
      preconditionFailure("JSON encoding of \(T.self) failed: \(error)")
    }
  }

  /// A compact number: 6 significant digits, "∞" for infinity.
  static func number(_ value: Double) -> String {
    if value.isInfinite { return value > 0 ? "∞" : "-∞" }
    return String(format: "%.6g", value)
  }

  /// A positive number rounded *up* to 6 significant digits, for noise multipliers a
  /// user may copy: the rounded σ adds noise, so it still meets the target.
  static func roundedUp(_ value: Double) -> String {
    guard value.isFinite, value > 0 else { return number(value) }
    let scale = pow(10, (log10(value)).rounded(.down) - 5)
    return String(format: "%.6g", (value / scale).rounded(.up) * scale)
  }

  /// A number with 9 significant digits, to show how close a plan is to its target.
  static func precise(_ value: Double) -> String {
    value.isFinite ? String(format: "%.9g", value) : number(value)
  }

  /// A count with thousands separators (1,000,000).
  static func count(_ value: Int) -> String {
    let digits = Array(String(value.magnitude))
    var groups: [String] = []
    var end = digits.count
    while end > 0 {
      groups.insert(String(digits[max(0, end - 3)..<end]), at: 0)
      end -= 3
    }
    return (value < 0 ? "-" : "") + groups.joined(separator: ",")
  }

  static func text(_ result: AccountResult) -> String {
    let headline: String
    switch result.solvedFor {
    case .epsilon:
      headline = "ε = \(number(result.epsilon)) at δ = \(number(result.delta)) (upper bound)"
    case .delta:
      headline = "δ = \(number(result.delta)) at ε = \(number(result.epsilon)) (upper bound)"
    }
    let finding = result.finding
    var lines = [
      headline,
      "  accountant  \(describe(finding.method, finding.conversion, finding.orders, bound: finding.bound, pld: finding.pld))",
    ]
    if let schedule = result.schedule {
      lines.append("  schedule    \(describe(schedule.sampling, steps: schedule.steps))")
      lines.append(
        "  noise       σ = \(number(schedule.noiseMultiplier)) (noise std σ·C for clipping bound C)"
      )
    } else {
      lines.append(
        "  ledger      \(result.ledger.summary); \(finding.neighboringRelation.rawValue) neighbours"
      )
    }
    lines += edgeWarning(finding.bound)
    return lines.joined(separator: "\n")
  }

  /// `--compare`: one line per accountant, then the ledger.
  static func text(
    comparison results: [(method: AccountantKind, result: Result<AccountResult, CLIError>)]
  ) -> String {
    var lines: [String] = []
    var ledger: String?
    for (method, result) in results {
      let name = method.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)
      switch result {
      case .success(let value):
        ledger = ledger ?? value.ledger.summary
        let finding = value.finding
        let order = finding.bound.optimalOrder.map { "α = \(number($0))" } ?? "α = –"
        let answer =
          value.solvedFor == .epsilon
          ? "ε = \(precise(value.epsilon)) at δ = \(number(value.delta))"
          : "δ = \(precise(value.delta)) at ε = \(number(value.epsilon))"
        lines.append(
          "\(name) \(answer)  (\(Self.settings(finding)), \(order))")
      case .failure(let error):
        lines.append("\(name) cannot account for this ledger: \(error.message(.flag))")
      }
    }
    if let ledger { lines.append("ledger    \(ledger)") }
    return lines.joined(separator: "\n")
  }

  static func text(_ result: PlanResult) -> String {
    let query = result.query
    let target = "ε = \(number(query.target.epsilon)) at δ = \(number(query.target.delta))"
    var lines: [String]
    switch query.unknown {
    case .noiseMultiplier:
      lines = [
        "noise multiplier σ = \(roundedUp(result.noiseMultiplier)) (rounded up) meets \(target) (achieved ε = \(precise(result.achieved.value)))"
      ]
    case .rounds:
      lines = [
        "\(count(result.steps)) rounds at σ = \(number(result.noiseMultiplier)) meet \(target) (achieved ε = \(precise(result.achieved.value)))"
      ]
    }
    lines.append(
      "  accountant  \(describe(query.method.choice, query.method.conversion, query.method.orders, bound: result.achieved, pld: nil))"
    )
    lines.append("  schedule    \(describe(query.sampling, steps: result.steps))")
    if let momentum = query.momentum {
      lines.append(
        "  momentum    β = \(number(momentum.beta)), record rate p = \(number(momentum.recordRate)): the rounds are one release (MomentumGaussian), record level"
      )
    }
    switch result.search {
    case .random(let law)?:
      let tuning = PlanResult.Tuning(.random(law))
      lines.append(
        "  tuning      a random search of E[K] = \(number(tuning.expectedRuns)) runs (\(tuning.distribution ?? ""), \(tuning.parameterName ?? "") = \(number(tuning.parameter ?? 0))), only the best released (Papernot & Steinke 2022); cheaper than composing \(count(result.query.tuningRuns ?? 0)) runs"
      )
    case .fixed(let runs)?:
      lines.append(
        "  tuning      exactly \(count(runs)) runs, accounted as their composition: cheaper here than a random search's bound (or the accountant has none)"
      )
    case nil:
      break
    }
    if let sum = result.noiseStdOnSum {
      var noise = "  noise       std σ·C = \(number(sum)) on the cohort sum"
      if let mean = result.noiseStdOnMean, let cohort = query.sampling.cohortSize {
        noise += "; σ·C/\(count(cohort)) = \(number(mean)) on the mean update"
      }
      lines.append(noise)
    } else {
      lines.append("  noise       std σ·C on the cohort sum (give --clipping-bound C for numbers)")
    }
    if !query.assumedDefaults.isEmpty {
      lines.append(
        "  assumed     \(query.assumedDefaults.joined(separator: ", ")) (the built-in federated run's defaults; pass flags to change them)"
      )
    }
    lines += edgeWarning(result.achieved)
    if let curve = result.budgetCurve {
      lines.append("")
      let sigma =
        query.unknown == .noiseMultiplier
        ? roundedUp(result.noiseMultiplier) : number(result.noiseMultiplier)
      lines.append("  budget curve at σ = \(sigma), δ = \(number(query.target.delta))")
      lines.append("  " + "steps".leftPadded(to: 12) + "ε".leftPadded(to: 14))
      for point in curve {
        let marker = point.epsilon > query.target.epsilon ? "  over target" : ""
        lines.append(
          "  " + count(point.steps).leftPadded(to: 12) + precise(point.epsilon).leftPadded(to: 14)
            + marker)
      }
    }
    if let coding = result.coding { lines += text(coding) }
    return lines.joined(separator: "\n")
  }

  /// DP-REC's bits at the planned σ, one row per work budget.
  private static func text(_ coding: CodingTradeOff) -> [String] {
    var lines = [
      "",
      "  DP-REC at this σ: exact coder, so ε is the same on every row; D = \(count(coding.trainableParameters)) parameters, κ = \(number(coding.divergence)) nats per client (float32: 32 bits per parameter)",
      "  " + "M ≤".leftPadded(to: 8) + "K".leftPadded(to: 10) + "block".leftPadded(to: 7)
        + "blocks".leftPadded(to: 8) + "bits/client".leftPadded(to: 13)
        + "bits/param".leftPadded(to: 12) + "candidates/client".leftPadded(to: 19)
        + "P(block fails)".leftPadded(to: 16),
    ]
    for row in coding.rows {
      lines.append(
        "  " + count(row.maximumCandidates).leftPadded(to: 8)
          + count(row.candidateCount).leftPadded(to: 10)
          + "\(row.blockDimension)".leftPadded(to: 7) + count(row.blocks).leftPadded(to: 8)
          + count(row.bitsPerClient).leftPadded(to: 13)
          + String(format: "%.3f", row.bitsPerParameter).leftPadded(to: 12)
          + number(row.expectedCandidatesPerClient).leftPadded(to: 19)
          + number(row.blockFailureProbability).leftPadded(to: 16))
    }
    return lines
  }

  private static func describe(
    _ method: AccountantKind, _ conversion: RDPConversion?, _ orders: RDPOrders?,
    bound: PrivacyBound,
    pld: PLDAccountant.Bound?
  ) -> String {
    let name: String
    switch method {
    case .rdp: name = "RDP"
    case .moments: name = "moments (Abadi et al. 2016)"
    case .certified:
      name =
        "certified RDP (MPFR, \(CertifiedRDPAccountant.precisionBits)-bit directed rounding; a proven upper bound)"
    case .pld: name = "PLD (connect-the-dots, pessimistic)"
    }
    if let orders, let conversion {
      let order = bound.optimalOrder.map { ", optimal order α = \(number($0))" } ?? ""
      return
        "\(name), \(conversion.rawValue) conversion, \(orders.values.count) orders (\(orders.name))\(order)"
    }
    guard let pld else { return name }
    let grid =
      pld.discretization.map { "interval h = \(number($0))" } ?? "exact (no discretisation)"
    return "\(name), \(grid); remove \(number(pld.remove)), add \(number(pld.add))"
  }

  /// A finding's settings in one phrase: conversion and grid, or the PLD interval.
  private static func settings(_ finding: LedgerAccounting.Finding) -> String {
    if let conversion = finding.conversion, let orders = finding.orders {
      return "\(conversion.rawValue), \(orders.name)"
    }
    return finding.pld?.discretization.map { "h = \(number($0))" } ?? "exact"
  }

  private static func describe(_ sampling: Sampling, steps: Int) -> String {
    let rate = "q = \(number(sampling.rate))"
    let who: String
    if let population = sampling.population, let cohort = sampling.cohortSize {
      who = "\(count(cohort)) of \(count(population)) per step (\(rate))"
    } else {
      who = rate
    }
    switch sampling.scheme {
    case .poisson:
      return "Poisson sampling, \(who), \(count(steps)) steps; add/remove-one neighbours"
    case .fixedSize:
      return
        "fixed-size sampling without replacement, \(who), \(count(steps)) steps; replace-one neighbours (sensitivity 2C)"
    }
  }

  private static func edgeWarning(_ bound: PrivacyBound) -> [String] {
    guard bound.orderAtGridEdge else { return [] }
    return [
      "  note        the optimal order is at the edge of the grid: a wider grid might give a smaller bound."
    ]
  }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}

extension Rendering {
  static func text(_ summary: TrainingSummary) -> String {
    var lines = [
      "\(summary.task), \(summary.method), privacy unit: \(summary.privacyUnit)"
        + (summary.maxLength.map { ", max length \($0) tokens" } ?? ""),
      "accuracy \(String(format: "%.3f", summary.accuracyBefore)) before → \(String(format: "%.3f", summary.accuracyAfter)) after \(summary.rounds) of \(summary.plannedRounds) rounds",
    ]
    if summary.epsilon.isFinite {
      let rdp = summary.rdpEpsilon.map { " (RDP: \(number($0)))" } ?? ""
      let target = summary.targetEpsilon.map { " of target \(number($0))" } ?? ""
      lines.append(
        "ε spent = \(number(summary.epsilon))\(target) at δ = \(number(summary.delta)), \(summary.accountant)\(rdp); σ = \(roundedUp(summary.noiseMultiplier)), C = \(number(summary.clippingBound))\(summary.finalClippingBound.map { " → \(number($0)) (adaptive)" } ?? "")"
      )
    } else {
      lines.append("no privacy: ε = ∞ (no clipping, no noise)")
    }
    if summary.simulation {
      lines.append(
        "simulation: noise of \(count(summary.noiseCohortSize)) of \(count(summary.simulatedPopulation)) clients per round; \(summary.cohortSize) trained per round"
      )
    } else {
      lines.append(
        "no simulation: \(count(summary.cohortSize)) of \(count(summary.simulatedPopulation)) clients per round"
      )
    }
    if summary.epsilon.isFinite {
      lines.append(
        summary.noiseSource == NoiseSource.seeded.rawValue
          ? "noise: seeded (reproducible from the seed: for simulation, not for a real release)"
          : "noise: secure (the OS CSPRNG)")
    }
    if let byRank = summary.accuracyByRank {
      lines.append(
        "accuracy by rank: "
          + byRank.enumerated().map { "\($0 + 1): \(String(format: "%.3f", $1))" }.joined(
            separator: "  "))
    }
    lines.append(
      "bytes per client per round: \(count(summary.bytesPerClientPerRound)) (all trainables: \(count(summary.bytesFullUpdate)))"
    )
    if let coding = summary.coding {
      lines.append(
        "DP-REC (\(coding.adapter) update): \(count(coding.blocks)) blocks of ≤ \(coding.blockDimension) × log₂\(count(coding.candidateCount)) bits = \(String(format: "%.2f", coding.bitsPerParameter)) bits per parameter (float32: 32; the simulated deployment's clients: \(String(format: "%.2f", coding.deploymentBitsPerParameter))); a block fails with probability \(number(coding.blockFailureProbability)), whatever the data"
      )
    }
    if let byzantine = summary.byzantine {
      lines.append(
        "Byzantine clients: the first \(count(byzantine.clients)) of \(count(byzantine.of)) sent \(byzantine.attack) updates"
      )
    }
    if summary.privacyUnit == "example", let assumption = summary.assumptions.dropFirst().first {
      lines.append("assumed: \(assumption)")
    }
    if let reason = summary.stopReason { lines.append("stopped early: \(reason)") }
    lines.append(
      "run written to \(summary.runDir) in \(String(format: "%.1f", summary.wallSeconds)) s")
    return lines.joined(separator: "\n")
  }
}
