import ArgumentParser
import DPFederated
import DPModel
import Foundation

/// `dpfl train`: private federated fine-tuning on a built-in task, with the budget tracked
/// round by round and the ledger written before every noisy release.
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Privately fine-tune a pre-trained model on federated data.",
    discussion: """
      With no arguments: the digits task (an MLP pre-trained on a public 30 % split, fine-tuned \
      on 100 label-skewed clients), DP-DyLoRA, user-level ε = 2 at δ = 1e-6, simulating a \
      population of 1,000,000 with 1,000 clients per round (20 trained per round). σ is \
      calibrated before the run with the PLD accountant, each round is accounted and recorded \
      in ledger.json before its noise is drawn, and a round that would exceed ε is refused.

      --task jsonl --data FILE trains on your own users. The max length, cohort and rounds \
      you do not give come from the data (one line on stderr says which and why; see their \
      options). They depend on the private data and are not covered by ε: give them when that \
      matters. The built-in tasks keep \(FederatedConfiguration.builtInMaxLength) tokens, \
      \(FederatedConfiguration.builtInCohortSize) clients per round and \
      \(FederatedConfiguration.builtInRounds) rounds.

      Text trains as FedSGD with a server Adam: a client of up to 64 examples takes one \
      local step at learning rate 0.125 (at user level its update is its mean gradient over \
      8, then clipped; at example level a DP-SGD step with each example clipped to C = 4) \
      and the server steps with Adam at 0.003. Features train as FedAvg (local SGD 0.01 on \
      batches of 8, server SGD 1). The four \
      --local-batch-size, --local-learning-rate, --server-optimizer and \
      --server-learning-rate override either.

      The run folder (--run-dir, default runs/<task>-<method>-<time>) holds config.json \
      (every setting as the run resolved it), ledger.json (re-account it with dpfl account \
      --ledger), metrics.jsonl, checkpoint.json, adapter.safetensors and summary.json. \
      --resume DIR continues a killed run with the settings of its config.json.

      \(ExitStatus.help)

      Examples:
        dpfl train
        dpfl train --method dp-lora --epsilon 4 --rounds 100 --format json
        dpfl train --config run.toml --rounds 50
        dpfl train --task jsonl --data reviews.jsonl --method dp-lora
        dpfl train --no-privacy --method dp-lora
        dpfl train --resume runs/digits-dp-dylora-20261122-101500
      """)

  @Option(
    help: ArgumentHelp(
      "A TOML run config: the settings below in snake_case (rounds = 50, no_privacy is privacy = false).",
      discussion: "It is expanded in place, so flags after it override it.", valueName: "file"))
  var config: String?
  @OptionGroup(title: "Run settings") var options: FederatedConfiguration
  @Option(help: "Run folder (default runs/<task>-<method>-<time>).")
  var runDir: String?
  @Option(help: "Continue the run in this folder (no other training flags).")
  var resume: String?
  @Option(help: "Output format: text, or json for one summary object on stdout.")
  var format: OutputFormat = .text

  init() {}

  func validate() throws {
    if config != nil {
      throw ValidationError("--config is expanded by dpfl's entry point (RunConfigFile.expand).")
    }
    if resume != nil && (options != .defaults || runDir != nil) {
      throw ValidationError(
        "--resume continues a run with its own config.json; give no other training flags.")
    }
  }

  func run() throws {
    try Self.reportingErrors {
      let folder: RunFolder
      let configuration: FederatedConfiguration
      if let resume {
        folder = try RunFolder(existing: URL(fileURLWithPath: resume))
        configuration = try folder.readConfiguration()
      } else {
        configuration = options
        folder = try RunFolder(
          creating: URL(fileURLWithPath: runDir ?? Self.defaultRunDir(configuration)))
      }
      let summary = try Self.train(configuration, folder: folder, resume: resume != nil)
      print(format == .json ? Rendering.json(summary) : Rendering.text(summary))
      try Self.finish(summary)
    }
  }

  /// Trains `configuration` into `folder` (with `instrument` riding along), the progress
  /// line and what a JSON Lines run took from its data on stderr.
  static func train(
    _ configuration: FederatedConfiguration, folder: RunFolder, resume: Bool,
    instrument: (any RunInstrument)? = nil
  ) throws -> TrainingSummary {
    prepareProcessForTraining()
    let progress = ProgressLine()
    let summary = try TrainingRun.run(
      configuration: configuration, assets: Self.assets, folder: folder, resume: resume,
      progress: progress.update,
      dataDefaults: { FileHandle.standardError.write(Data("\($0)\n".utf8)) },
      instrument: instrument,
      tuning: { rate, accuracy in
        FileHandle.standardError.write(
          Data(
            "tuning on the public split: server learning rate \(String(format: "%.3g", rate)) → \(String(format: "%.1f", 100 * accuracy)) %\n"
              .utf8))
      })
    progress.finish()
    return summary
  }

  /// Keeps freed blocks for reuse and gives each BLAS call one thread: a training process
  /// uses the cores for clients and batches.
  static func prepareProcessForTraining() {
    Allocator.keepFreedBlocks()
    OpenBLASKernel.setThreadsPerCall(1)
  }

  /// The summary's warnings on stderr; a run the budget stopped exits with its status.
  static func finish(_ summary: TrainingSummary) throws {
    for warning in summary.warnings {
      FileHandle.standardError.write(Data("Warning: \(warning)\n".utf8))
    }
    if let reason = summary.stopReason {
      FileHandle.standardError.write(Data("Error: budget exhausted: \(reason)\n".utf8))
      throw ExitCode(ExitStatus.budgetExhausted)
    }
  }

  /// Runs `body`, turning dpfl's errors into one line on stderr and their exit status.
  static func reportingErrors(_ body: () throws -> Void) throws {
    do {
      try body()
    } catch let error as FederatedError {
      FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
      throw ExitCode(ExitStatus.code(of: error))
    } catch let error as ModelError {
      FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
      throw ExitCode(ExitStatus.failure)
    }
  }

  /// `$DPFL_ASSETS_DIR`, or `.cache/assets` in the current folder (where
  /// `Scripts/fetch-assets` puts them when run from the repository).
  static var assets: TrainingRun.Assets {
    let environment = ProcessInfo.processInfo.environment["DPFL_ASSETS_DIR"]
    return TrainingRun.Assets(root: URL(fileURLWithPath: environment ?? ".cache/assets"))
  }

  /// `runs/<prefix><task>-<method>-<UTC time>`.
  static func defaultRunDir(_ configuration: FederatedConfiguration, prefix: String = "")
    -> String
  {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    formatter.timeZone = TimeZone(identifier: "UTC")
    return
      "runs/\(prefix)\(configuration.task.rawValue)-\(configuration.method.rawValue)-\(formatter.string(from: Date()))"
  }
}

/// The progress bar on stderr: round, ε spent, loss, ETA; redrawn in place on a terminal,
/// one line per tenth of the run otherwise.
final class ProgressLine: @unchecked Sendable {
  private let start = Date()
  private let isTerminal = isatty(STDERR_FILENO) != 0
  private var lastDecile = -1

  func update(_ progress: TrainingRun.Progress) {
    let elapsed = Date().timeIntervalSince(start)
    let remaining = elapsed / Double(progress.round) * Double(progress.rounds - progress.round)
    let accuracy = progress.accuracy.map { String(format: "  acc %.3f", $0) } ?? ""
    let line = String(
      format: "round %d/%d  ε %.4g  loss %.4f%@  ETA %.0fs", progress.round, progress.rounds,
      progress.epsilon, progress.loss, accuracy, remaining)
    if isTerminal {
      FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
    } else if progress.round * 10 / progress.rounds > lastDecile {
      lastDecile = progress.round * 10 / progress.rounds
      FileHandle.standardError.write(Data("\(line)\n".utf8))
    }
  }

  func finish() {
    if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
  }
}
