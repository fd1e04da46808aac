import Accountants
import DPModel
import DPTestSupport
import Foundation
import Testing

@testable import DPFederated

/// Whole runs on digits: the run folder, the ledger audit, and resuming after a crash.
@Suite("TrainingRun", .serialized)
struct TrainingRunTests {
  static func configuration() -> FederatedConfiguration {
    var configuration = FederatedConfiguration.defaults
    configuration.rounds = 8
    configuration.accountant = .rdp
    configuration.seed = 21
    return configuration
  }

  /// A digits run (no assets needed).
  @discardableResult
  static func digits(
    configuration: FederatedConfiguration, folder: RunFolder, resume: Bool,
    progress: (TrainingRun.Progress) throws -> Void = { _ in }
  ) throws -> TrainingSummary {
    try TrainingRun.run(
      configuration: configuration, assets: TrainingRun.Assets(root: URL(fileURLWithPath: "/nonexistent")),
      folder: folder, resume: resume, progress: progress)
  }

  static func folder(_ name: String) throws -> RunFolder {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-\(name)-\(UUID())")
    return try RunFolder(creating: url)
  }

  @Test("a run writes its folder, and ledger.json re-accounts to the summary's ε")
  func runFolder() throws {
    let folder = try Self.folder("run")
    defer { try? FileManager.default.removeItem(at: folder.url) }
    let summary = try TrainingRunTests.digits(
      configuration: Self.configuration(), folder: folder, resume: false)
    #expect(summary.rounds == 8 && summary.stopReason == nil)
    #expect(summary.epsilon <= 2 && summary.epsilon > 1.5)
    #expect(
      summary.simulation && summary.simulatedPopulation == 1_000_000
        && summary.noiseCohortSize == 1_000)
    #expect(
      try folder.readConfiguration() == Self.configuration().resolvingNoiseSource(isSimulation: true))
    #expect(try folder.readMetrics().count == 8)
    let ledger = try #require(try folder.read(DPEvent.self, from: .ledger))
    var accountant = RDPAccountant()
    try accountant.compose(ledger)
    expectClose(try accountant.epsilon(delta: 1e-6), summary.epsilon, relative: 1e-12)
    #expect(summary.accuracyByRank?.count == 8)
  }

  @Test(
    "resuming after a crash between the ledger and the checkpoint gives the uninterrupted result")
  func resumeAfterCrash() throws {
    let configuration = Self.configuration()
    let whole = try Self.folder("whole")
    let crashed = try Self.folder("crashed")
    defer {
      try? FileManager.default.removeItem(at: whole.url)
      try? FileManager.default.removeItem(at: crashed.url)
    }
    let reference = try TrainingRunTests.digits(
      configuration: configuration, folder: whole, resume: false)
    // Stop after 3 rounds, then "crash" after recording round 4's ledger but before its
    // release and checkpoint.
    struct Stop: Error {}
    #expect(throws: Stop.self) {
      try TrainingRunTests.digits(configuration: configuration, folder: crashed, resume: false) {
        progress in
        if progress.round == 3 { throw Stop() }
      }
    }
    var builder = DPEventBuilder()
    let sampler = CohortSampler(
      clientCount: 100, cohortSize: 20, population: 1_000_000, noiseCohortSize: 1_000)
    builder.compose(
      sampler.event(noiseMultiplier: reference.noiseMultiplier), count: 4)
    try crashed.write(builder.build(), to: .ledger)
    let resumed = try TrainingRunTests.digits(
      configuration: configuration, folder: crashed, resume: true)
    #expect(resumed.rounds == reference.rounds)
    #expect(resumed.accuracyAfter == reference.accuracyAfter)
    #expect(
      try crashed.read(DPEvent.self, from: .ledger) == whole.read(DPEvent.self, from: .ledger))
    let adapter = { (folder: RunFolder) in
      try Safetensors.read(contentsOf: folder.url.appendingPathComponent("adapter.safetensors"))
        .tensors
    }
    #expect(try adapter(crashed) == adapter(whole))
    #expect(try crashed.readMetrics() == whole.readMetrics())
  }

  @Test(
    "secure noise: a run draws from the OS CSPRNG, resumes, and a round lost after its ledger write stays charged"
  )
  func secureNoiseResumes() throws {
    var configuration = Self.configuration()
    configuration.noiseSource = .secure
    let stopped = try Self.folder("secure-stopped")
    let crashed = try Self.folder("secure-crashed")
    let again = try Self.folder("secure-again")
    defer {
      for folder in [stopped, crashed, again] { try? FileManager.default.removeItem(at: folder.url) }
    }
    struct Stop: Error {}
    for folder in [stopped, crashed] {
      #expect(throws: Stop.self) {
        try TrainingRunTests.digits(configuration: configuration, folder: folder, resume: false) {
          if $0.round == 3 { throw Stop() }
        }
      }
    }
    // The crashed run recorded round 4's ledger, then died before releasing it.
    let sampler = CohortSampler(
      clientCount: 100, cohortSize: 20, population: 1_000_000, noiseCohortSize: 1_000)
    let round = try #require(try crashed.read(DPEvent.self, from: .ledger))
    guard case .selfComposed(let event, 3) = round else {
      Issue.record("ledger \(round)")
      return
    }
    try crashed.write(DPEvent.selfComposed(event, count: 4), to: .ledger)
    let resumedClean = try TrainingRunTests.digits(
      configuration: configuration, folder: stopped, resume: true)
    let resumedCrash = try TrainingRunTests.digits(
      configuration: configuration, folder: crashed, resume: true)
    #expect(resumedClean.rounds == 8 && resumedClean.stopReason == nil)
    #expect(try stopped.read(DPEvent.self, from: .ledger) == .selfComposed(event, count: 8))
    // σ was calibrated for 8 releases: with the lost round charged, the eighth is refused.
    #expect(resumedCrash.rounds == 7 && resumedCrash.stopReason != nil)
    #expect(try crashed.read(DPEvent.self, from: .ledger) == .selfComposed(event, count: 8))
    expectClose(resumedCrash.epsilon, resumedClean.epsilon, relative: 1e-12)
    #expect(resumedCrash.epsilon <= 2)
    #expect(event == sampler.event(noiseMultiplier: resumedClean.noiseMultiplier))
    // Two secure runs of one seed release different noise.
    let first = try Safetensors.read(
      contentsOf: stopped.url.appendingPathComponent("adapter.safetensors")).tensors
    _ = try TrainingRunTests.digits(configuration: configuration, folder: again, resume: false)
    let second = try Safetensors.read(
      contentsOf: again.url.appendingPathComponent("adapter.safetensors")).tensors
    #expect(first != second)
    #expect(resumedClean.assumptions.last == "noise source: secure")
  }

  @Test("a fixed-size run reports its RDP ε (replace-one neighbours) beside the accountant's")
  func fixedSizeReportsRDP() throws {
    var configuration = Self.configuration()
    configuration.sampling = .fixedSize
    configuration.accountant = .rdp
    let folder = try Self.folder("fixed-size")
    defer { try? FileManager.default.removeItem(at: folder.url) }
    let summary = try TrainingRunTests.digits(configuration: configuration, folder: folder, resume: false)
    let rdp = try #require(summary.rdpEpsilon)
    expectClose(rdp, summary.epsilon, relative: 1e-12)
  }

  @Test("a model no better than predicting the most common label is flagged with a hint")
  func majorityWarning() throws {
    let data = FileManager.default.temporaryDirectory.appendingPathComponent("dpfl-\(UUID()).jsonl")
    // Identical features: every prediction is one class, at best the majority.
    let lines = (0..<60).map { #"{"user_id": "u\#($0 % 12)", "features": [1, 1], "label": \#($0 % 3 == 0 ? 1 : 0)}"# }
    try lines.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
    let folder = try Self.folder("majority")
    defer {
      try? FileManager.default.removeItem(at: data)
      try? FileManager.default.removeItem(at: folder.url)
    }
    var configuration = Self.configuration()
    configuration.task = .jsonl
    configuration.data = data.path
    configuration.cohortSize = 4
    try configuration.validate()
    let summary = try TrainingRun.run(
      configuration: configuration, assets: TrainingRun.Assets(root: URL(fileURLWithPath: "/none")),
      folder: folder, resume: false)
    #expect(summary.accuracyAfter <= summary.majorityAccuracy)
    #expect(summary.warnings.count == 1)
    #expect(summary.warnings.first?.hasPrefix("the model is no better than predicting the most common label") == true)
    let digits = try Self.digits(configuration: Self.configuration(), folder: try Self.folder("digits"), resume: false)
    #expect(digits.warnings.isEmpty && digits.accuracyAfter > digits.majorityAccuracy)
  }
}

