import DPModel

/// The audit's canaries: m random unit directions in the space of the trained coordinates,
/// each drawn afresh from its own seed when needed (standard normal coordinates,
/// normalised), so that m canaries of d coordinates cost O(d) memory, not O(md).
///
/// Each canary is inserted (takes part in training as a client) or held out (never enters a
/// round) by an independent fair coin of the audit's seed, as the one-run audit of Steinke,
/// Nasr & Jagielski (NeurIPS 2023) requires; the held-out canaries' cosines with the trained
/// model also show the null distribution.
public struct CanaryDirections: Equatable, Sendable {
  /// m, the canaries.
  public let count: Int
  /// d, the trained coordinates.
  public let dimension: Int
  /// The seed every direction and coin derives from.
  public let seed: UInt64
  /// Whether canary j is inserted, for j < ``count``.
  public let isInserted: [Bool]

  /// m canaries in d dimensions.
  public init(count: Int, dimension: Int, seed: UInt64) {
    self.count = count
    self.dimension = dimension
    self.seed = seed
    var coins = Xoshiro256StarStar(seed: seed ^ 0x636F_696E)
    isInserted = (0..<count).map { _ in coins.next() & 1 == 1 }
  }

  /// The inserted canaries, in increasing order.
  public var inserted: [Int] { (0..<count).filter { isInserted[$0] } }

  /// Canary j's direction, of unit L2 norm.
  public func direction(_ j: Int) -> [Float] {
    var generator = Xoshiro256StarStar(seed: seed ^ (UInt64(j + 1) &* 0xD1B5_4A32_D192_ED03))
    let values = (0..<dimension).map { _ in generator.nextStandardNormal() }
    let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return values.map { Float($0 / norm) }
  }

  /// The cosine of every canary's direction with `vector` (0 for all when it is zero).
  public func cosines(with vector: [Float]) -> [Double] {
    cosines(of: Array(0..<count), with: vector)
  }

  /// The cosines of the directions of `canaries` with `vector` (0 when it is zero).
  public func cosines(of canaries: [Int], with vector: [Float]) -> [Double] {
    precondition(vector.count == dimension, "\(vector.count) coordinates, not \(dimension)")
    let norm = vector.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    guard norm > 0 else { return [Double](repeating: 0, count: canaries.count) }
    return canaries.map { j in
      zip(direction(j), vector).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } / norm
    }
  }

  /// `direction` restricted to the `live` coordinates of `template`'s parameters and
  /// rescaled to L2 norm `norm` (zero when no live coordinate is left).
  static func update(_ direction: [Float], template: ParameterSet<Float>, live: [Int], norm: Double)
    -> ParameterSet<Float>
  {
    var values = [Float](repeating: 0, count: template.scalarCount)
    for index in live { values[index] = direction[index] }
    let length = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    let factor = length > 0 ? Float(norm / length) : 0
    return template.with(flattened: values.map { $0 * factor })
  }
}
