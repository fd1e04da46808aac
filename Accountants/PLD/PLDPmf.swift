import RealModule

/// A discrete privacy-loss distribution: mass `probabilities[i]` at loss (offset + i)·h,
/// plus `infinityMass` at +∞. Every construction here is *pessimistic*: mass only ever
/// moves to larger losses (or to +∞), so the δ(ε) of the result bounds the true one from
/// above (Doroshenko et al. 2022, "Connect the Dots", arXiv:2207.04380, Thm 4.4).
struct PLDPmf: Sendable {
  var discretization: Double
  var offset: Int
  var probabilities: [Double]
  var infinityMass: Double

  /// Tail mass dropped at each end of a composition (it goes to +∞ at the top, to the
  /// lowest kept loss at the bottom): 1e-15, far below any δ of interest.
  static let tailMass = 1e-15

  /// The pessimistic connect-the-dots discretisation of one release (CTD Algorithm 1):
  /// exact δ at the grid losses i·h, masses from consecutive differences, and δ at the top
  /// of the grid at +∞.
  init(connectingDotsOf loss: SubsampledGaussianLoss, discretization h: Double) {
    let range = loss.lossRange
    let lower = Int((range.lowerBound / h).rounded(.down))
    let upper = max(lower + 1, Int((range.upperBound / h).rounded(.up)))
    var deltas = (lower...upper).map { loss.delta(epsilon: Double($0) * h) }
    for i in deltas.indices.dropFirst() { deltas[i] = min(deltas[i], deltas[i - 1]) }
    let down = Double.expMinusOne(-h)
    let up = Double.expMinusOne(h)
    var masses = [Double](repeating: 0, count: deltas.count)
    for i in deltas.indices {
      let y = i == 0 ? 1 - deltas[0] : (deltas[i] - deltas[i - 1]) / down
      let z = i + 1 < deltas.count ? (deltas[i + 1] - deltas[i]) / up : 0
      masses[i] = max(0, y + z)
    }
    self.init(
      discretization: h, offset: lower, probabilities: masses, infinityMass: deltas.last ?? 0)
  }

  init(discretization: Double, offset: Int, probabilities: [Double], infinityMass: Double) {
    self.discretization = discretization
    self.offset = offset
    self.probabilities = probabilities
    self.infinityMass = infinityMass
  }

  /// The distribution of the sum of `count` independent copies, on a window chosen by
  /// Chernoff bounds so that each tail outside it carries at most ``tailMass``.
  ///
  /// The FFT is circular: mass outside the window folds back into it (only adding mass,
  /// which is pessimistic), and the upper tail's mass bound is added to +∞ in case it lay
  /// above every query. Negative FFT round-off is clamped to 0.
  func selfComposed(_ count: Int) -> PLDPmf {
    guard count > 1 else { return self }
    let infinity = -Double.expMinusOne(Double(count) * Double.log(onePlus: -infinityMass))
    let (low, high) = window(count)
    let width = high - low + 1
    let size = FFT.size(atLeast: width)
    let circular = FFT.circularPower(probabilities, power: count, size: size)
    let start = count * offset
    var window = (0..<width).map { i -> Double in
      let m = (low + i - start) % size
      return max(0, circular[m < 0 ? m + size : m])
    }
    window[0] += Self.tailMass  // the lower tail, moved up to the lowest kept loss
    return PLDPmf(
      discretization: discretization, offset: low, probabilities: window,
      infinityMass: min(1, infinity + Self.tailMass))
  }

  /// The composition with another distribution on the same grid (linear convolution),
  /// with both tails beyond ``tailMass`` cut pessimistically.
  func composed(with other: PLDPmf) -> PLDPmf {
    precondition(discretization == other.discretization, "PLDs must share their discretisation")
    let convolution = FFT.convolve(probabilities, other.probabilities).map { max(0, $0) }
    let infinity = 1 - (1 - infinityMass) * (1 - other.infinityMass)
    return PLDPmf(
      discretization: discretization, offset: offset + other.offset, probabilities: convolution,
      infinityMass: infinity
    ).truncated()
  }

  /// The smallest window [low, high] of loss indices of the `count`-fold sum outside which
  /// each tail has at most ``tailMass`` (Chernoff: P(S ≥ t) ≤ e^{−λt} M(λ)^count), clamped
  /// to the sum's support.
  private func window(_ count: Int) -> (Int, Int) {
    let n = Double(count)
    let logTail = Double.log(Self.tailMass)
    var high = Double.infinity
    var low = -Double.infinity
    for lambda in [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000] {
      high = min(high, (n * logMoment(lambda) - logTail) / lambda)
      low = max(low, (logTail - n * logMoment(-lambda)) / lambda)
    }
    let supportLow = count * offset
    let supportHigh = count * (offset + probabilities.count - 1)
    let h = discretization
    let lowIndex = low.isFinite ? max(supportLow, Int((low / h).rounded(.down))) : supportLow
    let highIndex = high.isFinite ? min(supportHigh, Int((high / h).rounded(.up))) : supportHigh
    return (lowIndex, max(lowIndex, highIndex))
  }

  /// log Σ p_k e^{λ ℓ_k} over the finite part.
  private func logMoment(_ lambda: Double) -> Double {
    var sum = LogSpace.Sum()
    for (i, p) in probabilities.enumerated() where p > 0 {
      sum.add(Double.log(p) + lambda * Double(offset + i) * discretization)
    }
    return sum.logValue
  }

  /// The same distribution with at most ``tailMass`` cut from each end: the lower tail's
  /// mass moves up to the first kept loss, the upper tail's to +∞.
  func truncated() -> PLDPmf {
    var lowerMass = 0.0
    var first = 0
    while first < probabilities.count - 1, lowerMass + probabilities[first] <= Self.tailMass {
      lowerMass += probabilities[first]
      first += 1
    }
    var upperMass = 0.0
    var last = probabilities.count - 1
    while last > first, upperMass + probabilities[last] <= Self.tailMass {
      upperMass += probabilities[last]
      last -= 1
    }
    var kept = Array(probabilities[first...last])
    kept[0] += lowerMass
    return PLDPmf(
      discretization: discretization, offset: offset + first, probabilities: kept,
      infinityMass: min(1, infinityMass + upperMass))
  }

  /// δ(ε) = p_∞ + Σ_{ℓ > ε} p_ℓ (1 − e^{ε − ℓ}).
  func delta(epsilon: Double) -> Double {
    var delta = infinityMass
    for (i, p) in probabilities.enumerated().reversed() {
      let loss = Double(offset + i) * discretization
      if loss <= epsilon { break }
      delta += p * -Double.expMinusOne(epsilon - loss)
    }
    return min(1, delta)
  }

  /// The smallest ε ≥ 0 with δ(ε) ≤ δ (+∞ when p_∞ > δ). Between two consecutive losses
  /// δ(ε) = U − e^ε W with U, W the sums of p and p·e^{−ℓ} above; scanning from the top,
  /// the first interval whose lower end still has δ > target holds the answer
  /// log((U − δ)/W). W is kept in log space: losses reach the hundreds.
  func epsilon(delta target: Double) -> Double {
    if infinityMass > target { return .infinity }
    var u = infinityMass
    var w = LogSpace.Sum()
    for (i, p) in probabilities.enumerated().reversed() {
      let loss = Double(offset + i) * discretization
      if u > target, w.logValue > -.infinity, Double.log(u - target) > loss + w.logValue {
        return max(0, Double.log(u - target) - w.logValue)
      }
      if p > 0 {
        u += p
        w.add(Double.log(p) - loss)
      }
    }
    guard u > target, w.logValue > -.infinity else { return 0 }
    return max(0, Double.log(u - target) - w.logValue)
  }
}
