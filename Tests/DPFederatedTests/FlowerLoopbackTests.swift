import Accountants
import DPModel
import FlowerNode
import Foundation
import Testing

@testable import DPFederated

/// dpfl's server side and its nodes' client side, joined by the ServerApp pipe with the
/// ServerApp played in this process (Flower's transport is not involved): a run on
/// "Flower" gives the model and ε of the same run simulated over the same partitions.
@Suite("Flower loopback", .serialized)
struct FlowerLoopbackTests {
  static let nodes = 3
  static let noAssets = TrainingRun.Assets(root: URL(fileURLWithPath: "/nonexistent"))

  static func configuration() -> FederatedConfiguration {
    var configuration = FederatedConfiguration.defaults
    configuration.method = .dpLoRA
    configuration.rounds = 3
    configuration.cohortSize = 2
    configuration.seed = 7
    configuration.noiseSource = .seeded
    configuration.epsilon = 30
    return configuration
  }

  /// Plays the ServerApp: answers each request line with the nodes' replies, as the
  /// Python ServerApp does (arrays as base64 .npy, config and metrics as JSON numbers).
  /// Nodes in `silent` never answer; nodes in `garbled` answer with every value NaN.
  static func playServerApp(
    requests: FileHandle, answers: FileHandle, services: [FlowerClientService],
    silent: Set<Int> = [], garbled: Set<Int> = []
  ) throws -> [String: Any]? {
    defer { try? answers.close() }  // the server then sees the app gone, not a hang
    var buffer = Data()
    while true {
      let chunk = requests.availableData
      if chunk.isEmpty { return nil }
      buffer.append(chunk)
      while let newline = buffer.firstIndex(of: 0x0A) {
        let line = Data(buffer[buffer.startIndex..<newline])
        buffer = Data(buffer[(newline + 1)...])
        let request = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        if request["type"] as? String == "done" { return request["summary"] as? [String: Any] }
        var arrays = NamedValues<NumpyArray>()
        for (name, encoded) in (request["arrays"] as! [String: String]).sorted(by: {
          $0.key < $1.key
        }) {
          arrays[name] = try NumpyArray(npy: Array(Data(base64Encoded: encoded)!))
        }
        var replies: [[String: Any]] = []
        var failures: [[String: Any]] = []
        for message in request["messages"] as! [[String: Any]] {
          let node = message["node"] as! Int
          guard !silent.contains(node) else {
            failures.append(["node": node, "reason": "no reply within the round's timeout"])
            continue
          }
          var config = NamedValues<FlowerValue>()
          for (key, value) in message["config"] as! [String: Any] {
            config[key] = flowerValue(value)
          }
          let reply = try services[node].reply(to: [
            "arrays": .arrays(arrays), "config": .config(config),
          ])
          guard case .arrays(let replyArrays)? = reply["arrays"],
            case .metrics(let metrics)? = reply["metrics"]
          else { Issue.record("a reply without arrays and metrics"); return nil }
          replies.append([
            "node": node,
            "arrays": Dictionary(
              uniqueKeysWithValues: replyArrays.entries.map { name, array in
                let sent =
                  garbled.contains(node)
                  ? NumpyArray(
                    float32: [Float](repeating: .nan, count: array.shape.reduce(1, *)),
                    shape: array.shape) : array
                return (name, Data(sent.npy).base64EncodedString())
              }),
            "metrics": Dictionary(
              uniqueKeysWithValues: metrics.entries.map {
                ($0, $1.number!.isFinite ? $1.number! as Any : NSNull())
              }),
          ])
        }
        var answer = try JSONSerialization.data(withJSONObject: [
          "replies": replies, "failures": failures,
        ])
        answer.append(0x0A)
        try answers.write(contentsOf: answer)
      }
    }
  }

  /// A JSON value as Python's ConfigRecord would carry it.
  static func flowerValue(_ value: Any) -> FlowerValue {
    if let text = value as? String { return .string(text) }
    if let list = value as? [NSNumber] { return .ints(list.map(\.int64Value)) }
    let number = value as! NSNumber
    switch String(cString: number.objCType) {
    case "d", "f": return .double(number.doubleValue)
    case "Q": return .uint(number.uint64Value)
    default: return .int(number.int64Value)
    }
  }

  static func services(_ configuration: FederatedConfiguration) throws -> [FlowerClientService] {
    let json = FlowerFederation.configurationJSON(
      try FlowerFederation.configuration(configuration, nodes: nodes))
    let received = try FlowerFederation.configuration(json: json)
    return try (0..<nodes).map { partition in
      try TrainingRun.run(
        configuration: received, assets: noAssets,
        runner: FlowerClientService.Builder(
          partition: partition, partitions: nodes, configurationJSON: json))
    }
  }

  /// `configuration` run on Flower nodes with `services` (default: partitions of its
  /// built-in task).
  static func flowerRun(
    _ configuration: FederatedConfiguration, folder: RunFolder, silent: Set<Int> = [],
    garbled: Set<Int> = [], services given: [FlowerClientService]? = nil
  )
    throws -> (TrainingSummary, [String: Any]?)
  {
    let toApp = Pipe()
    let toServer = Pipe()
    let services = try given ?? services(configuration)
    final class Box: @unchecked Sendable { var summary: [String: Any]?; var error: (any Error)? }
    let box = Box()
    let app = Thread {
      do {
        box.summary = try playServerApp(
          requests: toApp.fileHandleForReading, answers: toServer.fileHandleForWriting,
          services: services, silent: silent, garbled: garbled)
      } catch { box.error = error }
    }
    app.start()
    let link = FlowerServerLink(
      input: toServer.fileHandleForReading, output: toApp.fileHandleForWriting)
    let run = Result {
      try TrainingRun.run(
        configuration: configuration, assets: noAssets,
        runner: FlowerServerRunner(
          nodes: nodes, link: link, timeout: 10,
          local: LocalTrainingRunner(folder: folder, resume: false, workers: 1)))
    }
    if case .success(let summary) = run { try link.finish(summary: JSONEncoder().encode(summary)) }
    try? toApp.fileHandleForWriting.close()
    while !app.isFinished { Thread.sleep(forTimeInterval: 0.01) }
    if let error = box.error { throw error }
    return (try run.get(), box.summary)
  }

  static func folder(_ name: String) throws -> RunFolder {
    try RunFolder(
      creating: FileManager.default.temporaryDirectory.appendingPathComponent(
        "dpfl-\(name)-\(UUID())"))
  }

  static func adapter(_ folder: RunFolder) throws -> [Float] {
    try Safetensors.read(contentsOf: folder.url.appendingPathComponent("adapter.safetensors"))
      .tensors.flatMap { $0.floatValues() }
  }

  /// `configuration` run on Flower nodes and simulated over the same partitions.
  struct Twins {
    var flower: TrainingSummary
    var simulated: TrainingSummary
    /// The summary the ServerApp was handed.
    var reported: [String: Any]?
    /// The Flower run's adapter.
    var adapter: [Float]
    /// The largest difference between the two runs' adapters (∞ when their sizes differ).
    var largestDifference: Float
  }

  /// - Parameters:
  ///   - services: the nodes (default: partitions of the built-in task).
  ///   - reference: the run in this process (default: `configuration` over the federation's
  ///     partitions).
  static func twins(
    _ configuration: FederatedConfiguration, name: String,
    services: [FlowerClientService]? = nil, reference: FederatedConfiguration? = nil
  ) throws -> Twins {
    let flowerFolder = try folder("flower-\(name)")
    let simulatedFolder = try folder("simulated-\(name)")
    defer {
      try? FileManager.default.removeItem(at: flowerFolder.url)
      try? FileManager.default.removeItem(at: simulatedFolder.url)
    }
    let (flower, reported) = try flowerRun(
      configuration, folder: flowerFolder, services: services)
    var partitioned = configuration
    partitioned.partitions = nodes
    let simulated = try TrainingRun.run(
      configuration: reference ?? partitioned, assets: noAssets,
      runner: LocalTrainingRunner(folder: simulatedFolder, resume: false, workers: 1))
    let flowerAdapter = try adapter(flowerFolder)
    let simulatedAdapter = try adapter(simulatedFolder)
    let largest =
      flowerAdapter.count == simulatedAdapter.count && !flowerAdapter.isEmpty
      ? zip(flowerAdapter, simulatedAdapter).map { abs($0 - $1) }.max()! : .infinity
    return Twins(
      flower: flower, simulated: simulated, reported: reported, adapter: flowerAdapter,
      largestDifference: largest)
  }

  @Test("a run on Flower nodes gives the simulated run's model and ε over the same partitions")
  func matchesSimulation() throws {
    let configuration = Self.configuration()
    let twins = try Self.twins(configuration, name: "user")
    let flower = twins.flower
    #expect(flower.epsilon == twins.simulated.epsilon)
    #expect(flower.epsilon > 5 && flower.epsilon <= 30)
    #expect(flower.rounds == 3)
    #expect(twins.largestDifference < 1e-5, "largest difference \(twins.largestDifference)")
    #expect(twins.adapter.contains { $0 != 0 })
    #expect(twins.reported?["epsilon"] as? Double == flower.epsilon)
    let service = try Self.services(configuration)[0]
    #expect(service.answeredRoundEvent == .gaussian(noiseMultiplier: flower.noiseMultiplier))
    #expect(flower.assumptions.contains { $0.hasPrefix("engine: Flower 1.42.0") })
  }

  @Test(
    "--partitions below the cohort is refused by name, and on Flower altogether (the nodes are the partitions)"
  )
  func partitionsRefused() throws {
    var configuration = Self.configuration()
    configuration.partitions = 1
    #expect(
      configuration.problems.map { "\($0)" }.contains {
        $0.hasPrefix("--partitions must be ≥ --cohort-size (2)") && $0.hasSuffix("got 1.")
      })
    configuration.partitions = Self.nodes
    #expect(configuration.problems.isEmpty)
    #expect(throws: FederatedError.self) {
      try FlowerFederation.configuration(configuration, nodes: Self.nodes)
    }
  }

  @Test("a node that never answers leaves the run, its ledger and its noise as they were")
  func silentNode() throws {
    let folder = try Self.folder("silent")
    defer { try? FileManager.default.removeItem(at: folder.url) }
    var configuration = Self.configuration()
    configuration.cohortSize = Self.nodes
    let (summary, _) = try Self.flowerRun(configuration, folder: folder, silent: [1])
    #expect(summary.rounds == 3)
    let engine = try #require(summary.assumptions.first { $0.hasPrefix("engine: Flower") })
    #expect(engine.hasSuffix("replies per round: 2, 2, 2"))
    #expect(summary.assumptions.contains { $0.contains("node 1: no reply") })
  }

  @Test(
    "discrete noise on Flower nodes: their grid messages are summed as sent, giving the simulated run's model and ε"
  )
  func discreteNoise() throws {
    var configuration = Self.configuration()
    configuration.noiseDistribution = .discrete
    configuration.accountant = .rdp
    let twins = try Self.twins(configuration, name: "discrete")
    #expect(twins.flower.epsilon == twins.simulated.epsilon && twins.flower.epsilon > 5)
    #expect(twins.flower.accountant == "rdp")
    #expect(twins.largestDifference < 1e-5, "largest difference \(twins.largestDifference)")
    #expect(twins.flower.assumptions.contains { $0.contains("exact discrete Gaussian noise") })
  }

  @Test("a reply that is not finite is left out like a missing one, and the run goes on")
  func garbledNode() throws {
    let folder = try Self.folder("garbled")
    defer { try? FileManager.default.removeItem(at: folder.url) }
    var configuration = Self.configuration()
    configuration.cohortSize = Self.nodes
    let (summary, _) = try Self.flowerRun(configuration, folder: folder, garbled: [2])
    #expect(summary.rounds == 3)
    #expect(try Self.adapter(folder).allSatisfy(\.isFinite))
    let engine = try #require(summary.assumptions.first { $0.hasPrefix("engine: Flower") })
    #expect(engine.hasSuffix("replies per round: 2, 2, 2"))
    #expect(
      summary.assumptions.contains {
        $0.contains("node 2: a malformed reply was left out") && $0.contains("not finite")
      })
  }

  /// `configuration` at example level (ε = 8, C = 1) with every record in every step
  /// (rate 1): the nodes' secret local sampling then draws what the simulation's seeded one
  /// does, so the two runs can be twins.
  static func exampleLevelAtRateOne(_ configuration: FederatedConfiguration)
    -> FederatedConfiguration
  {
    var configuration = configuration
    configuration.privacyUnit = .example
    configuration.epsilon = 8
    configuration.clippingBound = 1
    configuration.localBatchSize = 2_000
    return configuration
  }

  @Test(
    "example level with the server's noise on Flower nodes gives the simulated run's model and ε")
  func exampleLevelServerNoise() throws {
    var configuration = Self.exampleLevelAtRateOne(Self.configuration())
    configuration.exampleNoise = .server
    let twins = try Self.twins(configuration, name: "example")
    #expect(twins.flower.epsilon == twins.simulated.epsilon && twins.flower.epsilon > 4)
    #expect(twins.flower.noiseMultiplier == twins.simulated.noiseMultiplier)
    #expect(twins.flower.noiseMultiplier > 0)
    #expect(twins.largestDifference < 1e-4, "largest difference \(twins.largestDifference)")
  }

  @Test(
    "DP-BREM on Flower nodes: v travels with the model, each node keeps its user's momentum, and the run is the simulated one"
  )
  func dpBREM() throws {
    var configuration = Self.exampleLevelAtRateOne(Self.configuration())
    configuration.method = .dpBREM
    configuration.robustnessRadius = 0.05
    configuration.rounds = 4
    let twins = try Self.twins(configuration, name: "brem")
    #expect(twins.flower.epsilon == twins.simulated.epsilon && twins.flower.epsilon > 4)
    #expect(twins.flower.noiseMultiplier == twins.simulated.noiseMultiplier)
    // τ = 0.05 is below the momenta's deviations, so the centered clip bites: a node that
    // clipped around 0, or a server that subtracted v twice, would move the model.
    #expect(twins.largestDifference < 1e-4, "largest difference \(twins.largestDifference)")
    #expect(twins.adapter.contains { $0 != 0 })
  }

  @Test(
    "example level with each node's noise: the node's noise and batches are its own secret, and its ledger counts its own local DP-SGD"
  )
  func exampleLevelNodeNoise() throws {
    var configuration = Self.configuration()
    configuration.privacyUnit = .example
    configuration.clippingBound = 1
    configuration.localBatchSize = 64
    let json = FlowerFederation.configurationJSON(
      try FlowerFederation.configuration(configuration, nodes: Self.nodes))
    let (service, global) = try TrainingRun.run(
      configuration: try FlowerFederation.configuration(json: json), assets: Self.noAssets,
      runner: ServiceAndModel(
        builder: .init(partition: 0, partitions: Self.nodes, configurationJSON: json)))
    let instruction: FlowerRecordDict = [
      "arrays": .arrays(FlowerRoundContent.arrays(global)),
      "config": .config([
        "dpfl-configuration": .string(json), "client": .int(0), "round": .int(0),
        "seed": .uint(42), "clipping-bound": .double(1),
      ]),
    ]
    // The same instruction twice: a node whose randomness came from the server's seed
    // would answer twice alike.
    #expect(try service.reply(to: instruction) != (try service.reply(to: instruction)))
    let n = service.exampleCount
    let steps = (n + 63) / 64
    guard
      case .selfComposed(.poissonSampled(let rate, .gaussian(let sigma)), let count) = service
        .answeredRoundEvent
    else {
      Issue.record("not local DP-SGD: \(String(describing: service.answeredRoundEvent))")
      return
    }
    #expect(rate == 64.0 / Double(n) && count == steps && sigma > 0)
  }

  @Test(
    "a DP-BREM node that restarts continues from the momentum it saved before its last reply; another run's saved state is not read"
  )
  func dpBREMNodeRestarts() throws {
    var configuration = Self.exampleLevelAtRateOne(Self.configuration())
    configuration.method = .dpBREM
    let json = FlowerFederation.configurationJSON(
      try FlowerFederation.configuration(configuration, nodes: Self.nodes))
    let folder = try Self.folder("node-state")
    defer { try? FileManager.default.removeItem(at: folder.url) }
    func node(_ stateFile: URL?) throws -> (FlowerClientService, ParameterSet<Float>) {
      var builder = FlowerClientService.Builder(
        partition: 0, partitions: Self.nodes, configurationJSON: json)
      builder.stateFile = stateFile
      return try TrainingRun.run(
        configuration: try FlowerFederation.configuration(json: json), assets: Self.noAssets,
        runner: ServiceAndModel(builder: builder))
    }
    func instruction(round: Int, global: ParameterSet<Float>) -> FlowerRecordDict {
      [
        "arrays": .arrays(FlowerRoundContent.arrays(global)),
        "config": .config([
          "dpfl-configuration": .string(json), "client": .int(0), "round": .int(Int64(round)),
          "seed": .uint(42), "clipping-bound": .double(1), "centered-clip-radius": .double(100),
        ]),
      ]
    }
    let saved = folder.url.appendingPathComponent("node-state-partition-0.json")
    let copy = folder.url.appendingPathComponent("after-round-1.json")
    let (first, global) = try node(saved)
    _ = try first.reply(to: instruction(round: 0, global: global))
    try FileManager.default.copyItem(at: saved, to: copy)
    let continued = try first.reply(to: instruction(round: 1, global: global))
    let restarted = try node(copy).0.reply(to: instruction(round: 1, global: global))
    let forgetful = try node(nil).0.reply(to: instruction(round: 1, global: global))
    #expect(restarted == continued)
    #expect(forgetful != continued)
    // Its ledger's round: one round of its momentum release, taken part in (q = 1).
    guard case .momentumGaussian(let release) = first.answeredRoundEvent else {
      Issue.record("not a momentum release: \(String(describing: first.answeredRoundEvent))")
      return
    }
    #expect(release.participationProbability == 1 && release.rounds == 1)
    #expect(release.momentum == FederatedConfiguration.defaultMomentum && release.noiseMultiplier > 0)
    #expect(
      try NodeAlgorithmState.read(from: copy, configurationJSON: json + " ")
        == nil)
  }

  /// A node's service and the trainable parameters of the model it starts from.
  struct ServiceAndModel: TaskRunner {
    typealias Output = (service: FlowerClientService, global: ParameterSet<Float>)
    let builder: FlowerClientService.Builder

    func run<Model: ClassificationModel, Example: Sendable>(
      configuration: FederatedConfiguration, dataset: FederatedDataset<Example>, model: Model,
      makeBatch: @escaping @Sendable ([Example]) -> Model.Batch,
      export: @escaping (Model, RunFolder) throws -> Void
    ) throws -> Output where Model.Scalar == Float {
      (
        try builder.run(
          configuration: configuration, dataset: dataset, model: model, makeBatch: makeBatch,
          export: export),
        model.trainableParameters
      )
    }
  }
}
