import DPModel
import Foundation

/// Crash-safe file replacement for the run folder, through DPModel's ``DurableFile``: a
/// temporary file created in the same folder under a fresh random name with
/// `O_CREAT | O_EXCL | O_NOFOLLOW` (a planted file or symbolic link is never followed),
/// mode 0644 whatever the umask, fsync, rename over the target (a link there is replaced,
/// not followed), fsync of the folder. A reader (or a resumed run) sees the old file or
/// the new one, never a torn one, and a completed write survives power loss.
enum AtomicFile {
  /// Replaces `url`'s contents with `data`.
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` naming the file and the errno.
  static func write(_ data: Data, to url: URL) throws {
    do {
      try DurableFile.write(data, to: url)
    } catch ModelError.fileUnwritable(_, let reason) {
      throw FederatedError.runFolder(path: url.path, reason: reason)
    }
  }
}
