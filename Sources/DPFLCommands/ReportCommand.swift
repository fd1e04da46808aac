import ArgumentParser
import DPAudit
import DPFederated
import Foundation

/// `dpfl report RUN_DIR`: the run's privacy and training curves as one HTML page.
struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Draw a finished run's privacy and training curves as one HTML page.",
    discussion: """
      Writes report.html into the run folder: one self-contained file (inline SVG, nothing \
      fetched, readable offline) with the ledger's privacy profile ε(δ) by PLD and RDP, ε \
      spent over rounds against the target, accuracy and loss over rounds, DP-DyLoRA's \
      accuracy by rank, the clip fraction, the noise on the mean update against C and the \
      bytes per client per round, the configuration and what its ε assumes, and the audit's \
      empirical ε beside the bound for a `dpfl audit` run. Prints the file's path.

      \(ExitStatus.help)

      Examples:
        dpfl report runs/digits-dp-dylora-20261206-101500
      """)

  @Argument(help: "A finished run's folder (dpfl train or dpfl audit).")
  var runDir: String

  init() {}

  func run() throws {
    try TrainCommand.reportingErrors {
      let folder = try RunFolder(existing: URL(fileURLWithPath: runDir))
      let report = try RunReport(folder: folder)
      try folder.write(Data(report.html.utf8), to: .report)
      print(folder.path(.report).path)
    }
  }
}
