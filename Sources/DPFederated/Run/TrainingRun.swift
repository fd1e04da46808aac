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

    /// all-MiniLM-L6-v2's WordPiece tokenizer.
    /// - Throws: ``FederatedError/runFolder(path:reason:)`` when the model is missing;
    ///   `ModelError` when its `vocab.txt` is malformed.
    func tokenizer() throws -> WordPieceTokenizer {
      try require(miniLM, "all-MiniLM-L6-v2")
      return try WordPieceTokenizer(vocabulary: miniLM.appendingPathComponent("vocab.txt"))
    }
  }

  /// The most evaluation examples a text task scores (a fixed, seeded subset), so that
  /// evaluating every tenth round stays cheap.
  public static let maximumTextEvaluationExamples = 2_000

  /// A built-in text task as a run of `configuration` loads it (before the evaluation
  /// subset, ``scoredEvaluation(_:seed:)``).
  /// - Throws: ``FederatedError`` when the task is not a built-in text task or its assets
  ///   are missing or malformed.
  public static func builtInTextTask(_ configuration: FederatedConfiguration, assets: Assets)
    throws -> FederatedDataset<String>
  {
    switch configuration.task {
    case .shakespeareGenre:
      try assets.require(assets.shakespeare, "The Shakespeare texts")
      var shakespeare = ShakespeareTask.Configuration(
        evaluation: configuration.evaluationSplit == .heldOutLines
          ? .heldOutLines : .heldOutPlays(ShakespeareTask.defaultHeldOutPlays),
        seed: configuration.seed)
      shakespeare.speechesPerExample = configuration.speechesPerExample
      return try ShakespeareTask.load(shakespeare, folder: assets.shakespeare)
    case .chitchatTopic:
      try assets.require(assets.chitchat, "The Chit-Chat conversations")
      return try ChitChatTask.load(
        .init(seed: configuration.seed),
        file: assets.chitchat.appendingPathComponent(ChitChatTask.fileName))
    case .digits, .jsonl:
      throw FederatedError.invalidConfiguration(
        field: "--task", value: configuration.task.rawValue,
        allowed: "a built-in text task (shakespeare-genre or chitchat-topic)")
    }
  }

  /// The evaluation examples a text run of `seed` scores: a seeded subset of at most
  /// ``maximumTextEvaluationExamples``, in the split's order (a shuffle of the indices by
  /// Xoshiro256** seeded with `seed ^ 0x6576_616C`, the first ones kept, sorted).
  public static func scoredEvaluation(_ evaluation: ClientData<String>, seed: UInt64)
    -> ClientData<String>
  {
    var generator = Xoshiro256StarStar(seed: seed ^ 0x6576_616C)
    let kept = Array(
      evaluation.examples.indices.shuffled(using: &generator).prefix(
        maximumTextEvaluationExamples)
    ).sorted()
    return ClientData(
      id: evaluation.id, examples: kept.map { evaluation.examples[$0] },
      labels: kept.map { evaluation.labels[$0] })
  }

  /// `evaluation` with its examples in order of token count (cut at `maxLength`; ties keep
  /// their order), so that a batch of neighbours pads to little more than its own texts.
  /// The order changes no prediction, only the work: on `shakespeare-genre` it halves the
  /// tokens an evaluation processes.
  static func orderedByLength(
    _ evaluation: ClientData<String>, tokenizer: WordPieceTokenizer, maxLength: Int
  ) -> ClientData<String> {
    let lengths = evaluation.examples.map { tokenizer.encode($0, maxLength: maxLength).count }
    let order = evaluation.examples.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
    return ClientData(
      id: evaluation.id, examples: order.map { evaluation.examples[$0] },
      labels: order.map { evaluation.labels[$0] })
  }

  /// The token count of each training text (the clients' examples), `[CLS]` and `[SEP]`
  /// included, uncut.
  static func trainingTokenLengths(
    _ dataset: FederatedDataset<String>, tokenizer: WordPieceTokenizer
  ) -> [Int] {
    dataset.clients.flatMap { $0.examples.map { tokenizer.encode($0).count } }
  }

  /// Trains the configuration's task in this process and writes the run folder.
  /// - Parameters:
  ///   - progress: called after each round is checkpointed; throwing from it stops the run
  ///     there (the folder can be resumed) and the error propagates.
  ///   - dataDefaults: told what a JSON Lines run took from its data, once, before its
  ///     first round, when it took anything.
  ///   - workers: how many threads run clients and evaluation batches (the results are the
  ///     same for any number); by default one per processor.
  ///   - instrument: what rides along the run (`dpfl audit`'s canaries).
  ///   - tuning: told each candidate server learning rate's score on the public split, when
  ///     the run searches one first (``PublicTuning``).
  /// - Throws: ``FederatedError`` for bad data or configurations, unreachable budgets,
  ///   damaged run folders; `ModelError` for model files that do not load.
  public static func run(
    configuration: FederatedConfiguration, assets: Assets, folder: RunFolder, resume: Bool,
    progress: (Progress) throws -> Void = { _ in },
    dataDefaults: (DataDefaults) -> Void = { _ in },
    workers: Int = ProcessInfo.processInfo.activeProcessorCount,
    instrument: (any RunInstrument)? = nil,
    tuning: (_ learningRate: Double, _ accuracy: Double) -> Void = { _, _ in }
  ) throws -> TrainingSummary {
    try withoutActuallyEscaping(progress) { progress in
      try withoutActuallyEscaping(tuning) { tuning in
        try run(
          configuration: configuration, assets: assets,
          runner: PublicTuningRunner(
            inner: LocalTrainingRunner(
              folder: folder, resume: resume, workers: workers, progress: progress,
              instrument: instrument),
            progress: tuning),
          dataDefaults: dataDefaults)
      }
    }
  }

  /// Loads the configuration's task, builds its model and hands both to `runner`. A JSON
  /// Lines run first takes the rounds, cohort and max length not given from its data
  /// (``FederatedConfiguration/resolveDataDefaults(userCount:tokenLengths:)``), before
  /// anything is trained or recorded, so `config.json` holds the values it used.
  /// - Parameter dataDefaults: told what a JSON Lines run took from its data, once, when it
  ///   took anything.
  /// - Throws: ``FederatedError`` for bad data or configurations; `ModelError` for model
  ///   files that do not load; what `runner` throws.
  public static func run<Runner: TaskRunner>(
    configuration: FederatedConfiguration, assets: Assets, runner: Runner,
    dataDefaults: (DataDefaults) -> Void = { _ in }
  ) throws -> Runner.Output {
    switch configuration.task {
    case .shakespeareGenre, .chitchatTopic:
      return try text(
        configuration: configuration,
        dataset: builtInTextTask(configuration, assets: assets), tokenizer: assets.tokenizer(),
        assets: assets, runner: runner)
    case .jsonl:
      var configuration = configuration
      switch try runner.loadJSONL(configuration).examples {
      case .text(let dataset):
        configuration.resolveStepDefaults(isText: true)
        let tokenizer = try assets.tokenizer()
        let publicTexts = dataset.publicSplit.examples
        let derived = configuration.resolveDataDefaults(
          userCount: dataset.clients.count, lengthsArePublic: !publicTexts.isEmpty
        ) {
          publicTexts.isEmpty
            ? trainingTokenLengths(dataset, tokenizer: tokenizer)
            : publicTexts.map { tokenizer.encode($0).count }
        }
        if !derived.isEmpty { dataDefaults(derived) }
        return try text(
          configuration: configuration, dataset: dataset, tokenizer: tokenizer, assets: assets,
          runner: runner)
      case .features(let dataset):
        configuration.resolveStepDefaults(isText: false)
        let derived = configuration.resolveDataDefaults(userCount: dataset.clients.count) { nil }
        if !derived.isEmpty { dataDefaults(derived) }
        return try tabular(configuration: configuration, dataset: dataset, runner: runner)
      }
    case .digits:
      return try tabular(
        configuration: configuration,
        dataset: DigitsTask.load(DigitsTask.Configuration(seed: configuration.seed)),
        runner: runner)
    }
  }
}
