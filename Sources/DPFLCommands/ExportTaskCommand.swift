import ArgumentParser
import DPFederated
import DPModel
import Foundation

/// `dpfl export-task`: writes a built-in text task's splits as JSON Lines, exactly as
/// `dpfl train` builds them for a seed, so that another framework (the PyTorch references in
/// `Scripts/crosscheck/`) trains and evaluates on the same examples.
///
/// The folder gets three files, one JSON object per line with `user_id`, `text` and `label`
/// (the class id), in the order dpfl holds them:
/// - `train.jsonl`: every client's examples, clients in the task's order (`user_id` is the
///   client's identifier);
/// - `evaluation.jsonl`: the examples `dpfl train --seed S` scores: the task's evaluation
///   split cut to its seeded subset of at most
///   ``TrainingRun/maximumTextEvaluationExamples`` (`user_id` is `evaluation`);
/// - `public.jsonl`: the public split (`user_id` is `public`), from which `dpfl train` takes
///   the head's embedding centre; empty when the task has none.
///
/// `train.jsonl` with `evaluation.jsonl` is also a valid `dpfl train --task jsonl` input.
struct ExportTaskCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export-task",
    abstract: "Write a built-in text task's splits as JSON Lines (train, evaluation, public).",
    discussion: """
      The splits are those dpfl train builds with the same --task, --seed and task flags: \
      evaluation.jsonl is the seeded subset of at most 2,000 evaluation examples that train \
      scores. Prints the three files' paths and line counts.

      Example:
        dpfl export-task --task shakespeare-genre --seed 0 --out runs/shakespeare-genre-seed0
      """)

  @Option(help: "A built-in text task: shakespeare-genre (default) or chitchat-topic.")
  var task: String = "shakespeare-genre"
  @Option(help: "The seed of dpfl train whose evaluation subset is written (default 0).")
  var seed: UInt64 = 0
  @Option(help: "shakespeare-genre: held-out-plays (default) or held-out-lines.")
  var evaluationSplit: String = "held-out-plays"
  @Option(help: "shakespeare-genre: consecutive speeches of a role per example (default 1).")
  var speechesPerExample: Int = 1
  @Option(help: "The folder to write (created if missing; the three files are replaced).")
  var out: String

  func run() throws {
    var configuration = FederatedConfiguration()
    configuration.task = task
    configuration.seed = seed
    configuration.evaluationSplit = evaluationSplit
    configuration.speechesPerExample = speechesPerExample
    let problems = configuration.problems(clientCount: nil).map(\.description)
    if let first = problems.first {
      FileHandle.standardError.write(Data("Error: \(first)\n".utf8))
      throw ExitCode(64)
    }
    do {
      let dataset = try Self.dataset(configuration, assets: TrainCommand.assets)
      let folder = URL(fileURLWithPath: out)
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let evaluation = Self.scoredEvaluation(dataset.evaluation, seed: seed)
      let files: [(String, [(String, String, Int)])] = [
        (
          "train.jsonl",
          dataset.clients.flatMap { client in
            zip(client.examples, client.labels).map { (client.id, $0.0, $0.1) }
          }
        ),
        (
          "evaluation.jsonl",
          zip(evaluation.examples, evaluation.labels).map { ("evaluation", $0.0, $0.1) }
        ),
        (
          "public.jsonl",
          zip(dataset.publicSplit.examples, dataset.publicSplit.labels).map {
            ("public", $0.0, $0.1)
          }
        ),
      ]
      for (name, rows) in files {
        let url = folder.appendingPathComponent(name)
        try Self.jsonLines(rows).write(to: url, options: .atomic)
        print("\(url.path)\t\(rows.count)")
      }
    } catch let error as FederatedError {
      FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
      throw ExitCode(1)
    }
  }

  /// The task's dataset as `dpfl train` loads it (before the evaluation subset).
  /// - Throws: ``FederatedError`` when the task is not a built-in text task or its assets
  ///   are missing or malformed.
  static func dataset(_ configuration: FederatedConfiguration, assets: TrainingRun.Assets) throws
    -> FederatedDataset<String>
  {
    switch configuration.task {
    case "shakespeare-genre":
      let folder = assets.root.appendingPathComponent("shakespeare")
      var shakespeare = ShakespeareTask.Configuration(
        evaluation: configuration.evaluationSplit == "held-out-lines"
          ? .heldOutLines : .heldOutPlays(ShakespeareTask.defaultHeldOutPlays),
        seed: configuration.seed)
      shakespeare.speechesPerExample = configuration.speechesPerExample
      return try ShakespeareTask.load(shakespeare, folder: folder)
    case "chitchat-topic":
      return try ChitChatTask.load(
        .init(seed: configuration.seed),
        file: assets.root.appendingPathComponent("chitchat").appendingPathComponent(
          ChitChatTask.fileName))
    default:
      throw FederatedError.invalidConfiguration(
        field: "--task", value: configuration.task,
        allowed: "a built-in text task (shakespeare-genre or chitchat-topic)")
    }
  }

  /// The evaluation examples `dpfl train --seed seed` scores: the same seeded subset, in the
  /// same order, as ``TrainingRun`` keeps for a text task (a shuffle of the indices by
  /// Xoshiro256** seeded with `seed ^ 0x6576_616C`, the first
  /// ``TrainingRun/maximumTextEvaluationExamples``, sorted).
  static func scoredEvaluation(_ evaluation: ClientData<String>, seed: UInt64) -> ClientData<String>
  {
    var generator = Xoshiro256StarStar(seed: seed ^ 0x6576_616C)
    let kept = Array(
      evaluation.examples.indices.shuffled(using: &generator).prefix(
        TrainingRun.maximumTextEvaluationExamples)
    ).sorted()
    return ClientData(
      id: evaluation.id, examples: kept.map { evaluation.examples[$0] },
      labels: kept.map { evaluation.labels[$0] })
  }

  /// One JSON object per row, keys sorted, UTF-8, a newline after each.
  static func jsonLines(_ rows: [(user: String, text: String, label: Int)]) throws -> Data {
    var data = Data()
    for row in rows {
      let object: [String: Any] = ["user_id": row.user, "text": row.text, "label": row.label]
      data.append(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
      data.append(0x0A)
    }
    return data
  }
}
