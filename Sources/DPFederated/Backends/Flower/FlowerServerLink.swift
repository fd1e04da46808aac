import FlowerNode
import Foundation

/// The pipe between dpfl's server side and the thin Flower ServerApp that `dpfl
/// flower-app` writes: one JSON object per line each way. dpfl decides everything (cohort,
/// accounting, noise, the server's step); the ServerApp only moves messages between dpfl
/// and the nodes.
///
/// dpfl → app, one line a round: `{"type": "train", "round": t, "timeout": s,
/// "arrays": {name: base64 .npy}, "messages": [{"node": i, "config": {key: value}}]}` (the
/// arrays are the same for every node of the round); at the end
/// `{"type": "done", "summary": {…}}`.
/// app → dpfl, the answer to each round: `{"replies": [{"node": i, "arrays": {…},
/// "metrics": {key: number or null}}], "failures": [{"node": i, "reason": "…"}]}` (null for a
/// metric that is not finite).
public final class FlowerServerLink: @unchecked Sendable {
  private let input: FileHandle
  private let output: FileHandle
  private var buffered = Data()
  private let lock = NSLock()

  /// A link over `input` (the app's answers) and `output` (dpfl's requests).
  public init(input: FileHandle = .standardInput, output: FileHandle = .standardOutput) {
    self.input = input
    self.output = output
  }

  /// A node's answer to a round.
  public struct Reply: Sendable {
    public var node: Int
    public var content: FlowerRecordDict
  }

  /// Sends round `round`'s instructions (`arrays` for all, `config` per node) and waits for
  /// the answer: the replies, and why the other nodes gave none.
  /// - Throws: ``FederatedError/malformedData(file:line:reason:)`` when the app closes the
  ///   pipe or answers something else.
  public func exchange(
    round: Int, arrays: NamedValues<NumpyArray>,
    configs: [(node: Int, config: NamedValues<FlowerValue>)],
    timeout: Double
  ) throws -> (replies: [Reply], failures: [(node: Int, reason: String)]) {
    lock.lock()
    defer { lock.unlock() }
    let request: [String: Any] = [
      "type": "train", "round": round, "timeout": timeout, "arrays": Self.encode(arrays),
      "messages": configs.map {
        ["node": $0.node, "config": Self.encode($0.config)] as [String: Any]
      },
    ]
    try write(request)
    guard let answer = readLine() else { throw Self.malformed("the ServerApp closed the pipe") }
    guard let object = try? JSONSerialization.jsonObject(with: answer) as? [String: Any],
      let replies = object["replies"] as? [[String: Any]],
      let failures = object["failures"] as? [[String: Any]]
    else {
      throw Self.malformed(
        "the ServerApp's answer is not {replies, failures}: "
          + String(decoding: answer.prefix(200), as: UTF8.self))
    }
    return (
      try replies.map(Self.reply),
      failures.map { (($0["node"] as? Int) ?? -1, ($0["reason"] as? String) ?? "unknown") }
    )
  }

  /// Tells the app the run is over, with its summary.
  public func finish(summary: Data) throws {
    lock.lock()
    defer { lock.unlock() }
    let summaryObject = try JSONSerialization.jsonObject(with: summary)
    try write(["type": "done", "summary": summaryObject])
  }

  private func write(_ object: [String: Any]) throws {
    var line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    line.append(0x0A)
    try output.write(contentsOf: line)
  }

  private func readLine() -> Data? {
    while true {
      if let newline = buffered.firstIndex(of: 0x0A) {
        let line = buffered[buffered.startIndex..<newline]
        buffered = Data(buffered[(newline + 1)...])
        return Data(line)
      }
      // `availableData` returns what the pipe holds (waiting for some); `read(upToCount:)`
      // would wait for the whole count.
      let chunk = input.availableData
      guard !chunk.isEmpty else { return nil }
      buffered.append(chunk)
    }
  }

  private static func encode(_ arrays: NamedValues<NumpyArray>) -> [String: String] {
    Dictionary(
      uniqueKeysWithValues: arrays.entries.map { ($0, Data($1.npy).base64EncodedString()) })
  }

  private static func encode(_ config: NamedValues<FlowerValue>) -> [String: Any] {
    var object = [String: Any]()
    for (key, value) in config.entries {
      switch value {
      case .double(let number): object[key] = number
      case .int(let number): object[key] = number
      case .uint(let number): object[key] = number
      case .bool(let flag): object[key] = flag
      case .string(let text): object[key] = text
      case .ints(let numbers): object[key] = numbers
      case .doubles(let numbers): object[key] = numbers
      default: preconditionFailure("config value \(value) does not travel to the ServerApp")
      }
    }
    return object
  }

  private static func reply(_ object: [String: Any]) throws -> Reply {
    guard let node = object["node"] as? Int, let arrays = object["arrays"] as? [String: String],
      let metrics = object["metrics"] as? [String: Any]
    else { throw malformed("a reply without node, arrays and metrics") }
    var decodedArrays = NamedValues<NumpyArray>()
    for (name, encoded) in arrays.sorted(by: { $0.key < $1.key }) {
      guard let bytes = Data(base64Encoded: encoded),
        let array = try? NumpyArray(npy: Array(bytes))
      else { throw malformed("node \(node)'s array \(name) is not a base64 .npy") }
      decodedArrays[name] = array
    }
    var decodedMetrics = NamedValues<FlowerValue>()
    for (key, value) in metrics.sorted(by: { $0.key < $1.key }) {
      if value is NSNull {  // JSON has no NaN: the app sends a non-finite metric as null
        decodedMetrics[key] = .double(.nan)
        continue
      }
      guard let number = value as? NSNumber else { throw malformed("node \(node)'s metric \(key)") }
      decodedMetrics[key] = .double(number.doubleValue)
    }
    return Reply(
      node: node, content: ["arrays": .arrays(decodedArrays), "metrics": .metrics(decodedMetrics)])
  }

  private static func malformed(_ reason: String) -> FederatedError {
    .malformedData(file: "Flower ServerApp pipe", line: 0, reason: reason)
  }
}
