import Accountants
import Foundation
import Testing

/// dpfl's accounting of a run on Flower beside what the pinned Flower's own RDP accountant
/// reports for the same releases (`Fixtures/flower/accountant.json`, written by
/// `Scripts/flower/compare-dp`): the same σ, 5 of 10 nodes per round, 20 rounds, δ = 1e-6.
@Suite("Flower's own accountant, compared")
struct FlowerAccountantComparisonTests {
  struct Comparison: Decodable {
    var noise_multiplier: Double
    var cohort: Int
    var population: Int
    var rounds: Int
    var delta: Double
    var target_epsilon: Double
    var dpfl_epsilon: Double
    var flower_epsilon_no_amplification: Double
    var flower_epsilon_poisson: Double
    var flower_sigma_for_target_no_amplification: Double
  }

  static let comparison = try! JSONDecoder().decode(
    Comparison.self,
    from: Data(
      contentsOf: Bundle.module.url(
        forResource: "Fixtures/flower/accountant", withExtension: "json")!
    ))

  static func epsilon(_ event: DPEvent, pld: Bool) throws -> Double {
    if pld {
      var accountant = PLDAccountant()
      try accountant.compose(event)
      return try accountant.epsilon(delta: comparison.delta)
    }
    var accountant = RDPAccountant()
    try accountant.compose(event)
    return try accountant.epsilon(delta: comparison.delta)
  }

  static func rounds(_ sigma: Double, sampled: Bool) -> DPEvent {
    let release = DPEvent.gaussian(noiseMultiplier: sigma)
    let q = Double(comparison.cohort) / Double(comparison.population)
    return .selfComposed(
      sampled ? .poissonSampled(probability: q, release) : release,
      count: comparison.rounds)
  }

  @Test(
    "without amplification, which Flower's fixed-clipping accounting requires, dpfl's RDP gives Flower's ε"
  )
  func noAmplificationAgrees() throws {
    let c = Self.comparison
    let ours = try Self.epsilon(Self.rounds(c.noise_multiplier, sampled: false), pld: false)
    #expect(abs(ours - c.flower_epsilon_no_amplification) <= 1e-9 * ours)
    // Flower needs about twice dpfl's σ for the same target under its own accounting.
    let needed = try Self.epsilon(
      Self.rounds(c.flower_sigma_for_target_no_amplification, sampled: false), pld: false)
    #expect(needed <= c.target_epsilon && needed > 0.999 * c.target_epsilon)
    #expect(c.flower_sigma_for_target_no_amplification > 2 * c.noise_multiplier)
  }

  @Test(
    "dpfl's ε (PLD, secret Poisson cohort) is the run's, and below both of Flower's for the same σ")
  func dpflIsTighter() throws {
    let c = Self.comparison
    let ours = try Self.epsilon(Self.rounds(c.noise_multiplier, sampled: true), pld: true)
    #expect(abs(ours - c.dpfl_epsilon) <= 1e-6 * ours && ours <= c.target_epsilon)
    #expect(
      ours < c.flower_epsilon_poisson
        && c.flower_epsilon_poisson < c.flower_epsilon_no_amplification)
    // Flower's Poisson mode is dp-accounting's RDP, as dpfl's RDP of the same rounds.
    let rdp = try Self.epsilon(Self.rounds(c.noise_multiplier, sampled: true), pld: false)
    #expect(abs(rdp - c.flower_epsilon_poisson) <= 1e-9 * rdp, "dpfl's RDP \(rdp)")
  }
}
