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

  static func folder(_ name: String) throws -> RunFolder {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-\(name)-\(UUID())")
    return try RunFolder(creating: url)
  }

  @Test("a run writes its folder, and ledger.json re-accounts to the summary's ε")
  func runFolder() throws {
    let folder = try Self.folder("run")
    defer { try? FileManager.default.removeItem(at: folder.url) }
    let summary = try TrainingRun.digits(
      configuration: Self.configuration(), folder: folder, resume: false)
    #expect(summary.rounds == 8 && summary.stopReason == nil)
    #expect(summary.epsilon <= 2 && summary.epsilon > 1.5)
    #expect(
      summary.simulation && summary.simulatedPopulation == 1_000_000
        && summary.noiseCohortSize == 1_000)
    #expect(try folder.readConfiguration() == Self.configuration())
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
    let reference = try TrainingRun.digits(
      configuration: configuration, folder: whole, resume: false)
    // Stop after 3 rounds, then "crash" after recording round 4's ledger but before its
    // release and checkpoint.
    struct Stop: Error {}
    #expect(throws: Stop.self) {
      try TrainingRun.digits(configuration: configuration, folder: crashed, resume: false) {
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
    let resumed = try TrainingRun.digits(
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
}
