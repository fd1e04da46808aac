import Accountants
import DPModel
import Foundation

/// Runs a whole training job on a built-in task: loads the task, pre-trains or loads the
/// model, trains with ``FederatedTrainer``, writes the run folder, and summarises.
public enum TrainingRun {
  /// What a caller hears after each round (for a progress bar).
  public struct Progress: Sendable {
    public var round: Int
    public var rounds: Int
    public var epsilon: Double
    public var loss: Double
    public var accuracy: Double?
  }

  /// The perceptron the `digits` task uses: 64 → 128 → 128 → 10 with GELU.
  public static let digitsHidden = [128, 128]

  /// Where the fetched assets live (`Scripts/fetch-assets`): all-MiniLM-L6-v2 and the
  /// Shakespeare texts.
  public struct Assets: Sendable {
    /// The cache root, holding `all-MiniLM-L6-v2/` and `shakespeare/`.
    public var root: URL
    public init(root: URL) { self.root = root }
    var miniLM: URL { root.appendingPathComponent("all-MiniLM-L6-v2") }
    var shakespeare: URL { root.appendingPathComponent("shakespeare") }
    var chitchat: URL { root.appendingPathComponent("chitchat") }

    func require(_ folder: URL, _ what: String) throws {
      guard FileManager.default.fileExists(atPath: folder.path) else {
        throw FederatedError.runFolder(
          path: folder.path,
          reason: "\(what) is missing; run Scripts/fetch-assets (or set DPFL_ASSETS_DIR)")
      }
    }
  }

  /// The most evaluation examples a text task scores (a fixed, seeded subset), so that
  /// evaluating every tenth round stays cheap.
  public static let maximumTextEvaluationExamples = 2_000

  /// Trains the configuration's task.
  public static func run(
    configuration: FederatedConfiguration, assets: Assets, folder: RunFolder, resume: Bool,
    progress: (Progress) throws -> Void = { _ in }
  ) throws -> TrainingSummary {
    switch configuration.task {
    case "shakespeare-genre":
      try assets.require(assets.shakespeare, "The Shakespeare texts")
      var shakespeare = ShakespeareTask.Configuration(
        evaluation: configuration.evaluationSplit == "held-out-lines"
          ? .heldOutLines : .heldOutPlays(ShakespeareTask.defaultHeldOutPlays),
        seed: configuration.seed)
      shakespeare.speechesPerExample = configuration.speechesPerExample
      let dataset = try ShakespeareTask.load(shakespeare, folder: assets.shakespeare)
      return try text(
        configuration: configuration, dataset: dataset, assets: assets, folder: folder,
        resume: resume, progress: progress)
    case "chitchat-topic":
      try assets.require(assets.chitchat, "The Chit-Chat conversations")
      let dataset = try ChitChatTask.load(
        .init(seed: configuration.seed),
        file: assets.chitchat.appendingPathComponent(ChitChatTask.fileName))
      return try text(
        configuration: configuration, dataset: dataset, assets: assets, folder: folder,
        resume: resume, progress: progress)
    case "jsonl":
      let loaded = try JSONLDataset.load(
        training: URL(fileURLWithPath: configuration.dataPath ?? ""),
        evaluation: configuration.evaluationDataPath.map { URL(fileURLWithPath: $0) },
        seed: configuration.seed)
      switch loaded.examples {
      case .text(let dataset):
        return try text(
          configuration: configuration, dataset: dataset, assets: assets, folder: folder,
          resume: resume, progress: progress)
      case .features(let dataset):
        let width = dataset.clients.first?.examples.first?.count ?? 0
        let base = MultilayerPerceptron<Float>(
          inputs: width, hidden: digitsHidden, classes: max(2, dataset.classCount),
          seed: configuration.seed ^ 0x6D6C70)
        return try train(
          configuration: configuration, dataset: dataset,
          model: perceptron(base, configuration),
          makeBatch: features, folder: folder, resume: resume, progress: progress)
      }
    default:
      return try digits(
        configuration: configuration, folder: folder, resume: resume, progress: progress)
    }
  }

  /// A text task on all-MiniLM-L6-v2 (its first `encoderLayers` blocks) with the method's
  /// adapters on the query and value projections and a fresh head; the adapter is also
  /// written in PEFT's layout to `adapter/`. When the task has a public split, the mean of
  /// its unit-norm embeddings under the pre-trained encoder is the classifier's
  /// ``TextClassifier/embeddingCenter``.
  static func text(
    configuration: FederatedConfiguration, dataset: FederatedDataset<String>, assets: Assets,
    folder: RunFolder, resume: Bool, progress: (Progress) throws -> Void
  ) throws -> TrainingSummary {
    try assets.require(assets.miniLM, "all-MiniLM-L6-v2")
    guard dataset.classCount <= 1_000 else {
      throw FederatedError.invalidConfiguration(
        field: "the number of classes", value: "\(dataset.classCount)", allowed: "at most 1,000")
    }
    let tokenizer = try WordPieceTokenizer(
      vocabulary: assets.miniLM.appendingPathComponent("vocab.txt"))
    var encoder = try BertEncoder<Float>(
      folder: assets.miniLM, layers: configuration.encoderLayers,
      adapters: configuration.adapterConfiguration)
    if configuration.method == .full { encoder.trainAllProjections() }
    var dataset = dataset
    var generator = Xoshiro256StarStar(seed: configuration.seed ^ 0x6576_616C)
    let kept = Array(
      dataset.evaluation.examples.indices.shuffled(using: &generator).prefix(
        maximumTextEvaluationExamples)
    ).sorted()
    dataset.evaluation = ClientData(
      id: dataset.evaluation.id, examples: kept.map { dataset.evaluation.examples[$0] },
      labels: kept.map { dataset.evaluation.labels[$0] })
    let maxLength = configuration.maxSequenceLength
    let makeBatch: @Sendable ([String]) -> TokenBatch = {
      TokenBatch(tokenizer.encodeBatch($0, maxLength: maxLength))
    }
    var model = TextClassifier(
      encoder: encoder, classes: max(2, dataset.classCount), seed: configuration.seed ^ 0x6865_6164)
    if !dataset.publicSplit.examples.isEmpty {
      let publicTexts = dataset.publicSplit.examples
      model.embeddingCenter = model.meanUnitEmbedding(
        stride(from: 0, to: publicTexts.count, by: publicBatchSize).map {
          makeBatch(Array(publicTexts[$0..<min($0 + publicBatchSize, publicTexts.count)]))
        })
    }
    return try train(
      configuration: configuration, dataset: dataset, model: model, makeBatch: makeBatch,
      folder: folder,
      resume: resume, progress: progress
    ) { model in
      guard configuration.adapterConfiguration != nil else { return }
      try PEFTAdapter.write(
        model, baseModel: "sentence-transformers/all-MiniLM-L6-v2",
        to: folder.url.appendingPathComponent("adapter"))
    }
  }

  /// Examples per forward pass when embedding the public split.
  static let publicBatchSize = 64

  /// Trains on `digits` (fresh, or resuming `folder` when `resume`).
  /// - Parameter progress: called after each round is checkpointed; throwing from it stops
  ///   the run there (the folder can be resumed) and the error propagates.
  /// - Throws: ``FederatedError`` for bad configurations, unreachable budgets, damaged run
  ///   folders; the run folder keeps every completed round.
  static func digits(
    configuration: FederatedConfiguration, folder: RunFolder, resume: Bool,
    progress: (Progress) throws -> Void = { _ in }
  ) throws -> TrainingSummary {
    let dataset = try DigitsTask.load(DigitsTask.Configuration(seed: configuration.seed))
    var base = MultilayerPerceptron<Float>(
      inputs: 64, hidden: digitsHidden, classes: 10, seed: configuration.seed ^ 0x6D6C70)
    // A brief non-private pre-training on the public split (4 epochs of Adam, ~91 % on the
    // evaluation split), leaving the private clients something to teach.
    let publicFeatures = features(dataset.publicSplit.examples)
    _ = base.pretrain(
      features: publicFeatures, labels: dataset.publicSplit.labels, epochs: 4, batchSize: 32,
      learningRate: 3e-3, seed: configuration.seed ^ 0x7072_6574)
    return try train(
      configuration: configuration, dataset: dataset,
      model: perceptron(base, configuration, publicSplit: dataset.publicSplit),
      makeBatch: features, folder: folder, resume: resume, progress: progress)
  }

  /// The perceptron the method trains: adapted (or head-only), or all weights (full).
  /// Fed-SB's frozen factors come from the SVD of the loss gradient on `publicSplit` when
  /// one is given (LoRA-SB's initialisation; public data only), else from a public seed.
  static func perceptron(
    _ base: MultilayerPerceptron<Float>, _ configuration: FederatedConfiguration,
    publicSplit: ClientData<[Float]>? = nil
  ) -> MultilayerPerceptron<Float> {
    if configuration.method == .full { return base }
    var model = base.adapted(configuration.adapterConfiguration)
    guard configuration.adapterMethod == .fedSB, let publicSplit, !publicSplit.examples.isEmpty
    else {
      return model
    }
    let gradient = base.batchGradient(features(publicSplit.examples), labels: publicSplit.labels)
      .gradient
    for index in model.layers.indices {
      let weight = gradient["layers.\(index).weight"]!
      model.layers[index].adapter = FedSBAdapter<Float>.initialized(
        fromGradient: weight, rank: min(configuration.rank, weight.rows, weight.columns),
        alpha: configuration.alpha, seed: configuration.seed ^ UInt64(index + 1))
    }
    return model
  }

  /// The round loop shared by every task: restores or initialises the run folder, runs the
  /// rounds (checkpointing each), then writes the adapter (and `export`'s files) and the
  /// summary.
  public static func train<Model: ClassificationModel, Example: Sendable>(
    configuration: FederatedConfiguration, dataset: FederatedDataset<Example>, model: Model,
    makeBatch: @escaping @Sendable ([Example]) -> Model.Batch, folder: RunFolder, resume: Bool,
    progress: (Progress) throws -> Void, export: (Model) throws -> Void = { _ in }
  ) throws -> TrainingSummary where Model.Scalar == Float {
    let start = Date()
    var trainer = try FederatedTrainer(
      configuration: configuration, model: model, dataset: dataset, makeBatch: makeBatch)
    let before = trainer.evaluationAccuracy()
    var metrics: [RoundMetrics] = []
    if resume {
      guard let checkpoint = try folder.read(Checkpoint.self, from: .checkpoint),
        let ledger = try folder.read(DPEvent.self, from: .ledger)
      else {
        throw FederatedError.runFolder(
          path: folder.url.path, reason: "nothing to resume (no checkpoint.json or ledger.json)")
      }
      try trainer.restore(checkpoint, recordedLedger: ledger, folder: folder.url.path)
      metrics = Array(try folder.readMetrics().prefix(checkpoint.round))
    } else {
      try folder.write(configuration, to: .configuration)
      try folder.write(trainer.expectedLedger(rounds: 0), to: .ledger)
      try folder.write(trainer.checkpoint, to: .checkpoint)
      try folder.writeMetrics([])
    }
    var stopReason: String?
    while trainer.round < configuration.rounds {
      let outcome = try trainer.runRound { try folder.write($0, to: .ledger) }
      guard case .completed(var roundMetrics) = outcome else {
        if case .refused(let wouldReach) = outcome {
          stopReason =
            "round \(trainer.round + 1) would spend ε = \(wouldReach), over the target \(configuration.targetEpsilon ?? .infinity); stopped before releasing it"
        }
        break
      }
      let isLast = trainer.round == configuration.rounds
      if isLast || trainer.round % 10 == 0 { roundMetrics.accuracy = trainer.evaluationAccuracy() }
      metrics.append(roundMetrics)
      try folder.writeMetrics(metrics)
      try folder.write(trainer.checkpoint, to: .checkpoint)
      try progress(
        Progress(
          round: trainer.round, rounds: configuration.rounds, epsilon: roundMetrics.epsilon,
          loss: roundMetrics.loss, accuracy: roundMetrics.accuracy))
    }
    let ledger = trainer.ledger.build()
    var rdp = RDPAccountant()
    let rdpEpsilon =
      configuration.privacy
      ? (try? rdp.compose(ledger)).flatMap { try? rdp.epsilon(delta: configuration.delta) } : nil
    let byRank =
      configuration.method == .dpDyLoRA
      ? (1...configuration.rank).map { trainer.evaluationAccuracy(activeRank: $0) } : nil
    let trained = trainer.model.trainableParameters
    let full = trained.scalarCount * MemoryLayout<Float>.size
    try Safetensors.write(
      zip(trained.names, trained.matrices).map {
        Tensor(name: $0.0, shape: [$0.1.rows, $0.1.columns], floats: $0.1.values)
      }, metadata: ["format": "dpfl-adapter", "method": configuration.method.rawValue],
      to: folder.url.appendingPathComponent("adapter.safetensors"))
    try export(trainer.model)
    let summary = TrainingSummary(
      task: dataset.name, method: configuration.method.rawValue,
      privacyUnit: configuration.privacyUnit.rawValue,
      epsilon: try trainer.exactEpsilonSpent(), rdpEpsilon: rdpEpsilon,
      targetEpsilon: configuration.targetEpsilon, delta: configuration.delta,
      accountant: configuration.accountant.rawValue, noiseMultiplier: trainer.noiseMultiplier,
      clippingBound: configuration.clippingBound,
      finalClippingBound: configuration.adaptiveClipping == nil ? nil : trainer.clippingBound,
      rounds: trainer.round, plannedRounds: configuration.rounds,
      accuracyBefore: before, accuracyAfter: trainer.evaluationAccuracy(), accuracyByRank: byRank,
      bytesPerClientPerRound: metrics.isEmpty
        ? 0 : metrics.map(\.bytesPerClient).reduce(0, +) / metrics.count,
      bytesFullUpdate: full, coding: trainer.codingReport, runDir: folder.url.path,
      simulatedPopulation: trainer.plan.sampler.population,
      noiseCohortSize: trainer.plan.sampler.noiseCohortSize,
      cohortSize: configuration.cohortSize, simulation: trainer.plan.sampler.isSimulation,
      noiseSource: configuration.noiseSource.rawValue,
      assumptions: assumptions(configuration, plan: trainer.plan), stopReason: stopReason,
      wallSeconds: Date().timeIntervalSince(start))
    try folder.write(summary, to: .summary)
    return summary
  }

  /// What a run's ε means, in words, for the summary.
  static func assumptions(_ configuration: FederatedConfiguration, plan: PrivacyPlan) -> [String] {
    guard configuration.privacy else { return ["no privacy: no clipping, no noise"] }
    var notes: [String] = []
    switch configuration.privacyUnit {
    case .user:
      notes.append(
        "user level: add or remove one client's whole data; one clip per client per round, Gaussian noise on the cohort sum (central DP: the server sees clipped updates)"
      )
      switch plan.sampler.kind {
      case .poisson:
        notes.append("Poisson cohort sampling with q = \(plan.sampler.samplingProbability)")
      case .fixedSize:
        notes.append(
          "fixed-size cohorts: \(plan.sampler.noiseCohortSize) of \(plan.sampler.population) clients without replacement, replace-one-client neighbours (sensitivity 2C)"
        )
      }
      if configuration.method == .dpREC {
        notes.append(
          "DP-REC: each client sends block indices of an exact relative entropy coder whose decoded sample is its clipped update plus its share of the Gaussian noise; the server (sharing each client's secret round key) sees these noisy samples, everyone else only the models; the coder's failure and index laws do not depend on the data, so ε is that of the Gaussian release (no correction for K)"
        )
      }
    case .example:
      notes.append(
        "example level: add or remove one example; per-example clipping and local noise inside each client (DP-SGD)"
      )
      notes.append(
        "every client is assumed to take part in every round (no amplification from cohort sampling); ε is that of the least protected client (Poisson sampling rate \(plan.localSampling?.probability ?? 1), \(plan.localSampling?.steps ?? 0) steps per round)"
      )
      notes.append(
        "each client's number of examples is treated as public, as Opacus treats the dataset size (it sets the local sampling rate B/n and the step count)"
      )
    }
    if plan.sampler.isSimulation {
      notes.append(
        "simulation: noise calibrated for \(plan.sampler.noiseCohortSize) of \(plan.sampler.population) clients per round, \(configuration.cohortSize) trained"
      )
    }
    notes.append("noise source: \(configuration.noiseSource.rawValue)")
    return notes
  }

  /// A batch of 64-pixel images as a matrix, one row per image.
  @Sendable static func features(_ images: [[Float]]) -> Matrix<Float> {
    Matrix(rows: images.count, columns: images.first?.count ?? 0, values: images.flatMap { $0 })
  }
}
