import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Crash-safe, link-safe file replacement: the one way dpfl writes a file it must not lose
/// or let anyone redirect (model weights, adapters, run records).
///
/// 1. A temporary file is created in the destination's folder under a fresh random name,
///    with `O_CREAT | O_EXCL | O_NOFOLLOW`: if anything already exists at that name — a
///    file, or a symbolic link planted to redirect the write — creation fails (and another
///    name is tried) instead of following it.
/// 2. Its permissions are set to `permissions` (0644 by default) with `fchmod`, whatever
///    the umask, so the file is never group- or world-writable.
/// 3. The bytes are written and `fsync`ed; the file is renamed over the destination (a
///    symbolic link at the destination is replaced, never followed); the folder is
///    `fsync`ed, so a completed write survives power loss.
///
/// A reader sees the old file or the new one, never a torn one.
public enum DurableFile {
  /// How many random temporary names are tried before giving up.
  static let attempts = 16

  /// Replaces the file at `url` with `data` (see the type's documentation).
  ///
  /// - Parameters:
  ///   - permissions: the new file's mode; the group and world write bits are always cleared.
  /// - Throws: ``ModelError/fileUnwritable(file:reason:)`` naming the file, the step that
  ///   failed and the system's reason.
  public static func write(_ data: Data, to url: URL, permissions: mode_t = 0o644) throws {
    let folder = url.deletingLastPathComponent().path
    func failure(_ step: String, _ code: Int32 = errno) -> ModelError {
      .fileUnwritable(file: url.path, reason: "\(step) failed (\(String(cString: strerror(code))))")
    }
    var created: (descriptor: Int32, path: String)?
    for _ in 0..<attempts {
      let path = temporaryPath(for: url)
      let descriptor = openExclusive(path)
      if descriptor >= 0 {
        created = (descriptor, path)
        break
      }
      guard errno == EEXIST else { throw failure("creating a temporary file in \(folder)") }
    }
    guard let (descriptor, temporary) = created else {
      throw failure("creating a temporary file in \(folder) (every name taken)", EEXIST)
    }
    guard fchmod(descriptor, permissions & ~0o022) == 0 else {
      let error = failure("setting permissions")
      close(descriptor)
      unlink(temporary)
      throw error
    }
    let written = data.withUnsafeBytes { buffer -> Bool in
      var offset = 0
      while offset < buffer.count {
        let count = Foundation.write(
          descriptor, buffer.baseAddress! + offset, buffer.count - offset)
        if count < 0 && errno == EINTR { continue }
        if count <= 0 { return false }
        offset += count
      }
      return true
    }
    guard written, fsync(descriptor) == 0 else {
      let error = failure("writing")
      close(descriptor)
      unlink(temporary)
      throw error
    }
    close(descriptor)
    guard rename(temporary, url.path) == 0 else {
      let error = failure("renaming into place")
      unlink(temporary)
      throw error
    }
    let folderDescriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if folderDescriptor >= 0 {
      fsync(folderDescriptor)
      close(folderDescriptor)
    }
  }

  /// `.<name>.tmp-<pid>-<16 random hex digits>` beside `url`.
  static func temporaryPath(for url: URL) -> String {
    let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    return url.deletingLastPathComponent().path + "/." + url.lastPathComponent
      + ".tmp-\(getpid())-" + suffix
  }

  /// Creates `path` for writing only if nothing (not even a symbolic link) is there;
  /// returns the descriptor, or −1 with `errno` set (EEXIST when something is there).
  static func openExclusive(_ path: String) -> Int32 {
    open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
  }
}
