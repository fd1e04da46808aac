import ArgumentParser
import DPModel

/// Where the Gaussian noise of a release comes from, recorded in every run's config.
public enum NoiseSource: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// A seeded xoshiro256** stream derived from the run seed and the round: reproducible,
  /// for simulation and tests; a resumed run redraws exactly the same noise.
  case seeded
  /// The operating system's CSPRNG (`getrandom`), for real releases; not reproducible.
  case secure

  /// The generator for one round's noise.
  func generator(roundSeed: UInt64) -> any RandomNumberGenerator {
    switch self {
    case .seeded: Xoshiro256StarStar(seed: roundSeed ^ 0x6E6F_6973_6500_0000)
    case .secure: SystemRandomNumberGenerator()
    }
  }

  /// The generator for one round's exact discrete noise, which draws a few dozen words a
  /// coordinate: the same seeded stream, or the CSPRNG read 4 KiB at a time
  /// (``SecureRandomNumberGenerator``: the same kernel bytes, without a system call a draw).
  func bufferedGenerator(roundSeed: UInt64) -> any RandomNumberGenerator {
    switch self {
    case .seeded: generator(roundSeed: roundSeed)
    case .secure: SecureRandomNumberGenerator()
    }
  }
}
