import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// An exclusive lock on a run folder for the life of the process (`flock` on its `.lock`
/// file): two processes never train into one folder. The kernel drops the lock when the
/// process ends, however it ends, so a killed run leaves no stale lock.
final class RunLock: Sendable {
  private let descriptor: Int32

  /// Takes the lock of `folder`.
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when another process holds it or
  ///   the lock file cannot be opened.
  init(folder: URL) throws {
    let path = folder.appendingPathComponent(".lock").path
    let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else {
      throw FederatedError.runFolder(
        path: folder.path, reason: "cannot open its lock file (\(String(cString: strerror(errno))))")
    }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      close(descriptor)
      throw FederatedError.runFolder(
        path: folder.path,
        reason: "is in use by another dpfl process; wait for it, or choose another --run-dir")
    }
    self.descriptor = descriptor
  }

  deinit {
    flock(descriptor, LOCK_UN)
    close(descriptor)
  }
}
