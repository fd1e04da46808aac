import Accountants
import DPModel

extension TrainingRun {
  /// The summary of a finished (or stopped) run.
  static func summary<Model, Example>(
    of trainer: FederatedTrainer<Model, Example>, metrics: [RoundMetrics], accuracyBefore: Double,
    stopReason: String?, folder: RunFolder, wallSeconds: Double
  ) throws -> TrainingSummary {
    let configuration = trainer.configuration
    let ledger = trainer.ledger.events
    let rdpFindings =
      configuration.privacy
      ? LedgerAccounting.epsilon(ledger: ledger, delta: configuration.delta, methods: [.rdp])
      : nil
    let rdpEpsilon = try? rdpFindings?[0].finding.get().bound.value
    let byRank =
      configuration.method == .dpDyLoRA
      ? (1...configuration.rank).map { trainer.evaluationAccuracy(activeRank: $0) } : nil
    let sampler = trainer.sampler
    let accuracyAfter = trainer.evaluationAccuracy()
    let majority = majorityAccuracy(trainer.dataset.evaluation.labels)
    return TrainingSummary(
      task: trainer.dataset.name, method: configuration.method.rawValue,
      privacyUnit: configuration.privacyUnit.rawValue,
      epsilon: try trainer.ledger.exactEpsilonSpent(), rdpEpsilon: rdpEpsilon,
      targetEpsilon: configuration.targetEpsilon, delta: configuration.delta,
      accountant: configuration.accountantKind.rawValue,
      noiseMultiplier: trainer.noiseMultiplier, clippingBound: configuration.effectiveClippingBound,
      finalClippingBound: configuration.adaptiveClipping ? trainer.mechanism.clippingBound : nil,
      rounds: trainer.round, plannedRounds: configuration.plannedRounds,
      accuracyBefore: accuracyBefore, accuracyAfter: accuracyAfter, majorityAccuracy: majority,
      accuracyByRank: byRank,
      bytesPerClientPerRound: metrics.isEmpty
        ? 0 : metrics.map(\.bytesPerClient).reduce(0, +) / metrics.count,
      bytesFullUpdate: trainer.model.trainableParameters.scalarCount * MemoryLayout<Float>.size,
      coding: trainer.mechanism.codingReport(adapter: configuration.adapterMethod),
      runDir: folder.url.path, simulatedPopulation: sampler.population,
      noiseCohortSize: sampler.noiseCohortSize, cohortSize: configuration.clientsPerRound,
      maxLength: Example.self == String.self ? configuration.tokenLimit : nil,
      simulation: sampler.isSimulation, noiseSource: configuration.randomness.rawValue,
      byzantine: configuration.attack.map {
        ByzantineReport(
          clients: configuration.byzantineClients(clientCount: sampler.clientCount),
          of: sampler.clientCount, attack: $0.rawValue)
      },
      assumptions: assumptions(of: trainer),
      warnings: accuracyAfter <= majority
        ? [
          "the model is no better than predicting the most common label (accuracy \(accuracyAfter) ≤ \(majority)); hint: train longer (--rounds), raise --local-learning-rate or --server-learning-rate, or compare with --no-privacy to see whether the noise or the training is at fault"
        ] : [],
      stopReason: stopReason, wallSeconds: wallSeconds)
  }

  /// The share of the most common label in `labels` (0 when empty).
  static func majorityAccuracy(_ labels: [Int]) -> Double {
    let counts = Dictionary(labels.map { ($0, 1) }, uniquingKeysWith: +)
    return Double(counts.values.max() ?? 0) / Double(max(1, labels.count))
  }

  /// What a run's ε means, in words: the mechanism's assumptions, the simulation, the
  /// noise source.
  static func assumptions<Model, Example>(of trainer: FederatedTrainer<Model, Example>)
    -> [String]
  {
    var notes = trainer.mechanism.assumptions
    guard trainer.configuration.privacy else { return notes }
    if let simulation = trainer.sampler.simulationAssumption { notes.append(simulation) }
    notes.append("noise source: \(trainer.configuration.randomness.rawValue)")
    return notes
  }
}
