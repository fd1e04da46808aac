import DPModel
import Foundation

/// dpfl's server side of a Flower run (`dpfl flower-server`, which the ServerApp starts):
/// the run loop of `dpfl train` — cohort, ledger before release, noise, server step, run
/// folder — with the clients on `nodes` Flower nodes (``FlowerBackend``) instead of in this
/// process. The server keeps none of the task's private examples: each client is a node.
public struct FlowerServerRunner: TaskRunner {
  public typealias Output = TrainingSummary

  /// The federation's nodes (the population).
  public var nodes: Int
  /// The pipe to the ServerApp.
  public var link: FlowerServerLink
  /// How long a round waits for replies, in seconds.
  public var timeout: Double
  /// Where the run is written (and resumed from).
  public var local: LocalTrainingRunner

  public init(nodes: Int, link: FlowerServerLink, timeout: Double, local: LocalTrainingRunner) {
    self.nodes = nodes
    self.link = link
    self.timeout = timeout
    self.local = local
  }

  public func run<Model: ClassificationModel, Example: Sendable>(
    configuration: FederatedConfiguration, dataset: FederatedDataset<Example>, model: Model,
    makeBatch: @escaping @Sendable ([Example]) -> Model.Batch,
    export: @escaping (Model, RunFolder) throws -> Void
  ) throws -> TrainingSummary where Model.Scalar == Float {
    let federated = try FlowerFederation.configuration(configuration, nodes: nodes)
    var layout = FlowerFederation.partitioned(dataset, into: nodes)
    let sizes = layout.clients.map(\.examples.count)
    layout.clients = layout.clients.map { ClientData(id: $0.id, examples: [], labels: []) }
    let schema =
      configuration.task == .jsonl
      ? try JSONLDataset.Schema(
        dataset, publicData: configuration.publicData.map(URL.init(fileURLWithPath:))) : nil
    var local = local
    local.engine = FlowerEngine(
      link: link, configurationJSON: FlowerFederation.configurationJSON(federated),
      dataJSON: schema?.json, timeout: timeout, clientSizes: sizes)
    return try local.run(
      configuration: federated, dataset: layout, model: model, makeBatch: makeBatch,
      export: export)
  }

  /// The server's files of a JSON Lines run: its evaluation and public files, and one user
  /// per node whose examples are on that node (the nodes' files never reach the server).
  /// - Throws: ``FederatedError`` for what a Flower run on JSON Lines does not support, and
  ///   for files that do not load.
  public func loadJSONL(_ configuration: FederatedConfiguration) throws -> JSONLDataset.Loaded {
    _ = try FlowerFederation.configuration(configuration, nodes: nodes)
    var loaded = try JSONLDataset.load(
      training: nil, evaluation: configuration.evaluationData.map(URL.init(fileURLWithPath:)),
      publicData: configuration.publicData.map(URL.init(fileURLWithPath:)),
      seed: configuration.seed)
    func onNodes<Example>(_ dataset: FederatedDataset<Example>) -> FederatedDataset<Example> {
      var federation = dataset
      federation.clients = FlowerFederation.usersOnNodes(0..<nodes)
      return federation
    }
    switch loaded.examples {
    case .text(let dataset):
      guard configuration.maxLength != nil || configuration.publicData != nil else {
        throw FederatedError.invalidConfiguration(
          field: "--max-length", value: "none",
          allowed:
            "given, or --public-data, for text on Flower (the server holds no training texts to size it from)"
        )
      }
      loaded.examples = .text(onNodes(dataset))
    case .features(let dataset): loaded.examples = .features(onNodes(dataset))
    }
    return loaded
  }
}

/// Puts the Flower backend in the run loop's place and says so in the summary. The nodes'
/// numbers of examples stay with the server (public, as the dataset size is to Opacus:
/// example level calibrates σ for the least protected node); their examples do not.
struct FlowerEngine: RunEngine {
  let link: FlowerServerLink
  let configurationJSON: String
  let dataJSON: String?
  let timeout: Double
  let clientSizes: [Int]?
  let log = FlowerReplyLog()

  func backend<Model, Example>(for trainer: FederatedTrainer<Model, Example>) throws
    -> any FederatedBackend<Model>
  {
    FlowerBackend<Model>(
      link: link, configurationJSON: configurationJSON, dataJSON: dataJSON, timeout: timeout,
      mechanism: trainer.mechanism, log: log)
  }

  var secretCohorts: Bool { true }

  var notes: [String] {
    [
      "engine: Flower \(FlowerFederation.flowerVersion), clients on nodes; replies per round: \(log.repliesPerRound.map(String.init).joined(separator: ", "))"
    ] + log.failures
  }
}
