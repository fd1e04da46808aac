import DPModel
import FlowerNode

/// Clients on Flower nodes (ARCHITECTURE, "the federated seam": the second backend). Each
/// round, the cohort's nodes get the global model's trainable parameters and the round's
/// public choices through the ServerApp (``FlowerServerLink``); each answers with its
/// clipped update. The ledger has already accounted the round when this runs, and the noise
/// is added to whatever sum arrives: a node that does not answer contributes nothing, and
/// neither the fixed denominator nor the noise depends on who answered.
public final class FlowerBackend<Model: ClassificationModel>: FederatedBackend,
  @unchecked Sendable
where Model.Scalar == Float {
  /// The pipe to the ServerApp.
  public let link: FlowerServerLink
  /// The configuration as the nodes receive it.
  public let configurationJSON: String
  /// How long a round waits for replies, in seconds.
  public let timeout: Double
  /// Replies received in each round so far.
  public private(set) var repliesPerRound: [Int] = []
  /// Why nodes of the cohort gave no reply, by round (1-based) and node.
  public private(set) var failures: [String] = []

  public init(link: FlowerServerLink, configurationJSON: String, timeout: Double) {
    self.link = link
    self.configurationJSON = configurationJSON
    self.timeout = timeout
  }

  public func runClients(
    _ context: RoundContext, global: Model, authorization: ReleaseAuthorization
  ) throws -> [ClientResult] {
    let template = global.trainableParameters
    let configs = context.cohort.map { client in
      (
        node: client,
        config: FlowerRoundContent.config(
          configurationJSON: configurationJSON, client: client, context: context)
      )
    }
    let arrays = FlowerRoundContent.arrays(template)
    let answer = try link.exchange(
      round: context.round, arrays: arrays, configs: configs, timeout: timeout)
    let cohort = Set(context.cohort)
    var results: [ClientResult] = []
    for reply in answer.replies.sorted(by: { $0.node < $1.node }) where cohort.contains(reply.node)
    {
      results.append(
        try FlowerRoundContent.result(
          reply.content, client: reply.node, template: template,
          clippingBound: context.clippingBound))
    }
    repliesPerRound.append(results.count)
    failures += answer.failures.map { "round \(context.round + 1), node \($0.node): \($0.reason)" }
    return results
  }
}
