import Foundation
import SwiftProtobuf

/// The metadata of a message the SuperLink delivered, as a SuperNode needs it.
public struct FlowerInstructionMetadata: Sendable {
  let proto: Flwr_Proto_Metadata

  /// The run the message belongs to.
  public var runID: UInt64 { proto.runID }
  /// The message's id (the object id of its `Message` object).
  public var messageID: String { proto.messageID }
  /// `train`, `evaluate`, `query` or a custom type.
  public var messageType: String { proto.messageType }
  /// The round's group (FedAvg's ServerApp uses the round number).
  public var groupID: String { proto.groupID }
}

/// What a reply carries: content, or an error in place of content (Flower's `Message(error,
/// reply_to=…)`, which a ServerApp sees as a failed reply at once rather than a timeout).
public enum FlowerReplyBody: Sendable {
  case content(FlowerRecordDict)
  /// Flower's error code (`flwr.common.constant.ErrorCode`) and a reason.
  case error(code: Int64, reason: String)

  /// `ErrorCode.CLIENT_APP_RAISED_EXCEPTION`: the client side declined or failed.
  public static let clientDeclined: Int64 = 2
}

extension FlowerObjectGraph {
  /// Adds the `Message` object of a reply to `instruction` sent by node `nodeID` at `now`
  /// (seconds since 1970) with `body`, with the metadata Flower's
  /// `Message(content, reply_to=…)` gives it. Returns the message to push (its metadata
  /// carrying the message id; its content present but empty, as the Fleet API wants, or its
  /// error) and its object tree.
  mutating func addReply(
    to instruction: FlowerInstructionMetadata, from nodeID: UInt64, now: Double,
    body: FlowerReplyBody
  ) -> (message: Flwr_Proto_Message, tree: Flwr_Proto_ObjectTree) {
    let received = instruction.proto
    var metadata = Flwr_Proto_Metadata()
    metadata.runID = received.runID
    metadata.srcNodeID = nodeID
    metadata.dstNodeID = received.srcNodeID
    metadata.replyToMessageID = received.messageID
    metadata.groupID = received.groupID
    metadata.createdAt = now
    metadata.ttl = received.createdAt + received.ttl - now
    metadata.messageType = received.messageType
    if received.hasDstTaskID { metadata.srcTaskID = received.dstTaskID }
    if received.hasSrcTaskID { metadata.dstTaskID = received.srcTaskID }
    switch body {
    case .content(let content): return addMessage(metadata, content: content)
    case .error(let code, let reason): return addErrorMessage(metadata, code: code, reason: reason)
    }
  }

  /// Adds the `Message` object for `metadata` and `content` (Flower's `Message.deflate`:
  /// the metadata without its message id, serialised deterministically).
  mutating func addMessage(_ metadata: Flwr_Proto_Metadata, content: FlowerRecordDict)
    -> (message: Flwr_Proto_Message, tree: Flwr_Proto_ObjectTree)
  {
    let contentTree = add(content)
    var message = Flwr_Proto_Message()
    message.metadata = metadata
    let tree = add(.message, children: [contentTree], body: Self.messageBody(message))
    message.metadata.messageID = tree.objectID
    message.content = Flwr_Proto_RecordDict()
    return (message, tree)
  }

  /// Adds the `Message` object of an error message: no children, the error in its body
  /// beside the metadata; the pushed message carries the error and no content.
  mutating func addErrorMessage(_ metadata: Flwr_Proto_Metadata, code: Int64, reason: String)
    -> (message: Flwr_Proto_Message, tree: Flwr_Proto_ObjectTree)
  {
    var message = Flwr_Proto_Message()
    message.metadata = metadata
    message.error = .with {
      $0.code = code
      $0.reason = reason
    }
    let tree = add(.message, children: [], body: Self.messageBody(message))
    message.metadata.messageID = tree.objectID
    return (message, tree)
  }

  /// A `Message` object's body: the message without its id (and without content),
  /// serialised deterministically.
  private static func messageBody(_ message: Flwr_Proto_Message) -> [UInt8] {
    var hashed = message
    hashed.metadata.messageID = ""
    hashed.clearContent()
    var options = BinaryEncodingOptions()
    options.useDeterministicOrdering = true
    return try! hashed.serializedBytes(options: options)
  }
}
