import Foundation

/// A message the SuperLink delivered to this node, with its content read.
public struct FlowerInstruction: Sendable {
  /// Its metadata (run, type, id, group).
  public let metadata: FlowerInstructionMetadata
  /// Its records (FedAvg's ServerApp sends `arrays` and `config`).
  public let content: FlowerRecordDict
}

/// A node joined to a SuperLink (`../shared/specs/flower.md`, steps 1–8): it registers and
/// activates its key, heartbeats, pulls messages and their objects (each checked against
/// its SHA-256 id), confirms them, pushes replies and their objects, and leaves.
public struct FleetNode: Sendable {
  /// The SuperLink's Fleet API.
  public let client: FleetClient
  /// The id the SuperLink gave this node.
  public let nodeID: UInt64
  /// The promised interval between heartbeats; the SuperLink declares the node gone after
  /// twice this.
  public let heartbeatInterval: Double

  private var node: Flwr_Proto_Node { .with { $0.nodeID = nodeID } }

  /// Registers and activates `client`'s key.
  public static func join(_ client: FleetClient, heartbeatInterval: Double = 30)
    async throws(FleetError) -> FleetNode
  {
    let key = Data(client.credentials.publicKeyPEM)
    let _: Flwr_Proto_RegisterNodeFleetResponse = try await client.call(
      "register-node", Flwr_Proto_RegisterNodeFleetRequest.with { $0.publicKey = key })
    let activated: Flwr_Proto_ActivateNodeResponse = try await client.call(
      "activate-node",
      Flwr_Proto_ActivateNodeRequest.with {
        $0.publicKey = key
        $0.heartbeatInterval = heartbeatInterval
      })
    return FleetNode(client: client, nodeID: activated.nodeID, heartbeatInterval: heartbeatInterval)
  }

  /// Tells the SuperLink the node is alive.
  public func heartbeat() async throws(FleetError) {
    let _: Flwr_Proto_SendNodeHeartbeatResponse = try await client.call(
      "send-node-heartbeat",
      Flwr_Proto_SendNodeHeartbeatRequest.with {
        $0.node = node
        $0.heartbeatInterval = heartbeatInterval
      })
  }

  /// The next message for this node, its objects pulled, checked and confirmed; nil when
  /// there is none.
  public func pullInstruction(
    objectPolling: FleetRetryPolicy = FleetRetryPolicy(
      attempts: 600, initialDelay: .milliseconds(100), maximumDelay: .seconds(1))
  )
    async throws(FleetError) -> FlowerInstruction?
  {
    let pulled: Flwr_Proto_PullMessagesResponse = try await client.call(
      "pull-messages", Flwr_Proto_PullMessagesRequest.with { $0.node = node })
    guard let message = pulled.messagesList.first, let tree = pulled.messageObjectTrees.first else {
      return nil
    }
    let runID = message.metadata.runID
    var graph = FlowerObjectGraph()
    for id in Self.postOrder(tree) where graph.objects[id] == nil {
      graph.insert(try await pullObject(id, runID: runID, polling: objectPolling))
    }
    let _: Flwr_Proto_ConfirmMessageReceivedResponse = try await client.call(
      "confirm-message-received",
      Flwr_Proto_ConfirmMessageReceivedRequest.with {
        $0.node = node
        $0.runID = runID
        $0.messageObjectID = message.metadata.messageID
      })
    guard let contentID = tree.children.first?.objectID else {
      throw .content(.malformedBody(.message, "message \(tree.objectID) carries no content"))
    }
    do {
      return FlowerInstruction(
        metadata: FlowerInstructionMetadata(proto: message.metadata),
        content: try graph.recordDict(contentID))
    } catch {
      throw .content(error)
    }
  }

  /// Sends `body` (content, or an error) as the reply to `instruction`.
  public func reply(
    to instruction: FlowerInstructionMetadata, body: FlowerReplyBody, runtime: Double
  ) async throws(FleetError) {
    var graph = FlowerObjectGraph()
    let (message, tree) = graph.addReply(
      to: instruction, from: nodeID, now: Date().timeIntervalSince1970, body: body)
    let pushed: Flwr_Proto_PushMessagesResponse = try await client.call(
      "push-messages",
      Flwr_Proto_PushMessagesRequest.with {
        $0.node = node
        $0.messagesList = [message]
        $0.messageObjectTrees = [tree]
        $0.clientappRuntimeList = [runtime]
      })
    for id in pushed.objectsToPush {
      guard let object = graph.objects[id] else { throw .objectUnavailable(id: id) }
      let _: Flwr_Proto_PushObjectResponse = try await client.call(
        "push-object",
        Flwr_Proto_PushObjectRequest.with {
          $0.node = node
          $0.runID = instruction.runID
          $0.objectID = id
          $0.objectContent = Data(object.content)
          $0.sessionID = pushed.sessionID
        })
    }
  }

  /// Deactivates and unregisters the node.
  public func leave() async throws(FleetError) {
    let _: Flwr_Proto_DeactivateNodeResponse = try await client.call(
      "deactivate-node", Flwr_Proto_DeactivateNodeRequest.with { $0.nodeID = nodeID })
    let _: Flwr_Proto_UnregisterNodeFleetResponse = try await client.call(
      "unregister-node", Flwr_Proto_UnregisterNodeFleetRequest.with { $0.nodeID = nodeID })
  }

  private func pullObject(_ id: String, runID: UInt64, polling: FleetRetryPolicy)
    async throws(FleetError) -> FlowerObject
  {
    for attempt in 0..<max(polling.attempts, 1) {
      if attempt > 0 { try? await Task.sleep(for: polling.delay(after: attempt - 1)) }
      let pulled: Flwr_Proto_PullObjectResponse = try await client.call(
        "pull-object",
        Flwr_Proto_PullObjectRequest.with {
          $0.node = node
          $0.runID = runID
          $0.objectID = id
        })
      guard pulled.objectAvailable else { continue }
      do {
        return try FlowerObject(content: Array(pulled.objectContent), expectedID: id)
      } catch {
        throw .object(error)
      }
    }
    throw .objectUnavailable(id: id)
  }

  /// The ids of `tree`, children before parents.
  static func postOrder(_ tree: Flwr_Proto_ObjectTree) -> [String] {
    tree.children.flatMap(postOrder) + [tree.objectID]
  }
}
