import DPFederated
import Foundation
import Testing

@testable import DPFLCommands

/// The TOML run config that `dpfl train --config` and `dpfl plan --config` share, and the
/// settings bridge behind it and `config.json`.
@Suite("RunConfigFile")
struct RunConfigFileTests {
  static func write(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dpfl-\(UUID()).toml")
      .path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test("a TOML file sets the run; flags after it override it; defaults fill the rest")
  func fileAndFlags() throws {
    let path = try Self.write(
      """
      method = "ffa-lora"
      epsilon = 3
      rounds = 50
      population = 100_000
      noise_cohort_size = 500
      adaptive_clipping = true
      seed = 9
      """)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let arguments = try RunConfigFile.expand(["train", "--config", path, "--rounds", "70"])
    let command = try #require(try DPFL.parseAsRoot(arguments) as? TrainCommand)
    let configuration = command.options
    #expect(configuration.method == .ffaLoRA)
    #expect(configuration.targetEpsilon == 3)
    #expect(configuration.rounds == 70)
    #expect(configuration.population == 100_000 && configuration.noiseCohortSize == 500)
    #expect(configuration.adaptive == AdaptiveClipping())
    #expect(configuration.seed == 9)
    #expect(configuration.cohortSize == FederatedConfiguration.defaults.cohortSize)
    #expect(try RunConfigFile.configuration(path, overriddenBy: ["--rounds", "70"]) == configuration)
  }

  @Test("unknown keys, wrong types and invalid values are errors naming the file and the key")
  func errors() throws {
    let unknown = try Self.write("epsilon = 2.0\nepsilom = 3.0\n")
    let mistyped = try Self.write("rounds = \"many\"\n")
    let invalid = try Self.write("rounds = 0\n")
    let table = try Self.write("[training]\nrounds = 5\n")
    defer {
      for path in [unknown, mistyped, invalid, table] { try? FileManager.default.removeItem(atPath: path) }
    }
    #expect {
      try RunConfigFile.settings(unknown)
    } throws: { error in
      (error as? CLIError)?.message(.flag).hasPrefix(
        "\(unknown):2: unknown key \"epsilom\"; allowed keys are accountant, adaptive_clipping") == true
    }
    #expect {
      try RunConfigFile.configuration(mistyped)
    } throws: { error in
      (error as? CLIError)?.message(.flag)
        == "\(mistyped):1: rounds must be an integer; got the string \"many\"."
    }
    #expect {
      try RunConfigFile.configuration(invalid)
    } throws: { error in
      (error as? CLIError)?.message(.flag) == "\(invalid): --rounds must be an integer ≥ 1; got 0."
    }
    #expect(throws: CLIError.self) { try RunConfigFile.settings(table) }
  }

  @Test("config.json's settings give back the same configuration, defaults resolved")
  func settingsRoundTrip() throws {
    let configuration = try FederatedConfiguration.parse([
      "--method", "dp-rec", "--rec-adapter", "fed-sb", "--seed", "18446744073709551615",
      "--delta", "1e-07", "--task", "jsonl", "--data", "x.jsonl",
    ])
    #expect(configuration.sampling == .fixedSize && configuration.accountant == .rdp)
    var unprivate = configuration
    unprivate.privacy = false
    #expect(
      unprivate.problems.map(\.description) == [
        "--epsilon must be omitted with --no-privacy; got 2.0.",
        "--no-privacy must be omitted: DP-REC codes the privacy noise; got with --method dp-rec.",
      ])
    let data = try JSONEncoder().encode(configuration.settings)
    let settings = try JSONDecoder().decode([String: SettingValue].self, from: data)
    #expect(try FederatedConfiguration(settings: settings) == configuration)
    #expect(settings["seed"] == .unsigned(.max) && settings["delta"] == .number(1e-7))
  }

  @Test("plan --config and train --config give the same σ")
  func planAgreesWithTrain() throws {
    let path = try Self.write(
      "epsilon = 3.0\nrounds = 50\npopulation = 100_000\nnoise_cohort_size = 500\naccountant = \"rdp\"\n"
    )
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-plan-train-\(UUID())"
    ).path
    defer {
      try? FileManager.default.removeItem(atPath: path)
      try? FileManager.default.removeItem(atPath: folder)
    }
    let plan = try BinaryRunner.json(
      try BinaryRunner.run(["plan", "--config", path, "--format", "json"]))
    let train = try BinaryRunner.json(
      try BinaryRunner.run(["train", "--config", path, "--run-dir", folder, "--format", "json"]))
    let planned = try #require(plan["noise_multiplier"] as? Double)
    #expect(train["noise_multiplier"] as? Double == planned)
  }

  @Test(
    "plan --config of a JSON Lines run without rounds plans the rounds its data gives, as train runs"
  )
  func planDerivesJSONLRounds() throws {
    // 12 users with 2 lines each, 2 of them held out: 10 clients, cohort 2, 50 rounds.
    let data = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-plan-jsonl-\(UUID()).jsonl"
    ).path
    try (0..<24).map {
      #"{"user_id": \#($0 % 12), "features": [\#($0 % 3), 1], "label": \#($0 % 2)}"#
    }.joined(separator: "\n").write(toFile: data, atomically: true, encoding: .utf8)
    let path = try Self.write(
      "task = \"jsonl\"\ndata = \"\(data)\"\nepsilon = 3.0\naccountant = \"rdp\"\n")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-plan-train-jsonl-\(UUID())"
    ).path
    defer {
      for file in [data, path, folder] { try? FileManager.default.removeItem(atPath: file) }
    }
    let query = try PlanCommand.query(from: RunConfigFile.configuration(path), path: path)
    #expect(query.rounds == 50)
    let plan = try BinaryRunner.json(
      try BinaryRunner.run(["plan", "--config", path, "--format", "json"]))
    let train = try BinaryRunner.json(
      try BinaryRunner.run(["train", "--config", path, "--run-dir", folder, "--format", "json"]))
    #expect(plan["steps"] as? Int == 50 && train["planned_rounds"] as? Int == 50)
    let planned = try #require(plan["noise_multiplier"] as? Double)
    #expect(train["noise_multiplier"] as? Double == planned)
    let missing = try Self.write("task = \"jsonl\"\ndata = \"\(data).missing\"\n")
    defer { try? FileManager.default.removeItem(atPath: missing) }
    let refused = try BinaryRunner.run(["plan", "--config", missing])
    #expect(refused.status == 65)
    #expect(refused.stderr.hasPrefix("Error: \(data).missing:0: the file cannot be opened"))
  }

  @Test("plan --config refuses a discrete-noise run in one line (train calibrates it by RDP)")
  func planRefusesDiscrete() throws {
    let path = try Self.write("noise_distribution = \"discrete\"\n")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let plan = try BinaryRunner.run(["plan", "--config", path])
    #expect(plan.status == 65)
    #expect(plan.stderr.contains("noise_distribution is discrete"))
  }
}
