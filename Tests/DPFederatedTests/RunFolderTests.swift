import Accountants
import DPModel
import DPTestSupport
import Foundation
import Testing

@testable import DPFederated

/// A run folder is owned and checked: one run per folder, one process at a time, and a
/// resume refuses damage instead of continuing from it (issue 14).
@Suite("RunFolder", .serialized)
struct RunFolderTests {
  static func configuration() -> FederatedConfiguration {
    var configuration = TrainingRunTests.configuration()
    configuration.rounds = 4
    return configuration
  }

  static func url(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("dpfl-\(name)-\(UUID())")
  }

  /// A finished 4-round run's folder.
  static func finishedRun(_ name: String) throws -> URL {
    let url = url(name)
    _ = try TrainingRunTests.digits(
      configuration: configuration(), folder: try RunFolder(creating: url), resume: false)
    return url
  }

  static func expectRefused(_ url: URL, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation)
  {
    #expect(sourceLocation: sourceLocation) {
      let folder = try RunFolder(existing: url)
      _ = try TrainingRunTests.digits(configuration: configuration(), folder: folder, resume: true)
    } throws: { error in
      "\(error)".contains(fragment)
    }
  }

  @Test("a new run refuses a folder that holds a run, or anything else")
  func noReuse() throws {
    let finished = try Self.finishedRun("reuse")
    defer { try? FileManager.default.removeItem(at: finished) }
    #expect(throws: FederatedError.self) { try RunFolder(creating: finished) }
    let other = Self.url("other")
    try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
    try Data("x".utf8).write(to: other.appendingPathComponent("notes.txt"))
    defer { try? FileManager.default.removeItem(at: other) }
    #expect {
      try RunFolder(creating: other)
    } throws: { "\($0)".contains("is not empty") }
  }

  @Test("a run killed before it started (no config.json yet) leaves a folder a new run may take")
  func unstarted() throws {
    let url = Self.url("unstarted")
    defer { try? FileManager.default.removeItem(at: url) }
    do {
      let folder = try RunFolder(creating: url)
      try folder.write(DPEvent.noOp, to: .ledger)
      try folder.writeMetrics([])
    }
    #expect {
      try RunFolder(existing: url)
    } throws: { "\($0)".contains("no config.json") }
    _ = try TrainingRunTests.digits(
      configuration: Self.configuration(), folder: try RunFolder(creating: url), resume: false)
    #expect(throws: FederatedError.self) { try RunFolder(creating: url) }
  }

  @Test("a folder in use by a run is refused to a second one")
  func locked() throws {
    let url = Self.url("locked")
    defer { try? FileManager.default.removeItem(at: url) }
    let first = try RunFolder(creating: url)
    try first.write(Self.configuration().settings, to: .configuration)
    #expect {
      try RunFolder(existing: url)
    } throws: { "\($0)".contains("is in use by another dpfl process") }
    _ = first
  }

  @Test("an untouched folder resumes; the manifest names every file with its SHA-256")
  func manifest() throws {
    let url = try Self.finishedRun("manifest")
    defer { try? FileManager.default.removeItem(at: url) }
    let folder = try RunFolder(existing: url)
    let manifest = try folder.manifest()
    // audit.json and report.html exist only after `dpfl audit` and `dpfl report`.
    for file in RunFolder.File.allCases where ![.manifest, .audit, .report].contains(file) {
      let contents = try Data(contentsOf: folder.path(file))
      #expect(manifest.files[file.rawValue]?.sha256 == RunManifest.sha256(contents), "\(file)")
    }
  }

  @Test(
    "damage is refused, naming the file: a flipped bit, an edited seed, a missing history, an unlisted file",
    arguments: [
      ("checkpoint.json", "flip"), ("config.json", "seed"), ("metrics.jsonl", "delete"),
      ("ledger.json", "flip"), ("manifest.json", "delete"),
    ])
  func damage(file: String, damage: String) throws {
    let url = try Self.finishedRun("damage")
    defer { try? FileManager.default.removeItem(at: url) }
    let path = url.appendingPathComponent(file)
    switch damage {
    case "flip":
      var bytes = [UInt8](try Data(contentsOf: path))
      bytes[bytes.count / 2] ^= 0x04
      try Data(bytes).write(to: path)
    case "seed":
      let text = try String(contentsOf: path, encoding: .utf8)
      try text.replacingOccurrences(of: "\"seed\":21", with: "\"seed\":22").write(
        to: path, atomically: true, encoding: .utf8)
    default:
      try FileManager.default.removeItem(at: path)
    }
    Self.expectRefused(url, file)
  }

  @Test("a checkpoint that does not fit the model is refused before anything is restored")
  func checkpointValidation() throws {
    let url = try Self.finishedRun("checkpoint")
    defer { try? FileManager.default.removeItem(at: url) }
    let folder = try RunFolder(existing: url)
    let checkpoint = try #require(try folder.read(Checkpoint.self, from: .checkpoint))
    let configuration = Self.configuration()
    var trainables = checkpoint.trainables
    #expect(
      checkpoint.problem(
        trainables: trainables, optimizer: checkpoint.serverOptimizer,
        configuration: configuration) == nil)
    var bad = checkpoint
    bad.round = -1
    #expect(
      bad.problem(trainables: trainables, optimizer: bad.serverOptimizer, configuration: configuration)
        == "round -1 is outside 0...4")
    bad = checkpoint
    bad.clippingBound = .nan
    #expect(
      bad.problem(trainables: trainables, optimizer: bad.serverOptimizer, configuration: configuration)?
        .hasPrefix("clipping bound nan") == true)
    bad = checkpoint
    let name = trainables.names[0]
    var values = trainables[name]!
    values[0, 0] = .nan
    bad.trainables[name] = values
    #expect(
      bad.problem(trainables: trainables, optimizer: bad.serverOptimizer, configuration: configuration)
        == "\(name) holds a non-finite value")
    trainables.append("extra", Matrix(rows: 1, columns: 1))
    #expect(
      checkpoint.problem(
        trainables: trainables, optimizer: checkpoint.serverOptimizer,
        configuration: configuration) != nil)
  }

  @Test("a data file changed since the run started is refused on resume")
  func dataChanged() throws {
    let data = Self.url("data").appendingPathExtension("jsonl")
    let lines = (0..<40).map {
      #"{"user_id": "u\#($0 % 10)", "features": [\#($0 % 3), 1.5], "label": \#($0 % 2)}"#
    }
    try lines.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
    let url = Self.url("jsonl-run")
    defer {
      try? FileManager.default.removeItem(at: data)
      try? FileManager.default.removeItem(at: url)
    }
    var configuration = Self.configuration()
    configuration.task = .jsonl
    configuration.data = data.path
    configuration.cohortSize = 4
    try configuration.validate()
    let assets = TrainingRun.Assets(root: Self.url("no-assets"))
    _ = try TrainingRun.run(
      configuration: configuration, assets: assets, folder: try RunFolder(creating: url),
      resume: false)
    let manifest = try JSONDecoder().decode(
      RunManifest.self, from: Data(contentsOf: url.appendingPathComponent("manifest.json")))
    #expect(manifest.data.keys.sorted() == [data.standardizedFileURL.path])
    try (lines + [#"{"user_id": "u0", "features": [0, 0], "label": 1}"#]).joined(separator: "\n")
      .write(to: data, atomically: true, encoding: .utf8)
    #expect {
      try RunFolder(existing: url)
    } throws: { "\($0)".contains("changed since the run started") }
  }

  @Test("--public-data pre-trains on public examples and costs no privacy: the same ledger and ε")
  func publicData() throws {
    let data = Self.url("private").appendingPathExtension("jsonl")
    let shared = Self.url("public").appendingPathExtension("jsonl")
    let line = { (user: Int, index: Int) in
      #"{"user_id": "u\#(user)", "features": [\#(index % 3), \#(Double(index % 5) / 2)], "label": \#(index % 3 == 0 ? 1 : 0)}"#
    }
    try (0..<60).map { line($0 % 12, $0) }.joined(separator: "\n")
      .write(to: data, atomically: true, encoding: .utf8)
    try (0..<30).map { line(0, $0) }.joined(separator: "\n")
      .write(to: shared, atomically: true, encoding: .utf8)
    defer {
      for file in [data, shared] { try? FileManager.default.removeItem(at: file) }
    }
    var configuration = Self.configuration()
    configuration.task = .jsonl
    configuration.data = data.path
    configuration.cohortSize = 4
    configuration.accountant = .rdp
    var withPublic = configuration
    withPublic.publicData = shared.path
    var summaries: [TrainingSummary] = []
    var ledgers: [DPEvent] = []
    for run in [configuration, withPublic] {
      var run = run
      try run.validate()
      let url = Self.url("public-run")
      defer { try? FileManager.default.removeItem(at: url) }
      let folder = try RunFolder(creating: url)
      summaries.append(
        try TrainingRun.run(
          configuration: run, assets: TrainingRun.Assets(root: Self.url("none")), folder: folder,
          resume: false))
      ledgers.append(try #require(try folder.read(DPEvent.self, from: .ledger)))
    }
    #expect(ledgers[0] == ledgers[1])
    #expect(summaries[0].epsilon == summaries[1].epsilon)
    #expect(summaries[0].accuracyBefore != summaries[1].accuracyBefore)
  }

  @Test("a round whose updates are not finite stops the run before its release (exit 1)")
  func divergence() throws {
    var configuration = Self.configuration()
    configuration.method = .dpLoRA
    configuration.localLearningRate = 1e38
    configuration.privacy = false
    configuration.epsilon = nil
    let url = Self.url("diverged")
    defer { try? FileManager.default.removeItem(at: url) }
    #expect {
      _ = try TrainingRunTests.digits(
        configuration: configuration, folder: try RunFolder(creating: url), resume: false)
    } throws: { error in
      guard case FederatedError.numerical(let reason) = error else { return false }
      return reason.contains("is not finite; nothing was released")
    }
    let checkpoint = try JSONDecoder().decode(
      Checkpoint.self, from: Data(contentsOf: url.appendingPathComponent("checkpoint.json")))
    let finite = checkpoint.trainables.flattened().allSatisfy { $0.isFinite }
    #expect(finite)
  }
}
