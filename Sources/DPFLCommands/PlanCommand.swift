import Accountants
import ArgumentParser
import DPAudit
import DPFederated
import DPModel
import Foundation

/// `dpfl plan`: the noise multiplier that meets a privacy target, or the rounds a noise
/// multiplier affords.
struct PlanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plan",
    abstract: "Find the noise multiplier that meets a privacy target (ε, δ) for a schedule.",
    discussion: """
      With only --epsilon, plans the built-in federated run: 1,000 of 1,000,000 clients per \
      round, 2,000 rounds, δ = 1/population. The answer always meets the target: its ε is \
      computed and is ≤ the target.

      Examples:
        dpfl plan --epsilon 2
        dpfl plan --epsilon 8 --delta 1e-5 --sampling-rate 0.004 --steps 14000 --clipping-bound 1
        dpfl plan --epsilon 2 --solve rounds --noise-multiplier 1.2 --format json

      \(ExitStatus.help)
      """)

  @Option(parsing: .unconditional, help: "Target ε > 0.")
  var epsilon: Double?

  @Option(
    parsing: .unconditional,
    help: "Target δ in (0, 1); default 1/population when --population is given.")
  var delta: Double?

  @OptionGroup var schedule: ScheduleOptions

  @OptionGroup var momentum: MomentumOptions

  @Option(
    help: "What to solve for: noise-multiplier (default) or rounds (needs --noise-multiplier).")
  var solve: PlanUnknown?

  @Option(
    parsing: .unconditional,
    help: "With --solve rounds: the noise multiplier σ = noise std / clipping bound C.")
  var noiseMultiplier: Double?

  @Option(
    parsing: .unconditional,
    help: "Clipping bound C > 0, to report the noise std on the cohort sum (σ·C) and mean (σ·C/M).")
  var clippingBound: Double?

  @Option(
    help:
      "rdp (default), moments (Abadi et al. 2016: orders 2…33, classic conversion), certified (a proven upper bound via MPFR; slower) or pld (privacy-loss distribution: tight, slower)."
  )
  var accountant: AccountantKind?

  @Option(help: "RDP → (ε, δ) conversion: improved (default) or classic.")
  var conversion: RDPConversion?

  @Option(
    parsing: .unconditional,
    help:
      "Plan a hyper-parameter search: the expected number of runs K of a random search whose best run is released (Papernot & Steinke 2022; RDP and moments accountants only)."
  )
  var tuningRuns: Double?

  @Option(
    help:
      "With --tuning-runs: the law of the number of runs, logarithmic (the default), geometric or poisson."
  )
  var tuningDistribution: TuningDistribution.Family?

  @Option(
    help:
      "A dpfl train TOML run config: plan its schedule (flags override it), so the plan and the run agree (--task jsonl without rounds: read from its data, as train does)."
  )
  var config: String?

  @Option(
    help:
      "dp-rec: also show what DP-REC's exact coder sends at the planned σ (needs a cohort size; ε does not depend on the coder)."
  )
  var method: PlannedMethod?

  @Option(
    parsing: .unconditional,
    help:
      "With --method dp-rec: the trainable parameters of one client's update (default 4874, the built-in digits LoRA)."
  )
  var trainableParameters: Int?

  @Option(
    help: ArgumentHelp(
      "Also write an HTML page of the plan's budget curve and of σ against rounds to this file.",
      valueName: "file"))
  var report: String?

  @OptionGroup var output: OutputOptions

  init() {}

  /// The query as given on the command line (and in `--config`, under the flags).
  func rawQuery() throws(CLIError) -> RawQuery {
    var raw = RawQuery(
      noiseMultiplier: noiseMultiplier, delta: delta, epsilon: epsilon, accountant: accountant,
      conversion: conversion, clippingBound: clippingBound, solve: solve, tuningRuns: tuningRuns,
      tuningDistribution: tuningDistribution)
    schedule.apply(to: &raw)
    momentum.apply(to: &raw)
    guard let config else { return raw }
    return raw.overriding(try Self.query(from: RunConfigFile.configuration(config), path: config))
  }

  /// The schedule a training run of `run` accounts: q = m_noise/N per round, its rounds,
  /// its δ, ε, sampling and accountant. A JSON Lines run that does not give its rounds takes
  /// them from its data as `train` does, so its file is read.
  static func query(from run: FederatedConfiguration, path: String) throws(CLIError) -> RawQuery {
    guard run.privacyUnit == .user else {
      throw .malformedFile(
        path: path, reason: "plan --config plans user-level runs; privacy_unit is example.")
    }
    guard run.noise == .continuous else {
      throw .malformedFile(
        path: path,
        reason:
          "plan --config plans runs with continuous noise; noise_distribution is discrete (dpfl train calibrates it by rdp)."
      )
    }
    var run = run
    if run.task == .jsonl && run.rounds == nil {
      do {
        run.resolveDataDefaults(userCount: try JSONLDataset.load(run).examples.clientCount) { nil }
      } catch let FederatedError.malformedData(file, line, reason) {
        throw .malformedFile(path: "\(file):\(line)", reason: reason)
      } catch {
        throw .malformedFile(path: path, reason: "\(error)")
      }
    }
    return RawQuery(
      population: run.population, cohortSize: run.noiseCohortSize, rounds: run.plannedRounds,
      delta: run.delta, epsilon: run.targetEpsilon, accountant: run.accountantKind,
      sampling: run.samplingScheme, clippingBound: run.effectiveClippingBound)
  }

  func run() throws {
    try reportingErrors(of: Self.self) { () throws(CLIError) in
      if let path = output.batch {
        let succeeded = try BatchRunner.run(
          path: path, defaults: try rawQuery(), allowed: PlanQuery.fields, timings: output.timings
        ) { (raw: RawQuery) throws(CLIError) -> PlanResult in
          try PlanQuery(raw).solve()
        }
        if !succeeded { throw CLIError.batchHadErrors }
        return
      }
      let raw = try rawQuery()
      let query = try PlanQuery(raw)
      var result = try query.solve()
      result.budgetCurve = try query.budgetCurve(result)
      if method == .dpREC {
        let parameters = trainableParameters ?? 4874
        guard parameters >= 1 else {
          throw CLIError.invalidConfiguration(
            "--trainable-parameters must be an integer ≥ 1; got \(parameters).")
        }
        guard let cohort = query.sampling.cohortSize else {
          throw CLIError.invalidConfiguration(
            "--method dp-rec needs --population and --cohort-size (the clients that share the noise); got --sampling-rate only."
          )
        }
        result.coding = CodingTradeOff(
          noiseMultiplier: result.noiseMultiplier, cohortSize: cohort,
          trainableParameters: parameters)
      }
      if let report { try writeReport(result, query: query, raw: raw, to: report) }
      print(output.format == .json ? Rendering.json(result) : Rendering.text(result))
    }
  }

  /// `--report`: the budget curve at 20 points and, when σ was solved for, σ for the same
  /// target at ¼ to 4 times the rounds, as ``PlanReport``.
  /// - Parameter raw: the query as given (`query` before validation), rescaled for the other
  ///   round counts.
  func writeReport(_ result: PlanResult, query: PlanQuery, raw: RawQuery, to path: String)
    throws(CLIError)
  {
    let curve = try query.budgetCurve(result, fractions: (1...19).map { Double($0) / 20 })
    var sigmas: [(rounds: Int, sigma: Double)] = []
    if query.unknown == .noiseMultiplier {
      for factor in [0.25, 0.5, 1, 2, 4] {
        guard factor != 1 else {
          sigmas.append((result.steps, result.noiseMultiplier))
          continue
        }
        var scaled = raw
        if let rounds = raw.rounds { scaled.rounds = max(1, Int(Double(rounds) * factor)) }
        if let steps = raw.steps { scaled.steps = max(1, Int(Double(steps) * factor)) }
        let solved = try PlanQuery(scaled).solve()
        sigmas.append((solved.steps, solved.noiseMultiplier))
      }
    }
    let page = PlanReport(result: result, curve: curve, sigmas: sigmas).html
    do { try DurableFile.write(Data(page.utf8), to: URL(fileURLWithPath: path)) } catch {
      throw .unwritableFile(path: path, reason: "\(error)")
    }
  }
}
