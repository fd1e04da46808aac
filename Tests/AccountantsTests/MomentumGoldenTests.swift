import Accountants
import DPTestSupport
import Foundation
import Testing

/// `momentum.json` (Scripts/crosscheck/golden_momentum.py): the dominating mixture of a
/// momentum release computed from its definition in mpmath, every inclusion pattern
/// enumerated.
struct MomentumFixture: Decodable, Sendable {
  struct Case: Decodable, Sendable, CustomTestStringConvertible {
    var name: String
    var noiseMultiplier: Double
    var momentum: Double
    var recordProbability: Double
    var participationProbability: Double
    var rounds: Int
    var orders: [Double]
    var rdp: [Double]
    var epsilons: [Double]
    var deltas: [Double]
    var delta: Double
    var epsilon: Double

    var testDescription: String { name }

    var event: DPEvent {
      .momentumGaussian(
        MomentumGaussian(
          noiseMultiplier: noiseMultiplier, momentum: momentum,
          recordProbability: recordProbability,
          participationProbability: participationProbability, rounds: rounds))
    }
  }

  var cases: [Case]
}

@Suite("MomentumGaussian against the exact mixture (mpmath)")
struct MomentumGoldenTests {
  static let fixture = Golden.required(MomentumFixture.self, "momentum.json", in: .module)

  @Test("The fixture covers the text and digits testbeds and record sampling")
  func coverage() {
    let cases = Self.fixture.cases
    #expect(cases.count >= 10)
    #expect(cases.contains { $0.recordProbability == 1 && $0.participationProbability < 0.01 })
    #expect(cases.filter { $0.recordProbability < 1 }.count >= 3)
  }

  @Test(
    "RDP per order is never below the exact mixture's; equal to 1e-9 with every record in every sample, within 0.5 % with record sampling (the grid rounds c up; 0.2 % measured)",
    arguments: fixture.cases)
  func rdpPerOrder(item: MomentumFixture.Case) throws {
    var accountant = RDPAccountant(orders: try RDPOrders(item.orders))
    try accountant.compose(item.event)
    for (order, (value, exact)) in zip(item.orders, zip(accountant.rdp, item.rdp)) {
      let context = Comment(rawValue: "\(item.name), order \(order): \(value) against \(exact)")
      #expect(value >= exact * (1 - 1e-12) - 1e-15, context)
      let tolerance = item.recordProbability == 1 ? 1e-9 : 0.005
      #expect(value <= exact * (1 + tolerance) + 1e-12, context)
    }
  }

  @Test(
    "PLD's δ(ε) and ε(δ) are never below the exact mixture's; within 1 % of them with every record in every sample",
    arguments: fixture.cases)
  func pld(item: MomentumFixture.Case) throws {
    var accountant = PLDAccountant(discretization: .fixed(1e-3))
    try accountant.compose(item.event)
    let exact = item.recordProbability == 1
    for (epsilon, reference) in zip(item.epsilons, item.deltas) {
      let delta = try accountant.delta(epsilon: epsilon)
      let context = Comment(rawValue: "\(item.name), ε \(epsilon): δ \(delta) against \(reference)")
      #expect(delta >= reference * (1 - 1e-9), context)
      if exact { #expect(delta <= reference * 1.01 + 1e-12, context) }
    }
    let epsilon = try accountant.epsilon(delta: item.delta)
    let context = Comment(rawValue: "\(item.name): ε \(epsilon) against \(item.epsilon)")
    #expect(epsilon >= item.epsilon * (1 - 1e-9), context)
    if exact { #expect(epsilon <= item.epsilon * 1.01, context) }
  }

  @Test("RDP's ε(δ) is never below the exact mixture's", arguments: fixture.cases)
  func rdpEpsilon(item: MomentumFixture.Case) throws {
    var accountant = RDPAccountant()
    try accountant.compose(item.event)
    let epsilon = try accountant.epsilon(delta: item.delta)
    #expect(epsilon >= item.epsilon, "\(item.name): ε \(epsilon) against \(item.epsilon)")
  }
}
