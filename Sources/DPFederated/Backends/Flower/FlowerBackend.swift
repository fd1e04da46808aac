import DPModel
import FlowerNode

/// Clients on Flower nodes (ARCHITECTURE, "the federated seam": the second backend). Each
/// round, the cohort's nodes get the global model's trainable parameters and the round's
/// public choices through the ServerApp (``FlowerServerLink``); each answers with its
/// message, which the server puts through the mechanism's constraint again (the clip at user
/// level), so that what is released holds whatever a node sent. The ledger has already
/// accounted the round when this runs, and the noise is added to whatever sum arrives: a node
/// that does not answer contributes nothing, and neither the fixed denominator nor the noise
/// depends on who answered.
public struct FlowerBackend<Model: ClassificationModel>: FederatedBackend
where Model.Scalar == Float {
  /// The pipe to the ServerApp.
  public let link: FlowerServerLink
  /// The configuration as the nodes receive it.
  public let configurationJSON: String
  /// A JSON Lines run's data schema as the nodes receive it (``JSONLDataset/Schema``).
  public let dataJSON: String?
  /// How long a round waits for replies, in seconds.
  public let timeout: Double
  /// The run's mechanism, whose client-side constraint every reply is put through.
  public let mechanism: any PrivacyMechanism
  /// Where the replies of each round are counted.
  public let log: FlowerReplyLog

  public init(
    link: FlowerServerLink, configurationJSON: String, dataJSON: String? = nil, timeout: Double,
    mechanism: any PrivacyMechanism, log: FlowerReplyLog
  ) {
    self.link = link
    self.configurationJSON = configurationJSON
    self.dataJSON = dataJSON
    self.timeout = timeout
    self.mechanism = mechanism
    self.log = log
  }

  public func runClients(
    _ context: RoundContext, global: Model, authorization: ReleaseAuthorization
  ) throws -> [ClientResult] {
    let template = global.trainableParameters
    let configs = context.cohort.map { client in
      (
        node: client,
        config: FlowerRoundContent.config(
          configurationJSON: configurationJSON, dataJSON: dataJSON, client: client,
          context: context)
      )
    }
    let arrays = FlowerRoundContent.arrays(template, context: context)
    let answer = try link.exchange(
      round: context.round, arrays: arrays, configs: configs, timeout: timeout)
    let cohort = Set(context.cohort)
    var results: [ClientResult] = []
    var failures = answer.failures.map { (node: $0.node, reason: $0.reason) }
    for reply in answer.replies.sorted(by: { $0.node < $1.node }) where cohort.contains(reply.node)
    {
      // A reply that does not read as an update of this model, or holds a value that is not
      // finite, counts as no reply: one node cannot stop the run.
      do {
        results.append(
          try FlowerRoundContent.result(
            reply.content, client: reply.node, template: template
          ) { sent in mechanism.received(sent, client: reply.node, context: context) })
      } catch {
        failures.append((reply.node, "a malformed reply was left out (\(error))"))
      }
    }
    log.record(
      replies: results.count,
      failures: failures.map { "round \(context.round + 1), node \($0.node): \($0.reason)" })
    return results
  }
}

/// The replies of a Flower run's rounds, for its summary.
public final class FlowerReplyLog: @unchecked Sendable {
  /// Replies received in each round so far.
  public private(set) var repliesPerRound: [Int] = []
  /// Why nodes of the cohort gave no reply, by round (1-based) and node.
  public private(set) var failures: [String] = []

  public init() {}

  func record(replies: Int, failures: [String]) {
    repliesPerRound.append(replies)
    self.failures += failures
  }
}
