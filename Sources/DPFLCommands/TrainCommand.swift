import ArgumentParser
import DPFederated
import DPModel
import Foundation

extension FederatedConfiguration.Method: ExpressibleByArgument {}
extension FederatedConfiguration.AccountantChoice: ExpressibleByArgument {}
extension FederatedConfiguration.ServerOptimizer: ExpressibleByArgument {}
extension NoiseSource: ExpressibleByArgument {}
extension FederatedConfiguration.PrivacyUnit: ExpressibleByArgument {}
extension CohortSampler.Kind: ExpressibleByArgument {}

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

      The run folder (--run-dir, default runs/<task>-<method>-<time>) holds config.json, \
      ledger.json (re-account it with dpfl account --ledger), metrics.jsonl, checkpoint.json, \
      adapter.safetensors and summary.json. --resume DIR continues a killed run.

      Examples:
        dpfl train
        dpfl train --method dp-lora --epsilon 4 --rounds 100 --format json
        dpfl train --no-privacy --method dp-lora
        dpfl train --resume runs/digits-dp-dylora-20261122-101500
      """)

  @Option(
    help:
      "A TOML run config: the flag names in snake_case (flags override it). dpfl plan --config reads the same file."
  )
  var config: String?
  @Option(
    help:
      "digits (default), shakespeare-genre or chitchat-topic (need Scripts/fetch-assets), or jsonl (--data FILE)."
  )
  var task: String?
  @Option(help: "--task jsonl: JSON Lines with user_id, label and text or features.")
  var data: String?
  @Option(help: "--task jsonl: an evaluation file (default: hold out 20 % of the users).")
  var evaluationData: String?
  @Option(
    help:
      "shakespeare-genre: held-out-plays (default; unseen plays) or held-out-lines (unseen lines of seen roles)."
  )
  var evaluationSplit: String?
  @Option(
    help: "shakespeare-genre: consecutive speeches of a role joined into one example (default 1).")
  var speechesPerExample: Int?
  @Option(help: "Text tasks: all-MiniLM-L6-v2 blocks to keep, 1…6 (default 2).")
  var layers: Int?
  @Option(help: "Text tasks: the longest token sequence (default 32).")
  var maxLength: Int?
  @Option(
    help:
      "dp-lora, dp-dylora (default), ffa-lora, fed-sb, dp-rec (adapter updates sent by an exact relative entropy coder; fixed-size cohorts, RDP), head-only or full (every linear weight)."
  )
  var method: FederatedConfiguration.Method?
  @Option(
    help:
      "--method dp-rec: the adapter whose update is coded: dp-lora (default), ffa-lora or fed-sb.")
  var recAdapter: FederatedConfiguration.Method?
  @Option(
    help:
      "user (default: DP-FedAvg, one clip per client, central noise) or example (DP-SGD inside each client; accounted as if every client took part in every round)."
  )
  var privacyUnit: FederatedConfiguration.PrivacyUnit?
  @Flag(help: "Train the same loop without clipping or noise (the comparison row; ε = ∞).")
  var noPrivacy = false
  @Option(parsing: .unconditional, help: "Target ε > 0 (default 2); σ is calibrated to meet it.")
  var epsilon: Double?
  @Option(parsing: .unconditional, help: "δ in (0, 1) (default 1e-6).")
  var delta: Double?
  @Option(
    parsing: .unconditional,
    help: "σ = noise std ÷ clipping bound; skips calibration (the budget is still enforced).")
  var noiseMultiplier: Double?
  @Option(help: "Rounds T (default 200).")
  var rounds: Int?
  @Option(
    help:
      "poisson (default; q = noise cohort ÷ population) or fixed-size (accounted as sampling without replacement, replace-one; needs --accountant rdp)."
  )
  var cohortSampling: CohortSampler.Kind?
  @Option(help: "Clients trained per round, expected (default 20); also the fixed denominator.")
  var cohortSize: Int?
  @Option(help: "Population N the accounting assumes (default 1,000,000; simulated).")
  var population: Int?
  @Option(help: "Clients per round the noise is calibrated for (default 1,000; simulated).")
  var noiseCohortSize: Int?
  @Option(
    parsing: .unconditional, help: "Clipping bound C > 0 on each client's update (default 0.5).")
  var clippingBound: Double?
  @Flag(
    help:
      "Adapt the clipping bound to a quantile of the client update norms (Andrew et al. 2021); --clipping-bound is the start."
  )
  var adaptiveClipping = false
  @Option(
    parsing: .unconditional,
    help: "Adaptive clipping: the quantile γ in (0, 1) to track (default 0.5).")
  var targetQuantile: Double?
  @Option(
    parsing: .unconditional, help: "Adaptive clipping: η of C ← C·exp(−η(b̂ − γ)) (default 0.2).")
  var clipLearningRate: Double?
  @Option(
    parsing: .unconditional,
    help:
      "Adaptive clipping: σ_b of the unclipped count as a fraction of the noise cohort (default 0.05)."
  )
  var indicatorNoiseFraction: Double?
  @Option(help: "pld (default) or rdp: calibration and the per-round budget check.")
  var accountant: FederatedConfiguration.AccountantChoice?
  @Option(help: "seeded (default; reproducible simulation) or secure (the OS CSPRNG).")
  var noiseSource: NoiseSource?
  @Option(help: "Local epochs per round (default 1).")
  var localEpochs: Int?
  @Option(help: "Local mini-batch size (default 8).")
  var localBatchSize: Int?
  @Option(parsing: .unconditional, help: "Local SGD learning rate (default 0.01).")
  var localLearningRate: Double?
  @Option(help: "Server optimiser on the noisy mean: sgd (default), momentum or adam.")
  var serverOptimizer: FederatedConfiguration.ServerOptimizer?
  @Option(parsing: .unconditional, help: "Server learning rate (default 1: FedAvg).")
  var serverLearningRate: Double?
  @Option(help: "LoRA rank r (DyLoRA: the maximum rank; default 8).")
  var rank: Int?
  @Option(parsing: .unconditional, help: "LoRA α (default 16).")
  var alpha: Double?
  @Flag(help: "DyLoRA: train only component b at active rank b (frozen mode).")
  var frozen = false
  @Option(help: "Seed of every random choice (default 0).")
  var seed: UInt64?
  @Option(help: "Run folder (default runs/<task>-<method>-<time>).")
  var runDir: String?
  @Option(help: "Continue the run in this folder (no other training flags).")
  var resume: String?
  @Option(help: "Output format: text, or json for one summary object on stdout.")
  var format: OutputFormat = .text

  init() {}

  /// The settings the flags give (unset flags are `nil`).
  var flagSettings: TrainSettings {
    TrainSettings(
      task: task, data: data, evaluationData: evaluationData, evaluationSplit: evaluationSplit,
      speechesPerExample: speechesPerExample,
      layers: layers, maxLength: maxLength,
      method: method, recAdapter: recAdapter, privacyUnit: privacyUnit,
      privacy: noPrivacy ? false : nil,
      epsilon: epsilon, delta: delta, noiseMultiplier: noiseMultiplier, rounds: rounds,
      cohortSampling: cohortSampling,
      cohortSize: cohortSize, population: population, noiseCohortSize: noiseCohortSize,
      clippingBound: clippingBound, adaptiveClipping: adaptiveClipping ? true : nil,
      targetQuantile: targetQuantile, clipLearningRate: clipLearningRate,
      indicatorNoiseFraction: indicatorNoiseFraction, accountant: accountant,
      noiseSource: noiseSource, localEpochs: localEpochs, localBatchSize: localBatchSize,
      localLearningRate: localLearningRate, serverOptimizer: serverOptimizer,
      serverLearningRate: serverLearningRate, rank: rank, alpha: alpha, frozen: frozen ? true : nil,
      seed: seed.map { Int(truncatingIfNeeded: $0) })
  }

  /// The file's settings (if `--config`) overridden by the flags.
  func resolvedSettings() throws(CLIError) -> TrainSettings {
    let file =
      try config.map { (path: String) throws(CLIError) in try TrainSettings.read(path) }
      ?? TrainSettings()
    return file.overridden(by: flagSettings)
  }

  /// Whether any training flag (or --config) was given.
  var givesTrainingFlags: Bool { flagSettings != TrainSettings() || config != nil }

  func validate() throws {
    if noPrivacy && (epsilon != nil || noiseMultiplier != nil) {
      throw ValidationError("--no-privacy cannot be combined with --epsilon or --noise-multiplier.")
    }
    if resume != nil && (givesTrainingFlags || runDir != nil) {
      throw ValidationError(
        "--resume continues a run with its own config.json; give no other training flags.")
    }
  }

  /// The resolved configuration, every problem checked.
  func resolvedConfiguration() throws(CLIError) -> FederatedConfiguration {
    let configuration = try resolvedSettings().configuration
    let problems = configuration.problems(clientCount: nil).map(\.description)
    if let first = problems.first { throw .invalidConfiguration(first) }
    return configuration
  }

  func run() throws {
    Allocator.keepFreedBlocks()
    do {
      let folder: RunFolder
      let configuration: FederatedConfiguration
      if let resume {
        folder = try RunFolder(existing: URL(fileURLWithPath: resume))
        guard let recorded = try folder.read(FederatedConfiguration.self, from: .configuration)
        else {
          throw FederatedError.runFolder(path: resume, reason: "no config.json")
        }
        configuration = recorded
      } else {
        do { configuration = try resolvedConfiguration() } catch {
          FileHandle.standardError.write(Data("Error: \(error.message(.flag))\n".utf8))
          throw ExitCode(error.exitCode)
        }
        folder = try RunFolder(
          creating: URL(fileURLWithPath: runDir ?? Self.defaultRunDir(configuration)))
      }
      let progress = ProgressLine()
      let summary = try TrainingRun.run(
        configuration: configuration, assets: Self.assets, folder: folder, resume: resume != nil,
        progress: progress.update)
      progress.finish()
      print(format == .json ? Rendering.json(summary) : Rendering.text(summary))
      if summary.stopReason != nil { throw ExitCode(3) }
    } catch let error as FederatedError {
      FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
      switch error {
      case .invalidConfiguration: throw ExitCode(64)
      case .malformedData: throw ExitCode(65)
      case .accounting, .runFolder: throw ExitCode(1)
      }
    } catch let error as ModelError {
      FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
      throw ExitCode(1)
    }
  }

  /// `$DPFL_ASSETS_DIR`, or `.cache/assets` in the current folder (where
  /// `Scripts/fetch-assets` puts them when run from the repository).
  static var assets: TrainingRun.Assets {
    let environment = ProcessInfo.processInfo.environment["DPFL_ASSETS_DIR"]
    return TrainingRun.Assets(root: URL(fileURLWithPath: environment ?? ".cache/assets"))
  }

  static func defaultRunDir(_ configuration: FederatedConfiguration) -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    formatter.timeZone = TimeZone(identifier: "UTC")
    return
      "runs/\(configuration.task)-\(configuration.method.rawValue)-\(formatter.string(from: Date()))"
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
