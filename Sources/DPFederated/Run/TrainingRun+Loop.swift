import Accountants
import DPModel
import Foundation

extension TrainingRun {
  /// The round loop shared by every task: restores or initialises the run folder, runs the
  /// rounds (checkpointing each), then writes the adapter (and `export`'s files) and the
  /// summary.
  /// - Parameters:
  ///   - progress: called after each round is checkpointed; throwing from it stops the run
  ///     there (the folder can be resumed) and the error propagates.
  ///   - engine: where the clients compute, when not in this process (its backend in place
  ///     of the simulation's).
  ///   - instrument: what rides along the run (its backend in place of the engine's, which
  ///     it may wrap).
  ///   - notes: lines added to the summary's assumptions.
  /// - Throws: ``FederatedError`` for bad configurations, unreachable budgets, damaged run
  ///   folders; the run folder keeps every completed round.
  public static func train<Model: ClassificationModel, Example: Sendable>(
    configuration: FederatedConfiguration, dataset: FederatedDataset<Example>, model: Model,
    makeBatch: @escaping @Sendable ([Example]) -> Model.Batch, folder: RunFolder, resume: Bool,
    workers: Int, progress: (Progress) throws -> Void, engine: (any RunEngine)? = nil,
    instrument: (any RunInstrument)? = nil, notes: [String] = [],
    export: (Model) throws -> Void = { _ in }
  ) throws -> TrainingSummary where Model.Scalar == Float {
    let start = Date()
    var trainer = try FederatedTrainer(
      configuration: configuration, model: model, dataset: dataset,
      clientSizes: engine?.clientSizes, workers: workers, makeBatch: makeBatch)
    if let engine {
      trainer.backend = try engine.backend(for: trainer)
      trainer.secretCohorts = engine.secretCohorts && configuration.randomness == .secure
    }
    if let instrument { trainer.backend = try instrument.backend(for: trainer) }
    let initial = model.trainableParameters
    let before = trainer.evaluationAccuracy()
    var metrics = try prepare(&trainer, folder: folder, resume: resume)
    var stopReason: String?
    while trainer.round < configuration.plannedRounds {
      let outcome = try trainer.runRound { try folder.write($0, to: .ledger) }
      guard case .completed(var roundMetrics) = outcome else {
        if case .refused(let wouldReach) = outcome {
          stopReason =
            "round \(trainer.round + 1) would spend ε = \(wouldReach), over the target \(configuration.targetEpsilon ?? .infinity); stopped before releasing it"
        }
        break
      }
      let isLast = trainer.round == configuration.plannedRounds
      if isLast || trainer.round % 10 == 0 { roundMetrics.accuracy = trainer.evaluationAccuracy() }
      metrics.append(roundMetrics)
      try folder.writeMetrics(metrics)
      try folder.write(trainer.checkpoint, to: .checkpoint)
      try progress(
        Progress(
          round: trainer.round, rounds: configuration.plannedRounds, epsilon: roundMetrics.epsilon,
          loss: roundMetrics.loss, accuracy: roundMetrics.accuracy))
    }
    try writeAdapter(trainer, folder: folder)
    try export(trainer.model)
    var summary = try summary(
      of: trainer, metrics: metrics, accuracyBefore: before, stopReason: stopReason,
      folder: folder, wallSeconds: Date().timeIntervalSince(start))
    summary.assumptions += notes + (engine?.notes ?? []) + (instrument?.notes ?? [])
    try instrument?.finish(
      initial: initial, final: trainer.model.trainableParameters, summary: summary,
      folder: folder)
    try folder.write(summary, to: .summary)
    return summary
  }

  /// A fresh run folder's first files, or a resumed run's state; the metrics so far.
  static func prepare<Model, Example>(
    _ trainer: inout FederatedTrainer<Model, Example>, folder: RunFolder, resume: Bool
  ) throws -> [RoundMetrics] {
    guard resume else {
      // config.json last: a folder holds a run once it has it, and then every file.
      try folder.recordData(trainer.configuration.dataFiles)
      try folder.write(trainer.ledger.expectedLedger(rounds: 0), to: .ledger)
      try folder.write(trainer.checkpoint, to: .checkpoint)
      try folder.writeMetrics([])
      try folder.write(trainer.configuration.settings, to: .configuration)
      return []
    }
    guard let checkpoint = try folder.read(Checkpoint.self, from: .checkpoint),
      let ledger = try folder.read(DPEvent.self, from: .ledger)
    else {
      throw FederatedError.runFolder(
        path: folder.url.path, reason: "nothing to resume (no checkpoint.json or ledger.json)")
    }
    try trainer.restore(checkpoint, recordedLedger: ledger, folder: folder.url.path)
    return Array(try folder.readMetrics().prefix(checkpoint.round))
  }

  /// The trained parameters as `adapter.safetensors`.
  static func writeAdapter<Model, Example>(
    _ trainer: FederatedTrainer<Model, Example>, folder: RunFolder
  ) throws {
    let trained = trainer.model.trainableParameters
    let tensors = zip(trained.names, trained.matrices).map {
      Tensor(name: $0.0, shape: [$0.1.rows, $0.1.columns], floats: $0.1.values)
    }
    try folder.write(
      Safetensors.encode(
        tensors,
        metadata: ["format": "dpfl-adapter", "method": trainer.configuration.method.rawValue]),
      to: .adapter)
  }
}
