import DPTestSupport
import RealModule
import Testing

@testable import Accountants

/// ``CertifiedRDPAccountant``: the accountant contract; ε and δ never below their exact
/// (50-digit) values on the integer grid and at most a few ulps above; agreement with the
/// Double accountant and dp_accounting within their own float64 error; log A_α against
/// 40-digit quadrature.
@Suite("CertifiedRDPAccountant")
struct CertifiedRDPAccountantTests {
  static let fixture = Golden.required(RDPFixture.self, "rdp_poisson.json", in: .module)

  private static func sampled(_ q: Double, _ sigma: Double) -> DPEvent {
    .poissonSampled(probability: q, .gaussian(noiseMultiplier: sigma))
  }

  private static func certified(_ event: DPEvent, orders: RDPOrders = .integer) throws
    -> CertifiedRDPAccountant
  {
    var accountant = try CertifiedRDPAccountant(orders: orders)
    try accountant.compose(event)
    return accountant
  }

  private static func double(_ event: DPEvent) throws -> RDPAccountant {
    var accountant = RDPAccountant(orders: .integer)
    try accountant.compose(event)
    return accountant
  }

  private static func event(_ item: RDPFixture.Case) throws -> DPEvent {
    .selfComposed(sampled(try #require(item.samplingRate), item.noiseMultiplier), count: item.steps)
  }

  @Test("keeps the accountant contract (conformance)")
  func conformance() throws {
    let fresh = try CertifiedRDPAccountant()
    try checkAccountantConformance(
      { fresh }, unsupported: .laplace(noiseMultiplier: 1), supported: Self.sampled(0.01, 1.1))
    try checkAccountantConformance(
      { fresh },
      unsupported: .sampledWithoutReplacement(
        sourceSize: 100, sampleSize: 10, .gaussian(noiseMultiplier: 1)),
      supported: .composed([.gaussian(noiseMultiplier: 3), Self.sampled(0.2, 2)]))
  }

  /// A Double `value` bounding `exact` (a real number rounded to nearest in the fixture)
  /// from above to within `ulps` units in the last place. Rounding the real number up
  /// never gives less than rounding it to nearest, so `value ≥ exact` is a sound check.
  private static func expectUpperBound(
    _ value: Double, of exact: Double, ulps: Double = 4, _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(
      value >= exact, "\(label): \(value) is below the exact \(exact)",
      sourceLocation: sourceLocation)
    #expect(
      value <= exact + ulps * exact.ulp,
      "\(label): \(value) is more than \(ulps) ulps above the exact \(exact)",
      sourceLocation: sourceLocation)
  }

  /// Every case of `rdp_poisson.json` (330; about 1 s in a debug build), against
  /// - the exact value (50 digits, `rdp_poisson_exact.json`): never below, ≤ 4 ulps above;
  /// - the Double ``RDPAccountant`` and dp_accounting on the same grid, within 1e-9 or the
  ///   case's own `rtol`. Where A_α = 1 + tiny and T is large, both float64 accountants
  ///   are off the exact value by more than 1e-12 (up to 8.7e-8 relative, random-229; the
  ///   fixture's per-case `rtol` is that budget), so the certified value may lie below
  ///   theirs by that much: there they are the inaccurate ones.
  @Test(
    "ε on the golden cases: ≥ the exact value, ≤ 4 ulps above it, within 1e-9 of the float64 accountants"
  )
  func golden() throws {
    let exact = Golden.required(ExactPoissonFixture.self, "rdp_poisson_exact.json", in: .module)
    #expect(exact.grid == RDPOrders.integer.values)
    let exactByName = Dictionary(uniqueKeysWithValues: exact.cases.map { ($0.name, $0) })
    for item in Self.fixture.cases {
      let event = try Self.event(item)
      let certified = try Self.certified(event).epsilonBound(delta: item.delta)
      let reference = try Self.double(event).epsilonBound(delta: item.delta)
      let label =
        "\(item.name): q=\(item.samplingRate ?? .nan) σ=\(item.noiseMultiplier) T=\(item.steps)"
      let truth = try #require(exactByName[item.name], "\(item.name) has no exact value")
      Self.expectUpperBound(certified.value, of: truth.epsilonInteger, label)
      let tolerance = max(
        1e-9 * reference.value, Self.fixture.tolerance(item, value: reference.value))
      expectClose(
        certified.value, reference.value, relative: 0, absolute: tolerance,
        "\(label) (RDPAccountant)")
      let expected = item.dpAccounting.epsilonInteger
      let dpAccountingTolerance = Self.fixture.tolerance(item, value: expected)
      expectClose(
        certified.value, expected, relative: 0, absolute: dpAccountingTolerance,
        "\(label) (dp_accounting)")
      if certified.value > 0, reference.value > 0, certified.optimalOrder != reference.optimalOrder
      {
        // A different order can only win by a tie within the float64 accountant's error.
        expectClose(
          certified.value, reference.value, relative: 0, absolute: tolerance, "\(label): order tie")
      }
    }
  }

  /// Every case of `rdp_poisson.json` at the case's target ε, against the exact value
  /// (never below, ≤ 8 ulps above: log δ is multiplied by α − 1 before the exponential)
  /// and the Double accountant (within the fixture's δ tolerance).
  @Test(
    "δ(ε) on the golden cases: an upper bound of the exact value, and close to the Double accountant"
  )
  func goldenDelta() throws {
    let exact = Golden.required(ExactPoissonFixture.self, "rdp_poisson_exact.json", in: .module)
    for (item, truth) in zip(Self.fixture.cases, exact.cases) {
      try #require(item.name == truth.name)
      let event = try Self.event(item)
      let certified = try Self.certified(event).delta(epsilon: item.targetEpsilon)
      let reference = try Self.double(event).delta(epsilon: item.targetEpsilon)
      let label = "\(item.name): δ(\(item.targetEpsilon))"
      Self.expectUpperBound(certified, of: truth.deltaInteger, ulps: 8, label)
      let tolerance = Self.fixture.deltaTolerance(item, value: reference)
      expectClose(certified, reference, relative: 0, absolute: tolerance, label)
    }
  }

  @Test("log A_α at integer orders is ≥ the 40-digit quadrature and within 1e-12 of it")
  func logAAgainstQuadrature() throws {
    let golden = try Golden.load(QuadratureFixture.self, "log_a_mpmath.json", in: .module)
    var compared = 0
    for item in golden.cases where item.order.rounded() == item.order {
      let logA = CertifiedSubsampledGaussian.logAUpperBound(
        probability: item.samplingRate, noiseMultiplier: item.noiseMultiplier,
        order: Int(item.order))
      let label = "q=\(item.samplingRate) σ=\(item.noiseMultiplier) α=\(item.order)"
      // The fixture is the quadrature rounded to nearest; a Double rounded up from a
      // bound of the exact value is never below that.
      #expect(logA >= item.logA, "\(label): \(logA) < \(item.logA)")
      expectClose(logA, item.logA, relative: 1e-12, label)
      compared += 1
    }
    #expect(compared == 36)
  }

  @Test("q = 1 gives the Gaussian α/(2σ²), rounded up; q = 0 gives 0; σ = 0 gives ∞")
  func edges() throws {
    let exact = try Self.certified(.selfComposed(Self.sampled(1, 2), count: 3))
    #expect(exact.rdp == RDPOrders.integer.values.map { 3 * $0 / 8 })
    let plain = try Self.certified(.gaussian(noiseMultiplier: 1.3))
    #expect(try Self.certified(Self.sampled(1, 1.3)).rdp == plain.rdp)
    for (order, value) in zip(RDPOrders.integer.values, plain.rdp) {
      let expected = order / (2 * 1.3 * 1.3)
      #expect(
        value >= expected.nextDown && value <= expected.nextUp,
        "α = \(order): \(value) vs \(expected)")
    }
    let none = try Self.certified(.selfComposed(Self.sampled(0, 0), count: 1000))
    #expect(none.rdp.allSatisfy { $0 == 0 })
    #expect(try none.epsilon(delta: 1e-5) == 0)
    #expect(try none.delta(epsilon: 0) == 0)
    #expect(try Self.certified(Self.sampled(0.01, 0)).epsilon(delta: 1e-5) == .infinity)
    #expect(try Self.certified(.gaussian(noiseMultiplier: 0)).delta(epsilon: 10) == 1)
    #expect(try Self.certified(.selfComposed(.nonPrivate, count: 0)).epsilon(delta: 1e-5) == 0)
  }

  /// The float64 accountant forms A_α in log space and loses about 1e-16/q relative of
  /// A_α − 1: 1e-10 at σ = 1, 4e-8 at σ = 5 (its R(2) is 4.0810775847e-9 against the
  /// exact 4.0810774192e-9), so the reference here is the closed form, not RDPAccountant.
  @Test("q = 1e-6 (A_α = 1 + 1e-12) stays tight: R(2) and R(3) equal their closed forms to 1e-14")
  func tinySamplingRate() throws {
    let q = 1e-6
    let steps = 100_000.0
    for sigma in [0.6, 1, 5] {
      let rdp = try Self.certified(.selfComposed(Self.sampled(q, sigma), count: Int(steps))).rdp
      // A_α − 1 = Σ_{k≥2} C(α,k) (1−q)^{α−k} q^k expm1(k(k−1)/(2σ²)): all terms positive.
      let s = 1 / (sigma * sigma)
      let order2 = steps * Double.log(onePlus: q * q * Double.expMinusOne(s))
      let excess3 =
        3 * q * q * (1 - q) * Double.expMinusOne(s) + q * q * q * Double.expMinusOne(3 * s)
      let order3 = steps * Double.log(onePlus: excess3) / 2
      expectClose(rdp[0], order2, relative: 1e-14, "σ=\(sigma) α=2")
      expectClose(rdp[1], order3, relative: 1e-14, "σ=\(sigma) α=3")
    }
  }

  @Test("nested Gaussians on one sample act as σ = (Σσᵢ⁻²)^(−1/2), here exactly σ = 1")
  func effectiveNoiseMultiplier() throws {
    // 4 × 2⁻² = 1: the same inverse variance, bit for bit.
    let nested = DPEvent.poissonSampled(
      probability: 0.02,
      .composed([
        .gaussian(noiseMultiplier: 2), .selfComposed(.gaussian(noiseMultiplier: 2), count: 3),
      ]))
    #expect(try Self.certified(nested).rdp == Self.certified(Self.sampled(0.02, 1)).rdp)
  }

  @Test("counts are exact beyond Int: 2⁴⁰ × 2³⁰ steps cost 2⁷⁰ × one step")
  func hugeCounts() throws {
    let step = Self.sampled(0.01, 2)
    let orders = try RDPOrders([2, 32])
    let one = try Self.certified(step, orders: orders).rdp
    let many = try Self.certified(
      .selfComposed(.selfComposed(step, count: 1 << 40), count: 1 << 30), orders: orders
    ).rdp
    for (value, single) in zip(many, one) { expectClose(value, single * 0x1p70, relative: 1e-15) }
  }

  @Test("a grid with a fractional order is rejected")
  func fractionalGrid() throws {
    let expected = AccountingError.invalidArgument(
      name: "RDP order", value: 2.5, requirement: "be an integer for the certified accountant")
    #expect(throws: expected) {
      _ = try CertifiedRDPAccountant(orders: try RDPOrders([2, 2.5, 3]))
    }
    #expect(throws: AccountingError.self) {
      _ = try CertifiedRDPAccountant(orders: .dpAccountingDefault)
    }
    #expect(try CertifiedRDPAccountant().orders == .integer)
  }

  @Test("Laplace and sampling without replacement are rejected, naming the innermost sub-event")
  func unsupported() throws {
    let accountant = try CertifiedRDPAccountant()
    let laplace = DPEvent.laplace(noiseMultiplier: 1)
    let failure = accountant.check(
      .composed([Self.sampled(0.1, 1), .selfComposed(laplace, count: 2)]))
    #expect(failure?.event == laplace)
    #expect(
      failure?.reason
        == "the certified RDP accountant does not support Laplace yet: use RDPAccountant for it.")
    let sampledLaplace = DPEvent.poissonSampled(
      probability: 0.1, .composed([.gaussian(noiseMultiplier: 1), laplace]))
    #expect(accountant.check(sampledLaplace)?.event == laplace)
    let wor = DPEvent.sampledWithoutReplacement(
      sourceSize: 10, sampleSize: 2, .gaussian(noiseMultiplier: 1))
    #expect(accountant.check(wor)?.event == wor)
    #expect(accountant.check(.poissonSampled(probability: 0.1, .nonPrivate))?.event == .nonPrivate)
    #expect(accountant.neighboringRelation == .addOrRemoveOne)
  }
}
