import DPModel
import RealModule
import Testing

/// The polar-method normals DP-SGD's noise is drawn from: the moments, the pairing and the
/// whole distribution are checked on 2·10⁵ seeded draws, with bounds of about 6 standard
/// errors (or a 10⁻⁶ Kolmogorov–Smirnov level), so a broken sampler fails and a correct one
/// passes for any seed.
@Suite("Standard normal pairs")
struct StandardNormalPairsTests {
  static let count = 200_000

  static func draws(seed: UInt64) -> [Double] {
    var generator = Xoshiro256StarStar(seed: seed)
    var normals = StandardNormalPairs()
    return (0..<count).map { _ in normals.next(using: &generator) }
  }

  @Test("mean 0, variance 1, kurtosis 3, and the two draws of a pair uncorrelated")
  func moments() {
    let x = Self.draws(seed: 11)
    let n = Double(Self.count)
    let mean = x.reduce(0, +) / n
    let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)
    let fourth = x.map { Double.pow($0 - mean, 4) }.reduce(0, +) / n
    #expect(abs(mean) < 6 / n.squareRoot())
    #expect(abs(variance - 1) < 6 * (2 / n).squareRoot())
    // The fourth moment's standard error is √(96/n) for a normal.
    #expect(abs(fourth - 3) < 6 * (96 / n).squareRoot())
    let pairs = stride(from: 0, to: Self.count, by: 2).map { (x[$0], x[$0 + 1]) }
    let pairCorrelation = pairs.map { $0.0 * $0.1 }.reduce(0, +) / Double(pairs.count)
    let squaresCorrelation =
      pairs.map { ($0.0 * $0.0 - 1) * ($0.1 * $0.1 - 1) }
      .reduce(0, +) / Double(pairs.count)
    #expect(abs(pairCorrelation) < 6 / Double(pairs.count).squareRoot())
    // Independent, not just uncorrelated: the squares of a pair are uncorrelated too
    // (Var(x² − 1) = 2, so the product's standard error is 2/√pairs).
    #expect(abs(squaresCorrelation) < 6 * 2 / Double(pairs.count).squareRoot())
  }

  @Test("the empirical distribution is Φ (Kolmogorov–Smirnov at level 10⁻⁶)")
  func distribution() {
    let x = Self.draws(seed: 12).sorted()
    let n = Double(Self.count)
    var distance = 0.0
    for (index, value) in x.enumerated() {
      let phi = 0.5 * Double.erfc(-value / 2.0.squareRoot())
      distance = max(distance, abs(phi - Double(index) / n), abs(Double(index + 1) / n - phi))
    }
    // P(√n·D > 2.63) ≈ 2e-6 for the Kolmogorov distribution.
    #expect(distance * n.squareRoot() < 2.63)
    // Tails: the fraction beyond 3 in absolute value is 2.70e-3.
    let beyondThree = Double(x.filter { abs($0) > 3 }.count) / n
    #expect(abs(beyondThree - 2.6998e-3) < 6 * (2.6998e-3 / n).squareRoot())
  }
}
