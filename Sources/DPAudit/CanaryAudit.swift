import DPFederated
import DPModel
import Foundation

/// `dpfl audit`'s instrument: m canaries ride along a training run — at user level as
/// clients (``CanaryBackend``), at example level as examples of host clients inside their
/// DP-SGD (``ExampleCanaryBackend``) — and after the last round their cosines with the
/// model's change give an empirical ε beside the accountant's: Andrew et al.'s one-shot
/// estimate and Steinke et al.'s one-run lower bound (``AuditResult``), written to the run
/// folder's `audit.json`.
///
/// The canaries change the model, so an audit run is a run of its own, never the one to
/// deploy; its summary says so.
public final class CanaryAudit: RunInstrument {
  /// m, the canaries (about half are inserted).
  public let canaryCount: Int
  /// The seed of the canaries' directions and coins (the auditor's secret).
  public let seed: UInt64
  /// The confidence of the lower bound.
  public let confidence: Double
  /// How much of an example canary's gradient the clip lets through: 1, or more to test that
  /// a broken clip is caught.
  var clipFactor = 1.0
  /// The result, once the run has finished.
  public private(set) var result: AuditResult?
  private let participations = ParticipationLog()
  /// The example-level audit's scores (`nil` at user level, scored on the final model).
  private var board: ScoreBoard?

  /// An audit with m canaries.
  public init(canaryCount: Int, seed: UInt64, confidence: Double = 0.95) {
    self.canaryCount = canaryCount
    self.seed = seed
    self.confidence = confidence
  }

  /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)`` for DP-BREM, and
  ///   for an example-level run that simulates a larger population: its host clients would take
  ///   part more often than the accounting's q, so the audit would measure the simulation.
  public func backend<Model, Example>(for trainer: FederatedTrainer<Model, Example>) throws
    -> any FederatedBackend<Model>
  {
    let canaries = directions(trainer.model.trainableParameters.scalarCount)
    guard trainer.configuration.method != .dpBREM else {
      throw FederatedError.invalidConfiguration(
        field: "--method", value: "dp-brem",
        allowed:
          "a method other than dp-brem: its noise is central and its records live on in the momentum, so neither audit here (final model at user level, client updates at example level) measures it"
      )
    }
    if trainer.configuration.privacyUnit == .example {
      guard !trainer.sampler.isSimulation,
        let simulation = trainer.backend as? SimulatedBackend<Model, Example>
      else {
        throw FederatedError.invalidConfiguration(
          field: "--population", value: "\(trainer.sampler.population)",
          allowed:
            "the task's \(trainer.dataset.clients.count) clients, with --noise-cohort-size equal to --cohort-size, for an example-level audit (no simulation)"
        )
      }
      var hosts = Xoshiro256StarStar(seed: seed ^ 0x686F_7374)
      let clients = trainer.dataset.clients.count
      let hosted = Dictionary(
        grouping: 0..<canaryCount, by: { _ in Int(hosts.next() % UInt64(clients)) })
      // Each client's noise is scored on the updates the server sees; the server's noise on
      // what it releases.
      let board = trainer.configuration.exampleNoisePlacement == .client ? ScoreBoard() : nil
      self.board = board
      return ExampleCanaryBackend(
        simulation: simulation, canaries: canaries, hosted: hosted,
        clipFactor: clipFactor, log: participations, board: board)
    }
    return CanaryBackend(
      inner: trainer.backend, canaries: canaries,
      mechanism: trainer.mechanism, samplingProbability: trainer.sampler.samplingProbability,
      scale: min(1, trainer.sampler.noiseScale), firstIndex: trainer.dataset.clients.count,
      log: participations)
  }

  public var notes: [String] {
    [
      "audit run: \(canaryCount) canaries (about half inserted) changed this model; it measures the mechanism and is not for deployment"
    ]
  }

  public func finish(
    initial: ParameterSet<Float>, final: ParameterSet<Float>, summary: TrainingSummary,
    folder: RunFolder
  ) throws {
    let canaries = directions(initial.scalarCount)
    let scores: [Double]
    if let board {
      scores = (0..<canaryCount).map { board.score($0, dimension: canaries.dimension) }
    } else {
      scores = canaries.cosines(with: zip(final.flattened(), initial.flattened()).map { $0 - $1 })
    }
    let result = AuditResult(
      canaries: canaries, scores: scores,
      threatModel: board == nil ? .finalModel : .clientUpdates,
      participations: participations.counts, summary: summary, confidence: confidence)
    try folder.write(result, to: .audit)
    self.result = result
  }

  func directions(_ dimension: Int) -> CanaryDirections {
    CanaryDirections(count: canaryCount, dimension: dimension, seed: seed)
  }
}

/// How many times each canary joined: rounds at user level, local DP-SGD steps at example
/// level (written by the backends' threads, read once the run is over).
final class ParticipationLog: @unchecked Sendable {
  private let lock = NSLock()
  private var joined: [Int: Int] = [:]

  func record(_ canaries: [Int]) {
    lock.withLock { for canary in canaries { joined[canary, default: 0] += 1 } }
  }

  /// Times joined, by canary.
  var counts: [Int: Int] { lock.withLock { joined } }
}
