import Accountants
import DPTestSupport
import RealModule
import Testing

@Suite("RDP conversions")
struct RDPConversionTests {
  /// An accountant holding T releases of a Gaussian with σ, whose RDP is Tα/(2σ²).
  private static func gaussian(
    _ sigma: Double, steps: Int, orders: RDPOrders = .dpAccountingDefault,
    conversion: RDPConversion = .improved
  ) throws -> RDPAccountant {
    var accountant = RDPAccountant(orders: orders, conversion: conversion)
    try accountant.compose(.gaussian(noiseMultiplier: sigma), count: steps)
    return accountant
  }

  @Test("improved conversion is Canonne–Kamath–Steinke Prop. 12 at the optimal order")
  func improvedFormula() throws {
    let accountant = try Self.gaussian(3, steps: 10, orders: RDPOrders([2, 5, 9]))
    let delta = 1e-6
    let expected = [2.0, 5, 9].map { alpha in
      10 * alpha / 18 + Double.log((alpha - 1) / alpha) - (Double.log(delta) + Double.log(alpha))
        / (alpha - 1)
    }.min()!
    let bound = try accountant.epsilonBound(delta: delta)
    expectClose(bound.value, expected, relative: 1e-14)
    #expect(bound.optimalOrder == 5)
    #expect(!bound.orderAtGridEdge)
  }

  @Test("classic conversion is Mironov Prop. 3 and never below the improved one")
  func classicFormula() throws {
    let classic = try Self.gaussian(
      3, steps: 10, orders: RDPOrders([2, 5, 9]), conversion: .classic)
    let delta = 1e-6
    let expected = [2.0, 5, 9].map { 10 * $0 / 18 - Double.log(delta) / ($0 - 1) }.min()!
    expectClose(try classic.epsilon(delta: delta), expected, relative: 1e-14)
    let improved = try Self.gaussian(3, steps: 10, orders: RDPOrders([2, 5, 9]))
    #expect(try improved.epsilon(delta: delta) < classic.epsilon(delta: delta))
  }

  @Test("δ = 0 gives ε = ∞ unless nothing was released")
  func zeroDelta() throws {
    #expect(try Self.gaussian(3, steps: 1).epsilon(delta: 0) == .infinity)
    #expect(try RDPAccountant().epsilon(delta: 0) == 0)
    #expect(try RDPAccountant().epsilonBound(delta: 0).optimalOrder == nil)
  }

  @Test("a δ above the KL bound √(1 − e^−R) gives ε = 0 exactly")
  func klShortcut() throws {
    // TF-Privacy #166's case (spec §9.9): the exact ε is 0 at δ = 1e-3, where RDP still
    // reports 0.255; at δ = 1e-2 the per-order KL bound applies and RDP reports 0 too.
    var accountant = RDPAccountant()
    try accountant.compose(.poissonSampled(probability: 0.00105, .gaussian(noiseMultiplier: 1)))
    #expect(try accountant.epsilon(delta: 1e-2) == 0)
    expectClose(try accountant.epsilon(delta: 1e-3), 0.255, relative: 0.01)
  }

  @Test("δ(ε) and ε(δ) are consistent: δ(ε(δ)) ≤ δ")
  func roundTrip() throws {
    var accountant = RDPAccountant()
    try accountant.compose(
      .poissonSampled(probability: 0.01, .gaussian(noiseMultiplier: 1.1)), count: 10_000)
    for delta in [1e-12, 1e-8, 1e-5, 1e-3] {
      let epsilon = try accountant.epsilon(delta: delta)
      let back = try accountant.delta(epsilon: epsilon)
      #expect(back <= delta * (1 + 1e-9), "δ = \(delta): ε = \(epsilon), δ(ε) = \(back)")
      expectClose(back, delta, relative: 1e-6, "the minimising order is the same both ways")
    }
  }

  @Test("δ is clamped at 1 and ε at 0")
  func clamps() throws {
    #expect(try Self.gaussian(0.1, steps: 1000).delta(epsilon: 0) == 1)
    #expect(try Self.gaussian(1e6, steps: 1).epsilon(delta: 0.5) == 0)
  }

  @Test("an optimum at the largest order is flagged as a grid edge")
  func gridEdge() throws {
    var accountant = RDPAccountant()
    try accountant.compose(
      .poissonSampled(probability: 1e-4, .gaussian(noiseMultiplier: 50)), count: 10)
    let bound = try accountant.epsilonBound(delta: 1e-12)
    #expect(bound.optimalOrder == 1024)
    #expect(bound.orderAtGridEdge)
  }

  @Test("queries reject δ outside [0, 1] and negative ε")
  func badQueries() throws {
    let accountant = RDPAccountant()
    #expect(
      throws: AccountingError.invalidArgument(
        name: "delta", value: 1.5, requirement: "be in [0, 1]")
    ) {
      try accountant.epsilon(delta: 1.5)
    }
    #expect(throws: AccountingError.self) { try accountant.epsilon(delta: .nan) }
    #expect(
      throws: AccountingError.invalidArgument(name: "epsilon", value: -1, requirement: "be ≥ 0")
    ) {
      try accountant.delta(epsilon: -1)
    }
  }

  @Test("custom grids are sorted, de-duplicated and validated")
  func customGrids() throws {
    #expect(try RDPOrders([8, 2, 8, 3.5]).values == [2, 3.5, 8])
    #expect(throws: AccountingError.self) { try RDPOrders([1]) }
    #expect(throws: AccountingError.self) { try RDPOrders([]) }
    #expect(throws: AccountingError.self) { try RDPOrders([2, .infinity]) }
    #expect(RDPOrders.dpAccountingDefault.values.count == 156)
    #expect(RDPOrders.opacusDefault.values.count == 151)
    #expect(!RDPOrders.opacusDefault.values.contains(11))
  }
}
