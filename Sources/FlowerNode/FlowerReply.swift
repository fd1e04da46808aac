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

extension FlowerObjectGraph {
  /// Adds the `Message` object of a reply to `instruction` sent by node `nodeID` at `now`
  /// (seconds since 1970) with `content`, with the metadata Flower's
  /// `Message(content, reply_to=…)` gives it. Returns the message to push (its metadata
  /// carrying the message id; its content present but empty, as the Fleet API wants) and its
  /// object tree.
  mutating func addReply(
    to instruction: FlowerInstructionMetadata, from nodeID: UInt64, now: Double,
    content: FlowerRecordDict
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
    return addMessage(metadata, content: content)
  }

  /// Adds the `Message` object for `metadata` and `content` (Flower's `Message.deflate`:
  /// the metadata without its message id, serialised deterministically).
  mutating func addMessage(_ metadata: Flwr_Proto_Metadata, content: FlowerRecordDict)
    -> (message: Flwr_Proto_Message, tree: Flwr_Proto_ObjectTree)
  {
    let contentTree = add(content)
    var hashed = Flwr_Proto_Message()
    hashed.metadata = metadata
    hashed.metadata.messageID = ""
    var options = BinaryEncodingOptions()
    options.useDeterministicOrdering = true
    let body: [UInt8] = try! hashed.serializedBytes(options: options)
    let tree = add(.message, children: [contentTree], body: body)
    var message = Flwr_Proto_Message()
    message.metadata = metadata
    message.metadata.messageID = tree.objectID
    message.content = Flwr_Proto_RecordDict()
    return (message, tree)
  }
}
