import DPTestSupport
import Foundation
import RealModule
import Testing

@testable import Accountants

/// `tuning.json` (Scripts/crosscheck/golden_tuning.py).
struct TuningFixture: Decodable, Sendable {
  struct Runs: Decodable, Sendable {
    var type: String
    var shape: Double?
    var successProbability: Double?
    var mean: Double?

    var distribution: TuningDistribution {
      type == "Poisson"
        ? .poisson(mean: mean!)
        : .truncatedNegativeBinomial(shape: shape!, successProbability: successProbability!)
    }
  }

  struct Case: Decodable, Sendable {
    var samplingRate: Double
    var noiseMultiplier: Double
    var steps: Int
    var runs: Runs
    var delta: Double
    var expectedRuns: Double
    var secondOrder: Double?
    var rdp: [Double]
    var innerEpsilon: Double
    var epsilon: Double
  }

  var orders: [Double]
  var rtol: Double
  var cases: [Case]
}

@Suite("Tuned (Papernot & Steinke)")
struct TuningTests {
  static let fixture = Golden.required(TuningFixture.self, "tuning.json", in: .module)

  static func run(_ q: Double, _ sigma: Double, steps: Int) -> DPEvent {
    .selfComposed(.poissonSampled(probability: q, .gaussian(noiseMultiplier: sigma)), count: steps)
  }

  static func epsilon(_ event: DPEvent, delta: Double, orders: RDPOrders = .integer) throws
    -> Double
  {
    var accountant = RDPAccountant(orders: orders)
    try accountant.compose(event)
    return try accountant.epsilon(delta: delta)
  }

  @Test(
    "the RDP bound, λ̂, E[K] and ε equal Theorem 2 / the Poisson bound evaluated independently in mpmath (1e-9)"
  )
  func golden() throws {
    #expect(Self.fixture.cases.count == 42)
    #expect(Self.fixture.orders == RDPOrders.integer.values)
    for item in Self.fixture.cases {
      let runs = item.runs.distribution
      let inner = Self.run(item.samplingRate, item.noiseMultiplier, steps: item.steps)
      let label = "\(runs.summary) q=\(item.samplingRate) σ=\(item.noiseMultiplier) δ=\(item.delta)"
      var accountant = RDPAccountant(orders: .integer)
      try accountant.compose(.tuned(runs: runs, inner))
      for (value, expected) in zip(accountant.rdp, item.rdp) {
        expectClose(value, expected, relative: Self.fixture.rtol, label)
      }
      expectClose(
        try accountant.epsilon(delta: item.delta), item.epsilon, relative: Self.fixture.rtol, label)
      expectClose(runs.expectedRuns, item.expectedRuns, relative: 1e-12, label)
      let bound = try #require(try accountant.tuningBound(runs, inner))
      #expect(bound.secondOrder == item.secondOrder, "\(label): λ̂")
      expectClose(
        try Self.epsilon(inner, delta: item.delta), item.innerEpsilon, relative: Self.fixture.rtol,
        label)
      // Tuning costs more than one run whenever E[K] ≥ 1.
      if item.expectedRuns >= 1 { #expect(item.epsilon > item.innerEpsilon, "\(label)") }
    }
  }

  // MARK: - Soundness on exact toys

  /// D_α(p‖q) of two distributions on the same points, as a log-sum of α·log p + (1−α)·log q
  /// (the powers alone under- and overflow at α = 64).
  static func renyi(_ p: [Double], _ q: [Double], _ alpha: Double) -> Double {
    var sum = LogSpace.Sum()
    for (a, b) in zip(p, q) where a > 0 {
      sum.add(alpha * Double.log(a) + (1 - alpha) * Double.log(b))
    }
    return sum.logValue / (alpha - 1)
  }

  /// The law of the best of K draws from `law` (outputs ordered by index), K = 0 first:
  /// P[best ≤ y] = G(F(y)) for the probability generating function G of K.
  static func bestOfK(_ law: [Double], _ runs: TuningDistribution) -> [Double] {
    let generating: (Double) -> Double
    switch runs {
    case .truncatedNegativeBinomial(let eta, let gamma):
      generating =
        eta == 0
        ? { t in Double.log(onePlus: -(1 - gamma) * t) / Double.log(gamma) }
        : { t in
          Double.expMinusOne(-eta * Double.log(onePlus: -(1 - gamma) * t))
            / Double.expMinusOne(-eta * Double.log(gamma))
        }
    case .poisson(let mean):
      generating = { t in Double.exp(mean * (t - 1)) }
    }
    var result = [generating(0)]
    var cdf = 0.0
    for mass in law {
      if case .poisson(let mean) = runs {
        // G(F + m) − G(F) = e^{μ(F−1)}·expm1(μm), without cancellation.
        result.append(Double.exp(mean * (cdf - 1)) * Double.expMinusOne(mean * mass))
      } else {
        result.append(generating(min(cdf + mass, 1)) - generating(cdf))
      }
      cdf += mass
    }
    return result
  }

  static let toyOrders = [1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]

  static let toyDistributions: [TuningDistribution] = [
    .geometric(successProbability: 0.2), .logarithmic(successProbability: 0.05),
    .truncatedNegativeBinomial(shape: 0.5, successProbability: 0.1),
    .truncatedNegativeBinomial(shape: -0.5, successProbability: 0.3),
    .poisson(mean: 0.3), .poisson(mean: 4), .poisson(mean: 20),
  ]

  @Test(
    "on random discrete mechanisms, the exact Rényi divergence of the released best run never exceeds the bound (both directions), and the published Poisson form would fall below it for μ < 1"
  )
  func exactToys() throws {
    var generator = SeededGenerator(seed: 20_261_205)
    var checked = 0
    var publishedBelowExact = 0
    for _ in 0..<40 {
      let points = Int.random(in: 2...5, using: &generator)
      let scale = [0.3, 1.0, 2.5][Int.random(in: 0..<3, using: &generator)]
      let a = (0..<points).map { _ in
        Double.pow(Double.random(in: 0..<1, using: &generator), 2) + 1e-3
      }
      let b = a.map { $0 * Double.exp(scale * (Double.random(in: 0..<1, using: &generator) - 0.5)) }
      let p = a.map { $0 / a.reduce(0, +) }
      let q = b.map { $0 / b.reduce(0, +) }
      let curve = Self.toyOrders.map { max(Self.renyi(p, q, $0), Self.renyi(q, p, $0)) }
      for runs in Self.toyDistributions {
        let bound = runs.rdpBound(inner: curve, orders: Self.toyOrders).values
        let tunedP = Self.bestOfK(p, runs)
        let tunedQ = Self.bestOfK(q, runs)
        for (i, alpha) in Self.toyOrders.enumerated() {
          let exact = max(Self.renyi(tunedP, tunedQ, alpha), Self.renyi(tunedQ, tunedP, alpha))
          #expect(
            exact <= bound[i] * (1 + 1e-9) + 1e-12,
            "\(runs.summary) α=\(alpha): \(exact) > \(bound[i])")
          checked += 1
          if case .poisson(let mean) = runs {
            let deltaHat = RDPConversion.improved.delta(
              rdp: curve, orders: Self.toyOrders, epsilon: Double.log(onePlus: 1 / (alpha - 1)))
            let published = curve[i] + mean * deltaHat + Double.log(mean) / (alpha - 1)
            if exact > published + 1e-12 { publishedBelowExact += 1 }
          }
        }
      }
    }
    #expect(checked == 40 * 7 * 12)
    #expect(publishedBelowExact > 0)
  }

  // MARK: - Properties

  static let inner = run(0.01, 1.1, steps: 1000)

  @Test("a noOp inner event costs nothing; a non-private one costs ∞; PLD and certified RDP refuse")
  func degenerate() throws {
    for runs in [TuningDistribution.geometric(successProbability: 0.1), .poisson(mean: 10)] {
      #expect(try Self.epsilon(.tuned(runs: runs, .noOp), delta: 1e-6) == 0)
      #expect(try Self.epsilon(.tuned(runs: runs, .nonPrivate), delta: 1e-6) == .infinity)
      #expect(try RDPAccountant().tuningBound(runs, .noOp) == nil)
      let tuned = DPEvent.tuned(runs: runs, Self.inner)
      let pld = PLDAccountant().check(.composed([Self.inner, tuned]))
      #expect(pld?.event == tuned)
      #expect(pld?.reason.contains("Rényi-DP bounds") == true)
      #expect(
        CertifiedRDPAccountant.standard.check(tuned)?.reason
          == "the certified RDP accountant does not support Tuned yet: use RDPAccountant for it.")
      #expect(throws: AccountingError.self) {
        try RDPAccountant().tuningBound(.poisson(mean: -1), .noOp)
      }
    }
  }

  @Test("K ≡ 1 in the limit: γ → 1 gives the inner event's ε (λ̂ = 1), for every shape")
  func singleRun() throws {
    let innerEpsilon = try Self.epsilon(Self.inner, delta: 1e-6, orders: .dpAccountingDefault)
    for shape in [-0.5, 0, 1, 3] {
      let runs = TuningDistribution.truncatedNegativeBinomial(
        shape: shape, successProbability: 1 - 1e-9)
      expectClose(runs.expectedRuns, 1, relative: 1e-8)
      let bound = try #require(try RDPAccountant().tuningBound(runs, Self.inner))
      #expect(bound.secondOrder == 1)
      let tuned = try Self.epsilon(
        .tuned(runs: runs, Self.inner), delta: 1e-6, orders: .dpAccountingDefault)
      #expect(tuned >= innerEpsilon)
      expectClose(tuned, innerEpsilon, relative: 1e-6, "η=\(shape)")
    }
  }

  @Test(
    "ε grows with E[K] at a fixed shape (γ down) and with the Poisson mean; geometric E[K] = 1/γ")
  func monotoneInExpectedRuns() throws {
    for shape in [-0.5, 0, 1, 2] {
      var previous = 0.0
      var previousMean = 0.0
      for gamma in [0.9, 0.5, 0.1, 0.01, 1e-3] {
        let runs = TuningDistribution.truncatedNegativeBinomial(
          shape: shape, successProbability: gamma)
        #expect(runs.expectedRuns > previousMean)
        let value = try Self.epsilon(.tuned(runs: runs, Self.inner), delta: 1e-6)
        #expect(value > previous, "η=\(shape) γ=\(gamma)")
        previous = value
        previousMean = runs.expectedRuns
      }
    }
    expectClose(
      TuningDistribution.geometric(successProbability: 0.2).expectedRuns, 5, relative: 1e-14)
    expectClose(
      TuningDistribution.logarithmic(successProbability: 0.01).expectedRuns,
      99 / Double.log(100), relative: 1e-14)
    var previous = 0.0
    for mean in [1.0, 3, 10, 30, 100] {
      let value = try Self.epsilon(.tuned(runs: .poisson(mean: mean), Self.inner), delta: 1e-6)
      #expect(value > previous, "μ=\(mean)")
      previous = value
    }
  }

  @Test(
    "tuning composes like any event: RDP adds up, the moments accountant follows RDP, the ledger merges"
  )
  func composition() throws {
    let tuned = DPEvent.tuned(runs: .geometric(successProbability: 0.1), Self.inner)
    var twice = RDPAccountant()
    try twice.compose(tuned, count: 2)
    var once = RDPAccountant()
    try once.compose(tuned)
    for (x, y) in zip(twice.rdp, once.rdp) { expectClose(x, 2 * y, relative: 1e-12) }
    #expect(twice.ledger == .selfComposed(tuned, count: 2))
    var moments = MomentsAccountant()
    try moments.compose(tuned)
    var classic = RDPAccountant.moments()
    try classic.compose(tuned)
    #expect(try moments.epsilon(delta: 1e-5) == classic.epsilon(delta: 1e-5))
    // Participation sampling around a tuned run: the tuned curve goes through the formula.
    let sampled = try Self.epsilon(.participationSampled(probability: 0.1, tuned), delta: 1e-6)
    #expect(sampled < (try Self.epsilon(tuned, delta: 1e-6)))
  }
}

@Suite("TuningDistribution by expected runs")
struct TuningExpectedRunsTests {
  @Test(
    "each family's law has the asked expected number of runs",
    arguments: [1.5, 10, 1_000, 1e9])
  func expectedRuns(runs: Double) throws {
    for family in TuningDistribution.Family.allCases {
      let law = try TuningDistribution.withExpectedRuns(runs, family: family)
      expectClose(law.expectedRuns, runs, relative: 1e-9)
    }
    #expect(
      try TuningDistribution.withExpectedRuns(runs, family: .geometric)
        == .truncatedNegativeBinomial(shape: 1, successProbability: 1 / runs))
  }

  @Test("a truncated law needs more than one run on average; Poisson more than none")
  func ranges() throws {
    for runs in [1.0, 0.5, .infinity, .nan, 1e13] {
      #expect(throws: AccountingError.self) {
        try TuningDistribution.withExpectedRuns(runs, family: .logarithmic)
      }
    }
    #expect(try TuningDistribution.withExpectedRuns(0.5, family: .poisson) == .poisson(mean: 0.5))
  }
}

