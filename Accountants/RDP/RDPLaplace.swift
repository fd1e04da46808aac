import RealModule

/// RDP of the Laplace mechanism with noise multiplier b (so it is ε₀ = 1/b pure DP).
///
/// Mironov 2017, "Rényi Differential Privacy" (arXiv:1702.07476v3), Proposition 6:
/// ε(α) = ε₀ + log(1 + (α−1)(e^{(1−2α)ε₀} − 1)/(2α−1)) / (α−1), exact for α > 1.
/// Near α = 1 the fraction log(1+x)/(α−1) is evaluated by its power series, as in
/// dp_accounting, because both numerator and denominator vanish.
enum LaplaceRDP {
  /// ε(α) of one Laplace release with noise multiplier b (b = 0 → +∞).
  static func epsilon(noiseMultiplier b: Double, order alpha: Double) -> Double {
    if b == 0 { return .infinity }
    let pureEpsilon = 1 / b
    let c = Double.expMinusOne(pureEpsilon * (1 - 2 * alpha)) / (2 * alpha - 1)
    if alpha >= 1.1 {
      return pureEpsilon + Double.log(onePlus: (alpha - 1) * c) / (alpha - 1)
    }
    // log(1 + c(α−1))/(α−1) = c Σ_{k≥1} (−c(α−1))^{k−1}/k, |c(α−1)| < 0.1 here.
    let v = -c * (alpha - 1)
    var power = 1.0
    var series = 0.0
    for k in 1..<100 {
      series += power / Double(k)
      power *= v
    }
    return pureEpsilon + c * series
  }
}
