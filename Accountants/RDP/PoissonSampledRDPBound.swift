import RealModule

/// The Rényi DP of *any* mechanism under Poisson subsampling, from its own Rényi curve
/// alone: the general upper bound of Zhu & Wang 2019.
///
/// Zhu & Wang, "Poisson Subsampled Rényi Differential Privacy", ICML 2019 (PMLR 97),
/// Theorem 6 (general upper bound): if M is (l, ε(l))-RDP for every integer l ≥ 2 under
/// add/remove neighbours, then M ∘ PoissonSample with probability q is (α, ε′(α))-RDP for
/// every integer α ≥ 2 with
///
///     ε′(α) ≤ 1/(α−1) · log{ (1−q)^{α−1}(αq − q + 1) + C(α,2)·q²(1−q)^{α−2}·e^{ε(2)}
///                            + 3·Σ_{l=3}^{α} C(α,l)·(1−q)^{α−l}·q^l·e^{(l−1)ε(l)} }.
///
/// Without the factor 3 the same expression is exactly E_{M(D)}[(M(D′)/M(D))^α] for the
/// "add" direction expanded binomially (and the exact RDP of the sampled Gaussian, MTZ19);
/// the 3 pays for the "remove" direction, whose domination by the "add" direction MTZ19
/// prove for the Gaussian only. The paper states the bound is optimal up to an additive
/// log(3)/(α−1). It needs no property of M beyond its RDP, so it holds for the discrete
/// Gaussian (Canonne, Kamath & Steinke 2020), whose curve is α/(2σ²).
///
/// dpfl also takes the minimum with ε(α) itself: for each fixed sample S the pair
/// ((1−q)·M(S) + q·M(S ∪ {x}), M(S)) is a mixture of (M(S), M(S)) and (M(S ∪ {x}), M(S)),
/// and e^{(α−1)D_α} is jointly convex, so subsampling never costs more than the mechanism.
///
/// Only integer orders are bounded (others are +∞: excluded from the minimum over the
/// grid). Every term is formed in log space and summed relative to the largest
/// (``LogSpace/Sum``), so nothing overflows at α = 1024 or tiny σ; the first term
/// log((1−q)^{α−1}(1 + (α−1)q)) uses log1p, which keeps the digits of a sum that is
/// 1 + O(q²). Rounding is ~1e-15 relative, far inside the factor 3 of slack.
enum PoissonSampledRDPBound {
  /// ε′(α) for sampling probability q ∈ [0, 1] and the base mechanism's RDP `epsilon`,
  /// evaluated at the integers 2…α.
  ///
  /// q = 0 gives 0 and q = 1 gives ε(α) at every order; otherwise a fractional α gives +∞.
  static func epsilon(
    samplingProbability q: Double, order alpha: Double, base epsilon: (Double) -> Double
  ) -> Double {
    if q == 0 { return 0 }
    let unsampled = epsilon(alpha)
    if q == 1 || unsampled == 0 { return unsampled }
    guard alpha.rounded() == alpha, alpha >= 2 else { return .infinity }
    let bound = logMoment(q: q, order: Int(alpha), base: epsilon) / (alpha - 1)
    return bound.isNaN ? unsampled : min(bound, unsampled)
  }

  /// The logarithm of Theorem 6's braced sum, for 0 < q < 1 and integer α ≥ 2.
  static func logMoment(q: Double, order alpha: Int, base epsilon: (Double) -> Double)
    -> Double
  {
    let logQ = Double.log(q)
    let logOneMinusQ = Double.log(onePlus: -q)
    let order = Double(alpha)
    var sum = LogSpace.Sum()
    // (1−q)^{α−1}(αq − q + 1)
    sum.add((order - 1) * logOneMinusQ + Double.log(onePlus: (order - 1) * q))
    // C(α,2) q² (1−q)^{α−2} e^{ε(2)}
    sum.add(
      LogSpace.binomialMagnitude(order, 2) + 2 * logQ + (order - 2) * logOneMinusQ + epsilon(2))
    guard alpha >= 3 else { return sum.logValue }
    let logThree = Double.log(3.0)
    for l in 3...alpha {
      let i = Double(l)
      sum.add(
        logThree + LogSpace.binomialMagnitude(order, i) + i * logQ + (order - i) * logOneMinusQ
          + (i - 1) * epsilon(i))
    }
    return sum.logValue
  }
}
