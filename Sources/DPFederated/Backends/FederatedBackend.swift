import DPModel

/// Where a round's clients run (ARCHITECTURE, "the federated seam"): in this process
/// (``SimulatedBackend``) or on remote nodes. A backend is handed the round only once the
/// ``PrivacyLedger`` has accounted it (it needs the ``ReleaseAuthorization``), delivers the
/// global model and the round's context to the cohort, has each client run the client side
/// (``ClientProgram``) and returns what they sent.
public protocol FederatedBackend<Model>: Sendable {
  associatedtype Model: ClassificationModel where Model.Scalar == Float

  /// The results of the cohort's clients, in cohort order.
  func runClients(
    _ context: RoundContext, global: Model, authorization: ReleaseAuthorization
  ) throws -> [ClientResult]
}

/// The client side of a round, as every backend runs it for one client: the algorithm's
/// local computation, then the mechanism's constraint on what is sent.
public struct ClientProgram<Model: ClassificationModel, Example: Sendable>: Sendable
where Model.Scalar == Float {
  /// The algorithm (its client side only is used).
  public let algorithm: any FederatedAlgorithm<Model, Example>
  /// The mechanism (its client side only is used).
  public let mechanism: any PrivacyMechanism
  /// Where local noise comes from.
  public let noiseSource: NoiseSource

  public init(
    algorithm: any FederatedAlgorithm<Model, Example>, mechanism: any PrivacyMechanism,
    noiseSource: NoiseSource
  ) {
    self.algorithm = algorithm
    self.mechanism = mechanism
    self.noiseSource = noiseSource
  }

  /// Client `index`'s result for the round.
  public func run(
    _ data: ClientData<Example>, index: Int, global: Model, context: RoundContext
  ) -> ClientResult {
    result(
      of: train(data, index: index, global: global, context: context), index: index,
      exampleCount: data.examples.count, context: context)
  }

  /// Client `index`'s local computation (its update before the mechanism's constraint).
  public func train(
    _ data: ClientData<Example>, index: Int, global: Model, context: RoundContext
  ) -> ClientUpdate {
    algorithm.trainClient(
      data, index: index, global: global, context: context, steps: mechanism.localSteps,
      noiseSource: noiseSource)
  }

  /// The result of sending `local` (an honest client's update, or an attacker's) through the
  /// mechanism's constraint.
  public func result(of local: ClientUpdate, index: Int, exampleCount: Int, context: RoundContext)
    -> ClientResult
  {
    ClientResult(
      message: mechanism.message(for: local.update, client: index, context: context),
      loss: local.loss, exampleCount: exampleCount, clippedExamples: local.clippedExamples,
      localEpochs: local.localEpochs, bitsSent: local.bitsSent)
  }
}
