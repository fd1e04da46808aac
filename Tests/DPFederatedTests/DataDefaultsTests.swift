import Accountants
import DPModel
import DPTestSupport
import Foundation
import Testing

@testable import DPFederated

/// The defaults a JSON Lines run takes from its data (max length, cohort, rounds), the
/// built-in tasks' fixed ones, and what a run records and resumes with.
@Suite("DataDefaults", .serialized)
struct DataDefaultsTests {
  /// A temporary file holding `lines`.
  static func write(_ lines: [String], _ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-defaults-\(name)-\(UUID()).jsonl")
    try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
    return url
  }

  /// Feature lines: `users` users with 5 examples each (an evaluation file, when given, keeps
  /// every user a client).
  static func features(users: Int, name: String) throws -> URL {
    try write(
      (0..<(5 * users)).map {
        #"{"user_id": "u\#($0 % users)", "features": [\#($0 % 3), \#(Double($0 % 5) / 2)], "label": \#($0 % 3 == 0 ? 1 : 0)}"#
      }, name)
  }

  /// A JSON Lines configuration of `data` (and `evaluation`), as flags give it.
  static func configuration(data: URL, evaluation: URL, _ flags: [String] = []) throws
    -> FederatedConfiguration
  {
    try FederatedConfiguration.parse(
      [
        "--task", "jsonl", "--data", data.path, "--evaluation-data", evaluation.path,
        "--accountant", "rdp", "--seed", "4",
      ] + flags)
  }

  static func folder(_ name: String) throws -> RunFolder {
    try RunFolder(
      creating: FileManager.default.temporaryDirectory.appendingPathComponent(
        "dpfl-defaults-\(name)-\(UUID())"))
  }

  static let noAssets = TrainingRun.Assets(root: URL(fileURLWithPath: "/nonexistent"))

  // MARK: The rules

  /// Token lengths and the max length they give.
  static let lengthCases: [(lengths: [Int], maxLength: Int)] = [
    ([], 16),
    ([2, 3, 4], 16),
    ([16, 16, 16], 16),
    ([17] + Array(repeating: 5, count: 9), 16),  // 9 of 10 fit in 16: 90 %
    (Array(repeating: 17, count: 9) + [5], 32),
    (Array(repeating: 10, count: 8) + [40, 300], 48),  // the 9th shortest of 10 is 40
    ([10, 20, 30], 32),  // ⌈0.9 · 3⌉ = 3: all of them
    (Array(repeating: 32, count: 19) + [33], 32),
    (Array(repeating: 129, count: 10), 128),
  ]

  @Test(
    "max length: the smallest multiple of 16 that holds 90 % of the texts, in 16…128",
    arguments: lengthCases)
  func maxLengthRule(lengths: [Int], expected: Int) {
    #expect(DataDefaults.maxLength(tokenLengths: lengths) == expected)
    #expect(DataDefaults.maxLength(tokenLengths: lengths.reversed()) == expected)
  }

  /// Users, noise cohort, and the cohort and rounds they give.
  static let scheduleCases: [(users: Int, noiseCohortSize: Int, cohort: Int, rounds: Int)] = [
    (1, 1_000, 1, 20), (2, 1_000, 2, 20), (9, 1_000, 2, 45), (10, 1_000, 2, 50),
    (14, 1_000, 2, 70), (15, 1_000, 3, 50), (99, 1_000, 19, 53), (100, 1_000, 20, 50),
    (154, 1_000, 20, 77), (400, 1_000, 20, 200), (401, 1_000, 20, 200),
    (100_000, 1_000, 20, 200), (100, 8, 8, 125), (100, 5, 5, 200),
  ]

  @Test(
    "cohort: a fifth of the users in 2…20, at most the users and the noise cohort; rounds: ⌈10 · users ÷ cohort⌉ in 20…200",
    arguments: scheduleCases)
  func cohortAndRounds(users: Int, noiseCohortSize: Int, cohort: Int, rounds: Int) {
    let derived = DataDefaults.cohortSize(userCount: users, noiseCohortSize: noiseCohortSize)
    #expect(derived == cohort)
    #expect(DataDefaults.rounds(userCount: users, cohortSize: derived) == rounds)
  }

  /// Users and the line their cohort and rounds give.
  static let lineCases: [(users: Int, line: String)] = [
    (154, "from the data (not covered by ε): cohort 20 of 154 users, 77 rounds (10 passes)"),
    (99, "from the data (not covered by ε): cohort 19 of 99 users, 53 rounds (10.2 passes)"),
    (
      1_000,
      "from the data (not covered by ε): cohort 20 of 1000 users, 200 rounds (4 passes; at most 200)"
    ),
    (
      2, "from the data (not covered by ε): cohort 2 of 2 users, 20 rounds (20 passes; at least 20)"
    ),
  ]

  @Test(
    "the stderr line says what came from the data and why, clamps included", arguments: lineCases)
  func description(users: Int, line: String) throws {
    var configuration = try FederatedConfiguration.parse(["--task", "jsonl", "--data", "x.jsonl"])
    let derived = configuration.resolveDataDefaults(userCount: users) { nil }
    #expect(derived.description == line)
    #expect(
      configuration.rounds == derived.rounds && configuration.cohortSize == derived.cohortSize)
    #expect(configuration.maxLength == nil)
  }

  @Test("a text file's max length comes from its WordPiece token lengths, [CLS] and [SEP] included")
  func textFile() throws {
    // 10 users × 2 texts: 18 of 40 words (42 tokens), 2 of 100 words (102 tokens).
    let words = { (count: Int) in Array(repeating: "a", count: count).joined(separator: " ") }
    let data = try Self.write(
      (0..<20).map {
        #"{"user_id": \#($0 % 10), "label": \#($0 % 2), "text": "\#(words($0 < 2 ? 100 : 40))"}"#
      },
      "text")
    let evaluation = try Self.write([#"{"user_id": 0, "label": 1, "text": "a"}"#], "text-eval")
    defer { for file in [data, evaluation] { try? FileManager.default.removeItem(at: file) } }
    var configuration = try Self.configuration(data: data, evaluation: evaluation)
    guard case .text(let dataset) = try JSONLDataset.load(configuration).examples else {
      Issue.record("not loaded as text")
      return
    }
    let tokenizer = try WordPieceTokenizer(vocabulary: TestFixtures.vocabulary)
    let lengths = TrainingRun.trainingTokenLengths(dataset, tokenizer: tokenizer)
    #expect(lengths.sorted() == Array(repeating: 42, count: 18) + [102, 102])
    let derived = configuration.resolveDataDefaults(userCount: dataset.clients.count) { lengths }
    #expect(configuration.maxLength == 48 && configuration.tokenLimit == 48)
    #expect(
      derived.description
        == "from the data (not covered by ε): max length 48 (90 % of 20 training texts fit), cohort 2 of 10 users, 50 rounds (10 passes)"
    )
  }

  // MARK: Given values and built-in tasks

  @Test("given values win: nothing is derived from the data, and the texts are not tokenised")
  func givenValuesWin() throws {
    var configuration = try FederatedConfiguration.parse([
      "--task", "jsonl", "--data", "x.jsonl", "--max-length", "24", "--cohort-size", "7",
      "--rounds", "33",
    ])
    let derived = configuration.resolveDataDefaults(userCount: 154) {
      Issue.record("tokenised although --max-length was given")
      return [500]
    }
    #expect(derived.isEmpty)
    #expect(
      configuration.maxLength == 24 && configuration.cohortSize == 7 && configuration.rounds == 33)
    // A given cohort sets the rounds the data gives: ⌈10 · 154 ÷ 11⌉ = 140.
    var cohortGiven = try FederatedConfiguration.parse([
      "--task", "jsonl", "--data", "x.jsonl", "--cohort-size", "11",
    ])
    let rounds = cohortGiven.resolveDataDefaults(userCount: 154) { nil }
    #expect(rounds.cohortSize == nil && rounds.rounds == 140 && cohortGiven.cohortSize == 11)
  }

  @Test("a given cohort larger than the users is refused as before, naming the users")
  func impossibleCohort() throws {
    let data = try Self.features(users: 6, name: "impossible")
    let evaluation = try Self.features(users: 1, name: "impossible-eval")
    let folder = try Self.folder("impossible")
    defer {
      for file in [data, evaluation, folder.url] { try? FileManager.default.removeItem(at: file) }
    }
    #expect(
      throws: FederatedError.invalidConfiguration(
        field: "--cohort-size", value: "7", allowed: "in 1...6 (the task's clients)")
    ) {
      try TrainingRun.run(
        configuration: Self.configuration(
          data: data, evaluation: evaluation, ["--cohort-size", "7"]),
        assets: Self.noAssets, folder: folder, resume: false)
    }
  }

  @Test(
    "the built-in tasks keep 200 rounds, 20 clients and 32 tokens, stated in config.json's settings",
    arguments: ["digits", "shakespeare-genre", "chitchat-topic"])
  func builtInDefaults(task: String) throws {
    let configuration = try FederatedConfiguration.parse(["--task", task])
    #expect(configuration.rounds == 200 && configuration.cohortSize == 20)
    #expect(configuration.maxLength == 32)
    let settings = configuration.settings
    #expect(settings["rounds"] == .integer(200) && settings["cohort_size"] == .integer(20))
    #expect(settings["max_length"] == .integer(32))
    #expect(
      FederatedConfiguration.defaults.settings
        == (try FederatedConfiguration.parse(["--task", "digits"])).settings)
    // A JSON Lines configuration leaves them to its data.
    let jsonl = try FederatedConfiguration.parse(["--task", "jsonl", "--data", "x.jsonl"])
    #expect(jsonl.rounds == nil && jsonl.cohortSize == nil && jsonl.maxLength == nil)
    #expect(jsonl.settings["rounds"] == nil && jsonl.settings["cohort_size"] == nil)
  }

  // MARK: Runs

  @Test("config.json records the values from the data, and a resume from it reproduces the run")
  func recordedAndResumed() throws {
    let data = try Self.features(users: 6, name: "resume")
    let evaluation = try Self.features(users: 2, name: "resume-eval")
    let whole = try Self.folder("whole")
    let stopped = try Self.folder("stopped")
    defer {
      for file in [data, evaluation, whole.url, stopped.url] {
        try? FileManager.default.removeItem(at: file)
      }
    }
    let configuration = try Self.configuration(data: data, evaluation: evaluation)
    var told: [DataDefaults] = []
    let summary = try TrainingRun.run(
      configuration: configuration, assets: Self.noAssets, folder: whole, resume: false,
      dataDefaults: { told.append($0) })
    #expect(
      told.map(\.description) == [
        "from the data (not covered by ε): cohort 2 of 6 users, 30 rounds (10 passes)"
      ])
    #expect(summary.plannedRounds == 30 && summary.rounds == 30 && summary.cohortSize == 2)
    #expect(summary.maxLength == nil)
    let recorded = try whole.readConfiguration()
    #expect(recorded.rounds == 30 && recorded.cohortSize == 2 && recorded.maxLength == nil)

    struct Stop: Error {}
    #expect(throws: Stop.self) {
      try TrainingRun.run(
        configuration: configuration, assets: Self.noAssets, folder: stopped, resume: false
      ) { if $0.round == 7 { throw Stop() } }
    }
    told = []
    let resumed = try TrainingRun.run(
      configuration: try stopped.readConfiguration(), assets: Self.noAssets, folder: stopped,
      resume: true, dataDefaults: { told.append($0) })
    #expect(told.isEmpty)
    #expect(resumed.plannedRounds == 30 && resumed.cohortSize == 2)
    #expect(try stopped.readConfiguration() == recorded)
    #expect(
      try stopped.read(DPEvent.self, from: .ledger) == whole.read(DPEvent.self, from: .ledger))
    #expect(try stopped.readMetrics() == whole.readMetrics())
    let adapter = { (folder: RunFolder) in
      try Safetensors.read(contentsOf: folder.path(.adapter)).tensors
    }
    #expect(try adapter(stopped) == adapter(whole))
  }

  /// `<repository>/.cache/assets`, where `Scripts/fetch-assets` puts all-MiniLM-L6-v2.
  static let assets = TrainingRun.Assets(
    root: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent(".cache/assets"))

  @Test(
    "a text run records the max length its data gives, and its summary states it",
    .enabled(
      if: FileManager.default.fileExists(
        atPath: assets.miniLM.appendingPathComponent("vocab.txt").path),
      "run Scripts/fetch-assets to enable"))
  func textRun() throws {
    let words = { (count: Int) in Array(repeating: "a", count: count).joined(separator: " ") }
    let data = try Self.write(
      (0..<8).map {
        #"{"user_id": \#($0 % 4), "label": \#($0 % 2), "text": "\#(words($0 == 0 ? 60 : 20))"}"#
      },
      "text-run")
    let evaluation = try Self.write(
      [#"{"user_id": 0, "label": 1, "text": "a a"}"#], "text-run-eval")
    let folder = try Self.folder("text-run")
    defer {
      for file in [data, evaluation, folder.url] { try? FileManager.default.removeItem(at: file) }
    }
    var told: [DataDefaults] = []
    let summary = try TrainingRun.run(
      configuration: Self.configuration(
        data: data, evaluation: evaluation,
        ["--layers", "1", "--rounds", "2", "--cohort-size", "2", "--method", "dp-lora"]),
      assets: Self.assets, folder: folder, resume: false, dataDefaults: { told.append($0) })
    // 7 of 8 texts have 22 tokens, one 62: ⌈0.9 · 8⌉ = 8 must fit, so 64.
    #expect(
      told.map(\.description) == [
        "from the data (not covered by ε): max length 64 (100 % of 8 training texts fit)"
      ])
    #expect(summary.maxLength == 64)
    #expect(try folder.readConfiguration().maxLength == 64)
  }

  @Test(
    "with --public-data the max length comes from the public texts, at no privacy cost",
    .enabled(
      if: FileManager.default.fileExists(
        atPath: assets.miniLM.appendingPathComponent("vocab.txt").path),
      "run Scripts/fetch-assets to enable"))
  func maxLengthFromPublicTexts() throws {
    let words = { (count: Int) in Array(repeating: "a", count: count).joined(separator: " ") }
    // Training texts of 22 tokens (max length 32 from them); public texts of 42 (48).
    let data = try Self.write(
      (0..<8).map { #"{"user_id": \#($0 % 4), "label": \#($0 % 2), "text": "\#(words(20))"}"# },
      "public-run")
    let publicData = try Self.write(
      (0..<4).map { #"{"user_id": 99, "label": \#($0 % 2), "text": "\#(words(40))"}"# },
      "public-run-public")
    let evaluation = try Self.write(
      [#"{"user_id": 0, "label": 1, "text": "a a"}"#], "public-run-eval")
    let folder = try Self.folder("public-run")
    defer {
      for file in [data, publicData, evaluation, folder.url] {
        try? FileManager.default.removeItem(at: file)
      }
    }
    var told: [DataDefaults] = []
    let summary = try TrainingRun.run(
      configuration: Self.configuration(
        data: data, evaluation: evaluation,
        [
          "--layers", "1", "--rounds", "2", "--cohort-size", "2", "--method", "dp-lora",
          "--public-data", publicData.path,
        ]),
      assets: Self.assets, folder: folder, resume: false, dataDefaults: { told.append($0) })
    #expect(
      told.map(\.description) == [
        "from the public data: max length 48 (100 % of 4 public texts fit)"
      ])
    #expect(summary.maxLength == 48)
    #expect(try folder.readConfiguration().maxLength == 48)
  }
}
