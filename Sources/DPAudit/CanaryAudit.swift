import DPFederated
import DPModel
import Foundation

/// `dpfl audit`'s instrument: m canary clients ride along a training run (``CanaryBackend``),
/// and after the last round their cosines with the model's change give an empirical ε
/// beside the accountant's: Andrew et al.'s one-shot estimate and Steinke et al.'s one-run
/// lower bound (``AuditResult``), written to the run folder's `audit.json`.
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
  /// The result, once the run has finished.
  public private(set) var result: AuditResult?
  private let participations = ParticipationLog()

  /// An audit with m canaries.
  public init(canaryCount: Int, seed: UInt64, confidence: Double = 0.95) {
    self.canaryCount = canaryCount
    self.seed = seed
    self.confidence = confidence
  }

  public func backend<Model, Example>(for trainer: FederatedTrainer<Model, Example>)
    -> any FederatedBackend<Model>
  {
    CanaryBackend(
      inner: trainer.backend, canaries: directions(trainer.model.trainableParameters.scalarCount),
      mechanism: trainer.mechanism, samplingProbability: trainer.sampler.samplingProbability,
      scale: min(1, trainer.sampler.noiseScale), firstIndex: trainer.dataset.clients.count,
      log: participations)
  }

  public var notes: [String] {
    [
      "audit run: \(canaryCount) canary clients (about half inserted) changed this model; it measures the mechanism and is not for deployment"
    ]
  }

  public func finish(
    initial: ParameterSet<Float>, final: ParameterSet<Float>, summary: TrainingSummary,
    folder: RunFolder
  ) throws {
    let canaries = directions(initial.scalarCount)
    let change = zip(final.flattened(), initial.flattened()).map { $0 - $1 }
    let result = AuditResult(
      canaries: canaries, cosines: canaries.cosines(with: change),
      participations: participations.counts, summary: summary, confidence: confidence)
    try folder.write(result, to: .audit)
    self.result = result
  }

  func directions(_ dimension: Int) -> CanaryDirections {
    CanaryDirections(count: canaryCount, dimension: dimension, seed: seed)
  }
}

/// How many rounds each canary joined (written by the backend, one round at a time).
final class ParticipationLog: @unchecked Sendable {
  private let lock = NSLock()
  private var joined: [Int: Int] = [:]

  func record(_ canaries: [Int]) {
    lock.withLock { for canary in canaries { joined[canary, default: 0] += 1 } }
  }

  /// Rounds joined, by canary.
  var counts: [Int: Int] { lock.withLock { joined } }
}
