import DPModel

/// Every client in this process, one after another, on the task's data (pfl-research's
/// simulation): the first backend.
public struct SimulatedBackend<Model: ClassificationModel, Example: Sendable>: FederatedBackend
where Model.Scalar == Float {
  /// The task's clients.
  public let clients: [ClientData<Example>]
  /// What each client runs.
  public let program: ClientProgram<Model, Example>

  public init(clients: [ClientData<Example>], program: ClientProgram<Model, Example>) {
    self.clients = clients
    self.program = program
  }

  public func runClients(
    _ context: RoundContext, global: Model, authorization: ReleaseAuthorization
  ) throws -> [ClientResult] {
    context.cohort.map { program.run(clients[$0], index: $0, global: global, context: context) }
  }
}
