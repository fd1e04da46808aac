import DPTestSupport
import Testing

@testable import Accountants

@Suite("PLDPmf")
struct PLDPmfTests {
  /// One release of q = 0.05, σ = 2 on a 0.01 grid (about 300 losses), in the remove
  /// direction, and its 8-fold composition by direct convolution: a sum of non-negative
  /// terms, so every mass is exact to about 10⁻¹³ relative, however small.
  static let loss = SubsampledGaussianLoss(
    probability: 0.05, noiseMultiplier: 2, direction: .remove)
  static let range = loss.lossRange(truncation: SubsampledGaussianLoss.truncation)
  static let single = PLDPmf(
    connectingDots: HockeyStickGrid(loss, discretization: 0.01, range: range))
  static let count = 8

  static let direct: PLDPmf = {
    var masses = [1.0]
    for _ in 0..<count {
      var next = [Double](repeating: 0, count: masses.count + single.probabilities.count - 1)
      for (i, a) in masses.enumerated() where a > 0 {
        for (j, b) in single.probabilities.enumerated() { next[i + j] += a * b }
      }
      masses = next
    }
    let infinity = -Double.expMinusOne(Double(count) * Double.log(onePlus: -single.infinityMass))
    return PLDPmf(
      discretization: single.discretization, offset: count * single.offset,
      probabilities: masses, infinityMass: infinity)
  }()

  /// The FFT composition at tilt λ, on the accountant's window.
  static func composed(tilt lambda: Double) -> PLDPmf {
    let moments = LossMoments(single)
    let plain = single.chernoffWindow(count, tilt: 0, moments: moments)
    let tilted = single.chernoffWindow(count, tilt: lambda, moments: moments)
    let window = (low: min(plain.low, tilted.low), high: max(plain.high, tilted.high))
    return single.selfComposed(count, tilt: lambda, moments: moments, window: window)
  }

  @Test(
    "the FFT composition bounds the exact one from above, tightly when tilted, for δ from 4e-5 down to 8e-14",
    arguments: [0.3, 0.5, 0.7, 0.9, 1.1])
  func composedBoundsExact(epsilon: Double) throws {
    let exact = Self.direct.delta(epsilon: epsilon)
    #expect(exact > 1e-14 && exact < 1e-4, "δ(\(epsilon)) = \(exact)")
    let lambda = PLDTilt.forDelta(epsilon: epsilon) {
      Double(Self.count) * LossMoments(Self.single)($0)
    }
    #expect(lambda > 1)
    let tilted = Self.composed(tilt: lambda).delta(epsilon: epsilon)
    let untilted = Self.composed(tilt: 0).delta(epsilon: epsilon)
    // Pessimistic both ways. Tilted, the excess is the Chernoff tail bound that the window
    // adds to +∞ (1e-15) and at most 1e-6 relative besides (measured: 0 to 5e-9); untilted,
    // the round-off margin adds up to 7 % at δ = 7.5e-14 (the accountant tilts there).
    #expect(tilted >= exact * (1 - 1e-12), "tilted \(tilted) < exact \(exact)")
    #expect(untilted >= exact * (1 - 1e-12), "untilted \(untilted) < exact \(exact)")
    #expect(tilted - exact <= PLDPmf.tailMass + 1e-6 * exact, "tilted \(tilted) vs \(exact)")
  }

  @Test("a grid reusing the twice coarser one's δ values equals one computed afresh")
  func gridReuse() {
    let coarse = HockeyStickGrid(Self.loss, discretization: 0.02, range: Self.range)
    let reused = HockeyStickGrid(
      Self.loss, discretization: 0.01, range: Self.range, reusing: coarse)
    let fresh = HockeyStickGrid(Self.loss, discretization: 0.01, range: Self.range)
    #expect(reused.lower == fresh.lower)
    #expect(reused.values == fresh.values)
    #expect(fresh.values.count > 300)
  }

  @Test("ε(δ) and δ(ε) of a tilted composition invert each other and match the exact one")
  func tiltedQueries() throws {
    let delta = 1e-12
    let lambda = PLDTilt.forEpsilon(delta: delta) {
      Double(Self.count) * LossMoments(Self.single)($0)
    }
    let pmf = Self.composed(tilt: lambda)
    let epsilon = pmf.epsilon(delta: delta)
    expectClose(pmf.delta(epsilon: epsilon), delta, relative: 1e-9)
    let exact = Self.direct.epsilon(delta: delta)
    #expect(epsilon >= exact)
    expectClose(epsilon, exact, relative: 1e-4)
  }
}
