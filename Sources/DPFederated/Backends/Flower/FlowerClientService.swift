import Accountants
import DPModel
import FlowerNode
import Foundation

/// One Flower node's client side for one run configuration: it answers the server's
/// `train` instructions by running the algorithm's client computation and the mechanism's
/// clip on its own data (``ClientProgram``, as the simulation runs it for each client).
public struct FlowerClientService: Sendable {
  /// The configuration it serves, as the server sent it.
  public let configurationJSON: String
  /// The data schema it serves (`--task jsonl`), as the server sent it.
  public let dataJSON: String?
  /// Its user's examples.
  public let exampleCount: Int
  /// The event a round this node answers costs its data, as the node sees it
  /// (``Builder/answeredRoundEvent(_:exampleCount:)``, with the σ the node calibrates
  /// itself).
  public let answeredRoundEvent: DPEvent
  private let respond: @Sendable (FlowerRoundContent.Instruction) throws -> ClientResult

  /// The reply to `content`, an instruction for this configuration.
  /// - Throws: ``FederatedError`` when the instruction is malformed or names another
  ///   configuration, or the node's state cannot be written (then it must not reply).
  public func reply(to content: FlowerRecordDict) throws -> FlowerRecordDict {
    let instruction = try FlowerRoundContent.instruction(content)
    guard instruction.configurationJSON == configurationJSON, instruction.dataJSON == dataJSON
    else {
      throw FederatedError.invalidSettings("the instruction is for another run configuration")
    }
    return FlowerRoundContent.reply(try respond(instruction))
  }

  /// A node's own files of a JSON Lines run.
  public struct OwnData: Sendable {
    /// Its examples, all of them one client (the node's user).
    public var file: URL
    /// Its copy of the server's public file, if the run has one.
    public var publicData: URL?
    /// The data schema, as the server sent it.
    public var schemaJSON: String

    public init(file: URL, publicData: URL?, schemaJSON: String) {
      self.file = file
      self.publicData = publicData
      self.schemaJSON = schemaJSON
    }
  }

  /// Builds the service of partition `partition` of `partitions` for a configuration
  /// (``TrainingRun/run(configuration:assets:runner:dataDefaults:)`` builds the model the
  /// server builds, by the same code).
  public struct Builder: TaskRunner {
    public typealias Output = FlowerClientService
    /// This node's partition (0 on `--task jsonl`).
    public var partition: Int
    /// The partitions of the task (the federation's nodes).
    public var partitions: Int
    /// The configuration as the server sent it.
    public var configurationJSON: String
    /// The node's own files, on `--task jsonl`.
    public var ownData: OwnData?
    /// Where the node keeps what its clients carry between rounds (DP-BREM's momentum; see
    /// ``NodeAlgorithmState``), read when the service is built and written before each
    /// reply; `nil`: in memory only.
    public var stateFile: URL?

    /// The builder of partition `partition` of `partitions` of a built-in task.
    public init(partition: Int, partitions: Int, configurationJSON: String) {
      self.partition = partition
      self.partitions = partitions
      self.configurationJSON = configurationJSON
    }

    /// The builder of a node of a JSON Lines run of `nodes` nodes, on its own files (`nil`:
    /// the node has none, which ``loadJSONL(_:)`` reports).
    public init(nodes: Int, configurationJSON: String, ownData: OwnData?) {
      self.init(partition: 0, partitions: nodes, configurationJSON: configurationJSON)
      self.ownData = ownData
    }

    /// The node's own file (no held-out users: the server evaluates), read to fit the
    /// server's schema.
    /// - Throws: ``FederatedError`` when the node has no file of its own, or it does not
    ///   load or fit.
    public func loadJSONL(_ configuration: FederatedConfiguration) throws -> JSONLDataset.Loaded {
      guard let ownData else {
        throw FederatedError.invalidConfiguration(
          field: "--data", value: "none",
          allowed: "this node's JSON Lines file (the server's run is --task jsonl)")
      }
      return try JSONLDataset.load(
        training: ownData.file, publicData: ownData.publicData, evaluationFraction: 0,
        seed: configuration.seed, schema: JSONLDataset.Schema(json: ownData.schemaJSON))
    }

    public func run<Model: ClassificationModel, Example: Sendable>(
      configuration: FederatedConfiguration, dataset: FederatedDataset<Example>, model: Model,
      makeBatch: @escaping @Sendable ([Example]) -> Model.Batch,
      export: @escaping (Model, RunFolder) throws -> Void
    ) throws -> FlowerClientService where Model.Scalar == Float {
      let federated = try FlowerFederation.configuration(configuration, nodes: partitions)
      // Its own file is one user (the node) of the federation's `partitions`.
      var layout = FlowerFederation.partitioned(dataset, into: ownData == nil ? partitions : 1)
      if ownData != nil { layout.clients += FlowerFederation.usersOnNodes(1..<partitions) }
      let trainer = try FederatedTrainer(
        configuration: federated, model: model, dataset: layout, makeBatch: makeBatch)
      var algorithm = trainer.algorithm
      if let stateFile,
        let saved = try NodeAlgorithmState.read(
          from: stateFile, configurationJSON: configurationJSON)
      {
        algorithm.algorithmState = saved
      }
      let program = ClientProgram(
        algorithm: algorithm, mechanism: trainer.mechanism, noiseSource: federated.randomness)
      let (stateFile, configurationJSON) = (self.stateFile, self.configurationJSON)
      let data = layout.clients[partition]
      let secretLocalRandomness = trainer.mechanism.samplesLocally
      return FlowerClientService(
        configurationJSON: configurationJSON, dataJSON: ownData?.schemaJSON,
        exampleCount: data.examples.count,
        answeredRoundEvent: Self.answeredRoundEvent(trainer, exampleCount: data.examples.count)
      ) { instruction in
        var global = model
        global.updateTrainables(instruction.global)
        var context = instruction.context
        if secretLocalRandomness {
          // The event rests on the node's own randomness (its local Poisson batches, and its
          // local noise with each client's noise): drawn from the server's round seed, the
          // server could tell which examples a step used and remove the noise.
          var secret = SystemRandomNumberGenerator()
          context.seed = secret.next()
        }
        let result = program.run(
          data, index: instruction.client, global: global, context: context)
        // Kept before the reply leaves: a node that restarts continues from this round.
        let state = program.algorithm.algorithmState
        if let stateFile, !state.isEmpty {
          try NodeAlgorithmState.write(state, to: stateFile, configurationJSON: configurationJSON)
        }
        return result
      }
    }

    /// The event a round this node answers costs its data, without the cohort sampling
    /// (``NodeLedger/unsampled(_:)``): the run's round event at user level; when the
    /// mechanism samples locally (example level) the local DP-SGD of a client of the node's
    /// own `exampleCount` examples (its own sampling rate and steps, which it draws itself),
    /// not that of the least protected one; with momentum (DP-BREM) one round of its
    /// momentum release, which the ledger merges with the others (``NodeLedger/merged(_:)``).
    static func answeredRoundEvent<Model, Example>(
      _ trainer: FederatedTrainer<Model, Example>, exampleCount: Int
    ) -> DPEvent {
      guard trainer.mechanism.samplesLocally,
        let own = NoiseCalibration.localSamplings(
          clientSizes: [exampleCount], trainer.configuration
        ).first
      else { return NodeLedger.unsampled(trainer.mechanism.roundEvent) }
      return NodeLedger.unsampled(
        trainer.ledger.plan.with(localSampling: own).runEvent(
          noiseMultiplier: trainer.noiseMultiplier, rounds: 1))
    }
  }
}
