import RealModule

/// xoshiro256** (Blackman & Vigna 2018): the seeded generator behind every random choice
/// in the model core (initialisation, dropout, shuffling). Seeds are expanded with
/// SplitMix64, as the authors recommend, so nearby seeds give unrelated streams.
///
/// Not cryptographically secure: fine for initialisation and simulation, not for the noise
/// of a real private release.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
  private var state: (UInt64, UInt64, UInt64, UInt64)

  /// A generator whose stream is fixed by `seed`.
  public init(seed: UInt64) {
    var splitMix = seed
    func nextSplitMix() -> UInt64 {
      splitMix &+= 0x9E37_79B9_7F4A_7C15
      var z = splitMix
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = (nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix())
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = (state.1 &* 5).rotatedLeft(by: 7) &* 9
    let t = state.1 << 17
    state.2 ^= state.0
    state.3 ^= state.1
    state.1 ^= state.2
    state.0 ^= state.3
    state.2 ^= t
    state.3 = state.3.rotatedLeft(by: 45)
    return result
  }
}

extension RandomNumberGenerator {
  /// A standard normal draw: Box–Muller on two uniforms, u₁ in (0, 1] and u₂ in [0, 1),
  /// each from 53 random bits.
  public mutating func nextStandardNormal() -> Double {
    let u1 = Double((next() >> 11) + 1) * 0x1p-53
    let u2 = Double(next() >> 11) * 0x1p-53
    return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
  }
}

/// Standard normal draws two at a time by Marsaglia's polar method (Marsaglia & Bray 1964):
/// a point (u, v) uniform in the unit disc, s = u² + v², gives the independent standard
/// normals u·√(−2 log s / s) and v·√(−2 log s / s). A pair costs one logarithm, one square
/// root and about 2.5 uniforms (a point is accepted with probability π/4) and no sine or
/// cosine: the bulk noise of DP-SGD draws its normals here, about four times faster than
/// ``Swift/RandomNumberGenerator/nextStandardNormal()`` draws them one by one.
public struct StandardNormalPairs {
  private var spare: Double?

  /// A stream with no draw held back.
  public init() {}

  /// The next draw: the second of the last pair, or the first of a new one.
  public mutating func next<G: RandomNumberGenerator>(using generator: inout G) -> Double {
    if let spare {
      self.spare = nil
      return spare
    }
    while true {
      // u and v uniform on the 2⁵³-point grid of [−1, 1), from 53 random bits each.
      let u = Double(generator.next() >> 11) * 0x1p-52 - 1
      let v = Double(generator.next() >> 11) * 0x1p-52 - 1
      let s = u * u + v * v
      guard s < 1, s > 0 else { continue }
      let factor = (-2 * Double.log(s) / s).squareRoot()
      spare = v * factor
      return u * factor
    }
  }
}

extension UInt64 {
  fileprivate func rotatedLeft(by count: UInt64) -> UInt64 {
    (self << count) | (self >> (64 - count))
  }
}
