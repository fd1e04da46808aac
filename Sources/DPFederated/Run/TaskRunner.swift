import DPModel

/// What a run does with its task once the task is loaded and its model built
/// (``TrainingRun/run(configuration:assets:runner:dataDefaults:)``): train it in this
/// process (``LocalTrainingRunner``), or serve the client side of a Flower node with it.
/// Every backend builds the model by the same code, so a node and its server agree on it.
public protocol TaskRunner {
  /// What the runner returns.
  associatedtype Output

  /// Runs on the task's data and model.
  /// - Parameter export: writes the trained model's own files into a run folder (a text
  ///   run's adapter in PEFT's layout).
  func run<Model: ClassificationModel, Example: Sendable>(
    configuration: FederatedConfiguration, dataset: FederatedDataset<Example>, model: Model,
    makeBatch: @escaping @Sendable ([Example]) -> Model.Batch,
    export: @escaping (Model, RunFolder) throws -> Void
  ) throws -> Output where Model.Scalar == Float

  /// Reads a JSON Lines run's files as this runner's process holds them: by default the
  /// configuration's (``JSONLDataset/load(_:)``); a Flower server holds no user's data, and
  /// a node holds its own.
  func loadJSONL(_ configuration: FederatedConfiguration) throws -> JSONLDataset.Loaded
}

extension TaskRunner {
  public func loadJSONL(_ configuration: FederatedConfiguration) throws -> JSONLDataset.Loaded {
    try JSONLDataset.load(configuration)
  }
}

/// Trains in this process with the simulated backend (or an instrument's) and writes the
/// run folder: `dpfl train`.
public struct LocalTrainingRunner: TaskRunner {
  public typealias Output = TrainingSummary

  /// The run folder.
  public var folder: RunFolder
  /// Whether to continue the run the folder holds.
  public var resume: Bool
  /// Threads for clients and evaluation batches (results do not depend on it).
  public var workers: Int
  /// Called after each round is checkpointed; throwing from it stops the run there.
  public var progress: (TrainingRun.Progress) throws -> Void
  /// What rides along the run (`dpfl audit`'s canaries).
  public var instrument: (any RunInstrument)?
  /// Where the clients compute when not in this process (a Flower server's nodes).
  public var engine: (any RunEngine)?
  /// Lines added to the summary's assumptions (how a setting was chosen).
  public var notes: [String] = []

  public init(
    folder: RunFolder, resume: Bool, workers: Int,
    progress: @escaping (TrainingRun.Progress) throws -> Void = { _ in },
    instrument: (any RunInstrument)? = nil
  ) {
    self.folder = folder
    self.resume = resume
    self.workers = workers
    self.progress = progress
    self.instrument = instrument
  }

  public func run<Model: ClassificationModel, Example: Sendable>(
    configuration: FederatedConfiguration, dataset: FederatedDataset<Example>, model: Model,
    makeBatch: @escaping @Sendable ([Example]) -> Model.Batch,
    export: @escaping (Model, RunFolder) throws -> Void
  ) throws -> TrainingSummary where Model.Scalar == Float {
    try TrainingRun.train(
      configuration: configuration, dataset: dataset, model: model, makeBatch: makeBatch,
      folder: folder, resume: resume, workers: workers, progress: progress,
      engine: engine, instrument: instrument, notes: notes, export: { try export($0, folder) })
  }
}
