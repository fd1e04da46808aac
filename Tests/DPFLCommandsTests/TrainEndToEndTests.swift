import Foundation
import Testing

/// `dpfl train` as a user runs it: the plan → train → account chain, kill -9 and resume,
/// and one-line errors.
@Suite("dpfl train end to end", .serialized)
struct TrainEndToEndTests {
  static func temporaryFolder(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("dpfl-e2e-\(name)-\(UUID())").path
  }

  @Test("plan → train → account --ledger: the same σ, and the ledger re-accounts to ε ≤ target")
  func planTrainAccount() throws {
    let folder = Self.temporaryFolder("chain")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let plan = try BinaryRunner.json(
      try BinaryRunner.run([
        "plan", "--epsilon", "2", "--delta", "1e-6", "--population", "1000000", "--cohort-size",
        "1000",
        "--rounds", "30", "--accountant", "rdp", "--format", "json",
      ]))
    let train = try BinaryRunner.run([
      "train", "--rounds", "30", "--accountant", "rdp", "--run-dir", folder, "--format", "json",
    ])
    #expect(train.status == 0, "\(train.stderr)")
    let summary = try BinaryRunner.json(train)
    for key in [
      "method", "privacy_unit", "epsilon", "target_epsilon", "delta", "noise_multiplier", "rounds",
      "accuracy_before", "accuracy_after", "bytes_per_client_per_round", "run_dir",
      "simulated_population", "noise_cohort_size",
    ] {
      #expect(summary[key] != nil, "missing key \(key)")
    }
    #expect(summary["privacy_unit"] as? String == "user")
    let planned = try #require(plan["noise_multiplier"] as? Double)
    let used = try #require(summary["noise_multiplier"] as? Double)
    #expect(abs(planned - used) <= 1e-12 * planned)
    let account = try BinaryRunner.run([
      "account", "--ledger", folder + "/ledger.json", "--delta", "1e-6", "--accountant", "rdp",
      "--format", "json",
    ])
    #expect(account.status == 0, "\(account.stderr)")
    let audited = try #require(try BinaryRunner.json(account)["epsilon"] as? Double)
    let spent = try #require(summary["epsilon"] as? Double)
    #expect(abs(audited - spent) <= 1e-12 * spent)
    #expect(audited <= 2)
  }

  @Test("kill -9 mid-run, then --resume: the same ledger and adapter as an uninterrupted run")
  func killAndResume() throws {
    let whole = Self.temporaryFolder("whole")
    let killed = Self.temporaryFolder("killed")
    defer {
      try? FileManager.default.removeItem(atPath: whole)
      try? FileManager.default.removeItem(atPath: killed)
    }
    let arguments = ["train", "--rounds", "150", "--accountant", "rdp", "--seed", "5"]
    #expect(try BinaryRunner.run(arguments + ["--run-dir", whole]).status == 0)
    let process = Process()
    process.executableURL = BinaryRunner.executable
    process.arguments = arguments + ["--run-dir", killed]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let metrics = killed + "/metrics.jsonl"
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
      let lines =
        (try? String(contentsOfFile: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0
      if lines >= 20 { break }
      usleep(2_000)
    }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    #expect(process.terminationReason == .uncaughtSignal)
    let resumed = try BinaryRunner.run(["train", "--resume", killed])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    for file in ["ledger.json", "adapter.safetensors", "metrics.jsonl", "checkpoint.json"] {
      #expect(
        FileManager.default.contents(atPath: "\(killed)/\(file)")
          == FileManager.default.contents(atPath: "\(whole)/\(file)"), "\(file)")
    }
  }

  @Test(
    "train --method dp-rec: the ledger names the exact coder, re-accounts to ε; two processes with the same seeds decode the same updates"
  )
  func relativeEntropyCodedRun() throws {
    let first = Self.temporaryFolder("rec-first")
    let second = Self.temporaryFolder("rec-second")
    defer {
      try? FileManager.default.removeItem(atPath: first)
      try? FileManager.default.removeItem(atPath: second)
    }
    let arguments = [
      "train", "--method", "dp-rec", "--rounds", "3", "--seed", "2", "--format", "json",
    ]
    let run = try BinaryRunner.run(arguments + ["--run-dir", first])
    #expect(run.status == 0, "\(run.stderr)")
    let summary = try BinaryRunner.json(run)
    let coding = try #require(summary["coding"] as? [String: Any])
    let bits = try #require(coding["bits_per_parameter"] as? Double)
    let deployment = try #require(coding["deployment_bits_per_parameter"] as? Double)
    #expect(bits < 32 && deployment < bits)
    let epsilon = try #require(summary["epsilon"] as? Double)
    let ledger = try String(contentsOfFile: first + "/ledger.json", encoding: .utf8)
    #expect(ledger.contains("RelativeEntropyCoded"))
    let account = try BinaryRunner.json(
      try BinaryRunner.run([
        "account", "--ledger", first + "/ledger.json", "--delta", "1e-6", "--format", "json",
      ]))
    #expect(abs(try #require(account["epsilon"] as? Double) - epsilon) <= 1e-12 * epsilon)
    #expect(try BinaryRunner.run(arguments + ["--run-dir", second]).status == 0)
    let adapter = { (folder: String) in
      FileManager.default.contents(atPath: folder + "/adapter.safetensors")
    }
    #expect(adapter(first) != nil && adapter(first) == adapter(second))
  }

  /// A JSON Lines file of feature lines: `users` users with 5 examples each.
  static func featureFile(users: Int, name: String) throws -> String {
    let path = temporaryFolder(name) + ".jsonl"
    try (0..<(5 * users)).map {
      #"{"user_id": "u\#($0 % users)", "features": [\#($0 % 3), \#(Double($0 % 5) / 2)], "label": \#($0 % 3 == 0 ? 1 : 0)}"#
    }.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test(
    "a JSON Lines run takes its cohort and rounds from the data, says so on stderr, and its summary and config.json state them; given values win"
  )
  func jsonlDefaults() throws {
    let data = try Self.featureFile(users: 6, name: "users")
    let evaluation = try Self.featureFile(users: 2, name: "evaluation")
    let derivedFolder = Self.temporaryFolder("derived")
    let givenFolder = Self.temporaryFolder("given")
    defer {
      for path in [data, evaluation, derivedFolder, givenFolder] {
        try? FileManager.default.removeItem(atPath: path)
      }
    }
    let common = [
      "train", "--task", "jsonl", "--data", data, "--evaluation-data", evaluation, "--accountant",
      "rdp",
    ]
    let derived = try BinaryRunner.run(common + ["--run-dir", derivedFolder, "--format", "json"])
    #expect(derived.status == 0, "\(derived.stderr)")
    #expect(
      derived.stderr.hasPrefix(
        "from the data (not covered by ε): cohort 2 of 6 users, 30 rounds (10 passes)\n"))
    let summary = try BinaryRunner.json(derived)
    #expect(summary["planned_rounds"] as? Int == 30 && summary["rounds"] as? Int == 30)
    #expect(summary["cohort_size"] as? Int == 2 && summary["max_length"] == nil)
    let config = try #require(
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: derivedFolder + "/config.json")))
        as? [String: Any])
    #expect(config["rounds"] as? Int == 30 && config["cohort_size"] as? Int == 2)
    #expect(config["max_length"] == nil)

    // Given rounds win; a real deployment of these 6 users is not a simulation.
    let given = try BinaryRunner.run(
      common + [
        "--rounds", "3", "--population", "6", "--noise-cohort-size", "2", "--run-dir", givenFolder,
      ])
    #expect(given.status == 0, "\(given.stderr)")
    #expect(given.stderr.hasPrefix("from the data (not covered by ε): cohort 2 of 6 users\n"))
    #expect(given.stdout.contains("after 3 of 3 rounds"))
    #expect(given.stdout.contains("\nno simulation: 2 of 6 clients per round\n"))
  }

  @Test("bad training flags are one line naming the value, exit 64; a missing run folder exits 1")
  func errors() throws {
    let rounds = try BinaryRunner.run(["train", "--rounds", "0"])
    #expect(rounds.status == 64)
    #expect(rounds.stderr.hasPrefix("Error: --rounds must be an integer ≥ 1; got 0.\n"))
    let conflict = try BinaryRunner.run(["train", "--no-privacy", "--epsilon", "2"])
    #expect(conflict.status == 64)
    let precision = try BinaryRunner.run(["train", "--frozen-precision", "bf16"])
    #expect(precision.status == 64)
    #expect(
      precision.stderr.hasPrefix(
        "Error: --frozen-precision must be float32 for digits (bf16 is for the text encoder); got bf16.\n"
      ))
    let unknown = try BinaryRunner.run(["train", "--frozen-precision", "fp8"])
    #expect(unknown.status == 64)
    #expect(unknown.stderr.contains("fp8"))
    for accountant in ["pld", "certified"] {
      let discrete = try BinaryRunner.run(
        ["train", "--noise-distribution", "discrete", "--accountant", accountant])
      #expect(discrete.status == 64)
      #expect(
        discrete.stderr.hasPrefix(
          "Error: --accountant must be rdp or moments with --noise-distribution discrete"))
      #expect(discrete.stderr.split(separator: "\n").first?.hasSuffix("got \(accountant).") == true)
    }
    let resume = try BinaryRunner.run(["train", "--resume", Self.temporaryFolder("missing")])
    #expect(resume.status == 1)
    #expect(resume.stderr.contains("no config.json"))
  }

  @Test(
    "export-task writes the chitchat-topic and digits splits a run trains and scores on",
    .enabled(
      if: FileManager.default.fileExists(
        atPath: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
          .appendingPathComponent("../../.cache/assets/chitchat/dataset.json").path),
      "run Scripts/fetch-assets to enable"))
  func exportTask() throws {
    let folder = Self.temporaryFolder("export")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let process = Process()
    process.executableURL = BinaryRunner.executable
    process.arguments = ["export-task", "--task", "chitchat-topic", "--seed", "3", "--out", folder]
    process.currentDirectoryURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../..")
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let lines = { (name: String) in
      (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8))?
        .split(separator: "\n").count ?? -1
    }
    #expect(lines("train.jsonl") == 5_278)
    #expect(lines("evaluation.jsonl") == 1_328)
    #expect(lines("public.jsonl") == 488)
    // digits: features, every evaluation image, the public pre-training split.
    let digits = try BinaryRunner.run(["export-task", "--out", folder])
    #expect(digits.status == 0)
    #expect(lines("train.jsonl") == 899)
    #expect(lines("evaluation.jsonl") == 359)
    #expect(lines("public.jsonl") == 539)
    let first = try String(contentsOfFile: folder + "/train.jsonl", encoding: .utf8)
      .split(separator: "\n")[0]
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
    #expect((object["features"] as? [Double])?.count == 64)
    #expect(object["user_id"] is String && object["label"] is Int)
  }

  @Test("flower-server refuses to resume a run folder that holds another run, naming what differs")
  func flowerServerRefusesAnotherRun() throws {
    let folder = Self.temporaryFolder("flower-resume")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let train = try BinaryRunner.run([
      "train", "--task", "digits", "--rounds", "2", "--run-dir", folder, "--format", "json",
    ])
    #expect(train.status == 0, "\(train.stderr)")
    let server = try BinaryRunner.run([
      "flower-server", "--nodes", "2", "--run-dir", folder, "--task", "digits", "--rounds", "3",
      "--cohort-size", "2",
    ])
    #expect(server.status == 1)
    #expect(server.stderr.hasPrefix("Error: "))
    #expect(server.stderr.contains("holds another run"))
    #expect(server.stderr.contains("rounds: 2 there, 3 here"))
    #expect(server.stderr.contains("population: 1000000 there, 2 here"))
    #expect(server.stdout.isEmpty, "nothing reaches the ServerApp's pipe")
  }
}
