import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The operating system's CSPRNG (`/dev/urandom`, the kernel's ChaCha20 generator, the same
/// source as `getrandom(2)`), read 4 KiB at a time.
///
/// `SystemRandomNumberGenerator` asks the kernel for every 8 bytes — about 430 ns a draw in
/// this project's VM (specs/swift-platform.md §3) — which makes exact discrete-Gaussian
/// noise, dozens of draws per coordinate, too slow; buffering gives the same bytes at a
/// small fraction of the cost. Not reproducible by design, and not for sharing between
/// threads (each release makes its own).
public struct SecureRandomNumberGenerator: RandomNumberGenerator {
  private var buffer = [UInt64](repeating: 0, count: 512)
  private var position = 512

  /// A generator whose first draw reads the kernel.
  public init() {}

  public mutating func next() -> UInt64 {
    if position == buffer.count { refill() }
    defer { position += 1 }
    return buffer[position]
  }

  private mutating func refill() {
    buffer.withUnsafeMutableBytes { raw in
      var system = SystemRandomNumberGenerator()
      let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
      var filled = 0
      if descriptor >= 0 {
        defer { close(descriptor) }
        while filled < raw.count {
          let count = read(descriptor, raw.baseAddress! + filled, raw.count - filled)
          if count <= 0 { break }
          filled += count
        }
      }
      // Without /dev/urandom (a chroot), fall back to the system generator for the rest.
      while filled + 8 <= raw.count {
        raw.storeBytes(of: system.next(), toByteOffset: filled, as: UInt64.self)
        filled += 8
      }
    }
    position = 0
  }
}
