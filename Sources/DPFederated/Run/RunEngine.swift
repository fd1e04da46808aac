import DPModel

/// Where a run's clients compute when not in this process (ARCHITECTURE, "the federated
/// seam"): Flower's nodes. An engine puts its backend in the simulation's place before the
/// first round; an instrument (``RunInstrument``) may then wrap it, so both can ride one run.
public protocol RunEngine {
  /// The backend the run uses in place of the simulation's.
  /// - Throws: ``FederatedError`` when the engine cannot run this configuration.
  func backend<Model, Example>(for trainer: FederatedTrainer<Model, Example>) throws
    -> any FederatedBackend<Model>

  /// Each client's number of examples, when the run's dataset does not hold the examples
  /// (a server whose clients are remote); example level calibrates σ for them.
  var clientSizes: [Int]? { get }

  /// Whether the run's cohorts are drawn from the operating system's CSPRNG
  /// (``FederatedTrainer/secretCohorts``): a real federation's.
  var secretCohorts: Bool { get }

  /// What the engine did, in words (appended to the summary's assumptions), read once the
  /// last round is over.
  var notes: [String] { get }
}
