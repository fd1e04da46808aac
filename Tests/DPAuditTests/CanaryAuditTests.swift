import DPFederated
import DPModel
import DPTestSupport
import Foundation
import Testing

@testable import DPAudit

/// Whole audited runs on digits: an honest mechanism stays below its accountant's ε, and a
/// broken one is caught.
@Suite("CanaryAudit", .serialized)
struct CanaryAuditTests {
  /// Digits with no simulation (100 clients, 20 per round, q = 0.2), 20 rounds at ε = 2.
  static func configuration() -> FederatedConfiguration {
    var configuration = FederatedConfiguration.defaults
    configuration.method = .dpLoRA
    configuration.rounds = 20
    configuration.cohortSize = 20
    configuration.population = 100
    configuration.noiseCohortSize = 20
    configuration.noiseSource = .seeded
    configuration.seed = 5
    return configuration
  }

  /// A mechanism whose clients send 10 times what they were clipped to: the noise is 10
  /// times too small for what the ledger claims (a skipped clip).
  struct Amplified<Model: ClassificationModel>: FederatedBackend where Model.Scalar == Float {
    let inner: any FederatedBackend<Model>
    func runClients(
      _ context: RoundContext, global: Model, authorization: ReleaseAuthorization
    ) throws -> [ClientResult] {
      try inner.runClients(context, global: global, authorization: authorization).map {
        var result = $0
        if case .update(var update) = result.message.payload {
          update.add(update, scaledBy: 9)
          result.message.payload = .update(update)
        }
        return result
      }
    }
  }

  /// The audit with its backend amplified.
  final class BrokenAudit: RunInstrument {
    let audit: CanaryAudit
    init(_ audit: CanaryAudit) { self.audit = audit }
    func backend<Model, Example>(for trainer: FederatedTrainer<Model, Example>) throws
      -> any FederatedBackend<Model>
    {
      Amplified(inner: try audit.backend(for: trainer))
    }
    var notes: [String] { audit.notes }
    func finish(
      initial: ParameterSet<Float>, final: ParameterSet<Float>, summary: TrainingSummary,
      folder: RunFolder
    ) throws {
      try audit.finish(initial: initial, final: final, summary: summary, folder: folder)
    }
  }

  /// Example level on the same clients: DP-SGD inside each client at ε = 8.
  static func exampleConfiguration() -> FederatedConfiguration {
    var configuration = Self.configuration()
    configuration.privacyUnit = .example
    configuration.epsilon = 8
    return configuration
  }

  static func audited(
    _ instrument: any RunInstrument, configuration: FederatedConfiguration = Self.configuration()
  ) throws -> TrainingSummary {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dpfl-audit-\(UUID())")
    defer { try? FileManager.default.removeItem(at: url) }
    let folder = try RunFolder(creating: url)
    let summary = try TrainingRun.run(
      configuration: configuration,
      assets: TrainingRun.Assets(root: URL(fileURLWithPath: "/nonexistent")),
      folder: folder, resume: false, instrument: instrument)
    let written = try #require(try folder.read(AuditResult.self, from: .audit))
    #expect(written.accountantEpsilon == summary.epsilon)
    return summary
  }

  @Test("an honest run: the estimate and the lower bound stay below the accountant's ε")
  func honest() throws {
    let audit = CanaryAudit(canaryCount: 1_000, seed: 9)
    let summary = try Self.audited(audit)
    let result = try #require(audit.result)
    #expect(summary.assumptions.contains { $0.hasPrefix("audit run:") })
    #expect(result.accountantEpsilon <= 2 && result.accountantEpsilon > 1.9)
    #expect(result.estimate.epsilon < result.accountantEpsilon)
    #expect(result.lowerBound < result.accountantEpsilon)
    // About half the canaries are inserted, each joining about qT = 4 rounds.
    #expect(abs(result.insertedCanaries - 500) < 60)
    expectClose(result.meanParticipations, 4, relative: 0.1)
  }

  @Test(
    "a mechanism with 10× too little noise: the estimate, and even the 95 % lower bound, exceed the accountant's ε"
  )
  func broken() throws {
    let audit = CanaryAudit(canaryCount: 1_000, seed: 9)
    _ = try Self.audited(BrokenAudit(audit))
    let result = try #require(audit.result)
    #expect(result.estimate.epsilon > 3 * result.accountantEpsilon)
    #expect(result.lowerBound > result.accountantEpsilon)
  }

  @Test("example level, honest: the estimate and the lower bound stay below the accountant's ε")
  func exampleLevelHonest() throws {
    let audit = CanaryAudit(canaryCount: 1_000, seed: 9)
    _ = try Self.audited(audit, configuration: Self.exampleConfiguration())
    let result = try #require(audit.result)
    #expect(result.privacyUnit == "example" && result.accountantEpsilon <= 8)
    #expect(result.estimate.epsilon < result.accountantEpsilon)
    #expect(result.lowerBound < result.accountantEpsilon)
  }

  @Test(
    "example level, a skipped clip (canary gradients at 10 C): the estimate exceeds ε, and every guess of the lower bound is right"
  )
  func exampleLevelBroken() throws {
    let audit = CanaryAudit(canaryCount: 1_000, seed: 9)
    audit.clipFactor = 10
    _ = try Self.audited(audit, configuration: Self.exampleConfiguration())
    let result = try #require(audit.result)
    #expect(result.threatModel == .clientUpdates)
    #expect(result.estimate.epsilon > 3 * result.accountantEpsilon)
    // With 1,000 canaries a one-run bound cannot pass about 4, far below ε = 8; it can
    // still see that nothing is hidden.
    #expect(result.correctGuesses == result.guesses && result.guesses >= 100)
  }

  @Test(
    "example level with the server's noise: scored on the final model; honest stays below ε, a skipped clip exceeds it",
    arguments: [1.0, 10])
  func exampleLevelServerNoise(clipFactor: Double) throws {
    var configuration = Self.exampleConfiguration()
    configuration.exampleNoise = .server
    let audit = CanaryAudit(canaryCount: 1_000, seed: 9)
    audit.clipFactor = clipFactor
    _ = try Self.audited(audit, configuration: configuration)
    let result = try #require(audit.result)
    #expect(result.threatModel == .finalModel)
    // One step per round: each inserted canary joins about qT·min(1, B/n) steps.
    #expect(result.meanParticipations > 0 && result.meanParticipations <= 4.4)
    if clipFactor == 1 {
      #expect(result.estimate.epsilon < result.accountantEpsilon)
      #expect(result.lowerBound < result.accountantEpsilon)
    } else {
      // The final model carries the other clients' training too, so the view is weaker than
      // the client updates' (13.6 here against more than 24 there); it still exceeds ε.
      #expect(result.estimate.epsilon > 1.5 * result.accountantEpsilon)
    }
  }
}
