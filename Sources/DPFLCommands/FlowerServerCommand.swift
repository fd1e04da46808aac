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
      train's. When --run-dir already holds this run (the SuperLink restarted and the App \
      was started again), the run resumes from its last completed round.
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
      let url = URL(fileURLWithPath: runDir)
      let resume = FileManager.default.fileExists(
        atPath: url.appendingPathComponent(RunFolder.File.configuration.rawValue).path)
      let folder = try resume ? RunFolder(existing: url) : RunFolder(creating: url)
      let configuration = try resume ? resumed(from: folder) : options
      TrainCommand.prepareProcessForTraining()
      let link = FlowerServerLink()
      let progress = ProgressLine()
      let summary = try TrainingRun.run(
        configuration: configuration, assets: TrainCommand.assets,
        runner: FlowerServerRunner(
          nodes: nodes, link: link, timeout: roundTimeout,
          local: LocalTrainingRunner(
            folder: folder, resume: resume,
            workers: ProcessInfo.processInfo.activeProcessorCount, progress: progress.update)))
      progress.finish()
      FileHandle.standardError.write(Data((Rendering.text(summary) + "\n").utf8))
      try link.finish(summary: Data(Rendering.json(summary).utf8))
      try TrainCommand.finish(summary)
    }
  }

  /// The configuration of the run `folder` holds, once checked to be the run these options
  /// describe (the App's settings, federated over `--nodes` nodes).
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when the folder holds another run.
  private func resumed(from folder: RunFolder) throws -> FederatedConfiguration {
    let recorded = try folder.readConfiguration()
    let given = try FlowerFederation.configuration(options, nodes: nodes).settings
    let differing = given.keys.sorted().filter { key in
      recorded.settings[key].map { $0 != given[key] } ?? false
    }
    guard differing.isEmpty else {
      throw FederatedError.runFolder(
        path: folder.url.path,
        reason:
          "holds another run (\(differing.map { "\($0): \(recorded.settings[$0]!.argument) there, \(given[$0]!.argument) here" }.joined(separator: "; "))); give the App another run-dir"
      )
    }
    FileHandle.standardError.write(
      Data("dpfl flower-server: resuming the run in \(folder.url.path)\n".utf8))
    return recorded
  }
}
