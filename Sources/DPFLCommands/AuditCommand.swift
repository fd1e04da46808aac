import ArgumentParser
import DPAudit
import DPFederated
import Foundation

/// `dpfl audit`: a training run with canaries (clients at user level, examples at example
/// level), and the empirical ε they give beside the accountant's.
struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Measure a training run's privacy empirically with canary clients.",
    discussion: """
      Runs the training the train options describe with --canaries random unit directions, \
      each inserted or held out by a fair coin. At user level an inserted canary is one more \
      client whose update is its direction: it joins a round with the deployment's sampling \
      probability and goes through the run's own clipping, noise and ledger. At example \
      level it is one more example of a random client, whose clipped gradient is its \
      direction: every local DP-SGD step of its client takes it with the step's sampling \
      rate, before the step's noise (example-level audits need the task's own clients, no \
      simulation). From the cosines of the canaries with the trained model's change it \
      prints, beside the accountant's ε (an upper bound):

        estimate     Andrew et al. (ICLR 2024), one-shot: the inserted canaries' shift read \
      as a Gaussian mechanism. An estimate, with no confidence statement.
        lower bound  Steinke, Nasr & Jagielski (NeurIPS 2023), one run: the true ε is at \
      least this with the stated confidence. A guarantee.

      Both are for an adversary who sees the final model only. The canaries change the \
      model, so an audit is a run of its own (runs/audit-<task>-<method>-<time>, with \
      audit.json beside the usual files), never the model to deploy.

      \(ExitStatus.help)

      Examples:
        dpfl audit
        dpfl audit --method dp-lora --epsilon 4 --canaries 2000 --format json
        dpfl audit --privacy-unit example --epsilon 8 --population 100 --cohort-size 20 \\
          --noise-cohort-size 20
      """)

  @OptionGroup(title: "Run settings") var options: FederatedConfiguration
  @Option(help: "Canary clients (about half inserted), 10 to 100,000.")
  var canaries = 1_000
  @Option(help: "Seed of the canaries' directions and coins (default: from --seed).")
  var canarySeed: UInt64?
  @Option(help: "Confidence of the lower bound, in (0, 1).")
  var confidence = 0.95
  @Option(help: "Run folder (default runs/audit-<task>-<method>-<time>).")
  var runDir: String?
  @Option(help: "Output format: text, or json for one object {summary, audit} on stdout.")
  var format: OutputFormat = .text

  init() {}

  func validate() throws {
    guard (10...100_000).contains(canaries) else {
      throw ValidationError("--canaries \(canaries): allowed 10 to 100,000.")
    }
    guard confidence > 0, confidence < 1 else {
      throw ValidationError("--confidence \(confidence): allowed strictly between 0 and 1.")
    }
  }

  func run() throws {
    try TrainCommand.reportingErrors {
      let folder = try RunFolder(
        creating: URL(
          fileURLWithPath: runDir ?? TrainCommand.defaultRunDir(options, prefix: "audit-")))
      let audit = CanaryAudit(
        canaryCount: canaries, seed: canarySeed ?? options.seed ^ 0x6175_6469_74,
        confidence: confidence)
      let summary = try TrainCommand.train(
        options, folder: folder, resume: false, instrument: audit)
      guard let result = audit.result else { preconditionFailure("the run finished unaudited") }
      print(
        format == .json
          ? Rendering.json(AuditOutput(summary: summary, audit: result))
          : Rendering.text(result, runDir: folder.url.path))
      if result.lowerBound > result.accountantEpsilon {
        FileHandle.standardError.write(
          Data(
            "Error: the audit's lower bound ε ≥ \(Rendering.number(result.lowerBound)) (confidence \(result.confidence)) exceeds the accountant's ε = \(Rendering.number(result.accountantEpsilon)): the mechanism leaks more than it claims\n"
              .utf8))
        throw ExitCode(ExitStatus.auditFailed)
      }
      if result.estimate.epsilon > result.accountantEpsilon {
        FileHandle.standardError.write(
          Data(
            "Warning: the estimate ε ≈ \(Rendering.number(result.estimate.epsilon)) exceeds the accountant's ε = \(Rendering.number(result.accountantEpsilon)); it has no confidence statement: audit again with more --canaries or another --canary-seed\n"
              .utf8))
      }
      try TrainCommand.finish(summary)
    }
  }
}

/// `dpfl audit --format json`'s object.
struct AuditOutput: Encodable {
  var summary: TrainingSummary
  var audit: AuditResult
}
