import Accountants
import DPTestSupport
import Testing

/// dpfl against dp-accounting 0.6.0 on `rdp_fixed_size.json` (sampling without
/// replacement, replace-one neighbours; noise multipliers relative to the replace-one
/// sensitivity, exactly as dp_accounting defines them), and against the exact value of the
/// same bound (`rdp_fixed_size_exact.json`), which dp_accounting's log-space forward
/// differences lose for large σ.
@Suite("RDP golden values (fixed-size sampling)")
struct FixedSizeGoldenTests {
  static let fixture = Golden.required(RDPFixture.self, "rdp_fixed_size.json", in: .module)

  static let exact = Golden.required(
    ExactFixedSizeFixture.self, "rdp_fixed_size_exact.json", in: .module)

  private static func event(_ sourceSize: Int?, _ sampleSize: Int?, _ sigma: Double) throws
    -> DPEvent
  {
    .sampledWithoutReplacement(
      sourceSize: try #require(sourceSize), sampleSize: try #require(sampleSize),
      .gaussian(noiseMultiplier: sigma))
  }

  private static func accountant(_ item: RDPFixture.Case, orders: RDPOrders = .dpAccountingDefault)
    throws -> RDPAccountant
  {
    var accountant = RDPAccountant(orders: orders, neighboringRelation: .replaceOne)
    try accountant.compose(
      event(item.sourceSize, item.sampleSize, item.noiseMultiplier), count: item.steps)
    return accountant
  }

  /// Expects dpfl's `value` never to fall below the exact one (by more than the float64
  /// tolerance), and to be at least as accurate as dp_accounting's `peer` (within twice
  /// the peer's own error plus the tolerance). Returns whether the peer was exact.
  ///
  /// For σ ≳ 10 both libraries' forward differences are float64 rounding noise (see
  /// `RDPSampledWithoutReplacement.swift`); the noise differs between the two
  /// implementations, so agreement there is only up to the peer's own error.
  @discardableResult
  private static func expectAgreement(
    _ value: Double, exact: Double, peer: Double, tolerance: Double, _ label: String
  ) -> Bool {
    #expect(value >= exact - tolerance, "\(label): \(value) is below the exact \(exact)")
    let peerError = abs(peer - exact)
    expectClose(
      value, exact, relative: 0, absolute: tolerance + 2 * peerError,
      "\(label) (exact; dp_accounting off by \(peerError))")
    return peerError <= tolerance
  }

  @Test("the fixture has at least 60 random cases, each with an exact counterpart")
  func coverage() {
    #expect(Self.fixture.cases.filter { $0.name.hasPrefix("random") }.count >= 60)
    #expect(Self.exact.cases.map(\.name) == Self.fixture.cases.map(\.name))
  }

  @Test("ε(δ) is never below the exact bound on either grid and as accurate as dp_accounting's")
  func epsilon() throws {
    var peerExact = 0
    for (item, exact) in zip(Self.fixture.cases, Self.exact.cases) {
      let value = try Self.accountant(item).epsilon(delta: item.delta)
      let tolerance = Self.fixture.tolerance(item, value: exact.epsilon)
      if Self.expectAgreement(
        value, exact: exact.epsilon, peer: item.dpAccounting.epsilon, tolerance: tolerance,
        item.name)
      {
        peerExact += 1
      }
      let integer = try Self.accountant(item, orders: .integer).epsilon(delta: item.delta)
      let integerTolerance = Self.fixture.tolerance(item, value: exact.epsilonInteger)
      Self.expectAgreement(
        integer, exact: exact.epsilonInteger, peer: item.dpAccounting.epsilonInteger,
        tolerance: integerTolerance, item.name)
    }
    // The cross-check with the peer must not be vacuous.
    #expect(peerExact >= Self.fixture.cases.count * 3 / 4)
  }

  @Test("δ(ε) is never below the exact bound and as accurate as dp_accounting's get_delta")
  func delta() throws {
    for (item, exact) in zip(Self.fixture.cases, Self.exact.cases) {
      let value = try Self.accountant(item).delta(epsilon: item.targetEpsilon)
      let tolerance = Self.fixture.deltaTolerance(item, value: exact.delta)
      Self.expectAgreement(
        value, exact: exact.delta, peer: item.dpAccounting.delta, tolerance: tolerance, item.name)
    }
  }

  @Test("per-step RDP is never below the exact bound, and as accurate as dp_accounting's")
  func perOrder() throws {
    var peerExact = 0
    for (item, exact) in zip(Self.fixture.perOrder, Self.exact.perOrder) {
      var accountant = RDPAccountant(neighboringRelation: .replaceOne)
      try accountant.compose(Self.event(item.sourceSize, item.sampleSize, item.noiseMultiplier))
      let curve = accountant.rdp
      for (index, order) in RDPOrders.dpAccountingDefault.values.enumerated() {
        // The file tolerance, not the per-order override: that one records how far
        // dp_accounting is from the exact value, which the agreement check adds itself.
        let tolerance = max(Self.fixture.atol, Self.fixture.rtol * abs(exact.rdp[index]))
        let label =
          "n=\(item.sourceSize ?? 0) m=\(item.sampleSize ?? 0) σ=\(item.noiseMultiplier) α=\(order)"
        if Self.expectAgreement(
          curve[index], exact: exact.rdp[index], peer: item.rdp[index], tolerance: tolerance, label)
        {
          peerExact += 1
        }
      }
    }
    #expect(
      peerExact >= Self.fixture.perOrder.count * RDPOrders.dpAccountingDefault.values.count * 3 / 4)
  }
}
