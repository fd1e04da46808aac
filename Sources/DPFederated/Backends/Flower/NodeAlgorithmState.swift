import Foundation

/// What a Flower node's clients keep between rounds (DP-BREM: its user's momentum), on the
/// node's disk, so that a node that restarts continues where it stopped. The file belongs to
/// one run configuration: a file written for another one is not read, and is replaced.
struct NodeAlgorithmState: Codable {
  /// SHA-256 of the configuration's JSON, as the server sent it.
  var configurationSHA256: String
  /// The state (the node's clients' momenta).
  var state: AlgorithmState

  /// The state saved at `url` for `configurationJSON` (`nil` when there is none, or it is
  /// another configuration's).
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when the file exists but does not
  ///   read as a node's state.
  static func read(from url: URL, configurationJSON: String) throws -> AlgorithmState? {
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    let saved: NodeAlgorithmState
    do {
      saved = try JSONDecoder().decode(Self.self, from: Data(contentsOf: url))
    } catch {
      throw FederatedError.runFolder(path: url.path, reason: "not a node's state (\(error))")
    }
    return saved.configurationSHA256 == RunManifest.sha256(Data(configurationJSON.utf8))
      ? saved.state : nil
  }

  /// Writes `state` for `configurationJSON` to `url` (temporary file, fsync, rename).
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when it cannot be written.
  static func write(_ state: AlgorithmState, to url: URL, configurationJSON: String) throws {
    let saved = NodeAlgorithmState(
      configurationSHA256: RunManifest.sha256(Data(configurationJSON.utf8)), state: state)
    try AtomicFile.write(try JSONEncoder().encode(saved), to: url)
  }
}
