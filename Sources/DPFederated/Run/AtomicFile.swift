import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Crash-safe file replacement: write a temporary file in the same folder, fsync it,
/// rename it over the target, fsync the folder. A reader (or a resumed run) sees the old
/// file or the new one, never a torn one, and a completed write survives power loss.
enum AtomicFile {
  /// Replaces `url`'s contents with `data`.
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` naming the file and the errno.
  static func write(_ data: Data, to url: URL) throws {
    let folder = url.deletingLastPathComponent().path
    let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())"
    func fail(_ step: String) -> FederatedError {
      .runFolder(path: url.path, reason: "\(step) failed: \(String(cString: strerror(errno)))")
    }
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else { throw fail("creating \(temporary)") }
    let written = data.withUnsafeBytes { buffer -> Bool in
      var offset = 0
      while offset < buffer.count {
        let count = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
        if count <= 0 { return false }
        offset += count
      }
      return true
    }
    guard written, fsync(descriptor) == 0 else {
      close(descriptor)
      unlink(temporary)
      throw fail("writing")
    }
    close(descriptor)
    guard rename(temporary, url.path) == 0 else {
      unlink(temporary)
      throw fail("renaming")
    }
    let folderDescriptor = open(folder, O_RDONLY)
    if folderDescriptor >= 0 {
      fsync(folderDescriptor)
      close(folderDescriptor)
    }
  }
}
