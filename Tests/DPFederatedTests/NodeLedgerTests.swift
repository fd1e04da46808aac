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

  static func momentum(sigma: Double = 1, beta: Double = 0.9, p: Double = 1, rounds: Int = 1)
    -> DPEvent
  {
    .momentumGaussian(
      MomentumGaussian(
        noiseMultiplier: sigma, momentum: beta, recordProbability: p,
        participationProbability: 1, rounds: rounds))
  }

  @Test(
    "a momentum's rounds are one release: merged per β (rounds summed, smallest σ, largest p); other events, and releases of another β or sampled participation, stay"
  )
  func mergedMomentum() {
    let gaussian = DPEvent.gaussian(noiseMultiplier: 2)
    let sampled = DPEvent.momentumGaussian(
      MomentumGaussian(
        noiseMultiplier: 1, momentum: 0.9, recordProbability: 1,
        participationProbability: 0.5, rounds: 3))
    let events = [
      Self.momentum(sigma: 1.2, p: 0.5), gaussian, Self.momentum(beta: 0.5),
      Self.momentum(sigma: 1, p: 0.25, rounds: 2), sampled, Self.momentum(sigma: 1.5, p: 1),
    ]
    #expect(
      NodeLedger.merged(events) == [
        Self.momentum(sigma: 1, p: 1, rounds: 4), gaussian, Self.momentum(beta: 0.5), sampled,
      ])
    #expect(
      NodeLedger.unsampled(sampled) == Self.momentum(rounds: 3))
  }

  @Test(
    "a merged momentum is never below the composition of its parts, so merging separate momenta is sound"
  )
  func mergingIsConservative() throws {
    for (first, second) in [(1, 1), (3, 2), (5, 7)] {
      let separate = try PrivacyPlan.epsilon(
        of: .composed([Self.momentum(rounds: first), Self.momentum(rounds: second)]),
        delta: 1e-6, accountant: .pld)
      let merged = try PrivacyPlan.epsilon(
        of: .composed(
          NodeLedger.merged([Self.momentum(rounds: first), Self.momentum(rounds: second)])),
        delta: 1e-6, accountant: .pld)
      #expect(merged >= separate, "\(first) + \(second) rounds: \(merged) against \(separate)")
    }
  }

  @Test(
    "a DP-BREM node's rounds are charged as one momentum release: on disk as one event, below the per-round Gaussians"
  )
  func momentumRounds() throws {
    let url = Self.url()
    defer { try? FileManager.default.removeItem(at: url) }
    var ledger = try NodeLedger(url: url, epsilon: 100, delta: 1e-6)
    var reached = 0.0
    for _ in 0..<5 { reached = try #require(try ledger.authorize(Self.momentum())) }
    let reloaded = try NodeLedger(url: url, epsilon: 100, delta: 1e-6)
    #expect(reloaded.events == [Self.momentum(rounds: 5)])
    let whole = try PrivacyPlan.epsilon(of: Self.momentum(rounds: 5), delta: 1e-6, accountant: .pld)
    #expect(abs(reached - whole) <= 1e-9 * whole)
    let perRound = try Self.gaussianEpsilon(1, rounds: 5, delta: 1e-6)
    #expect(reached < perRound / 2, "\(reached) against \(perRound) per round")
  }

  @Test("a damaged ledger is refused, naming the file")
  func damaged() throws {
    let url = Self.url()
    defer { try? FileManager.default.removeItem(at: url) }
    try Data("not json".utf8).write(to: url)
    #expect(throws: FederatedError.self) { try NodeLedger(url: url, epsilon: 1, delta: 1e-6) }
  }
}
