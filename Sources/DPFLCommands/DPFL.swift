import ArgumentParser

/// The `dpfl` root command: plan the noise, account for a run, train privately.
public struct DPFL: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "dpfl",
    abstract: "Differential-privacy accounting and private federated fine-tuning.",
    discussion: """
      dpfl plan     sizes the noise for a privacy target (ε, δ) and a schedule.
      dpfl account  reports the ε (or δ) that a noise level and schedule spend.
      dpfl train    privately fine-tunes a pre-trained model on federated data.
      dpfl audit    trains with canary clients and measures ε empirically.
      dpfl report   draws a run's privacy and training curves as one HTML page.
      dpfl export-task writes a built-in text task's splits as JSON Lines.
      dpfl node     joins a Flower federation as a node that trains on its own data.
      dpfl flower-app writes the Flower App whose ServerApp runs dpfl's server side.

      \(ExitStatus.help)
      """,
    version: "0.1.0-dev",
    subcommands: [
      PlanCommand.self, AccountCommand.self, TrainCommand.self, AuditCommand.self,
      ReportCommand.self, ExportTaskCommand.self, NodeCommand.self, FlowerAppCommand.self,
      FlowerServerCommand.self,
    ])

  public init() {}
}
