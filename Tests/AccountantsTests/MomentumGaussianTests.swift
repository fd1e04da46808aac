import Accountants
import Foundation
import Testing

@Suite("MomentumGaussian")
struct MomentumGaussianTests {
  static func release(
    sigma: Double, beta: Double, p: Double, q: Double, rounds: Int
  ) -> DPEvent {
    .momentumGaussian(
      MomentumGaussian(
        noiseMultiplier: sigma, momentum: beta, recordProbability: p,
        participationProbability: q, rounds: rounds))
  }

  /// The per-round charge the bound replaces: each round the holder takes part in, a
  /// Gaussian at the full sensitivity.
  static func perRound(sigma: Double, q: Double, rounds: Int) -> DPEvent {
    .selfComposed(
      .participationSampled(probability: q, .gaussian(noiseMultiplier: sigma)), count: rounds)
  }

  /// PLD at a fixed interval (the automatic refinement is slow in debug builds).
  static let pld = PLDAccountant(discretization: .fixed(1e-3))

  /// RDP on fewer orders than the default (each order of a sampled momentum release is a
  /// pass over the grid).
  static let rdp = RDPAccountant(
    orders: try! RDPOrders([1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128]))

  static func epsilon<A: PrivacyAccountant>(_ accountant: A, _ event: DPEvent, delta: Double = 1e-6)
    throws -> Double
  {
    var accountant = accountant
    try accountant.compose(event)
    return try accountant.epsilon(delta: delta)
  }

  /// Every participation pattern a and inclusion pattern b of T rounds, enumerated: the
  /// weight of each and its S = Σ_k c_k², c_k = (1 − β)Σ_{j ≤ k} β^{k−j}·b_j over the
  /// rounds taken part in. Independent of the accountants' code (no grid, no binomial).
  static func patterns(beta: Double, p: Double, q: Double, rounds: Int) -> [(
    weight: Double, shift: Double
  )] {
    var result: [(Double, Double)] = []
    for code in 0..<(1 << (2 * rounds)) {
      var weight = 1.0
      var c = 0.0
      var shift = 0.0
      for round in 0..<rounds {
        let takesPart = code >> (2 * round) & 1 == 1
        let included = code >> (2 * round + 1) & 1 == 1
        weight *= takesPart ? q : 1 - q
        // The inclusion bit means nothing in a round not taken part in: count it once.
        if !takesPart {
          if included { weight = 0 }
          continue
        }
        weight *= included ? p : 1 - p
        c = beta * c + (1 - beta) * (included ? 1 : 0)
        shift += c * c
      }
      if weight > 0 { result.append((weight, shift)) }
    }
    return result
  }

  /// δ(ε) of a Gaussian pair of shift μ (Balle & Wang 2018): Φ(−ε/μ + μ/2) − e^ε·Φ(−ε/μ − μ/2).
  static func gaussianDelta(mu: Double, epsilon: Double) -> Double {
    if mu == 0 { return 0 }
    func phi(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }
    return phi(-epsilon / mu + mu / 2) - exp(epsilon) * phi(-epsilon / mu - mu / 2)
  }

  @Test(
    "At β = 0 with every record in every round it accounts like the per-round Gaussian composed T times (RDP to 1e-9; PLD never below, within 1 %)",
    arguments: [(1.0, 1.0, 12), (0.8, 0.05, 40), (2.0, 0.5, 25)])
  func equalsPerRoundChargeWithoutMomentum(sigma: Double, q: Double, rounds: Int) throws {
    let momentum = Self.release(sigma: sigma, beta: 0, p: 1, q: q, rounds: rounds)
    let charge = Self.perRound(sigma: sigma, q: q, rounds: rounds)
    let rdp = try Self.epsilon(RDPAccountant(), momentum)
    let rdpCharge = try Self.epsilon(RDPAccountant(), charge)
    #expect(abs(rdp - rdpCharge) <= 1e-9 * rdpCharge)
    // The mixture of T + 1 Gaussians is discretised on its own; the charge composes one.
    let pld = try Self.epsilon(Self.pld, momentum)
    let pldCharge = try Self.epsilon(Self.pld, charge)
    #expect(pld >= pldCharge * (1 - 1e-3))
    #expect(pld <= pldCharge * 1.01)
  }

  @Test(
    "With momentum it is never above the per-round charge, and falls with the record's sampling rate",
    arguments: [(0.9, 0.001, 30, 0.7), (0.9, 1.0, 40, 6.0), (0.5, 0.2, 30, 1.5)])
  func neverAbovePerRoundCharge(beta: Double, q: Double, rounds: Int, sigma: Double) throws {
    let charge = Self.perRound(sigma: sigma, q: q, rounds: rounds)
    var previous = Double.infinity
    for p in [1.0, 0.5, 0.1] {
      let event = Self.release(sigma: sigma, beta: beta, p: p, q: q, rounds: rounds)
      let rdp = try Self.epsilon(Self.rdp, event)
      #expect(try rdp <= Self.epsilon(Self.rdp, charge))
      #expect(rdp < previous)
      previous = rdp
      // PLD uses every c_k at its largest, whatever p.
      #expect(try Self.epsilon(Self.pld, event) < Self.epsilon(Self.pld, charge))
    }
  }

  @Test(
    "With every record in every round it is never below one inclusion's Gaussian through the momentum",
    arguments: [0.5, 0.9, 0.99])
  func neverBelowOneInclusion(beta: Double) throws {
    let sigma = 0.5
    let rounds = 30
    // One inclusion in the first round: c_k = (1 − β)β^k, S = Σ c_k².
    let single = (0..<rounds).reduce(0.0) { $0 + pow((1 - beta) * pow(beta, Double($1)), 2) }
    let oneInclusion = DPEvent.gaussian(noiseMultiplier: sigma / single.squareRoot())
    let event = Self.release(sigma: sigma, beta: beta, p: 1, q: 1, rounds: rounds)
    #expect(try Self.epsilon(RDPAccountant(), event) >= Self.epsilon(RDPAccountant(), oneInclusion))
    #expect(try Self.epsilon(PLDAccountant(), event) >= Self.epsilon(PLDAccountant(), oneInclusion))
  }

  @Test(
    "δ(ε) is never below the mixture over every enumerated pattern; with every record in every round PLD is within 1 % of it",
    arguments: [(1.0, 1.0), (0.4, 1.0), (1.0, 0.5), (0.4, 0.3)])
  func againstEnumeratedPatterns(q: Double, p: Double) throws {
    let (beta, sigma, rounds) = (0.8, 0.6, 6)
    let mixture = Self.patterns(beta: beta, p: p, q: q, rounds: rounds)
    #expect(abs(mixture.reduce(0) { $0 + $1.weight } - 1) < 1e-12)
    let event = Self.release(sigma: sigma, beta: beta, p: p, q: q, rounds: rounds)
    var pld = Self.pld
    try pld.compose(event)
    for epsilon in [0.5, 1.0, 2.0, 4.0] {
      let exact = mixture.reduce(0) {
        $0 + $1.weight * Self.gaussianDelta(mu: $1.shift.squareRoot() / sigma, epsilon: epsilon)
      }
      let bound = try pld.delta(epsilon: epsilon)
      #expect(bound >= exact * (1 - 1e-9))
      if p == 1 { #expect(bound <= exact * 1.01 + 1e-12) }
    }
    // RDP at each order against log E[e^{λS}]/(α − 1) of the enumeration: never below, and
    // within the grid's rounding (1 %) when records are sampled.
    let orders = try RDPOrders([1.5, 2, 4, 8, 16, 32])
    var rdp = RDPAccountant(orders: orders)
    try rdp.compose(event)
    for (alpha, value) in zip(orders.values, rdp.rdp) {
      let lambda = alpha * (alpha - 1) / (2 * sigma * sigma)
      let largest = mixture.map { lambda * $0.shift }.max()!
      let log =
        largest
        + Foundation.log(mixture.reduce(0) { $0 + $1.weight * exp(lambda * $1.shift - largest) })
      let exact = log / (alpha - 1)
      #expect(value >= exact * (1 - 1e-12))
      #expect(value <= exact * (p == 1 ? 1 + 1e-9 : 1.01))
    }
  }

  @Test(
    "RDP keeps a participation count whose probability is below Double's range when its e^{λS} makes it the largest term"
  )
  func underflowingWeightStillCounts() throws {
    // q^T = 10⁻⁴⁰⁰ underflows, yet at α = 128, σ = 0.1 its log term −921 + λ·S_T dominates.
    let (sigma, beta, q, rounds, alpha) = (0.1, 0.5, 1e-20, 20, 128.0)
    var rdp = RDPAccountant(orders: try RDPOrders([alpha]))
    try rdp.compose(Self.release(sigma: sigma, beta: beta, p: 1, q: q, rounds: rounds))
    let shift = (1...rounds).reduce(0.0) { $0 + pow(1 - pow(beta, Double($1)), 2) }
    let lambda = alpha * (alpha - 1) / (2 * sigma * sigma)
    let allRounds = (Double(rounds) * log(q) + lambda * shift) / (alpha - 1)
    #expect(rdp.rdp[0] >= allRounds)
  }

  @Test(
    "It round-trips through JSON, renders, and is refused out of range and by the certified accountant"
  )
  func formatsAndRefusals() throws {
    let event = Self.release(sigma: 0.5, beta: 0.9, p: 0.25, q: 0.001, rounds: 100)
    let json = try JSONEncoder().encode(event)
    #expect(try JSONDecoder().decode(DPEvent.self, from: json) == event)
    #expect(String(decoding: json, as: UTF8.self).contains("\"type\":\"MomentumGaussian\""))
    #expect(event.summary == "MomentumGaussian(σ=0.5, β=0.9, p=0.25, q=0.001, T=100)")
    for (bad, rule) in [
      (Self.release(sigma: 0.5, beta: 1, p: 1, q: 1, rounds: 3), "momentum must be in [0, 1)"),
      (
        Self.release(sigma: 0.5, beta: 0.9, p: 0, q: 1, rounds: 3),
        "sampling probability must be in (0, 1]"
      ),
      (Self.release(sigma: 0.5, beta: 0.9, p: 1, q: 1.5, rounds: 3), "participation probability"),
      (
        Self.release(sigma: 0.5, beta: 0.9, p: 1, q: 1, rounds: 100_001),
        "rounds must be in [0, 100000]"
      ),
    ] {
      #expect(bad.parameterFailure()?.reason.contains(rule) == true)
    }
    #expect(try CertifiedRDPAccountant().check(event)?.reason.contains("MomentumGaussian") == true)
    // Sampled records cost the RDP accountant a grid pass per round: a bounded amount.
    let long = Self.release(sigma: 0.5, beta: 0.999, p: 0.5, q: 1, rounds: 100_000)
    #expect(RDPAccountant().check(long)?.reason.contains("at most 20000000 in all") == true)
    #expect(
      RDPAccountant().check(Self.release(sigma: 0.5, beta: 0.999, p: 1, q: 1, rounds: 100_000))
        == nil)
    // Nothing released: no rounds, or a holder that never takes part.
    for nothing in [
      Self.release(sigma: 0.5, beta: 0.9, p: 1, q: 1, rounds: 0),
      Self.release(sigma: 0.5, beta: 0.9, p: 1, q: 0, rounds: 10),
    ] {
      #expect(try Self.epsilon(RDPAccountant(), nothing) == 0)
      #expect(try Self.epsilon(PLDAccountant(), nothing) == 0)
    }
  }
}
