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
  /// masses from consecutive differences of its exact δ at the grid losses (made
  /// non-increasing first), and δ at the top of the grid at +∞.
  init(connectingDots grid: HockeyStickGrid) {
    let h = grid.discretization
    var deltas = grid.values
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
      discretization: h, offset: grid.lower, probabilities: masses,
      infinityMass: deltas.last ?? 0)
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

  /// The privacy-loss distribution of participation sampling with probability q around this
  /// one: (1 − q)·δ₀ + q·(this), with q·p_∞ at +∞ (see
  /// ``DPEvent/participationSampled(probability:_:)``). Loss 0 is a grid point, so the mass
  /// 1 − q sits exactly where it belongs; the grid is widened to reach it.
  /// - Precondition: untilted; q ∈ (0, 1).
  func mixedWithNoRelease(probability q: Double) -> PLDPmf {
    Self.mixture(
      [(q, self), (1 - q, Self.noRelease(discretization: discretization))], infinityMass: 0)
  }

  /// All mass at loss 0: a release that does not depend on the data.
  static func noRelease(discretization h: Double) -> PLDPmf {
    PLDPmf(discretization: h, offset: 0, probabilities: [1], infinityMass: 0)
  }

  /// The privacy-loss distribution of a revealed mixture Σ wᵢ·(Pᵢ, Qᵢ): Σ wᵢ·PLDᵢ, plus
  /// `extra` at +∞. Elementwise upper bounds of the parts give one of the mixture.
  /// - Precondition: the parts are untilted and share one interval.
  static func mixture(_ parts: [(weight: Double, pmf: PLDPmf)], infinityMass extra: Double)
    -> PLDPmf
  {
    precondition(
      parts.allSatisfy { $0.pmf.tilt == 0 && $0.pmf.logScale == 0 },
      "mixture takes untilted PMFs")
    let h = parts[0].pmf.discretization
    let low = parts.map(\.pmf.offset).min()!
    let high = parts.map { $0.pmf.offset + $0.pmf.probabilities.count - 1 }.max()!
    var values = [Double](repeating: 0, count: high - low + 1)
    var infinity = extra
    for (weight, pmf) in parts {
      for (i, mass) in pmf.probabilities.enumerated() {
        values[pmf.offset - low + i] += weight * mass
      }
      infinity += weight * pmf.infinityMass
    }
    return PLDPmf(discretization: h, offset: low, probabilities: values, infinityMass: infinity)
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

  /// Calls `body(i, mass)` for i from the top index down while it returns true, with the
  /// untilted mass at i, capped at 1 (a mass is at most 1, so larger stored bounds count
  /// as 1).
  ///
  /// The untilting factor e^{logScale − tilt·ℓᵢ} is updated by one product per index and
  /// recomputed every 64 indices; where its exponent is out of range the mass comes from
  /// ``logMass(_:)``.
  @inline(__always)
  private func forEachMassDownwards(_ body: (Int, Double) -> Bool) {
    let step = Double.exp(tilt * discretization)
    var factor = 0.0
    var sinceExact = 64  // products since `factor` was exp(exponent); 64 forces a new one
    for i in probabilities.indices.reversed() {
      let exponent = logScale - tilt * loss(i)
      let inRange = abs(exponent) < 600
      if !inRange {
        sinceExact = 64
      } else if sinceExact >= 64 {
        factor = Double.exp(exponent)
        sinceExact = 0
      } else {
        factor *= step
        sinceExact += 1
      }
      let value = probabilities[i]
      let mass: Double
      if value <= 0 {
        mass = 0
      } else if inRange {
        mass = min(1, value * factor)
      } else {
        mass = Double.exp(min(0, logMass(i)))
      }
      if !body(i, mass) { return }
    }
  }

  /// The same distribution stored with tilt λ and the given log scale (K(λ) makes the
  /// stored values add up to 1). A mass whose tilted value would underflow is carried up to
  /// the next index (pessimistic; it is below 10⁻³⁰⁰ of the total there).
  /// - Precondition: untilted (`tilt` = 0).
  func tilted(_ lambda: Double, logScale scale: Double) -> PLDPmf {
    precondition(tilt == 0 && logScale == 0, "tilted(_:logScale:) takes an untilted PMF")
    if lambda == 0 && scale == 0 { return self }
    var carry = 0.0
    let values = probabilities.indices.map { i -> Double in
      let mass = probabilities[i] + carry
      guard mass > 0 else { return 0 }
      let exponent = lambda * loss(i) - scale
      let value =
        exponent < 700
        ? mass * Double.exp(exponent) : Double.exp(Double.log(mass) + exponent)
      carry = value > 0 ? 0 : mass
      return value
    }
    return PLDPmf(
      discretization: discretization, offset: offset, probabilities: values,
      infinityMass: infinityMass, tilt: lambda, logScale: scale)
  }

  /// δ(ε) = p_∞ + Σ_{ℓ > ε} p_ℓ (1 − e^{ε − ℓ}) = p_∞ + U − e^{ε − ℓ}·V, where over the
  /// losses above ε, U = Σ p_j and V = Σ p_j e^{ℓ − ℓ_j} at the lowest of them, ℓ (V is
  /// accumulated as V ← p + e^{−h}V, every term ≤ 1, so nothing overflows).
  func delta(epsilon: Double) -> Double {
    var u = 0.0
    var v = 0.0
    var lowest = Double.infinity
    let decay = Double.exp(-discretization)
    forEachMassDownwards { i, mass in
      let loss = loss(i)
      guard loss > epsilon else { return false }
      u += mass
      v = mass + decay * v
      lowest = loss
      return true
    }
    guard lowest.isFinite else { return min(1, infinityMass) }
    return min(1, infinityMass + max(0, u - Double.exp(epsilon - lowest) * v))
  }

  /// The smallest ε ≥ 0 with δ(ε) ≤ δ (+∞ when p_∞ > δ). Between two consecutive losses
  /// δ(ε) = U − e^ε W with U, W the sums of p and p·e^{−ℓ} above; scanning from the top,
  /// the first grid loss ℓ with δ(ℓ) = U − V > target holds the answer
  /// log((U − δ)/W) = ℓ + log((U − δ)/V), where V = e^ℓ·W ≤ U is accumulated as
  /// V ← e^{−h}(V + p) (bounded by 1, so no log space is needed for losses in the hundreds).
  func epsilon(delta target: Double) -> Double {
    if infinityMass > target { return .infinity }
    let budget = target - infinityMass
    var u = 0.0
    var v = 0.0
    var answer: Double?
    let decay = Double.exp(-discretization)
    var previous = 0.0  // the mass at the index above
    forEachMassDownwards { i, mass in
      u += previous
      v = decay * (v + previous)
      previous = mass
      guard u - v > budget else { return true }
      answer = loss(i) + Double.log((u - budget) / v)
      return false
    }
    if answer == nil {
      // Below the lowest loss every mass is above ε: the same formula, one step lower.
      u += previous
      v = decay * (v + previous)
      guard u > budget, v > 0 else { return 0 }
      answer = loss(-1) + Double.log((u - budget) / v)
    }
    return max(0, answer ?? 0)
  }
}
