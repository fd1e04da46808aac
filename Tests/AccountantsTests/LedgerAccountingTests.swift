import Accountants
import DPTestSupport
import Foundation
import Testing

@Suite("LedgerAccounting")
struct AuditTests {
  private static let ledger = DPEvent.composed([
    .selfComposed(.poissonSampled(probability: 0.01, .gaussian(noiseMultiplier: 1.1)), count: 1000),
    .selfComposed(.poissonSampled(probability: 0.02, .gaussian(noiseMultiplier: 1.5)), count: 500),
  ])

  @Test("each finding equals composing the ledger into that accountant directly")
  func findingsMatchAccountants() throws {
    let findings = LedgerAccounting.epsilon(ledger: Self.ledger, delta: 1e-5)
    #expect(findings.map(\.method) == [.rdp, .moments, .certified, .pld])
    var rdp = RDPAccountant()
    try rdp.compose(Self.ledger)
    var moments = MomentsAccountant()
    try moments.compose(Self.ledger)
    #expect(try findings[0].finding.get().bound == rdp.epsilonBound(delta: 1e-5))
    #expect(try findings[1].finding.get().bound == moments.epsilonBound(delta: 1e-5))
    var certified = CertifiedRDPAccountant.standard
    try certified.compose(Self.ledger)
    #expect(try findings[2].finding.get().bound == certified.epsilonBound(delta: 1e-5))
    var pld = PLDAccountant()
    try pld.compose(Self.ledger)
    #expect(try findings[3].finding.get().pld == pld.epsilonBound(delta: 1e-5))
    #expect(try findings[3].finding.get().bound.value < findings[0].finding.get().bound.value)
    let deltas = LedgerAccounting.delta(ledger: Self.ledger, epsilon: 2, methods: [.rdp])
    #expect(try deltas[0].finding.get().bound == rdp.deltaBound(epsilon: 2))
  }

  @Test(
    "a privacy profile composes once and equals one ε query per δ, for every accountant and relation",
    arguments: [AccountantKind.rdp, .moments, .certified, .pld])
  func profileMatchesSingleQueries(method: AccountantKind) throws {
    let replaceOne = DPEvent.selfComposed(
      .sampledWithoutReplacement(
        sourceSize: 1_000, sampleSize: 10, .gaussian(noiseMultiplier: 1.2)), count: 50)
    let deltas = [1e-10, 1e-6, 1e-3]
    for ledger in [Self.ledger, replaceOne] {
      let single = deltas.map {
        try? LedgerAccounting.epsilon(ledger: ledger, delta: $0, methods: [method])[0].finding.get()
          .bound.value
      }
      let profile = try? LedgerAccounting.epsilons(ledger: ledger, deltas: deltas, method: method)
      // Accountants that cannot take a ledger (PLD and certified: sampling without
      // replacement) refuse it both ways.
      #expect(profile == (single.contains(nil) ? nil : single.map { $0! }), "\(method)")
    }
  }

  @Test("a ledger read back from JSON audits to the same ε as the run that wrote it")
  func jsonRoundTrip() throws {
    var builder = DPEventBuilder()
    for round in 0..<300 {
      builder.compose(
        .poissonSampled(probability: round < 200 ? 0.01 : 0.02, .gaussian(noiseMultiplier: 1.2)))
    }
    let decoded = try JSONDecoder().decode(
      DPEvent.self, from: JSONEncoder().encode(builder.build()))
    var live = RDPAccountant()
    for round in 0..<300 {
      try live.compose(
        .poissonSampled(probability: round < 200 ? 0.01 : 0.02, .gaussian(noiseMultiplier: 1.2)))
    }
    let audited = try LedgerAccounting.epsilon(ledger: decoded, delta: 1e-6, methods: [.rdp])[0].finding.get()
    expectClose(audited.bound.value, try live.epsilon(delta: 1e-6), relative: 1e-12)
  }

  @Test(
    "the neighbouring relation is read off the ledger, and an accountant that cannot follow reports why"
  )
  func relations() throws {
    let fixedSize = DPEvent.selfComposed(
      .sampledWithoutReplacement(sourceSize: 1000, sampleSize: 10, .gaussian(noiseMultiplier: 1)),
      count: 10)
    #expect(LedgerAccounting.neighboringRelation(of: fixedSize) == .replaceOne)
    #expect(LedgerAccounting.neighboringRelation(of: .composed([Self.ledger, fixedSize])) == .replaceOne)
    #expect(LedgerAccounting.neighboringRelation(of: Self.ledger) == .addOrRemoveOne)
    let findings = LedgerAccounting.epsilon(ledger: fixedSize, delta: 1e-5)
    #expect(try findings[0].finding.get().neighboringRelation == .replaceOne)
    for rejecting in findings.dropFirst() {
      guard case .failure(.cannotCompose(let failure)) = rejecting.finding else {
        Issue.record("\(rejecting.method) must reject sampling without replacement")
        continue
      }
      #expect(failure.event == fixedSize.selfComposedInner)
    }
  }
}

extension DPEvent {
  fileprivate var selfComposedInner: DPEvent? {
    if case .selfComposed(let inner, _) = self { return inner }
    return nil
  }
}
