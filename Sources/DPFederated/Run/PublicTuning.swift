import DPModel
import Foundation

/// `--tune-on-public K`: the server learning rate chosen on the task's public split before a
/// private run, so that the search costs no privacy. Tuning on the private data would
/// (Papernot & Steinke, ICLR 2022; `dpfl plan --tuning-runs` prices that search); the public
/// split is disjoint from every client, so nothing the search does reaches the ledger.
///
/// The search: K candidates η·10^(2i/(K−1) − 1), from η/10 to 10η (η the run's server learning
/// rate, as given or by default). Each trains the run's own loop without privacy, from the
/// run's initial model, on pseudo-clients cut from the public split (runs of
/// ``pseudoClientSize`` consecutive examples, so one role's or one participant's examples
/// stay together), for the run's rounds, with the run's cohort (at most half the
/// pseudo-clients); every fifth pseudo-client is held out and scores it. The best score
/// wins (ties go to the candidate nearest η).
///
/// On `digits` the public split also pre-trains the perceptron, so the held-out fifth has
/// been seen by the model before the search: the scores are optimistic, the choice still
/// private.
public struct PublicTuning: Sendable, Equatable {
  /// Consecutive public examples per pseudo-client.
  public static let pseudoClientSize = 16

  /// The candidates, in increasing order.
  public var candidates: [Double]
  /// Each candidate's accuracy on the held-out pseudo-clients.
  public var accuracies: [Double]
  /// The candidate chosen.
  public var chosen: Double
  /// Pseudo-clients trained on and public examples scored.
  public var trainingClients: Int
  public var scoredExamples: Int

  /// K candidates around `learningRate`, log-spaced over two decades.
  /// - Precondition: `count ≥ 2`.
  public static func candidates(around learningRate: Double, count: Int) -> [Double] {
    precondition(count >= 2)
    return (0..<count).map {
      learningRate * Foundation.pow(10, 2 * Double($0) / Double(count - 1) - 1)
    }
  }

  /// The public split as a task: pseudo-clients of ``pseudoClientSize`` consecutive examples,
  /// every fifth of them pooled for evaluation.
  static func dataset<Example>(_ task: FederatedDataset<Example>) -> FederatedDataset<Example> {
    let split = task.publicSplit
    let chunks = stride(from: 0, to: split.examples.count, by: pseudoClientSize).map { start in
      let range = start..<min(start + pseudoClientSize, split.examples.count)
      return ClientData(
        id: "public-\(start / pseudoClientSize)", examples: Array(split.examples[range]),
        labels: Array(split.labels[range]))
    }
    let held = chunks.indices.filter { $0 % 5 == 4 }.map { chunks[$0] }
    let training = chunks.indices.filter { $0 % 5 != 4 }.map { chunks[$0] }
    return FederatedDataset(
      name: task.name + "-public", clients: training,
      evaluation: ClientData(
        id: "public-held-out", examples: held.flatMap(\.examples), labels: held.flatMap(\.labels)),
      publicSplit: ClientData(id: "none", examples: [], labels: []), classCount: task.classCount)
  }

  /// Runs the search for `configuration` (whose ``FederatedConfiguration/tuneOnPublic`` is
  /// the number of candidates) on `task`'s public split.
  /// - Parameter progress: told each candidate's score as it is known.
  /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)`` when the public
  ///   split has too few examples for two training pseudo-clients and one scored;
  ///   what a trial run throws.
  static func search<Model: ClassificationModel, Example: Sendable>(
    configuration: FederatedConfiguration, task: FederatedDataset<Example>, model: Model,
    makeBatch: @escaping @Sendable ([Example]) -> Model.Batch, workers: Int,
    progress: (Double, Double) -> Void
  ) throws -> PublicTuning where Model.Scalar == Float {
    let count = configuration.tuneOnPublic ?? 0
    let publicTask = dataset(task)
    guard publicTask.clients.count >= 2, !publicTask.evaluation.examples.isEmpty else {
      throw FederatedError.invalidConfiguration(
        field: "--tune-on-public", value: "\(count)",
        allowed:
          "a task with a public split of at least \(5 * pseudoClientSize) examples (this one has \(task.publicSplit.examples.count); give --public-data with --task jsonl)"
      )
    }
    let rate = configuration.steps.serverLearningRate
    let candidates = candidates(around: rate, count: count)
    var accuracies: [Double] = []
    for candidate in candidates {
      let trial = try trialConfiguration(
        configuration, learningRate: candidate, clients: publicTask.clients.count)
      let folderURL = FileManager.default.temporaryDirectory.appendingPathComponent(
        "dpfl-tuning-\(UUID().uuidString)")
      defer { try? FileManager.default.removeItem(at: folderURL) }
      let summary = try TrainingRun.train(
        configuration: trial, dataset: publicTask, model: model, makeBatch: makeBatch,
        folder: RunFolder(creating: folderURL), resume: false, workers: workers,
        progress: { _ in })
      accuracies.append(summary.accuracyAfter)
      progress(candidate, summary.accuracyAfter)
    }
    let best = candidates.indices.max {
      (accuracies[$0], -abs(Foundation.log(candidates[$0] / rate)))
        < (accuracies[$1], -abs(Foundation.log(candidates[$1] / rate)))
    }!
    return PublicTuning(
      candidates: candidates, accuracies: accuracies, chosen: candidates[best],
      trainingClients: publicTask.clients.count,
      scoredExamples: publicTask.evaluation.examples.count)
  }

  /// A trial of the search: the run's loop at `learningRate`, without privacy, over the
  /// `clients` public pseudo-clients (no simulated population), with the run's cohort or
  /// half the pseudo-clients, whichever is smaller.
  static func trialConfiguration(
    _ configuration: FederatedConfiguration, learningRate: Double, clients: Int
  ) throws -> FederatedConfiguration {
    var trial = configuration
    trial.tuneOnPublic = nil
    trial.serverLearningRate = learningRate
    trial.privacy = false
    trial.epsilon = nil
    trial.noiseMultiplier = nil
    trial.adaptiveClipping = false
    trial.targetQuantile = nil
    trial.clipLearningRate = nil
    trial.indicatorNoiseFraction = nil
    trial.byzantineFraction = 0
    trial.attack = nil
    trial.cohortSize = min(configuration.clientsPerRound, max(1, clients / 2))
    trial.population = clients
    trial.noiseCohortSize = trial.cohortSize!
    try trial.validate()
    return trial
  }

  /// One line for the run's summary.
  public var description: String {
    let scores = zip(candidates, accuracies).map {
      "\(String(format: "%.3g", $0.0)) → \(String(format: "%.1f", 100 * $0.1)) %"
    }
    return
      "server learning rate \(String(format: "%.3g", chosen)) chosen on the public split (--tune-on-public \(candidates.count): \(trainingClients) pseudo-clients of \(Self.pseudoClientSize) public examples, scored on \(scoredExamples) held out; \(scores.joined(separator: ", "))); the search used no private data and costs no privacy"
  }
}

/// Runs ``PublicTuning`` before `inner` when the configuration asks for it, and hands
/// `inner` the configuration with the chosen server learning rate (and no search left to
/// run, so that `config.json` records the rate and a resumed run does not search again).
struct PublicTuningRunner: TaskRunner {
  typealias Output = TrainingSummary

  var inner: LocalTrainingRunner
  /// Told each candidate's score (stderr progress).
  var progress: (Double, Double) -> Void

  func run<Model: ClassificationModel, Example: Sendable>(
    configuration: FederatedConfiguration, dataset: FederatedDataset<Example>, model: Model,
    makeBatch: @escaping @Sendable ([Example]) -> Model.Batch,
    export: @escaping (Model, RunFolder) throws -> Void
  ) throws -> TrainingSummary where Model.Scalar == Float {
    guard configuration.tuneOnPublic != nil, !inner.resume else {
      return try inner.run(
        configuration: configuration, dataset: dataset, model: model, makeBatch: makeBatch,
        export: export)
    }
    let tuning = try PublicTuning.search(
      configuration: configuration, task: dataset, model: model, makeBatch: makeBatch,
      workers: inner.workers, progress: progress)
    var tuned = configuration
    tuned.tuneOnPublic = nil
    tuned.serverLearningRate = tuning.chosen
    var runner = inner
    runner.notes.append(tuning.description)
    return try runner.run(
      configuration: tuned, dataset: dataset, model: model, makeBatch: makeBatch, export: export)
  }
}
