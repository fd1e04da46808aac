import DPModel
import FlowerNode
import Foundation
import Testing

@testable import DPFederated

/// A Flower run on users' own JSON Lines files: the server holds only its evaluation and
/// public files, each node its own file, and the classes and public file are the server's.
@Suite("Flower on JSON Lines", .serialized)
struct FlowerJSONLTests {
  static let nodes = FlowerLoopbackTests.nodes

  /// Digits as files: each node's own (its partition of the task, one user, labels as
  /// names; node 0 without any "digit-0"), their concatenation, the evaluation and public
  /// files.
  struct Files {
    let folder: URL
    var node: [URL] {
      (0..<FlowerJSONLTests.nodes).map { folder.appendingPathComponent("node-\($0).jsonl") }
    }
    var combined: URL { folder.appendingPathComponent("train.jsonl") }
    var evaluation: URL { folder.appendingPathComponent("evaluation.jsonl") }
    var publicData: URL { folder.appendingPathComponent("public.jsonl") }

    init() throws {
      folder = FileManager.default.temporaryDirectory.appendingPathComponent(
        "dpfl-flower-jsonl-\(UUID())")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let digits = FlowerFederation.partitioned(
        try DigitsTask.load(DigitsTask.Configuration(seed: 3)), into: FlowerJSONLTests.nodes)
      func lines(_ data: ClientData<[Float]>, user: String, skipping: Int? = nil) throws -> String {
        try zip(data.examples, data.labels).filter { $0.1 != skipping }.map { example, label in
          let object: [String: Any] = [
            "user_id": user, "label": "digit-\(label)", "features": example.map(Double.init),
          ]
          return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
      }
      var combined = ""
      for (index, client) in digits.clients.enumerated() {
        let text = try lines(client, user: "node-\(index)", skipping: index == 0 ? 0 : nil)
        try text.write(to: node[index], atomically: true, encoding: .utf8)
        combined += text
      }
      try combined.write(to: self.combined, atomically: true, encoding: .utf8)
      let evaluation = ClientData(
        id: "evaluation", examples: Array(digits.evaluation.examples.prefix(300)),
        labels: Array(digits.evaluation.labels.prefix(300)))
      try lines(evaluation, user: "evaluation").write(
        to: self.evaluation, atomically: true, encoding: .utf8)
      try lines(digits.publicSplit, user: "public").write(
        to: publicData, atomically: true, encoding: .utf8)
    }
  }

  /// The server's configuration: no --data, its evaluation and public files.
  static func configuration(_ files: Files) -> FederatedConfiguration {
    var configuration = FlowerLoopbackTests.configuration()
    configuration.task = .jsonl
    configuration.evaluationData = files.evaluation.path
    configuration.publicData = files.publicData.path
    return configuration
  }

  /// The nodes' services, each on its own file, built from what the server sends.
  static func services(_ configuration: FederatedConfiguration, files: Files, schemaJSON: String)
    throws -> [FlowerClientService]
  {
    let json = FlowerFederation.configurationJSON(
      try FlowerFederation.configuration(configuration, nodes: nodes))
    return try files.node.map { file in
      try TrainingRun.run(
        configuration: FlowerFederation.configuration(json: json),
        assets: FlowerLoopbackTests.noAssets,
        runner: FlowerClientService.Builder(
          nodes: nodes, configurationJSON: json,
          ownData: .init(file: file, publicData: files.publicData, schemaJSON: schemaJSON)))
    }
  }

  /// The schema the server sends.
  static func schema(_ configuration: FederatedConfiguration) throws -> JSONLDataset.Schema {
    let runner = FlowerServerRunner(
      nodes: nodes, link: FlowerServerLink(), timeout: 1,
      local: LocalTrainingRunner(
        folder: try FlowerLoopbackTests.folder("schema"), resume: false, workers: 1))
    guard case .features(let dataset) = try runner.loadJSONL(configuration).examples else {
      throw FederatedError.invalidSettings("not features")
    }
    #expect(dataset.clients.count == nodes && dataset.privateExampleCount == 0)
    return try JSONLDataset.Schema(
      dataset, publicData: configuration.publicData.map(URL.init(fileURLWithPath:)))
  }

  /// The run on nodes with their own files, and its reference: dpfl train on the nodes'
  /// files concatenated, one user per node.
  static func twins(_ configuration: FederatedConfiguration, files: Files, name: String) throws
    -> FlowerLoopbackTests.Twins
  {
    var reference = configuration
    reference.data = files.combined.path
    reference.partitions = nodes
    return try FlowerLoopbackTests.twins(
      configuration, name: name,
      services: services(
        configuration, files: files, schemaJSON: try schema(configuration).json),
      reference: reference)
  }

  @Test(
    "nodes on their own files give the model and ε of dpfl train on the same users, classes numbered as the server numbers them"
  )
  func matchesTrainOnTheSameUsers() throws {
    let files = try Files()
    defer { try? FileManager.default.removeItem(at: files.folder) }
    let configuration = Self.configuration(files)
    let schema = try Self.schema(configuration)
    #expect(schema.classNames == (0..<10).map { "digit-\($0)" } && schema.featureCount == 64)
    let twins = try Self.twins(configuration, files: files, name: "jsonl")
    #expect(twins.flower.epsilon == twins.simulated.epsilon && twins.flower.epsilon > 5)
    #expect(twins.adapter.contains { $0 != 0 })
    #expect(twins.largestDifference < 1e-5, "largest difference \(twins.largestDifference)")
    #expect(twins.flower.accuracyAfter == twins.simulated.accuracyAfter)
  }

  @Test(
    "example level on the nodes' own files (--client-examples): the model and ε of dpfl train on the same users; a node outside the range is refused"
  )
  func exampleLevel() throws {
    let files = try Files()
    defer { try? FileManager.default.removeItem(at: files.folder) }
    var configuration = FlowerLoopbackTests.exampleLevelAtRateOne(Self.configuration(files))
    configuration.exampleNoise = .server
    configuration.clientExamples = "1...2000"
    let twins = try Self.twins(configuration, files: files, name: "jsonl-example")
    #expect(twins.flower.epsilon == twins.simulated.epsilon && twins.flower.epsilon > 4)
    #expect(twins.flower.noiseMultiplier == twins.simulated.noiseMultiplier)
    #expect(twins.largestDifference < 1e-4, "largest difference \(twins.largestDifference)")
    configuration.clientExamples = "1...100"
    #expect {
      try Self.services(
        configuration, files: files, schemaJSON: try Self.schema(configuration).json)
    } throws: { "\($0)".contains("--client-examples") && "\($0)".contains("a client has") }
  }

  @Test(
    "a node refuses a file with a class the server's run lacks, a public file other than the server's, and features of another length"
  )
  func nodeRefusesWhatDoesNotFit() throws {
    let files = try Files()
    defer { try? FileManager.default.removeItem(at: files.folder) }
    let configuration = Self.configuration(files)
    let schema = try Self.schema(configuration)
    func refusal(_ lines: String, publicData: URL? = nil) throws -> String {
      let file = files.folder.appendingPathComponent("odd.jsonl")
      try lines.write(to: file, atomically: true, encoding: .utf8)
      do {
        _ = try JSONLDataset.load(
          training: file, publicData: publicData ?? files.publicData, evaluationFraction: 0,
          seed: 0, schema: schema)
        return "loaded"
      } catch let error as FederatedError { return "\(error)" }
    }
    let features = Array(repeating: "0.5", count: 64).joined(separator: ",")
    #expect(
      try refusal(#"{"user_id": 1, "label": "digit-10", "features": [\#(features)]}"#)
        .contains(#"not among the server's 10 classes ("digit-0", "digit-1""#))
    #expect(
      try refusal(#"{"user_id": 1, "label": 3, "features": [\#(features)]}"#)
        .contains("label must be a class name like the server's data (got 3)"))
    #expect(
      try refusal(#"{"user_id": 1, "label": "digit-3", "features": [0.5, 1]}"#)
        .contains("features must have 64 numbers like the server's data (got 2)"))
    #expect(
      try refusal(#"{"user_id": 1, "label": "digit-3", "text": "seven"}"#)
        .contains("the line must have features like the server's data (got text)"))
    #expect(
      try refusal(
        #"{"user_id": 1, "label": "digit-3", "features": [\#(features)]}"#,
        publicData: files.node[1]
      ).contains("--public-data"))
    #expect(
      try refusal(#"{"user_id": 1, "label": "digit-3", "features": [\#(features)]}"#) == "loaded")
  }

  @Test(
    "a Flower server on JSON Lines refuses --data, a missing evaluation file, and example level without --client-examples"
  )
  func serverRefusals() throws {
    let files = try Files()
    defer { try? FileManager.default.removeItem(at: files.folder) }
    func refused(_ change: (inout FederatedConfiguration) -> Void) -> String {
      var configuration = Self.configuration(files)
      change(&configuration)
      do {
        _ = try FlowerFederation.configuration(configuration, nodes: Self.nodes)
        return "accepted"
      } catch { return "\(error)" }
    }
    #expect(refused { $0.data = files.combined.path }.contains("--data"))
    #expect(refused { $0.evaluationData = nil }.contains("--evaluation-data"))
    #expect(refused { $0.privacyUnit = .example }.contains("--client-examples"))
    #expect(
      refused {
        $0.privacyUnit = .example
        $0.clientExamples = "1...2000"
      } == "accepted")
    #expect(refused { _ in } == "accepted")
    // Without a cohort or rounds, the nodes give them (public: the federation's size).
    var open = Self.configuration(files)
    open.cohortSize = nil
    open.rounds = nil
    let laidOut = try FlowerFederation.configuration(open, nodes: 12)
    #expect(laidOut.cohortSize == 2 && laidOut.rounds == 60 && laidOut.population == 12)
  }
}
