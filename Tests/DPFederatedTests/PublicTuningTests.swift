import Foundation
import Testing

@testable import DPFederated

/// `--tune-on-public K`: the server learning rate searched on the public split, at no
/// privacy cost.
@Suite("Tuning on the public split")
struct PublicTuningTests {
  @Test("K candidates log-spaced from a tenth to ten times the rate")
  func candidates() {
    let three = PublicTuning.candidates(around: 0.003, count: 3)
    #expect(three.count == 3)
    for (value, expected) in zip(three, [0.0003, 0.003, 0.03]) {
      #expect(abs(value / expected - 1) < 1e-12)
    }
    let five = PublicTuning.candidates(around: 1, count: 5)
    #expect(
      zip(five, [0.1, 0.316_227_766, 1, 3.162_277_66, 10]).allSatisfy { abs($0 / $1 - 1) < 1e-8 })
  }

  @Test("the public split is cut into pseudo-clients of 16, every fifth held out to score")
  func pseudoClients() throws {
    let digits = try DigitsTask.load(DigitsTask.Configuration(seed: 3))
    let tuning = PublicTuning.dataset(digits)
    let publicCount = digits.publicSplit.examples.count
    let chunks = (publicCount + 15) / 16
    #expect(tuning.clients.count + chunks / 5 == chunks)
    #expect(tuning.clients.allSatisfy { $0.examples.count <= 16 })
    #expect(
      tuning.clients.reduce(0) { $0 + $1.examples.count } + tuning.evaluation.examples.count
        == publicCount)
    #expect(tuning.clients[0].examples == Array(digits.publicSplit.examples.prefix(16)))
    #expect(tuning.evaluation.examples.prefix(16) == digits.publicSplit.examples[64..<80])
    #expect(tuning.publicSplit.examples.isEmpty)
  }

  @Test(
    "a tuned run has the ledger, ε and model of a run given the chosen rate; config.json records it"
  )
  func costsNoPrivacy() throws {
    var configuration = TrainingRunTests.configuration()
    configuration.rounds = 4
    configuration.tuneOnPublic = 3
    let tunedURL = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-tuned-\(UUID())")
    let plainURL = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-plain-\(UUID())")
    defer {
      try? FileManager.default.removeItem(at: tunedURL)
      try? FileManager.default.removeItem(at: plainURL)
    }
    var scores: [(Double, Double)] = []
    let tuned = try TrainingRun.run(
      configuration: configuration,
      assets: TrainingRun.Assets(root: URL(fileURLWithPath: "/nonexistent")),
      folder: try RunFolder(creating: tunedURL), resume: false, tuning: { scores.append(($0, $1)) })
    #expect(scores.count == 3)
    #expect(Set(scores.map(\.1)).count > 1, "the candidates should score differently")
    let best = scores.max { $0.1 < $1.1 }!
    let recorded = try RunFolder(existing: tunedURL).readConfiguration()
    #expect(recorded.tuneOnPublic == nil)
    #expect(recorded.serverLearningRate == best.0)
    #expect(tuned.assumptions.contains { $0.contains("chosen on the public split") })

    var plain = configuration
    plain.tuneOnPublic = nil
    plain.serverLearningRate = best.0
    let direct = try TrainingRunTests.digits(
      configuration: plain, folder: try RunFolder(creating: plainURL), resume: false)
    #expect(tuned.epsilon == direct.epsilon)
    #expect(tuned.accuracyAfter == direct.accuracyAfter)
    for file in ["ledger.json", "adapter.safetensors"] {
      #expect(
        try Data(contentsOf: tunedURL.appendingPathComponent(file))
          == Data(contentsOf: plainURL.appendingPathComponent(file)), "\(file)")
    }
  }

  @Test("a value outside 2...20, or a task without a public split, is refused")
  func refused() throws {
    for value in ["1", "21"] {
      #expect(throws: (any Error).self) {
        try FederatedConfiguration.parse(["--tune-on-public", value])
      }
    }
    let data = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-tuning-\(UUID()).jsonl")
    defer { try? FileManager.default.removeItem(at: data) }
    try (0..<40).map {
      #"{"user_id": "u\#($0 % 10)", "features": [\#($0 % 3), 1.5], "label": \#($0 % 2)}"#
    }.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
    let configuration = try FederatedConfiguration.parse([
      "--task", "jsonl", "--data", data.path, "--tune-on-public", "3", "--rounds", "2",
    ])
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dpfl-t-\(UUID())")
    defer { try? FileManager.default.removeItem(at: url) }
    #expect {
      try TrainingRun.run(
        configuration: configuration,
        assets: TrainingRun.Assets(root: URL(fileURLWithPath: "/nonexistent")),
        folder: try RunFolder(creating: url), resume: false)
    } throws: { "\($0)".contains("--tune-on-public") && "\($0)".contains("public split") }
  }
}
