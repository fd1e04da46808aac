import DPModel
import Foundation

/// What a run on Flower shares between its server and its nodes: which configurations it
/// supports, how the task's users are laid out over the nodes, and the configuration as the
/// nodes receive it.
///
/// Each node is one client: node i holds partition i of N of a built-in task, the task's
/// clients c with c mod N = i merged into one; on `--task jsonl` each node holds its own file
/// (all its lines one client) and the server only its evaluation and public files. At user level the node is the privacy unit; at example level
/// (a silo's records, each a person) one of its examples is, with DP-SGD inside the node or
/// the server's noise on the sum (``ExampleNoise``). The server draws cohorts among the N
/// nodes and accounts for N clients with no simulation.
public enum FlowerFederation {
  /// The Flower version the protocol code was generated from (`Scripts/flower/requirements.txt`).
  public static let flowerVersion = "1.42.0"

  /// `configuration` as a federation of `nodes` nodes runs it: the population is the nodes
  /// and the noise is calibrated for the cohort that trains (nothing simulated). A JSON Lines
  /// run's cohort and rounds not given are derived from the nodes (``DataDefaults``).
  /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)`` for what a
  ///   Flower run does not support yet.
  public static func configuration(_ configuration: FederatedConfiguration, nodes: Int) throws
    -> FederatedConfiguration
  {
    func refuse(_ field: String, _ value: String, _ allowed: String) -> FederatedError {
      .invalidConfiguration(field: field, value: value, allowed: allowed + " on Flower")
    }
    guard nodes >= 1 else { throw refuse("--nodes", "\(nodes)", "at least 1") }
    if let partitions = configuration.partitions {
      throw refuse(
        "--partitions", "\(partitions)", "omitted (the nodes are the partitions: --nodes)")
    }
    var configuration = configuration
    if configuration.task == .jsonl {
      if let data = configuration.data {
        throw refuse("--data", data, "omitted (each node gives its own: dpfl node --data FILE)")
      }
      guard configuration.evaluationData != nil else {
        throw refuse(
          "--evaluation-data", "none",
          "a JSON Lines file with --task jsonl (the server evaluates on held-out data of its own)")
      }
      guard
        !(configuration.privacy && configuration.privacyUnit == .example)
          || configuration.clientExampleBounds != nil
      else {
        throw refuse(
          "--client-examples", "none",
          "MIN...MAX with example level on --task jsonl: the server sees no node's data, so σ is calibrated for any node holding between MIN and MAX examples, and a node outside the range is refused"
        )
      }
      // The population is the nodes: public, so the schedule they give costs no privacy.
      configuration.resolveDataDefaults(userCount: nodes) { nil }
    }
    guard configuration.method != .dpREC else {
      throw refuse(
        "--method", configuration.method.rawValue,
        "a method whose clients send plain updates (dp-lora, dp-dylora, ffa-lora, fed-sb, dp-brem, flora, head-only, full): DP-REC's clients carry the noise, which a node that drops out would take with it"
      )
    }
    guard configuration.byzantineFraction == 0 else {
      throw refuse(
        "--byzantine-fraction", "\(configuration.byzantineFraction)",
        "0 (attackers are simulated only)")
    }
    if let tuneOnPublic = configuration.tuneOnPublic {
      throw refuse(
        "--tune-on-public", "\(tuneOnPublic)",
        "omitted (search with dpfl train --tune-on-public, then give its --server-learning-rate)")
    }
    guard configuration.clientsPerRound <= nodes else {
      throw refuse(
        "--cohort-size", "\(configuration.clientsPerRound)", "at most the \(nodes) nodes")
    }
    return configuration.laidOut(nodes: nodes)
  }

  /// `configuration` and `dataset` as a run with ``FederatedConfiguration/partitions`` set
  /// trains them: the task's clients regrouped into that many users, who are the population,
  /// with nothing simulated (unchanged when it is not set).
  public static func partitioning<Example>(
    _ configuration: FederatedConfiguration, _ dataset: FederatedDataset<Example>
  ) -> (FederatedConfiguration, FederatedDataset<Example>) {
    guard let partitions = configuration.partitions else { return (configuration, dataset) }
    return (configuration.laidOut(nodes: partitions), partitioned(dataset, into: partitions))
  }

  /// The task's clients regrouped into `partitions` users (client c into user c mod N).
  public static func partitioned<Example>(
    _ dataset: FederatedDataset<Example>, into partitions: Int
  )
    -> FederatedDataset<Example>
  {
    var grouped = dataset
    grouped.clients = (0..<partitions).map { partition in
      let members = stride(from: partition, to: dataset.clients.count, by: partitions).map {
        dataset.clients[$0]
      }
      return ClientData(
        id: "partition-\(partition)", examples: members.flatMap(\.examples),
        labels: members.flatMap(\.labels))
    }
    return grouped
  }

  /// Users `indices` of a federation whose examples are on their nodes, not in this process
  /// (ids `node-i`, no examples).
  static func usersOnNodes<Example>(_ indices: Range<Int>) -> [ClientData<Example>] {
    indices.map { ClientData(id: "node-\($0)", examples: [], labels: []) }
  }

  /// The configuration as nodes receive it: `config.json`'s settings as JSON, keys sorted.
  public static func configurationJSON(_ configuration: FederatedConfiguration) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try! encoder.encode(configuration.settings), as: UTF8.self)
  }

  /// A configuration received from the server.
  /// - Throws: ``FederatedError`` when it does not parse or validate.
  public static func configuration(json: String) throws -> FederatedConfiguration {
    guard
      let settings = try? JSONDecoder().decode([String: SettingValue].self, from: Data(json.utf8))
    else {
      throw FederatedError.invalidSettings("the server's dpfl-configuration is not JSON settings")
    }
    return try FederatedConfiguration(settings: settings)
  }
}

extension FederatedConfiguration {
  /// This configuration over `nodes` users with no simulation: the population is the nodes
  /// and the noise is calibrated for the cohort that trains.
  func laidOut(nodes: Int) -> FederatedConfiguration {
    var laidOut = self
    laidOut.population = nodes
    laidOut.noiseCohortSize = clientsPerRound
    return laidOut
  }
}
