import DPModel
import Foundation
import Testing

/// Seeded `dpfl train` runs of every method on `digits`, pinned by the SHA-256 of their
/// `ledger.json` and `adapter.safetensors` and by their summary's accuracy and ε
/// (`Fixtures/golden-runs.json`). A refactor of the federated code must reproduce them bit
/// for bit; a deliberate change of output re-records them
/// (`DPFL_RECORD_GOLDEN=1 Scripts/test --filter GoldenRunTests`)
/// and says why in the CHANGELOG.
///
/// Floating point in OpenBLAS depends on the kernels it picks for the CPU, so the digests
/// are compared exactly only on a CPU of the kind they were recorded on, running the same
/// OpenBLAS kernel set (the fixture names both); elsewhere the test checks ε to 1e-9 (the accounting uses no BLAS, but FFTW's
/// kernels also depend on the CPU) and the accuracy within one evaluation example.
@Suite("Golden runs: seeded digits runs of every method", .serialized)
struct GoldenRunTests {
  /// One pinned run: its flags (besides `--run-dir` and `--format json`) and its outputs.
  struct Run: Codable, Equatable {
    var name: String
    var arguments: [String]
    var ledgerSHA256: String
    var adapterSHA256: String
    var accuracyAfter: Double
    var epsilon: Double?

    enum CodingKeys: String, CodingKey {
      case name, arguments, ledgerSHA256 = "ledger_sha256", adapterSHA256 = "adapter_sha256"
      case accuracyAfter = "accuracy_after", epsilon
    }
  }

  /// The fixture: the CPU and OpenBLAS kernel set the digests were recorded on, and the runs.
  struct Fixture: Codable {
    var cpu: String
    var openBLASCore: String?
    var runs: [Run]

    enum CodingKeys: String, CodingKey {
      case cpu, openBLASCore = "openblas_core", runs
    }
  }

  /// The pinned configurations: every method and privacy mode the trainer has.
  /// The pinned configurations: every method and privacy mode the trainer has. RDP
  /// calibration keeps them quick in debug builds; the default run pins PLD.
  static let configurations: [(name: String, arguments: [String])] = [
    ("dp-dylora-pld", ["--accountant", "pld"]),
    ("dp-dylora-frozen", ["--frozen"]),
    ("dp-lora", ["--method", "dp-lora"]),
    ("ffa-lora", ["--method", "ffa-lora"]),
    ("fed-sb", ["--method", "fed-sb"]),
    ("head-only", ["--method", "head-only"]),
    ("full", ["--method", "full"]),
    ("example-level", ["--method", "dp-lora", "--privacy-unit", "example", "--epsilon", "8"]),
    ("fixed-size", ["--method", "dp-lora", "--sampling", "fixed-size"]),
    ("dp-rec", ["--method", "dp-rec", "--rounds", "3"]),
    ("dp-rec-fed-sb", ["--method", "dp-rec", "--rec-adapter", "fed-sb", "--rounds", "3"]),
    ("adaptive-clipping", ["--method", "dp-lora", "--adaptive-clipping"]),
    ("no-privacy", ["--method", "dp-lora", "--no-privacy"]),
    ("given-sigma", ["--method", "dp-lora", "--noise-multiplier", "0.8", "--epsilon", "50"]),
    (
      "server-adam",
      [
        "--method", "dp-lora", "--server-optimizer", "adam", "--server-learning-rate", "0.01",
        "--local-epochs", "2",
      ]
    ),
  ]

  /// The flags every golden run shares (a run's own flags come after them and win).
  static let common = [
    "train", "--rounds", "8", "--seed", "3", "--accountant", "rdp", "--format", "json",
  ]

  static var fixtureURL: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/golden-runs.json")
  }

  /// The CPU model, as /proc/cpuinfo names it.
  static var cpu: String { OpenBLASKernel.cpuInfo("model name") ?? "unknown" }

  static func sha256(_ path: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [path]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(String(decoding: data, as: UTF8.self).prefix(64))
  }

  /// Runs one configuration and reads back what it pins.
  static func run(_ name: String, _ arguments: [String]) throws -> Run {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("dpfl-golden-\(name)-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let output = try BinaryRunner.run(common + arguments + ["--run-dir", folder])
    try #require(output.status == 0, "\(name): \(output.stderr)")
    let summary = try BinaryRunner.json(output)
    return Run(
      name: name, arguments: arguments,
      ledgerSHA256: try sha256(folder + "/ledger.json"),
      adapterSHA256: try sha256(folder + "/adapter.safetensors"),
      accuracyAfter: try #require(summary["accuracy_after"] as? Double),
      epsilon: summary["epsilon"] as? Double)
  }

  @Test("every pinned run reproduces its ledger, adapter, accuracy and ε")
  func reproduces() throws {
    if ProcessInfo.processInfo.environment["DPFL_RECORD_GOLDEN"] == "1" {
      let runs = try Self.configurations.map { try Self.run($0.name, $0.arguments) }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      try encoder.encode(
        Fixture(cpu: Self.cpu, openBLASCore: OpenBLASKernel.executableCoreName, runs: runs)
      ).write(to: Self.fixtureURL)
      return
    }
    let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: Self.fixtureURL))
    #expect(fixture.runs.map(\.name) == Self.configurations.map(\.name))
    let sameCPU =
      fixture.cpu == Self.cpu && fixture.openBLASCore == OpenBLASKernel.executableCoreName
    for pinned in fixture.runs {
      let run = try Self.run(pinned.name, pinned.arguments)
      if sameCPU {
        #expect(run.epsilon == pinned.epsilon, "\(pinned.name): ε")
        #expect(run.ledgerSHA256 == pinned.ledgerSHA256, "\(pinned.name): ledger.json")
        #expect(run.adapterSHA256 == pinned.adapterSHA256, "\(pinned.name): adapter")
        #expect(run.accuracyAfter == pinned.accuracyAfter, "\(pinned.name): accuracy")
      } else {
        let (found, expected) = (run.epsilon ?? 0, pinned.epsilon ?? 0)
        #expect(abs(found - expected) <= 1e-9 * expected, "\(pinned.name): ε")
        // 360 evaluation examples: one example is 1/360 of accuracy.
        #expect(abs(run.accuracyAfter - pinned.accuracyAfter) <= 1.5 / 360, "\(pinned.name)")
      }
    }
  }
}
