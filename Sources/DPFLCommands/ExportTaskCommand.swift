import ArgumentParser
import DPFederated
import DPModel
import Foundation

/// `dpfl export-task`: writes a built-in task's splits as JSON Lines, exactly as
/// `dpfl train` builds them for a seed, so that another framework (the PyTorch references in
/// `Scripts/crosscheck/`) trains and evaluates on the same examples.
///
/// The folder gets three files, one JSON object per line with `user_id`, `text` (or
/// `features` for `digits`) and `label` (the class id), in the order dpfl holds them:
/// - `train.jsonl`: every client's examples, clients in the task's order (`user_id` is the
///   client's identifier);
/// - `evaluation.jsonl`: the examples `dpfl train --seed S` scores: the task's evaluation
///   split cut to its seeded subset of at most
///   ``TrainingRun/maximumTextEvaluationExamples`` (`user_id` is `evaluation`);
/// - `public.jsonl`: the public split (`user_id` is `public`), from which `dpfl train` takes
///   the head's embedding centre; empty when the task has none.
///
/// `train.jsonl` with `evaluation.jsonl` is also a valid `dpfl train --task jsonl` input (for
/// `digits`, one that starts from an untrained perceptron unless `--public-data` is given).
struct ExportTaskCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export-task",
    abstract: "Write a built-in task's splits as JSON Lines (train, evaluation, public).",
    discussion: """
      The splits are those dpfl train builds with the same --task, --seed and task flags: \
      evaluation.jsonl is the seeded subset of at most 2,000 evaluation examples that train \
      scores (digits: all of them). Prints the three files' paths and line counts.

      Example:
        dpfl export-task --task shakespeare-genre --seed 0 --out runs/shakespeare-genre-seed0

      \(ExitStatus.help)
      """)

  @OptionGroup(title: "Run settings (--task, --seed and the task's own settings)")
  var options: FederatedConfiguration
  @Option(help: "The folder to write (created if missing; the three files are replaced).")
  var out: String

  func run() throws {
    do {
      if options.task == .digits {
        try write(DigitsTask.load(DigitsTask.Configuration(seed: options.seed)), key: "features")
      } else {
        let dataset = try TrainingRun.builtInTextTask(options, assets: TrainCommand.assets)
        var scored = dataset
        scored.evaluation = TrainingRun.scoredEvaluation(dataset.evaluation, seed: options.seed)
        try write(scored, key: "text")
      }
    } catch let error as FederatedError {
      FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
      throw ExitCode(ExitStatus.code(of: error))
    }
  }

  /// Writes the three files of `dataset`, each example under `key`.
  func write<Example: Encodable>(_ dataset: FederatedDataset<Example>, key: String) throws {
    let folder = URL(fileURLWithPath: out)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let evaluation = dataset.evaluation
    let files: [(String, [(String, Example, Int)])] = [
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
        zip(dataset.publicSplit.examples, dataset.publicSplit.labels).map { ("public", $0.0, $0.1) }
      ),
    ]
    for (name, rows) in files {
      let url = folder.appendingPathComponent(name)
      try DurableFile.write(Self.jsonLines(rows, key: key), to: url)
      print("\(url.path)\t\(rows.count)")
    }
  }

  /// One JSON object per row (`user_id`, `key`, `label`), keys sorted, UTF-8, a newline
  /// after each.
  static func jsonLines<Example: Encodable>(
    _ rows: [(user: String, example: Example, label: Int)], key: String
  ) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var data = Data()
    for row in rows {
      data.append(
        try encoder.encode(Row(userID: row.user, example: row.example, label: row.label, key: key)))
      data.append(0x0A)
    }
    return data
  }

  /// One line of an exported split.
  private struct Row<Example: Encodable>: Encodable {
    var userID: String
    var example: Example
    var label: Int
    var key: String

    struct Key: CodingKey {
      var stringValue: String
      var intValue: Int? { nil }
      init(stringValue: String) { self.stringValue = stringValue }
      init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: Key.self)
      try container.encode(userID, forKey: Key(stringValue: "user_id"))
      try container.encode(example, forKey: Key(stringValue: key))
      try container.encode(label, forKey: Key(stringValue: "label"))
    }
  }
}
