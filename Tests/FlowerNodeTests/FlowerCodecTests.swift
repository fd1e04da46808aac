import Foundation
import Testing

@testable import FlowerNode

@Suite("Flower's object codec, byte for byte against the pinned wheel")
struct FlowerCodecTests {
  let vectors = FlowerCodecVectors.shared

  /// The content `codec_vectors.py` builds, in Swift.
  var content: FlowerRecordDict {
    var arrays = NamedValues<NumpyArray>()
    for name in [
      "encoder.0.lora_A", "encoder.0.lora_B", "head.bias", "caf\u{e9} \"\u{1F600}\"\t\\",
    ] {
      let array = vectors.arrays[name]!
      arrays[name] = NumpyArray(float32: array.values.map(Float.init), shape: array.shape)
    }
    let config: NamedValues<FlowerValue> = [
      "server-round": .int(3), "lr": .double(0.05), "private": .bool(true),
      "method": .string("dp-lora"), "ranks": .ints([1, 2, 4]), "weights": .doubles([0.25, 0.75]),
      "names": .strings(["a", "b"]), "seed": .uint((1 << 63) + 5), "blob": .bytes([0, 1]),
      "r\u{f4}le \"x\"": .string("caf\u{e9}\n"),
    ]
    let metrics: NamedValues<FlowerValue> = [
      "num-examples": .int(10), "loss": .double(0.25), "per-class": .doubles([1.0, 2.5]),
    ]
    return ["arrays": .arrays(arrays), "config": .config(config), "metrics": .metrics(metrics)]
  }

  /// The metadata `codec_vectors.py` gives its message.
  var metadata: Flwr_Proto_Metadata {
    .with {
      $0.runID = 7
      $0.srcNodeID = 42
      $0.dstNodeID = 1
      $0.replyToMessageID = String(repeating: "ab", count: 32)
      $0.groupID = "3"
      $0.createdAt = 1_764_800_000.125
      $0.ttl = 43199.5
      $0.messageType = "train"
      $0.dstTaskID = 9
    }
  }

  @Test("an object's bytes and id: Flower's ArrayChunk test vector")
  func arrayChunkVector() {
    let chunk = FlowerObject(kind: .arrayChunk, childIDs: [], body: Array("abc".utf8))
    #expect(chunk.content == Array(vectors.array_chunk_abc.content))
    #expect(chunk.id == vectors.array_chunk_abc.id)
    #expect(chunk.id.hasPrefix("8f373c14"))
  }

  @Test("deflating a message gives the objects and ids of the pinned Flower exactly")
  func deflateMatchesFlower() throws {
    var graph = FlowerObjectGraph(maximumChunkBytes: vectors.chunk_bytes)
    let (message, tree) = graph.addMessage(metadata, content: content)
    #expect(tree.objectID == vectors.message_root)
    #expect(tree.children.map(\.objectID) == [vectors.content_root])
    #expect(message.metadata.messageID == vectors.message_root)
    #expect(message.hasContent && message.content.items.isEmpty)
    #expect(FleetNode.postOrder(tree) == vectors.objects.map(\.id))
    #expect(graph.objects.count == Set(vectors.objects.map(\.id)).count)
    for expected in vectors.objects {
      let object = try #require(graph.objects[expected.id], "object \(expected.id) missing")
      #expect(object.content == Array(expected.content))
    }
  }

  @Test("an error reply is one Message object with the error in its body, as Flower's")
  func errorReplyMatchesFlower() throws {
    let expected = vectors.error_message
    var metadata = metadata
    metadata.replyToMessageID = String(repeating: "cd", count: 32)
    metadata.groupID = "4"
    metadata.createdAt = 1_764_800_001.5
    metadata.ttl = 600.25
    metadata.messageType = "evaluate"
    var graph = FlowerObjectGraph()
    let (message, tree) = graph.addErrorMessage(
      metadata, code: expected.code, reason: expected.reason)
    #expect(tree.objectID == expected.id && tree.children.isEmpty)
    #expect(FleetNode.postOrder(tree) == expected.objects)
    #expect(graph.objects[expected.id]?.content == Array(expected.content))
    #expect(message.metadata.messageID == expected.id)
    #expect(message.hasError && !message.hasContent)
    #expect(message.error.code == 2 && message.error.reason == expected.reason)
  }

  @Test("inflating Flower's objects gives the content back")
  func inflateFlowerObjects() throws {
    var graph = FlowerObjectGraph()
    for object in vectors.objects {
      graph.insert(try FlowerObject(content: Array(object.content), expectedID: object.id))
    }
    #expect(try graph.recordDict(vectors.content_root) == content)
  }

  @Test("a tampered object, an unknown type or a short body is refused")
  func refusesBadObjects() throws {
    let chunk = Array(vectors.array_chunk_abc.content)
    var tampered = chunk
    tampered[tampered.count - 1] = UInt8(ascii: "d")
    #expect(throws: FlowerObject.FormatError.self) {
      try FlowerObject(content: tampered, expectedID: vectors.array_chunk_abc.id)
    }
    #expect(throws: FlowerObject.FormatError.unknownKind("Blob")) {
      try FlowerObject(content: Array("Blob  3\0abc".utf8))
    }
    #expect(throws: FlowerObject.FormatError.bodyLength(declared: 4, found: 3)) {
      try FlowerObject(content: Array("ArrayChunk  4\0abc".utf8))
    }
    #expect(throws: FlowerObject.FormatError.noHead) {
      try FlowerObject(content: Array("abc".utf8))
    }
  }

  @Test("content that names an object not received is refused")
  func missingChild() throws {
    var graph = FlowerObjectGraph()
    for object in vectors.objects where !object.content.starts(with: Array("ArrayChunk".utf8)) {
      graph.insert(try FlowerObject(content: Array(object.content)))
    }
    #expect(throws: FlowerContentError.self) { try graph.recordDict(vectors.content_root) }
  }

  @Test("JSON strings are escaped as Python's json.dumps escapes them")
  func pythonJSONStrings() {
    #expect(PythonJSON.string("a\"b\\c\n\t\u{1}") == #""a\"b\\c\n\t\u0001""#)
    #expect(PythonJSON.string("caf\u{e9} \u{1F600}") == #""caf\u00e9 \ud83d\ude00""#)
    #expect(
      OrderedJSONObject.stringPairs(Array(#"{"z": "1", "a\u00e9\"": "2"}"#.utf8))!
        .map { "\($0.0)=\($0.1)" } == ["z=1", "a\u{e9}\"=2"])
    #expect(OrderedJSONObject.stringPairs(Array(#"{"z": 1}"#.utf8)) == nil)
  }
}
