import RealModule

/// A discrete privacy-loss distribution: mass at the losses ℓᵢ = (offset + i)·h plus
/// `infinityMass` at +∞. Every construction here is *pessimistic*: mass only ever moves to
/// larger losses (or to +∞) or is added, so the δ(ε) of the result bounds the true one from
/// above (Doroshenko et al. 2022, "Connect the Dots", arXiv:2207.04380, Thm 4.4).
///
/// The masses are stored *exponentially tilted*: the mass at ℓᵢ is
/// `probabilities[i]`·exp(`logScale` − `tilt`·ℓᵢ). Tilting commutes with convolution
/// (the tilt of a sum of independent losses is the sum of the tilted losses), so a
/// composition can be computed on tilted values and read back exactly. With the tilt
/// chosen near the queried ε, the masses there are of the order of the largest stored value
/// instead of 10⁻¹² of it, so the FFT's absolute round-off (about 10⁻¹⁶ of the largest
/// value) no longer swamps a δ below 10⁻¹⁰. Untilted: `tilt` = `logScale` = 0.
struct PLDPmf: Sendable {
  var discretization: Double
  var offset: Int
  var probabilities: [Double]
  var infinityMass: Double
  var tilt = 0.0
  var logScale = 0.0

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

  init(
    discretization: Double, offset: Int, probabilities: [Double], infinityMass: Double,
    tilt: Double = 0, logScale: Double = 0
  ) {
    self.discretization = discretization
    self.offset = offset
    self.probabilities = probabilities
    self.infinityMass = infinityMass
    self.tilt = tilt
    self.logScale = logScale
  }

  /// The loss at index i.
  @inline(__always)
  func loss(_ i: Int) -> Double { Double(offset + i) * discretization }

  /// log of the (untilted) mass at index i; −∞ for none.
  @inline(__always)
  func logMass(_ i: Int) -> Double {
    let value = probabilities[i]
    return value > 0 ? Double.log(value) + logScale - tilt * loss(i) : -.infinity
  }

  /// The same distribution stored with tilt λ, scaled so that the stored values add up to
  /// about 1. A mass whose tilted value would underflow is carried up to the next index
  /// (pessimistic; it is below 10⁻³⁰⁰ of the total there).
  /// - Precondition: untilted (`tilt` = 0).
  func tilted(_ lambda: Double) -> PLDPmf {
    precondition(tilt == 0 && logScale == 0, "tilted(_:) takes an untilted PMF")
    if lambda == 0 { return self }
    let scale = logMoment(lambda)
    var carry = 0.0
    let values = probabilities.indices.map { i -> Double in
      let mass = probabilities[i] + carry
      guard mass > 0 else { return 0 }
      let value = Double.exp(Double.log(mass) + lambda * loss(i) - scale)
      carry = value > 0 ? 0 : mass
      return value
    }
    return PLDPmf(
      discretization: discretization, offset: offset, probabilities: values,
      infinityMass: infinityMass, tilt: lambda, logScale: scale)
  }

  /// δ(ε) = p_∞ + Σ_{ℓ > ε} p_ℓ (1 − e^{ε − ℓ}).
  func delta(epsilon: Double) -> Double {
    var delta = infinityMass
    for i in probabilities.indices.reversed() {
      let loss = loss(i)
      if loss <= epsilon { break }
      delta += Double.exp(min(0, logMass(i))) * -Double.expMinusOne(epsilon - loss)
    }
    return min(1, delta)
  }

  /// The smallest ε ≥ 0 with δ(ε) ≤ δ (+∞ when p_∞ > δ). Between two consecutive losses
  /// δ(ε) = U − e^ε W with U, W the sums of p and p·e^{−ℓ} above; scanning from the top,
  /// the first interval whose lower end still has δ > target holds the answer
  /// log((U − δ)/W). W is kept in log space: losses reach the hundreds. A mass is at most
  /// 1, so larger stored bounds count as 1.
  func epsilon(delta target: Double) -> Double {
    if infinityMass > target { return .infinity }
    var u = infinityMass
    var w = LogSpace.Sum()
    for i in probabilities.indices.reversed() {
      let loss = loss(i)
      if u > target, w.logValue > -.infinity, Double.log(u - target) > loss + w.logValue {
        return max(0, Double.log(u - target) - w.logValue)
      }
      let logMass = min(0, logMass(i))
      if logMass > -.infinity {
        u += Double.exp(logMass)
        w.add(logMass - loss)
      }
    }
    guard u > target, w.logValue > -.infinity else { return 0 }
    return max(0, Double.log(u - target) - w.logValue)
  }
}
