import DPModel

/// What rides along a training run without a branch in its loop (ARCHITECTURE, "the
/// federated seam"): `dpfl audit`'s canary clients. An instrument may put its own backend
/// in place of the run's, usually wrapping it (more clients of the same algorithm, through
/// the same mechanism and ledger), says in the summary what it changed, and sees the trained parameters before
/// the first round and after the last.
public protocol RunInstrument {
  /// The backend the run uses in place of `trainer.backend` (which it may wrap).
  /// - Throws: ``FederatedError`` when the instrument cannot ride along this run.
  func backend<Model, Example>(for trainer: FederatedTrainer<Model, Example>) throws
    -> any FederatedBackend<Model>

  /// What the instrument changed about the run, in words (appended to the summary's
  /// assumptions).
  var notes: [String] { get }

  /// Called once after the last round, before the summary is written.
  /// - Parameters:
  ///   - initial: the trainable parameters before the first round.
  ///   - final: the trainable parameters after the last round.
  ///   - summary: the run's summary (with ``notes`` among its assumptions).
  ///   - folder: the run folder, for the instrument's own files.
  func finish(
    initial: ParameterSet<Float>, final: ParameterSet<Float>, summary: TrainingSummary,
    folder: RunFolder) throws
}
