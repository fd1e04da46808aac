import ArgumentParser
import DPFederated
import Foundation

/// `dpfl flower-server`: dpfl's server side of a Flower run, started by the ServerApp that
/// `dpfl flower-app` writes. It runs `dpfl train`'s loop with the clients on the Flower
/// nodes, speaking to the ServerApp on stdin and stdout (``FlowerServerLink``); progress
/// goes to stderr.
struct FlowerServerCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "flower-server",
    abstract: "dpfl's server side of a Flower run (started by the ServerApp of dpfl flower-app).",
    discussion: """
      Reads the ServerApp's answers on stdin and writes its requests on stdout, one JSON \
      object per line. The cohort, the ledger (written before each release), the noise (the \
      operating system's CSPRNG unless --noise-source seeded) and the server's step are \
      dpfl's; the ServerApp only carries messages. The run folder is the same as dpfl \
      train's.
      """)

  @OptionGroup(title: "Run settings") var options: FederatedConfiguration
  @Option(help: "Nodes in the federation (the population; each node is one user).")
  var nodes: Int
  @Option(help: "Run folder.")
  var runDir: String
  @Option(help: "Seconds a round waits for its nodes' replies.")
  var roundTimeout = 600.0

  func run() throws {
    try TrainCommand.reportingErrors {
      let folder = try RunFolder(creating: URL(fileURLWithPath: runDir))
      TrainCommand.prepareProcessForTraining()
      let link = FlowerServerLink()
      let progress = ProgressLine()
      let summary = try TrainingRun.run(
        configuration: options, assets: TrainCommand.assets,
        runner: FlowerServerRunner(
          nodes: nodes, link: link, timeout: roundTimeout,
          local: LocalTrainingRunner(
            folder: folder, resume: false,
            workers: ProcessInfo.processInfo.activeProcessorCount, progress: progress.update)))
      progress.finish()
      FileHandle.standardError.write(Data((Rendering.text(summary) + "\n").utf8))
      try link.finish(summary: Data(Rendering.json(summary).utf8))
      try TrainCommand.finish(summary)
    }
  }
}
