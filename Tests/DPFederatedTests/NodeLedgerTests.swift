import Accountants
import Foundation
import Testing

@testable import DPFederated

/// A Flower node's own books: composed without amplification, written before a reply,
/// fail-closed at the node's budget.
@Suite("Node ledger")
struct NodeLedgerTests {
  static func url() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("dpfl-node-ledger-\(UUID()).json")
  }

  static func gaussianEpsilon(_ sigma: Double, rounds: Int, delta: Double) throws -> Double {
    let event = DPEvent.selfComposed(.gaussian(noiseMultiplier: sigma), count: rounds)
    return try #require(
      try? LedgerAccounting.epsilon(ledger: event, delta: delta, methods: [.pld])[0].finding.get()
    ).bound.value
  }

  @Test(
    "the cohort sampling is removed from a round's event, wherever it is nested; a node's own local sampling stays"
  )
  func unsampled() {
    let gaussian = DPEvent.gaussian(noiseMultiplier: 2)
    let localDPSGD = DPEvent.selfComposed(.poissonSampled(probability: 0.25, gaussian), count: 4)
    #expect(
      NodeLedger.unsampled(.participationSampled(probability: 0.01, localDPSGD)) == localDPSGD)
    #expect(NodeLedger.unsampled(.poissonSampled(probability: 0.01, gaussian)) == gaussian)
    #expect(
      NodeLedger.unsampled(.selfComposed(.poissonSampled(probability: 0.1, gaussian), count: 3))
        == .selfComposed(gaussian, count: 3))
    #expect(
      NodeLedger.unsampled(
        .composed([.sampledWithoutReplacement(sourceSize: 10, sampleSize: 2, gaussian), .noOp]))
        == .composed([gaussian, .noOp]))
  }

  @Test("rounds are recorded on disk until the next would exceed the budget, then refused")
  func budget() throws {
    let url = Self.url()
    defer { try? FileManager.default.removeItem(at: url) }
    let sigma = 2.0
    let two = try Self.gaussianEpsilon(sigma, rounds: 2, delta: 1e-6)
    let three = try Self.gaussianEpsilon(sigma, rounds: 3, delta: 1e-6)
    var ledger = try NodeLedger(url: url, epsilon: (two + three) / 2, delta: 1e-6)
    let round = DPEvent.gaussian(noiseMultiplier: sigma)
    let first = try #require(try ledger.authorize(round))
    let second = try #require(try ledger.authorize(round))
    #expect(abs(second - two) <= 1e-9 * two && first < second)
    let onDisk = try Data(contentsOf: url)
    #expect(try ledger.authorize(round) == nil)
    #expect(try Data(contentsOf: url) == onDisk)
    let reloaded = try NodeLedger(url: url, epsilon: 100, delta: 1e-6)
    #expect(reloaded.events == [round, round])
    #expect(abs(try reloaded.epsilon(adding: round) - three) <= 1e-9 * three)
  }

  @Test("the node's bound is never below the server's ledger for the same rounds")
  func neverBelowServer() throws {
    for q in [0.05, 0.5, 1.0] {
      let sigma = 1.5
      let server = try #require(
        try? LedgerAccounting.epsilon(
          ledger: .selfComposed(
            .poissonSampled(probability: q, .gaussian(noiseMultiplier: sigma)), count: 10),
          delta: 1e-6, methods: [.pld])[0].finding.get()
      ).bound.value
      let node = try Self.gaussianEpsilon(sigma, rounds: 10, delta: 1e-6)
      #expect(node >= server * (1 - 1e-9), "q = \(q): node \(node), server \(server)")
    }
  }

  @Test("a damaged ledger is refused, naming the file")
  func damaged() throws {
    let url = Self.url()
    defer { try? FileManager.default.removeItem(at: url) }
    try Data("not json".utf8).write(to: url)
    #expect(throws: FederatedError.self) { try NodeLedger(url: url, epsilon: 1, delta: 1e-6) }
  }
}
