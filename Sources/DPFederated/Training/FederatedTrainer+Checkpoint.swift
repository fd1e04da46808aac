import Accountants
import DPModel

extension FederatedTrainer {
  /// The state to checkpoint now.
  public var checkpoint: Checkpoint {
    Checkpoint(
      round: round, epsilonSpent: ledger.epsilonSpent, trainables: model.trainableParameters,
      serverOptimizer: algorithm.serverOptimizer, clippingBound: mechanism.clippingBound,
      algorithmState: algorithm.algorithmState.isEmpty ? nil : algorithm.algorithmState)
  }

  /// Restores the state a checkpoint recorded, given the ledger found beside it
  /// (``PrivacyLedger/restore(recorded:completedRounds:reproducibleNoise:fallbackEpsilon:folder:)``
  /// says which rounds stay charged).
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when the checkpoint does not fit
  ///   the model and the configuration, or the ledger does not match.
  public mutating func restore(_ checkpoint: Checkpoint, recordedLedger: DPEvent, folder: String)
    throws
  {
    if let problem = checkpoint.problem(
      trainables: model.trainableParameters, optimizer: algorithm.serverOptimizer,
      configuration: configuration)
    {
      throw FederatedError.runFolder(path: folder, reason: "checkpoint.json: \(problem)")
    }
    try ledger.restore(
      recorded: recordedLedger, completedRounds: checkpoint.round,
      reproducibleNoise: configuration.randomness == .seeded,
      fallbackEpsilon: checkpoint.epsilonSpent, folder: folder)
    model.updateTrainables(checkpoint.trainables)
    round = checkpoint.round
    algorithm.serverOptimizer = checkpoint.serverOptimizer
    algorithm.algorithmState = checkpoint.algorithmState ?? AlgorithmState()
    mechanism.clippingBound = checkpoint.clippingBound
  }
}
