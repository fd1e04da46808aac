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
      """)

  @Option(parsing: .unconditional, help: "Noise multiplier σ: noise standard deviation / clipping bound C, ≥ 0.")
  var noiseMultiplier: Double?

  @OptionGroup var schedule: ScheduleOptions

  @Option(parsing: .unconditional, help: "δ in (0, 1): report ε at this δ.")
  var delta: Double?

  @Option(parsing: .unconditional, help: "ε ≥ 0: report δ at this ε instead.")
  var epsilon: Double?

  @Option(help: "rdp (Rényi DP, 156 orders up to 1024) or moments (Abadi et al. 2016: orders 2…33, classic conversion).")
  var accountant: Audit.Method?

  @Option(help: "RDP → (ε, δ) conversion: improved (Canonne–Kamath–Steinke 2020, default) or classic (Mironov 2017).")
  var conversion: RDPConversion?

  @OptionGroup var output: OutputOptions

  init() {}

  /// The query as given on the command line.
  var rawQuery: RawQuery {
    var raw = RawQuery(
      noiseMultiplier: noiseMultiplier, delta: delta, epsilon: epsilon, accountant: accountant, conversion: conversion)
    schedule.apply(to: &raw)
    return raw
  }

  func run() throws {
    try reportingErrors { () throws(CLIError) in
      if let path = output.batch {
        let succeeded = try BatchRunner.run(
          path: path, defaults: rawQuery, allowed: AccountQuery.fields, timings: output.timings
        ) { (raw: RawQuery) throws(CLIError) -> AccountResult in
          try AccountQuery(raw).evaluate()
        }
        if !succeeded { throw CLIError.batchHadErrors }
        return
      }
      let result = try AccountQuery(rawQuery).evaluate()
      print(output.format == .json ? Rendering.json(result) : Rendering.text(result))
    }
  }
}
