import Accountants
import DPTestSupport
import Foundation
import Testing

extension DPEvent {
  /// The events of a `composed` event ([self] otherwise).
  fileprivate var composedEvents: [DPEvent] {
    if case .composed(let events) = self { return events }
    return [self]
  }
}

/// Issue 14 (a fuzz campaign): hostile counts, nestings, ledgers and parameter values must
/// give an answer or an ``AccountingError``, never a trap, a hang or a huge allocation.
@Suite("Hostile inputs (issue 14)")
struct HostileInputTests {
  static let sampled = DPEvent.poissonSampled(probability: 1e-3, .gaussian(noiseMultiplier: 1))

  /// A fresh accountant of each kind, with its name.
  static let accountants: [(String, @Sendable () -> any PrivacyAccountant)] = [
    ("rdp", { RDPAccountant() }), ("moments", { MomentsAccountant() }),
    ("certified", { CertifiedRDPAccountant.standard }), ("pld", { PLDAccountant() }),
  ]

  /// Composes `event` (`times` times) and queries ε(δ) and δ(ε): either every answer is a valid
  /// bound (ε ≥ 0 or ∞, δ ∈ [0, 1]) or the error is an `AccountingError`. Returns the error.
  @discardableResult
  static func outcome(
    _ make: () -> any PrivacyAccountant, _ event: DPEvent, times: Int = 1,
    deltas: [Double] = [1e-6], epsilons: [Double] = [1], _ label: String
  ) -> AccountingError? {
    var accountant = make()
    do {
      for _ in 0..<times { try accountant.compose(event) }
      for delta in deltas {
        let epsilon = try accountant.epsilon(delta: delta)
        #expect(epsilon >= 0, "\(label): ε(\(delta)) = \(epsilon)")
      }
      for epsilon in epsilons {
        let delta = try accountant.delta(epsilon: epsilon)
        #expect(delta >= 0 && delta <= 1, "\(label): δ(\(epsilon)) = \(delta)")
      }
      return nil
    } catch {
      return error
    }
  }

  @Test(
    "counts of 10¹⁴, 10¹⁵, 10¹⁸ and Int.max, repeated past Int.max, and nested products of 2⁴⁰ × 2⁴⁰ answer or throw in every accountant; PLD refuses above 2³²"
  )
  func hugeCounts() throws {
    let events: [(DPEvent, Int)] = [
      (.selfComposed(Self.sampled, count: 100_000_000_000_000), 1),
      (.selfComposed(Self.sampled, count: 1_000_000_000_000_000), 1),
      (.selfComposed(Self.sampled, count: 1_000_000_000_000_000_000), 10),
      (.selfComposed(Self.sampled, count: .max), 2),
      (.selfComposed(.selfComposed(Self.sampled, count: 1 << 40), count: 1 << 40), 1),
      (
        .participationSampled(probability: 0.5, .selfComposed(Self.sampled, count: 1 << 40)),
        1 << 30
      ),
    ]
    for (name, make) in Self.accountants {
      for (event, times) in events {
        let error = Self.outcome(make, event, times: min(times, 10), "\(name) \(event.summary)")
        if name == "pld" {
          guard case .resourceLimitExceeded(let reason)? = error else {
            Issue.record(
              "pld \(event.summary): expected a resource error, got \(String(describing: error))")
            continue
          }
          #expect(reason.contains("at most \(PLDAccountant.maximumCount) times"))
        } else {
          #expect(error == nil, "\(name) \(event.summary): \(String(describing: error))")
        }
      }
    }
    // The ledger stays exact past Int.max: the repetitions start a new entry.
    var rdp = RDPAccountant()
    for _ in 0..<10 { try rdp.compose(Self.sampled, count: 1_000_000_000_000_000_000) }
    guard case .composed(let runs) = rdp.ledger else {
      Issue.record("expected a composed ledger, got \(rdp.ledger.summary)")
      return
    }
    #expect(runs.count == 2)
    var single = RDPAccountant()
    try single.compose(Self.sampled)
    for (total, one) in zip(rdp.rdp, single.rdp) { expectClose(total, 1e19 * one, relative: 1e-12) }
    // At the cap, PLD still answers (tiny q keeps the composed support small). This coarse
    // grid is pessimistic by about 2³²·(its rounding of the tiny per-step loss): 0.526 against
    // RDP's 0.178; the automatic grid refines to h ≈ 1e-7 and gives 0.130 (7 s in debug).
    var pld = PLDAccountant(discretization: .fixed(1e-5))
    try pld.compose(
      .poissonSampled(probability: 1e-6, .gaussian(noiseMultiplier: 2)),
      count: PLDAccountant.maximumCount)
    expectClose(try pld.epsilon(delta: 1e-6), 0.5264227107736695, relative: 1e-6)
  }

  @Test(
    "a ledger of 10⁵ distinct releases: PLD refuses it at once with a hint (it was OOM-killed at 19 GB), RDP answers"
  )
  func manyDistinctReleases() throws {
    let ledger = DPEvent.composed(
      (0..<100_000).map { i in
        .poissonSampled(
          probability: 1e-3 * (1 + Double(i) * 1e-6),
          .gaussian(noiseMultiplier: 1 + Double(i) * 1e-6))
      })
    var pld = PLDAccountant()
    try pld.compose(ledger)
    let clock = ContinuousClock()
    var refused: AccountingError?
    let elapsed = clock.measure {
      do throws(AccountingError) { _ = try pld.epsilon(delta: 1e-6) } catch { refused = error }
    }
    guard case .resourceLimitExceeded(let reason)? = refused else {
      Issue.record("expected a resource error, got \(String(describing: refused))")
      return
    }
    #expect(reason.contains("100000 distinct releases") && reason.contains("Hint"))
    #expect(elapsed < .seconds(5), "refused after \(elapsed)")
    // Fewer distinct releases than the limit, but grids too large in all: refused too.
    var wide = PLDAccountant(discretization: .fixed(1e-6))
    try wide.compose(
      .composed(
        (0..<50).map {
          .poissonSampled(probability: 0.5, .gaussian(noiseMultiplier: 0.5 + Double($0) * 1e-3))
        }))
    #expect(throws: AccountingError.self) { try wide.epsilon(delta: 1e-6) }
    // RDP's cost grows with the distinct releases too (microseconds each, per order it
    // evaluates), but stays small: 2,000 of them here.
    var rdp = RDPAccountant()
    try rdp.compose(.composed(Array(ledger.composedEvents.prefix(2_000))))
    let epsilon = try rdp.epsilon(delta: 1e-6)
    #expect(epsilon.isFinite && epsilon > 0)
  }

  @Test(
    "events nested more than 1000 levels deep are refused by every accountant; 1000 levels work")
  func deepNesting() throws {
    var deep = DPEvent.gaussian(noiseMultiplier: 50)
    for _ in 0..<999 { deep = .selfComposed(deep, count: 1) }
    #expect(deep.parameterFailure() == nil)
    let deeper = DPEvent.selfComposed(deep, count: 1)
    #expect(
      deeper.parameterFailure()?.reason == "events must nest at most 1000 levels deep; got 1001.")
    for (name, make) in Self.accountants {
      #expect(Self.outcome(make, deep, "\(name) depth 1000") == nil, "\(name)")
      guard case .cannotCompose? = Self.outcome(make, deeper, "\(name) depth 1001") else {
        Issue.record("\(name): a 1001-deep event was not refused")
        continue
      }
    }
  }

  @Test(
    "NaN, ±∞, subnormal and negative-zero parameters, and extreme sizes, give a valid bound or an error in every accountant"
  )
  func hostileParameters() throws {
    let tiny = Double.leastNonzeroMagnitude
    let events: [DPEvent] = [
      .gaussian(noiseMultiplier: -0.0), .gaussian(noiseMultiplier: tiny),
      .gaussian(noiseMultiplier: 1e-170), .gaussian(noiseMultiplier: .greatestFiniteMagnitude),
      .gaussian(noiseMultiplier: .nan), .gaussian(noiseMultiplier: .infinity),
      .laplace(noiseMultiplier: tiny), .laplace(noiseMultiplier: -0.0),
      .discreteGaussian(noiseMultiplier: tiny), .discreteGaussian(noiseMultiplier: .nan),
      .poissonSampled(probability: tiny, .discreteGaussian(noiseMultiplier: tiny)),
      .poissonSampled(probability: 1 - 0x1p-53, .discreteGaussian(noiseMultiplier: 1e-3)),
      .poissonSampled(probability: 0.5, .discreteGaussian(noiseMultiplier: 1e-100)),
      .poissonSampled(
        probability: 1e-3, .discreteGaussian(noiseMultiplier: .greatestFiniteMagnitude)),
      .poissonSampled(probability: -0.0, .gaussian(noiseMultiplier: 1)),
      .poissonSampled(probability: tiny, .gaussian(noiseMultiplier: 1)),
      .poissonSampled(probability: tiny, .gaussian(noiseMultiplier: tiny)),
      .poissonSampled(probability: 1 - 0x1p-53, .gaussian(noiseMultiplier: 1e-3)),
      .poissonSampled(probability: 0.5, .gaussian(noiseMultiplier: 1e-100)),
      .poissonSampled(probability: .nan, .gaussian(noiseMultiplier: 1)),
      .poissonSampled(probability: .infinity, .gaussian(noiseMultiplier: 1)),
      .sampledWithoutReplacement(
        sourceSize: .max, sampleSize: .max / 2, .gaussian(noiseMultiplier: 1)),
      .sampledWithoutReplacement(sourceSize: .max, sampleSize: 1, .gaussian(noiseMultiplier: 1)),
      .sampledWithoutReplacement(sourceSize: .max, sampleSize: .max, .gaussian(noiseMultiplier: 1)),
      .sampledWithoutReplacement(sourceSize: 1, sampleSize: -1, .noOp),
      .participationSampled(probability: tiny, Self.sampled),
      .participationSampled(probability: -0.0, .nonPrivate),
      .participationSampled(probability: 1 - 0x1p-53, .gaussian(noiseMultiplier: tiny)),
      .tuned(runs: .poisson(mean: tiny), Self.sampled),
      .tuned(runs: .poisson(mean: .greatestFiniteMagnitude), Self.sampled),
      .tuned(
        runs: .truncatedNegativeBinomial(shape: 1e300, successProbability: tiny), Self.sampled),
      .tuned(
        runs: .truncatedNegativeBinomial(shape: -1 + 1e-15, successProbability: 1 - 0x1p-53),
        Self.sampled),
      .selfComposed(Self.sampled, count: .min),
    ]
    let deltas = [tiny, 1e-300, 1e-12, 0.5, 1]
    let epsilons: [Double] = [0, tiny, 1e-300, 1e300, .infinity]
    for (name, make) in Self.accountants {
      for event in events {
        let label = "\(name) \(event.summary)"
        let error = Self.outcome(make, event, deltas: deltas, epsilons: epsilons, label)
        if event.parameterFailure() != nil {
          #expect(error != nil, "\(label): an invalid event was accepted")
        }
      }
    }
  }

  @Test("queries and configurations out of range throw invalidArgument")
  func badQueries() throws {
    for (name, make) in Self.accountants {
      var accountant = make()
      try accountant.compose(Self.sampled, count: 10)
      for delta in [Double.nan, -1e-9, 1.5, -Double.infinity] {
        #expect(throws: AccountingError.self, "\(name) δ=\(delta)") {
          try accountant.epsilon(delta: delta)
        }
      }
      for epsilon in [Double.nan, -1, -Double.infinity] {
        #expect(throws: AccountingError.self, "\(name) ε=\(epsilon)") {
          try accountant.delta(epsilon: epsilon)
        }
      }
    }
    for discretization in [
      PLDAccountant.Discretization.fixed(0), .fixed(-1e-4), .fixed(.nan), .fixed(.infinity),
      .fixed(1e-12), .automatic(relativeError: .nan), .automatic(relativeError: 0),
      .automatic(relativeError: -1),
    ] {
      var pld = PLDAccountant(discretization: discretization)
      try pld.compose(Self.sampled, count: 10)
      guard case .invalidArgument? = Self.outcome({ pld }, .noOp, "pld \(discretization)") else {
        Issue.record("PLD \(discretization) was not refused")
        continue
      }
    }
    #expect(throws: AccountingError.self) { try RDPOrders([2, 1e300]) }
    #expect(throws: AccountingError.self) {
      try RDPOrders([2, Double(RDPOrders.maximumOrder) + 1])
    }
    let target = try PrivacyBudget(epsilon: 1, delta: 1e-6)
    #expect(throws: AccountingError.self) {
      try Calibration.count(target: target, accountant: { RDPAccountant() }, limit: 0) {
        .selfComposed(Self.sampled, count: $0)
      }
    }
    // A count limit of Int.max must not overflow the exponential search.
    let largest = try Calibration.count(
      target: target, accountant: { RDPAccountant() }, limit: .max
    ) {
      .selfComposed(.poissonSampled(probability: 1e-9, .gaussian(noiseMultiplier: 50)), count: $0)
    }
    #expect(largest == .max)
  }
}
