import Accountants
import DPTestSupport
import PropertyBased
import Testing

@Suite("DPEventBuilder")
struct DPEventBuilderTests {
  private let a = DPEvent.poissonSampled(probability: 0.01, .gaussian(noiseMultiplier: 1))
  private let b = DPEvent.poissonSampled(probability: 0.02, .gaussian(noiseMultiplier: 1))

  @Test("an empty ledger is noOp, one event is itself")
  func smallLedgers() {
    var builder = DPEventBuilder()
    #expect(builder.build() == .noOp)
    builder.compose(a)
    #expect(builder.build() == a)
  }

  @Test("equal neighbours merge into selfComposed, different ones do not")
  func runLength() {
    var builder = DPEventBuilder()
    builder.compose(a)
    builder.compose(a, count: 4)
    builder.compose(b)
    builder.compose(a, count: 2)
    #expect(
      builder.build() == .composed([.selfComposed(a, count: 5), b, .selfComposed(a, count: 2)]))
  }

  @Test("the accountant's ledger is the run-length form of what it composed")
  func accountantLedger() throws {
    var accountant = RDPAccountant()
    for _ in 0..<100 { try accountant.compose(a) }
    try accountant.compose(b, count: 3)
    #expect(
      accountant.ledger == .composed([.selfComposed(a, count: 100), .selfComposed(b, count: 3)]))
  }

  @Test("composing the ledger equals composing the events one by one")
  func ledgerReaccounts() async {
    await propertyCheck(count: 60, input: Gen.uint64(in: 0...UInt64.max)) { seed in
      var generator = SeededGenerator(seed: seed)
      let pool = (0..<3).map { _ in RandomEvents.sampledGaussian(using: &generator) }
      var oneByOne = RDPAccountant()
      for _ in 0..<Int.random(in: 1...30, using: &generator) {
        try oneByOne.compose(pool[Int.random(in: 0..<pool.count, using: &generator)])
      }
      var replay = RDPAccountant()
      try replay.compose(oneByOne.ledger)
      for (x, y) in zip(replay.rdp, oneByOne.rdp) {
        expectClose(x, y, relative: 1e-12, absolute: 1e-300, "seed \(seed)")
      }
      expectClose(
        try replay.epsilon(delta: 1e-6), try oneByOne.epsilon(delta: 1e-6), relative: 1e-12,
        "seed \(seed)")
    }
  }
}
