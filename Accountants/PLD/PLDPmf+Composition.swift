import RealModule

extension PLDPmf {
  /// Tail mass dropped at each end of a composition (it goes to +∞ at the top, to the
  /// lowest kept loss at the bottom): 1e-15, 0.1 % of δ = 1e-12.
  static let tailMass = 1e-15

  /// The factor between the round-off margin added to every composed value and the largest
  /// round-off seen in the FFT's output.
  ///
  /// A float64 FFT of n points has an absolute error of about 2⁻⁵³ of its largest input at
  /// every output, spread evenly over the outputs and symmetric about 0. Every output whose
  /// true value is tiny (far tails, the zero padding) samples it, and there are thousands
  /// of them, so the most negative output measures it (the true values are ≥ 0); twice
  /// that is added to every kept value, which makes each one an upper bound of its exact
  /// value. This is an estimate, not a proof: the worst-case bound is about 10³ times larger
  /// and would swamp every δ below 10⁻⁹. Clamping negatives alone, as before, turned the
  /// zero-mean noise into a bias of about 10⁻¹² on δ (issue 3).
  static let roundOffSafety = 2.0

  /// The distribution of the sum of `count` independent copies, stored with tilt λ, on
  /// `window`: the union of the ``chernoffWindow(_:tilt:moments:)`` at 0 (so each tail
  /// outside it carries at most ``tailMass``) and at λ (so little tilted mass folds around).
  ///
  /// The FFT is circular: mass outside the window folds back into it (only adding mass,
  /// which is pessimistic), and the upper tail's mass bound is added to +∞ in case it lay
  /// above every query. Round-off is bounded by ``roundOffSafety`` times the largest
  /// round-off observed.
  /// - Parameter moments: this PMF's ``LossMoments``.
  /// - Precondition: untilted.
  func selfComposed(
    _ count: Int, tilt lambda: Double, moments: LossMoments, window: (low: Int, high: Int)
  ) -> PLDPmf {
    let base = tilted(lambda, logScale: lambda == 0 ? 0 : moments(lambda))
    guard count > 1 else { return base }
    let infinity = -Double.expMinusOne(Double(count) * Double.log(onePlus: -infinityMass))
    let width = window.high - window.low + 1
    let size = FFT.size(atLeast: width)
    var values = FFT.circularPower(base.probabilities, power: count, size: size) {
      Self.bounded($0, first: window.low - count * offset, width: width)
    }
    let logScale = Double(count) * base.logScale
    // The lower tail, moved up to the lowest kept loss.
    values[0] += Self.tailMass * Double.exp(lambda * Double(window.low) * discretization - logScale)
    return PLDPmf(
      discretization: discretization, offset: window.low, probabilities: values,
      infinityMass: min(1, infinity + Self.tailMass), tilt: lambda, logScale: logScale)
  }

  /// The composition with another distribution on the same grid and tilt (linear
  /// convolution), with both tails beyond ``tailMass`` cut pessimistically.
  func composed(with other: PLDPmf) -> PLDPmf {
    precondition(discretization == other.discretization, "PLDs must share their discretisation")
    precondition(tilt == other.tilt, "PLDs must share their tilt")
    let length = probabilities.count + other.probabilities.count - 1
    let values = FFT.circularConvolution(
      probabilities, other.probabilities, size: FFT.size(atLeast: length)
    ) { Self.bounded($0, first: 0, width: length) }
    let infinity = 1 - (1 - infinityMass) * (1 - other.infinityMass)
    return PLDPmf(
      discretization: discretization, offset: offset + other.offset,
      probabilities: values, infinityMass: infinity,
      tilt: tilt, logScale: logScale + other.logScale
    ).truncated()
  }

  /// The `width` values of a circular FFT result starting at index `first` (mod its size),
  /// each raised to an upper bound of its exact value: negatives to 0, then the round-off
  /// margin (``roundOffSafety`` × the magnitude of the most negative of all `circular`)
  /// added to all.
  private static func bounded(
    _ circular: UnsafeMutableBufferPointer<Double>, first: Int, width: Int
  ) -> [Double] {
    let size = circular.count
    let start = ((first % size) + size) % size
    let roundOff = max(0, -(circular.min() ?? 0))
    let margin = roundOffSafety * roundOff
    return [Double](unsafeUninitializedCapacity: width) { window, count in
      for j in 0..<width {
        let m = start + j
        window[j] = max(0, circular[m < size ? m : m - size]) + margin
      }
      count = width
    }
  }

  /// The smallest window [low, high] of loss indices of the λ-tilted `count`-fold sum
  /// outside which each tail has at most ``tailMass`` of its mass, clamped to its support.
  /// By Chernoff, P(S ≥ t) ≤ e^{−dt} E[e^{dS}] for the tilted S, whose log-MGF is
  /// count·(K(λ + d) − K(λ)); the best of 11 values of d is taken on each side.
  func chernoffWindow(_ count: Int, tilt lambda: Double, moments: LossMoments)
    -> (low: Int, high: Int)
  {
    let n = Double(count)
    let logTail = Double.log(Self.tailMass)
    let center = moments(lambda)
    var high = Double.infinity
    var low = -Double.infinity
    for step in [0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000] {
      high = min(high, (n * (moments(lambda + step) - center) - logTail) / step)
      low = max(low, (logTail - n * (moments(lambda - step) - center)) / step)
    }
    // In Double, then clamped: a huge count or a bound far outside the support must not
    // overflow Int (traps found in issue 14); the window is clamped to the support anyway.
    let supportLow = Self.index(Double(count) * Double(offset))
    let supportHigh = Self.index(Double(count) * Double(offset + probabilities.count - 1))
    let h = discretization
    let lowIndex =
      low.isFinite ? max(supportLow, Self.index((low / h).rounded(.down))) : supportLow
    let highIndex =
      high.isFinite ? min(supportHigh, Self.index((high / h).rounded(.up))) : supportHigh
    return (min(lowIndex, supportHigh), max(min(lowIndex, supportHigh), highIndex))
  }

  /// `x` as an Int, clamped to ±2⁶⁰ (far beyond any grid, and with room for sums), 0 for NaN.
  static func index(_ x: Double) -> Int {
    if x.isNaN { return 0 }
    let limit = Double(1 << 60)
    return Int(min(max(x, -limit), limit))
  }

  /// The same distribution with at most ``tailMass`` cut from each end: the lower tail's
  /// mass moves up to the first kept loss, the upper tail's to +∞.
  func truncated() -> PLDPmf {
    var lowerMass = 0.0
    var first = 0
    while first < probabilities.count - 1 {
      let mass = Double.exp(min(0, logMass(first)))
      if lowerMass + mass > Self.tailMass { break }
      lowerMass += mass
      first += 1
    }
    var upperMass = 0.0
    var last = probabilities.count - 1
    while last > first {
      let mass = Double.exp(min(0, logMass(last)))
      if upperMass + mass > Self.tailMass { break }
      upperMass += mass
      last -= 1
    }
    var kept = Array(probabilities[first...last])
    kept[0] += lowerMass * Double.exp(tilt * loss(first) - logScale)
    return PLDPmf(
      discretization: discretization, offset: offset + first, probabilities: kept,
      infinityMass: min(1, infinityMass + upperMass), tilt: tilt, logScale: logScale)
  }
}
