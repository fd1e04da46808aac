import ArgumentParser
import DPFederated
import Foundation

/// `dpfl flower-app DIR`: writes a Flower App (pyproject.toml and a thin Python ServerApp)
/// that runs a private dpfl training on Flower nodes, with dpfl's server side in charge.
struct FlowerAppCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "flower-app",
    abstract: "Write the Flower App whose ServerApp runs dpfl's server side on Flower nodes.",
    discussion: """
      The App's ServerApp waits for --nodes nodes, then starts dpfl flower-server, which runs \
      the same round loop as dpfl train: cohort (drawn in secret), ledger written before each \
      release, Gaussian noise from the OS CSPRNG, server step, run folder. The ServerApp only \
      carries messages between dpfl and the nodes (dpfl node). Each node is one client; the \
      population is the nodes, with no simulation. At user level a node is the privacy unit; \
      at example level (--privacy-unit example: a silo of people's records) one of its \
      examples is, with DP-SGD on each node or, with --example-noise server, the noise added \
      once to the cohort's sum. Continuous and discrete noise and every method whose clients \
      send plain updates (dp-lora, dp-dylora, ffa-lora, fed-sb, flora, head-only, full, and \
      dp-brem, whose nodes keep their users' momenta while they run) run on Flower. With --task jsonl the server holds only --evaluation-data and --public-data, \
      and each node trains on its own file (dpfl node --data FILE); at example level \
      --client-examples MIN...MAX says which node sizes σ protects (a node outside is \
      refused), since the server sees no node's data. The \
      instructions carry the classes, the kind of examples and the public file's SHA-256, \
      which every node's data must fit.

      Examples:
        dpfl flower-app app --nodes 4 --cohort-size 4 --rounds 20 --method dp-lora
        flower-superlink --insecure &
        dpfl node --superlink 127.0.0.1:9092 --insecure --partition 0 --partitions 4 --nodes 4 &
        flwr run app local --stream
        dpfl flower-app app --nodes 20 --task jsonl --evaluation-data eval.jsonl --public-data public.jsonl
      """)

  @Argument(help: "The folder to write the App into (created).")
  var directory: String
  @Option(help: "Nodes in the federation (the population; each node is one client).")
  var nodes: Int
  @OptionGroup(title: "Run settings") var options: FederatedConfiguration
  @Option(help: "Run folder the server side writes (default runs/flower-<task>-<method>-<time>).")
  var runDir: String?
  @Option(help: "Seconds the ServerApp waits for the nodes to join.")
  var joinTimeout = 300.0
  @Option(help: "Seconds a round waits for its nodes' replies.")
  var roundTimeout = 600.0
  @Option(help: "The dpfl executable the ServerApp runs (default: this one).")
  var dpfl: String?

  func run() throws {
    try TrainCommand.reportingErrors {
      _ = try FlowerFederation.configuration(options, nodes: nodes)
      let folder = URL(fileURLWithPath: directory)
      let package = folder.appendingPathComponent("dpfl_app")
      try FileManager.default.createDirectory(at: package, withIntermediateDirectories: true)
      let runDir = URL(
        fileURLWithPath: self.runDir ?? TrainCommand.defaultRunDir(options, prefix: "flower-"))
      let arguments = options.settings.sorted { $0.key < $1.key }.flatMap {
        FederatedConfiguration.arguments(key: $0.key, value: $0.value)
      }
      let files = [
        ("pyproject.toml", folder),
        ("__init__.py", package), ("server_app.py", package), ("client_app.py", package),
      ]
      let contents = [
        FlowerAppFiles.pyproject(
          flowerVersion: FlowerFederation.flowerVersion, dpfl: dpfl ?? Self.executablePath,
          runDir: runDir.path, nodes: nodes, joinTimeout: joinTimeout,
          roundTimeout: roundTimeout, arguments: arguments),
        "", FlowerAppFiles.serverApp, FlowerAppFiles.clientApp,
      ]
      for ((name, parent), text) in zip(files, contents) {
        try Data(text.utf8).write(to: parent.appendingPathComponent(name), options: .atomic)
      }
      print("wrote the Flower App to \(folder.path) (run folder \(runDir.path))")
    }
  }

  /// This process's executable, as an absolute path.
  static var executablePath: String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
  }
}
