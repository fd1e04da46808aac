import Crypto
import Foundation

/// The checksums of a run folder (`manifest.json`): the SHA-256 of every file the run
/// writes, and of the data files it trains on by absolute path. `--resume` verifies them and
/// refuses a damaged or edited folder (naming the file) instead of continuing from it.
///
/// The manifest is written before the files it describes, and keeps each file's previous
/// checksum too: a run killed between writing the manifest and the file leaves the file as
/// it was, which still verifies.
struct RunManifest: Codable, Equatable, Sendable {
  /// A file's SHA-256 after its last write and before it.
  struct Entry: Codable, Equatable, Sendable {
    var sha256: String
    var previous: String?
  }

  /// The run's own files, by name.
  var files: [String: Entry] = [:]
  /// The data files the run trains on: absolute path → SHA-256.
  var data: [String: String] = [:]

  /// The manifest after `file` is replaced by `contents`.
  func recording(_ contents: Data, as file: String) -> RunManifest {
    var next = self
    let digest = Self.sha256(contents)
    let previous = files[file]?.sha256
    next.files[file] = Entry(sha256: digest, previous: previous == digest ? nil : previous)
    return next
  }

  /// SHA-256 in hex.
  static func sha256(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
  }

  /// SHA-256 of a file, read in 1 MiB chunks.
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when it cannot be read.
  static func sha256(file url: URL) throws -> String {
    guard let handle = try? FileHandle(forReadingFrom: url) else {
      throw FederatedError.runFolder(path: url.path, reason: "cannot be read")
    }
    defer { try? handle.close() }
    var hash = SHA256()
    while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty {
      hash.update(data: chunk)
    }
    return hash.finalize().map { String(format: "%02x", $0) }.joined()
  }
}
