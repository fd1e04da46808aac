import Foundation

extension RunFolder {
  /// The manifest on disk (empty before the first write).
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when it is malformed.
  func manifest() throws -> RunManifest {
    try read(RunManifest.self, from: .manifest) ?? RunManifest()
  }

  /// Replaces the manifest atomically.
  func writeManifest(_ manifest: RunManifest) throws {
    let data: Data
    do { data = try Self.encoder.encode(manifest) + Data("\n".utf8) } catch {
      throw FederatedError.runFolder(path: path(.manifest).path, reason: "cannot encode (\(error))")
    }
    try AtomicFile.write(data, to: path(.manifest))
  }

  /// Records the SHA-256 of the data files a new run trains on (absolute paths).
  public func recordData(_ files: [URL]) throws {
    var manifest = try manifest()
    for file in files {
      manifest.data[file.standardizedFileURL.path] = try RunManifest.sha256(file: file)
    }
    try writeManifest(manifest)
  }

  /// Checks the files a resume reads against the manifest, then records what is on disk as
  /// current (so a second interruption is covered too).
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` naming a file that is missing,
  ///   unlisted or changed, or a data file that changed since the run started.
  func verify() throws {
    guard FileManager.default.fileExists(atPath: path(.manifest).path) else {
      throw FederatedError.runFolder(
        path: path(.manifest).path,
        reason: "is missing: the run folder cannot be checked (written by an older dpfl, or damaged)")
    }
    var manifest = try manifest()
    for file in Self.resumed {
      guard let contents = FileManager.default.contents(atPath: path(file).path) else {
        throw FederatedError.runFolder(path: path(file).path, reason: "is missing")
      }
      let digest = RunManifest.sha256(contents)
      guard let entry = manifest.files[file.rawValue] else {
        throw FederatedError.runFolder(path: path(file).path, reason: "is not in manifest.json")
      }
      guard digest == entry.sha256 || digest == entry.previous else {
        throw FederatedError.runFolder(
          path: path(file).path,
          reason:
            "does not match its checksum in manifest.json (SHA-256 \(digest.prefix(12))…, recorded \(entry.sha256.prefix(12))…): the file was damaged or edited"
        )
      }
      manifest.files[file.rawValue] = RunManifest.Entry(sha256: digest, previous: nil)
    }
    for (file, recorded) in manifest.data.sorted(by: { $0.key < $1.key }) {
      let digest = try RunManifest.sha256(file: URL(fileURLWithPath: file))
      guard digest == recorded else {
        throw FederatedError.runFolder(
          path: file, reason: "changed since the run started (its SHA-256 is not the recorded one)")
      }
    }
    try writeManifest(manifest)
  }
}
