import Accountants
import DPTestSupport
import PropertyBased
import Testing

@Suite("Calibration")
struct CalibrationTests {
  private static func run(_ q: Double, _ steps: Int) -> (Double) -> DPEvent {
    { .selfComposed(.poissonSampled(probability: q, .gaussian(noiseMultiplier: $0)), count: steps) }
  }

  private static func epsilon(_ event: DPEvent, delta: Double) throws -> Double {
    var accountant = RDPAccountant()
    try accountant.compose(event)
    return try accountant.epsilon(delta: delta)
  }

  @Test("round trip: ε(σ*) ≤ target < ε(σ*/(1 + 2·tol))")
  func noiseMultiplierRoundTrip() async {
    await propertyCheck(count: 25, input: Gen.uint64(in: 0...UInt64.max)) { seed in
      var generator = SeededGenerator(seed: seed)
      let q = generator.logUniform(1e-4, 0.5)
      let steps = Int(generator.logUniform(10, 1e5))
      let target = try PrivacyBudget(
        epsilon: generator.logUniform(0.3, 10), delta: generator.logUniform(1e-10, 1e-3))
      let make = Self.run(q, steps)
      let sigma = try Calibration.noiseMultiplier(
        target: target, accountant: { RDPAccountant() }, event: make)
      let label = "seed \(seed): q=\(q) T=\(steps) target=\(target)"
      #expect(try Self.epsilon(make(sigma), delta: target.delta) <= target.epsilon, "\(label)")
      #expect(
        try Self.epsilon(make(sigma / (1 + 2e-6)), delta: target.delta) > target.epsilon, "\(label)"
      )
    }
  }

  @Test(
    "PLD (coarse-grid warm start): ε(σ*) ≤ target < ε(σ*/(1 + 2·tol)) with the automatic accountant",
    arguments: [(1e-3, 2_000, 2.0, 1e-6), (0.02, 300, 1.0, 1e-8), (0.2, 50, 8.0, 1e-5)])
  func pldNoiseMultiplierRoundTrip(q: Double, steps: Int, epsilon: Double, delta: Double) throws {
    let target = try PrivacyBudget(epsilon: epsilon, delta: delta)
    let make = Self.run(q, steps)
    let sigma = try Calibration.noiseMultiplier(
      target: target, accountant: { PLDAccountant() }, event: make)
    func pld(_ sigma: Double) throws -> Double {
      var accountant = PLDAccountant()
      try accountant.compose(make(sigma))
      return try accountant.epsilon(delta: delta)
    }
    #expect(try pld(sigma) <= epsilon)
    #expect(try pld(sigma / (1 + 2e-6)) > epsilon)
  }

  @Test("PLD: a trial whose grid would be too large counts as missing the target (ε = 30)")
  func pldTooLargeTrialIsInfeasible() throws {
    let target = try PrivacyBudget(epsilon: 30, delta: 1e-6)
    let make = { (sigma: Double) in
      DPEvent.selfComposed(
        .participationSampled(
          probability: 2.0 / 3, .poissonSampled(probability: 1, .gaussian(noiseMultiplier: sigma))),
        count: 3)
    }
    func pld(_ sigma: Double) throws(AccountingError) -> Double {
      var accountant = PLDAccountant()
      try accountant.compose(make(sigma))
      return try accountant.epsilon(delta: target.delta)
    }
    // A grid for noise this small would exceed the PLD's limits (the loss spans about 1/σ²).
    #expect(throws: AccountingError.self) { try pld(0.005) }
    let sigma = try Calibration.noiseMultiplier(
      target: target, accountant: { PLDAccountant() }, event: make)
    #expect(try pld(sigma) <= 30)
    // Tight, or the next smaller trial could not be evaluated (then conservative).
    do {
      #expect(try pld(sigma / (1 + 2e-6)) > 30)
    } catch .resourceLimitExceeded {}
  }

  @Test("the largest count meets the target and one more step does not")
  func countIsExact() throws {
    let target = try PrivacyBudget(epsilon: 2, delta: 1e-6)
    let event = { (n: Int) in
      DPEvent.selfComposed(
        .poissonSampled(probability: 1e-3, .gaussian(noiseMultiplier: 0.9)), count: n)
    }
    let steps = try Calibration.count(target: target, accountant: { RDPAccountant() }, event: event)
    #expect(try Self.epsilon(event(steps), delta: 1e-6) <= 2)
    #expect(try Self.epsilon(event(steps + 1), delta: 1e-6) > 2)
  }

  @Test("the largest sampling probability meets the target within the tolerance")
  func samplingProbability() throws {
    let target = try PrivacyBudget(epsilon: 1, delta: 1e-5)
    let event = { (q: Double) in
      DPEvent.selfComposed(
        .poissonSampled(probability: q, .gaussian(noiseMultiplier: 1.2)), count: 1000)
    }
    let q = try Calibration.samplingProbability(
      target: target, accountant: { RDPAccountant() }, event: event)
    #expect(try Self.epsilon(event(q), delta: 1e-5) <= 1)
    #expect(try Self.epsilon(event(q * (1 + 2e-6)), delta: 1e-5) > 1)
    // A generous budget allows sampling everything.
    let loose = try PrivacyBudget(epsilon: 1e4, delta: 1e-5)
    #expect(
      try Calibration.samplingProbability(
        target: loose, accountant: { RDPAccountant() }, event: event) == 1)
  }

  @Test("unreachable targets and invalid budgets are typed errors")
  func errors() throws {
    #expect(
      throws: AccountingError.invalidArgument(
        name: "epsilon", value: 0, requirement: "be finite and > 0")
    ) {
      try PrivacyBudget(epsilon: 0, delta: 1e-5)
    }
    #expect(
      throws: AccountingError.invalidArgument(name: "delta", value: 1, requirement: "be in (0, 1)")
    ) {
      try PrivacyBudget(epsilon: 1, delta: 1)
    }
    // A non-private release can never meet a finite ε, whatever the noise.
    let target = try PrivacyBudget(epsilon: 1, delta: 1e-5)
    #expect {
      try Calibration.noiseMultiplier(target: target, accountant: { RDPAccountant() }) { _ in
        .nonPrivate
      }
    } throws: { error in
      guard case AccountingError.noBracketFound = error else { return false }
      return true
    }
    #expect {
      try Calibration.count(target: target, accountant: { RDPAccountant() }) { _ in
        .gaussian(noiseMultiplier: 0.1)
      }
    } throws: { error in
      guard case AccountingError.noBracketFound = error else { return false }
      return true
    }
  }
}
