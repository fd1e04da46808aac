import RealModule

/// The log-moment-generating function K(λ) = log Σᵢ pᵢ e^{λℓᵢ} of one release's discrete
/// loss (its finite part), for the Chernoff windows of a composition and the choice of its
/// tilt. A query evaluates it about a hundred times, so it is built once per PMF.
///
/// Evaluation is Horner's rule in ρ = e^{−|λ|h} ≤ 1, by blocks short enough
/// (|λ|·h·length ≤ ``blockExponent``) that no partial sum overflows or loses a mass above
/// 10⁻¹⁷⁰, with four interleaved chains (steps of ρ⁴) so that the multiply-adds pipeline.
/// The relative error is about (block length)·2⁻⁵³, far below what a window or a tilt needs.
struct LossMoments: Sendable {
  /// The masses from the lowest loss up, then from the highest down, each padded with
  /// zeros to a multiple of 4.
  private let ascending: [Double]
  private let descending: [Double]
  /// The loss of `ascending[0]`, and minus the loss of `descending[0]`.
  private let ascendingStart: Double
  private let descendingStart: Double
  private let discretization: Double

  /// The largest |λ|·h·(block length).
  static let blockExponent = 200.0

  /// - Precondition: `pmf` is untilted.
  init(_ pmf: PLDPmf) {
    precondition(pmf.tilt == 0 && pmf.logScale == 0, "LossMoments takes an untilted PMF")
    let padding = [Double](repeating: 0, count: (4 - pmf.probabilities.count % 4) % 4)
    ascending = pmf.probabilities + padding
    descending = pmf.probabilities.reversed() + padding
    discretization = pmf.discretization
    ascendingStart = pmf.loss(0)
    descendingStart = -pmf.loss(pmf.probabilities.count - 1)
  }

  /// K(λ); −∞ when every mass is 0.
  func callAsFunction(_ lambda: Double) -> Double {
    // Σ pᵢ e^{λℓᵢ} with λ < 0 is the same sum over the mirrored losses −ℓᵢ with −λ.
    lambda >= 0
      ? Self.logSum(ascending, start: ascendingStart, h: discretization, lambda: lambda)
      : Self.logSum(descending, start: descendingStart, h: discretization, lambda: -lambda)
  }

  /// log Σᵢ values[i]·e^{λ(start + i·h)} for λ ≥ 0, block by block from the bottom: each
  /// block's sum is taken relative to its top loss, where every factor is ≤ 1.
  private static func logSum(_ values: [Double], start: Double, h: Double, lambda: Double)
    -> Double
  {
    let rho = Double.exp(-lambda * h)
    let rho2 = rho * rho
    let rho4 = rho2 * rho2
    // λ·h can be tiny but positive (λ ± step rounding near 0): the block length is capped
    // before it is converted, so that it never exceeds Int (a trap found in issue 14).
    let perBlock = lambda * h > 0 ? blockExponent / (lambda * h) : Double(values.count)
    let blockLength = max(4, min(values.count, Int(min(perBlock, Double(values.count))) / 4 * 4))
    var total = LogSpace.Sum()
    values.withUnsafeBufferPointer { p in
      var low = 0
      while low < p.count {
        let high = min(p.count, low + blockLength)
        var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
        var i = low
        while i < high {
          s0 = s0 * rho4 + p[i]
          s1 = s1 * rho4 + p[i + 1]
          s2 = s2 * rho4 + p[i + 2]
          s3 = s3 * rho4 + p[i + 3]
          i += 4
        }
        // Relative to the block's top loss, chain c is 3 − c steps further down.
        let sum = ((s0 * rho + s1) * rho + s2) * rho + s3
        if sum > 0 {
          total.add(Double.log(sum) + lambda * (start + Double(high - 1) * h))
        }
        low = high
      }
    }
    return total.logValue
  }
}
