import Accountants
import Foundation

/// A Flower node's own books ("the device keeps its own books"): every round it answered,
/// as the event its data took part in, composed and checked against the node's own budget
/// before its reply leaves, and written to disk (atomically) before that. Fail-closed: a
/// round the budget cannot afford, or a ledger that cannot be read or written, gets no
/// reply.
///
/// The event of an answered round is the round's release *without* the cohort sampling: a
/// node knows it took part and cannot check the server's secret sampling, so it takes no
/// amplification. Its σ is the one the node calibrates itself from the run's configuration
/// (the same code as the server), not a number the server sends. This bound is never below
/// the server's ledger for the same rounds, and is the device's guarantee if the server's
/// sampling were not what it claims. At user level the noise is the server's to add (central
/// DP); at example level a node's own local sampling (and, with each client's noise, its
/// noise) is drawn from its OS CSPRNG, so the amplification it takes from it is its own.
///
/// DP-BREM's momentum (β > 0) is one release over the rounds the node answers, not one per
/// round (see ``merged(_:)``).
public struct NodeLedger: Sendable {
  /// Where the ledger lives.
  public let url: URL
  /// The node's budget: at most this ε at `delta`.
  public let epsilon: Double
  /// δ of the budget.
  public let delta: Double
  /// The accountant of the budget check.
  public let accountant: AccountantKind
  /// The answered rounds' events, in order, with momentum rounds merged (``merged(_:)``).
  public private(set) var events: [DPEvent]

  /// The ledger at `url` (empty when there is no file yet).
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when the file exists but cannot
  ///   be read as a ledger.
  public init(url: URL, epsilon: Double, delta: Double, accountant: AccountantKind = .pld) throws {
    self.url = url
    self.epsilon = epsilon
    self.delta = delta
    self.accountant = accountant
    guard FileManager.default.fileExists(atPath: url.path) else {
      events = []
      return
    }
    do {
      events = try JSONDecoder().decode([DPEvent].self, from: Data(contentsOf: url))
    } catch {
      throw FederatedError.runFolder(path: url.path, reason: "not a node ledger (\(error))")
    }
  }

  /// The ε of the ledger with `event` added.
  public func epsilon(adding event: DPEvent) throws -> Double {
    try epsilon(of: Self.merged(events + [event]))
  }

  /// The ε of `charged`, a whole ledger's events.
  private func epsilon(of charged: [DPEvent]) throws -> Double {
    try PrivacyPlan.epsilon(of: .composed(charged), delta: delta, accountant: accountant)
  }

  /// Records `event` if the budget affords it, writing the ledger before returning; the ε
  /// it reaches. Returns nil, recording nothing, when it would exceed the budget.
  /// - Throws: ``FederatedError`` when the ledger cannot be accounted or written (then the
  ///   node must not reply).
  public mutating func authorize(_ event: DPEvent) throws -> Double? {
    let charged = Self.merged(events + [event])
    let reached = try epsilon(of: charged)
    guard reached <= epsilon else { return nil }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(encoder.encode(charged), to: url)
    events = charged
    return reached
  }

  /// A round's event as a node that took part sees it: the cohort sampling (the outermost
  /// sampling of each released part) removed; an example-level round keeps the node's own
  /// local sampling inside it, which the node draws itself.
  public static func unsampled(_ event: DPEvent) -> DPEvent {
    switch event {
    case .poissonSampled(_, let inner), .sampledWithoutReplacement(_, _, let inner),
      .participationSampled(_, let inner):
      inner
    case .selfComposed(let inner, let count): .selfComposed(unsampled(inner), count: count)
    case .composed(let events): .composed(events.map(unsampled))
    case .momentumGaussian(let release):
      .momentumGaussian(
        MomentumGaussian(
          noiseMultiplier: release.noiseMultiplier, momentum: release.momentum,
          recordProbability: release.recordProbability, participationProbability: 1,
          rounds: release.rounds))
    default: event
    }
  }

  /// `events` with the momentum releases taken part in every round (q = 1) of each β merged
  /// into one: T the sum of their rounds, σ the smallest, p the largest. A node answers the
  /// rounds of one configuration with one momentum, so one of its rounds is not a release of
  /// its own (its record stays in the momentum), and composing them would under-report.
  /// Merging is sound even where they were separate momenta (another configuration of the
  /// same β, or a node that restarted without its state): a momentum carried over is, round
  /// by round, at least the one started afresh (c_k ≥ c'_k, so S ≥ S₁ + S₂), a larger p
  /// includes the record more often, and a smaller σ bounds each round's Gaussian. Releases of
  /// different β come from different configurations, whose momenta are separate
  /// (``NodeAlgorithmState``), and compose.
  public static func merged(_ events: [DPEvent]) -> [DPEvent] {
    var result: [DPEvent] = []
    var momentumIndex: [Double: Int] = [:]
    for event in events {
      guard case .momentumGaussian(let release) = event, release.participationProbability == 1
      else {
        result.append(event)
        continue
      }
      guard let index = momentumIndex[release.momentum],
        case .momentumGaussian(var kept) = result[index]
      else {
        momentumIndex[release.momentum] = result.count
        result.append(event)
        continue
      }
      kept.rounds += release.rounds
      kept.noiseMultiplier = min(kept.noiseMultiplier, release.noiseMultiplier)
      kept.recordProbability = max(kept.recordProbability, release.recordProbability)
      result[index] = .momentumGaussian(kept)
    }
    return result
  }
}
