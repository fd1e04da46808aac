import Accountants
import ArgumentParser

/// `dpfl account`: the ε (or δ) that a noise multiplier and schedule spend.
struct AccountCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "account",
    abstract: "Report the ε (or δ) spent by a noise multiplier and a sampling schedule.",
    discussion: """
      Examples:
        dpfl account --noise-multiplier 1.1 --sampling-rate 0.01 --steps 10000 --delta 1e-5
        dpfl account --noise-multiplier 1 --population 1000000 --cohort-size 1000 --rounds 2000 --delta 1e-6 --format json
        dpfl account --batch queries.jsonl --timings
        dpfl account --ledger run/ledger.json --delta 1e-6 --compare

      \(ExitStatus.help)
      """)

  @Option(
    parsing: .unconditional,
    help: "Noise multiplier σ: noise standard deviation / clipping bound C, ≥ 0.")
  var noiseMultiplier: Double?

  @OptionGroup var schedule: ScheduleOptions

  @OptionGroup var momentum: MomentumOptions

  @Option(parsing: .unconditional, help: "δ in (0, 1): report ε at this δ.")
  var delta: Double?

  @Option(parsing: .unconditional, help: "ε ≥ 0: report δ at this ε instead.")
  var epsilon: Double?

  @Option(
    help:
      "rdp (Rényi DP, 156 orders up to 1024), moments (Abadi et al. 2016: orders 2…33, classic conversion), certified (integer orders, a proven upper bound via MPFR) or pld (privacy-loss distribution: tight)."
  )
  var accountant: AccountantKind?

  @Option(
    help:
      "RDP → (ε, δ) conversion: improved (Canonne–Kamath–Steinke 2020, default) or classic (Mironov 2017)."
  )
  var conversion: RDPConversion?

  @Option(
    help: ArgumentHelp(
      "Re-account a ledger: the DPEvent JSON a training run writes ('-' for stdin).",
      discussion:
        "Give --delta or --epsilon; the ledger replaces --noise-multiplier and the schedule flags.",
      valueName: "file"))
  var ledger: String?

  @Flag(help: "With --ledger: answer with every accountant, side by side.")
  var compare = false

  @OptionGroup var output: OutputOptions

  init() {}

  func validate() throws {
    if output.batch != nil && ledger != nil {
      throw ValidationError(
        "--batch and --ledger cannot be combined: a batch reads its own queries; re-account a ledger on its own."
      )
    }
  }

  /// The query as given on the command line.
  var rawQuery: RawQuery {
    var raw = RawQuery(
      noiseMultiplier: noiseMultiplier, delta: delta, epsilon: epsilon, accountant: accountant,
      conversion: conversion)
    schedule.apply(to: &raw)
    momentum.apply(to: &raw)
    return raw
  }

  func run() throws {
    try reportingErrors(of: Self.self) { () throws(CLIError) in
      if let path = output.batch {
        let succeeded = try BatchRunner.run(
          path: path, defaults: rawQuery, allowed: AccountQuery.fields, timings: output.timings
        ) { (raw: RawQuery) throws(CLIError) -> AccountResult in
          try AccountQuery(raw).evaluate()
        }
        if !succeeded { throw CLIError.batchHadErrors }
        return
      }
      if let path = ledger {
        let results = try LedgerQuery(path: path, raw: rawQuery, compare: compare).evaluate()
        try printLedgerResults(results)
        return
      }
      if compare {
        throw CLIError.missing(
          .ledger, hint: "--compare re-accounts a ledger with every accountant.")
      }
      let result = try AccountQuery(rawQuery).evaluate()
      print(output.format == .json ? Rendering.json(result) : Rendering.text(result))
    }
  }

  /// One result as usual; with `--compare`, every accountant's (or its error). Fails only
  /// when no accountant could account for the ledger.
  private func printLedgerResults(
    _ results: [(method: AccountantKind, result: Result<AccountResult, CLIError>)]
  ) throws(CLIError) {
    if !compare, case .failure(let error) = results[0].result { throw error }
    if !compare, case .success(let result) = results[0].result {
      print(output.format == .json ? Rendering.json(result) : Rendering.text(result))
      return
    }
    print(
      output.format == .json
        ? Rendering.json(LedgerComparison(results)) : Rendering.text(comparison: results))
    if !results.contains(where: { (try? $0.result.get()) != nil }) {
      throw .accounting(.noBracketFound(reason: "no accountant supports this ledger."))
    }
  }
}
