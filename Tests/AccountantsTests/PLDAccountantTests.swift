import Accountants
import DPTestSupport
import Foundation
import Testing

extension Tag {
  /// Tests too slow for every run; enabled with DPFL_SLOW_TESTS=1.
  @Tag static var slow: Self
}

@Suite("PLDAccountant")
struct PLDAccountantTests {
  static let fixture = Golden.required(PLDFixture.self, "pld.json", in: .module)

  private static func sampled(_ q: Double, _ sigma: Double) -> DPEvent {
    .poissonSampled(probability: q, .gaussian(noiseMultiplier: sigma))
  }

  /// Golden cases a debug build accounts in a few seconds in all (44 cases): at most 3,000
  /// steps, σ ≥ 1 and q ≤ 0.05 (large per-step losses make wide grids). 11 of them have
  /// δ < 1e-10 (down to 1e-12), where the composition is tilted so that FFT round-off stays
  /// far below δ. Every case runs with `DPFL_SLOW_TESTS=1`.
  static let fastCases = fixture.cases.filter {
    $0.steps <= 3_000 && $0.noiseMultiplier >= 1 && $0.samplingRate <= 0.05
  }

  @Test(
    "golden cases: never below the exact ε or prv's lower bound, within 0.5 % of dp_accounting's finest, below RDP"
  )
  func golden() throws {
    #expect(Self.fastCases.count >= 40)
    #expect(Self.fastCases.filter { $0.delta < 1e-10 }.count >= 10)
    try Self.check(Self.fastCases)
  }

  @Test(
    "every golden case, δ down to 1e-12 (DPFL_SLOW_TESTS=1)", .tags(.slow),
    .enabled(if: ProcessInfo.processInfo.environment["DPFL_SLOW_TESTS"] != nil))
  func goldenAll() throws {
    try Self.check(Self.fixture.cases)
  }

  /// Issue 3: below δ = 1e-10 these came out 1.7–5.5 % above dp_accounting's finest value
  /// (clamping the FFT's zero-mean round-off to ≥ 0 added about 1e-12 to δ). dp_accounting
  /// did not converge on them either (its unclamped round-off goes both ways), so the value
  /// must also lie in prv_accountant's [lower, upper] bracket (ε error 1 % of ε).
  @Test(
    "tiny δ (issue 3): within 0.5 % of dp_accounting and inside prv's bracket (DPFL_SLOW_TESTS=1)",
    .tags(.slow), .enabled(if: ProcessInfo.processInfo.environment["DPFL_SLOW_TESTS"] != nil),
    arguments: ["random-025", "random-054", "random-068"])
  func tinyDelta(name: String) throws {
    let item = try #require(Self.fixture.cases.first { $0.name == name })
    #expect(item.delta < 1e-10)
    var accountant = PLDAccountant()
    try accountant.compose(Self.sampled(item.samplingRate, item.noiseMultiplier), count: item.steps)
    let epsilon = try accountant.epsilon(delta: item.delta)
    let reference = item.dpAccounting.epsilon
    #expect(abs(epsilon - reference) <= 5e-3 * reference, "\(name): \(epsilon) vs \(reference)")
    let lower = try #require(item.prvAccountant.lower)
    let upper = try #require(item.prvAccountant.upper)
    #expect(epsilon >= lower && epsilon <= upper, "\(name): \(epsilon) ∉ [\(lower), \(upper)]")
  }

  /// Checks every case. All of them fit the grid bound: the 2 with ε in the thousands
  /// start from a coarser interval (2e-4 and 4e-4).
  private static func check(_ cases: [PLDFixture.Case]) throws {
    for item in cases {
      var accountant = PLDAccountant()
      try accountant.compose(
        Self.sampled(item.samplingRate, item.noiseMultiplier), count: item.steps)
      let epsilon = try accountant.epsilon(delta: item.delta)
      if let exact = item.exact?.epsilon {
        #expect(epsilon >= exact * (1 - 1e-9) - 1e-12, "\(item.name): \(epsilon) < exact \(exact)")
      }
      if let lower = item.prvAccountant.lower {
        #expect(epsilon >= lower - 1e-6, "\(item.name): \(epsilon) < prv lower \(lower)")
      }
      let reference = item.dpAccounting.epsilon
      #expect(
        abs(epsilon - reference) <= 5e-3 * reference + 1e-9,
        "\(item.name): \(epsilon) vs dp_accounting \(reference) (h = \(item.dpAccounting.discretization))"
      )
      #expect(
        epsilon <= item.rdpEpsilon * (1 + 1e-9) + 1e-12,
        "\(item.name): PLD \(epsilon) > RDP \(item.rdpEpsilon)")
    }
  }

  @Test("spec values: q = 0.01, σ = 1.1, 10⁴ steps gives 5.1926; the federated default 0.2522")
  func specValues() throws {
    var accountant = PLDAccountant()
    try accountant.compose(Self.sampled(0.01, 1.1), count: 10_000)
    let bound = try accountant.epsilonBound(delta: 1e-5)
    expectClose(bound.value, 5.192620, relative: 1e-4)
    #expect(bound.value == bound.remove)
    #expect(bound.add < bound.remove)
    var federated = PLDAccountant()
    try federated.compose(Self.sampled(1e-3, 1), count: 2000)
    expectClose(try federated.epsilon(delta: 1e-6), 0.2522, relative: 1e-3)
  }

  @Test(
    "δ(ε(δ)) = δ on one grid, at δ = 1e-6 and at δ = 1e-12 (tilted), for one release and for two",
    arguments: [1e-6, 1e-12])
  func deltaInvertsEpsilon(delta: Double) throws {
    var single = PLDAccountant(discretization: .fixed(5e-5))
    try single.compose(Self.sampled(1e-3, 1), count: 2000)
    var mixed = single
    try mixed.compose(Self.sampled(4e-3, 1.5), count: 300)
    for accountant in [single, mixed] {
      let epsilon = try accountant.epsilon(delta: delta)
      // The two queries tilt differently, so they agree to their round-off margins only.
      expectClose(try accountant.delta(epsilon: epsilon), delta, relative: 1e-4)
    }
    let alone = try single.epsilon(delta: delta)
    let both = try mixed.epsilon(delta: delta)
    #expect(both > alone)
    var rdp = RDPAccountant()
    try rdp.compose(mixed.ledger)
    #expect(both < (try rdp.epsilon(delta: delta)))
  }

  @Test("unsampled Gaussians compose exactly (μ = √Σσ⁻²) and match the analytic Gaussian")
  func exactGaussians() throws {
    var accountant = PLDAccountant()
    try accountant.compose(.gaussian(noiseMultiplier: 2), count: 3)
    try accountant.compose(.gaussian(noiseMultiplier: 1))
    // Σσ⁻² = 3/4 + 1 = 7/4, so one Gaussian with σ = √(4/7).
    var single = PLDAccountant()
    try single.compose(.gaussian(noiseMultiplier: (4.0 / 7).squareRoot()))
    let bound = try accountant.epsilonBound(delta: 1e-5)
    expectClose(bound.value, try single.epsilon(delta: 1e-5), relative: 1e-12)
    #expect(bound.discretization == nil)
    expectClose(try accountant.delta(epsilon: bound.value), 1e-5, relative: 1e-9)
  }

  @Test("keeps the accountant contract (conformance)")
  func conformance() throws {
    try checkAccountantConformance(
      { PLDAccountant() },
      unsupported: .laplace(noiseMultiplier: 1),
      supported: Self.sampled(0.01, 2))
  }

  @Test("PLD is never above RDP, and a fixed coarse grid is never below the automatic one")
  func ordering() throws {
    let event = DPEvent.selfComposed(Self.sampled(0.004, 1.2), count: 3000)
    var rdp = RDPAccountant()
    try rdp.compose(event)
    var automatic = PLDAccountant()
    try automatic.compose(event)
    var coarse = PLDAccountant(discretization: .fixed(1e-3))
    try coarse.compose(event)
    let tight = try automatic.epsilon(delta: 1e-6)
    #expect(tight < (try rdp.epsilon(delta: 1e-6)))
    #expect(try coarse.epsilon(delta: 1e-6) >= tight)
  }
}
