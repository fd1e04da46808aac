import ArgumentParser
import Foundation

/// The `dpfl` root command: plan the noise, account for a run, train privately.
public struct DPFL: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "dpfl",
    abstract: "Differential-privacy accounting and private federated fine-tuning.",
    discussion: """
      dpfl plan     sizes the noise for a privacy target (ε, δ) and a schedule.
      dpfl account  reports the ε (or δ) that a noise level and schedule spend.
      dpfl train    privately fine-tunes a pre-trained model on federated data.

      \(ExitStatus.help)
      """,
    version: "0.1.0-dev",
    subcommands: [PlanCommand.self, AccountCommand.self, TrainCommand.self])

  public init() {}

  /// Runs the command line, with `dpfl train --config FILE` expanded into its flags
  /// (``RunConfigFile/expand(_:)``).
  public static func main() {
    main(expandingRunConfigs(Array(CommandLine.arguments.dropFirst())))
  }

  /// `arguments` with run configs expanded; a file that cannot be read ends the process
  /// with one "Error:" line and its exit code.
  static func expandingRunConfigs(_ arguments: [String]) -> [String] {
    do { return try RunConfigFile.expand(arguments) } catch {
      FileHandle.standardError.write(Data("Error: \(error.message(.flag))\n".utf8))
      Foundation.exit(error.exitCode)
    }
  }
}
