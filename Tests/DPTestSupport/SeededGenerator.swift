import RealModule

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast, seedable generator for tests.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var state: UInt64

  /// A generator whose stream is fixed by `seed`.
  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A log-uniform draw in [lower, upper], both > 0.
  public mutating func logUniform(_ lower: Double, _ upper: Double) -> Double {
    Double.exp(Double.random(in: Double.log(lower)...Double.log(upper), using: &self))
  }
}
