import Accountants
import DPTestSupport
import Testing

/// dpfl against dp-accounting 0.6.0 and Opacus 1.6.0 on the golden cases of
/// `rdp_poisson.json` (Poisson sampling, add/remove neighbours).
@Suite("RDP golden values (Poisson)")
struct RDPGoldenTests {
  static let fixture = Golden.required(RDPFixture.self, "rdp_poisson.json", in: .module)

  private static func accountant(
    _ item: RDPFixture.Case, orders: RDPOrders = .dpAccountingDefault,
    conversion: RDPConversion = .improved
  ) throws -> RDPAccountant {
    var accountant = RDPAccountant(orders: orders, conversion: conversion)
    let q = try #require(item.samplingRate)
    try accountant.compose(
      .poissonSampled(probability: q, .gaussian(noiseMultiplier: item.noiseMultiplier)),
      count: item.steps)
    return accountant
  }

  @Test("the fixture has at least 300 random cases and the named edge cases")
  func coverage() {
    #expect(Self.fixture.cases.filter { $0.name.hasPrefix("random") }.count >= 300)
    #expect(Self.fixture.cases.count - 300 >= 25)
    #expect(Self.fixture.grids["dp_accounting_default"] == RDPOrders.dpAccountingDefault.values)
    #expect(Self.fixture.grids["opacus_default"] == RDPOrders.opacusDefault.values)
    #expect(Self.fixture.grids["integer"] == RDPOrders.integer.values)
  }

  @Test(
    "ε(δ) equals dp_accounting's on its default grid (improved conversion), optimal order included")
  func defaultGrid() throws {
    for item in Self.fixture.cases {
      let bound = try Self.accountant(item).epsilonBound(delta: item.delta)
      expectClose(
        bound.value, item.dpAccounting.epsilon, relative: 0,
        absolute: Self.fixture.tolerance(item, value: item.dpAccounting.epsilon), item.name)
      if !(item.orderTies ?? []).contains("optimal_order") {
        #expect(bound.optimalOrder == item.dpAccounting.optimalOrder, "\(item.name)")
      }
    }
  }

  @Test("ε(δ) equals dp_accounting's on the integer grid 2…63, 128…1024")
  func integerGrid() throws {
    for item in Self.fixture.cases {
      let bound = try Self.accountant(item, orders: .integer).epsilonBound(delta: item.delta)
      let tolerance = Self.fixture.tolerance(item, value: item.dpAccounting.epsilonInteger)
      expectClose(
        bound.value, item.dpAccounting.epsilonInteger, relative: 0, absolute: tolerance, item.name)
    }
  }

  @Test("the classic conversion equals Mironov Prop. 3 applied to dp_accounting's RDP curve")
  func classicConversion() throws {
    for item in Self.fixture.cases {
      let expected = try #require(item.dpAccounting.epsilonClassic)
      let value = try Self.accountant(item, conversion: .classic).epsilon(delta: item.delta)
      expectClose(
        value, expected, relative: 0, absolute: Self.fixture.tolerance(item, value: expected),
        item.name)
    }
  }

  @Test("δ(ε) equals dp_accounting's get_delta")
  func deltaForEpsilon() throws {
    for item in Self.fixture.cases {
      let value = try Self.accountant(item).delta(epsilon: item.targetEpsilon)
      let tolerance = Self.fixture.deltaTolerance(item, value: item.dpAccounting.delta)
      expectClose(value, item.dpAccounting.delta, relative: 0, absolute: tolerance, item.name)
    }
  }

  @Test("per-step RDP equals dp_accounting's at every order of the default grid")
  func perOrder() throws {
    for item in Self.fixture.perOrder {
      var accountant = RDPAccountant()
      let q = try #require(item.samplingRate)
      try accountant.compose(
        .poissonSampled(probability: q, .gaussian(noiseMultiplier: item.noiseMultiplier)))
      let curve = accountant.rdp
      for (index, order) in RDPOrders.dpAccountingDefault.values.enumerated() {
        let tolerance = Self.fixture.tolerance(item, index: index, value: item.rdp[index])
        expectClose(
          curve[index], item.rdp[index], relative: 0, absolute: tolerance,
          "q=\(q) σ=\(item.noiseMultiplier) α=\(order)")
      }
    }
  }

  @Test(
    "on Opacus's own grid dpfl is never below Opacus, and equal where Opacus's optimum is an integer order"
  )
  func opacus() throws {
    var compared = 0
    for item in Self.fixture.cases {
      guard let opacus = item.opacus?.value else { continue }
      let bound = try Self.accountant(item, orders: .opacusDefault).epsilonBound(delta: item.delta)
      // dpfl clamps at 0 and applies the KL bound, which Opacus does not: those answers
      // are smaller and still valid. Everywhere else dpfl's fractional-order terms are
      // upper bounds of Opacus's signed ones.
      guard bound.value > 0 else { continue }
      compared += 1
      let slack = Self.fixture.tolerance(item, value: opacus.epsilon)
      #expect(
        bound.value >= opacus.epsilon - slack,
        "\(item.name): \(bound.value) < Opacus \(opacus.epsilon)")
      if opacus.optimalOrder.rounded() == opacus.optimalOrder {
        expectClose(
          bound.value, opacus.epsilon, relative: 0,
          absolute: Self.fixture.tolerance(item, value: opacus.epsilon), item.name)
      }
    }
    #expect(compared >= 250)
  }
}
