import DPModel

/// Every client in this process, one after another, on the task's data (pfl-research's
/// simulation): the first backend.
public struct SimulatedBackend<Model: ClassificationModel, Example: Sendable>: FederatedBackend
where Model.Scalar == Float {
  /// The task's clients.
  public let clients: [ClientData<Example>]
  /// What each client runs.
  public let program: ClientProgram<Model, Example>
  /// How many clients run at once, each on its own thread. Each client's result depends
  /// only on its data, the global model and the round, so the round's results are the same
  /// for any number.
  public let workers: Int

  public init(
    clients: [ClientData<Example>], program: ClientProgram<Model, Example>, workers: Int = 1
  ) {
    self.clients = clients
    self.program = program
    self.workers = max(1, workers)
  }

  public func runClients(
    _ context: RoundContext, global: Model, authorization: ReleaseAuthorization
  ) throws -> [ClientResult] {
    context.cohort.concurrentMap(workers: workers) {
      program.run(clients[$0], index: $0, global: global, context: context)
    }
  }
}
