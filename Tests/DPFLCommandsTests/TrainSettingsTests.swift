import DPFederated
import Foundation
import Testing

@testable import DPFLCommands

/// The TOML run config that `dpfl train --config` and `dpfl plan --config` share.
@Suite("TrainSettings")
struct TrainSettingsTests {
  static func write(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dpfl-\(UUID()).toml")
      .path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test("a TOML file sets the run; flags override it; defaults fill the rest")
  func fileAndFlags() throws {
    let path = try Self.write(
      """
      method = "ffa-lora"
      epsilon = 3.0
      rounds = 50
      population = 100_000
      noise_cohort_size = 500
      adaptive_clipping = true
      seed = 9
      """)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let command = try #require(
      try DPFL.parseAsRoot(["train", "--config", path, "--rounds", "70"]) as? TrainCommand)
    let configuration = try command.resolvedConfiguration()
    #expect(configuration.method == .ffaLoRA)
    #expect(configuration.targetEpsilon == 3)
    #expect(configuration.rounds == 70)
    #expect(configuration.population == 100_000 && configuration.noiseCohortSize == 500)
    #expect(configuration.adaptiveClipping == AdaptiveClipping())
    #expect(configuration.seed == 9)
    #expect(configuration.cohortSize == FederatedConfiguration().cohortSize)
  }

  @Test("unknown keys and wrong types are errors naming the file")
  func errors() throws {
    let unknown = try Self.write("epsilon = 2.0\nepsilom = 3.0\n")
    let mistyped = try Self.write("rounds = \"many\"\n")
    defer {
      try? FileManager.default.removeItem(atPath: unknown)
      try? FileManager.default.removeItem(atPath: mistyped)
    }
    #expect {
      try TrainSettings.read(unknown)
    } throws: { error in
      (error as? CLIError)?.message(.flag).hasPrefix(
        "\(unknown):2: unknown key \"epsilom\"; allowed")
        == true
    }
    #expect(throws: CLIError.self) { try TrainSettings.read(mistyped) }
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
}
