internal import CMPFR

/// The improved RDP → (ε, δ) conversion (Canonne, Kamath & Steinke 2020,
/// arXiv:2004.00010v4, Proposition 12) with dp_accounting's safeguards, exactly as
/// ``RDPConversion/improved`` defines it, evaluated in directed-rounding MPFR arithmetic
/// so that the returned ε or δ is ≥ the exact value of that formula on the grid.
///
/// Why the results are bounds: each per-order quantity is a monotone expression in the
/// total RDP R(α), in δ (or ε) and in α. R(α) enters as an upper bound (from
/// ``CertifiedSubsampledGaussian``); every operation is rounded in the direction that
/// can only increase the final value — up where a quantity is added, down where it is
/// subtracted or where it divides. The grid minimum of per-order upper bounds is an upper
/// bound of the grid minimum, and a (ε, δ) guarantee stays valid when ε or δ grows.
enum CertifiedConversion {
  /// ε(δ): min over orders of the per-order bound, clamped at ≥ 0, rounded up to Double.
  ///
  /// Per order with total RDP R (an upper bound):
  /// - R = 0 → 0 (nothing was released);
  /// - the KL shortcut ε = 0 when δ² + expm1(−R) > 0 is *proven*: δ² rounded down plus
  ///   expm1(−R̂) rounded down (expm1(−R) is decreasing in R, so R̂ ≥ R makes it smaller)
  ///   is evaluated rounded down and must be > 0;
  /// - otherwise (α ≥ 2 > 1.01 on an integer grid) R + log1p(−1/α) − log(δα)/(α−1), with
  ///   log1p(−1/α) rounded up (from 1/α rounded down) and log(δα)/(α−1) rounded down.
  /// δ = 0 gives 0 if every R is 0 and ∞ otherwise, as in the Double accountant.
  /// - Precondition: 0 ≤ δ ≤ 1.
  static func epsilon(totals: [MPFRNumber], orders: [Int], delta: Double) -> PrivacyBound {
    if delta == 0 {
      let allZero = totals.allSatisfy(\.isZero)
      return PrivacyBound(value: allZero ? 0 : .infinity, optimalOrder: nil, orderAtGridEdge: false)
    }
    let deltaExact = MPFRNumber(exactly: delta)
    let deltaSquaredDown = MPFRNumber()
    mpfr_sqr(deltaSquaredDown.raw, deltaExact.raw, MPFR_RNDD)
    let scratch = MPFRNumber()
    let logTerm = MPFRNumber()
    let candidate = MPFRNumber()
    let best = MPFRNumber()
    best.setInfinity()
    var bestIndex = 0
    for (index, alpha) in orders.enumerated() {
      let r = totals[index]
      if r.isZero {
        candidate.setZero()
      } else if r.isInfinite {
        candidate.setInfinity()
      } else {
        // KL shortcut, proven: δ²↓ + expm1(−R̂)↓ > 0, the sum rounded down.
        mpfr_neg(scratch.raw, r.raw, MPFR_RNDD)  // exact
        mpfr_expm1(scratch.raw, scratch.raw, MPFR_RNDD)
        mpfr_add(scratch.raw, scratch.raw, deltaSquaredDown.raw, MPFR_RNDD)
        if scratch.isPositive {
          candidate.setZero()
        } else {
          oneMinusInverseLogUp(into: logTerm, order: alpha)
          mpfr_add(candidate.raw, r.raw, logTerm.raw, MPFR_RNDU)
          // log(δα)/(α−1) rounded down, then subtracted rounding up.
          mpfr_mul_ui(scratch.raw, deltaExact.raw, UInt(alpha), MPFR_RNDD)
          mpfr_log(scratch.raw, scratch.raw, MPFR_RNDD)
          mpfr_div_ui(scratch.raw, scratch.raw, UInt(alpha - 1), MPFR_RNDD)
          mpfr_sub(candidate.raw, candidate.raw, scratch.raw, MPFR_RNDU)
        }
      }
      // The first order with the smallest (unclamped) value, as in RDPConversion.
      if candidate.isLess(than: best) {
        mpfr_set(best.raw, candidate.raw, MPFR_RNDU)
        bestIndex = index
      }
    }
    let value = max(0, best.roundedUp)
    return bound(value, index: bestIndex, orders: orders)
  }

  /// δ(ε): min over orders of the per-order log δ bound, exponentiated, clamped at ≤ 1,
  /// rounded up to Double.
  ///
  /// Per order with total RDP R (an upper bound), log δ is the smaller of
  /// - the KL bound ½·log(1 − e^{−R}) = ½·log(−expm1(−R)): expm1(−R̂) rounded down, so
  ///   its negation is ≥ 1 − e^{−R}; the log rounded up;
  /// - (α−1)·(R − ε + log1p(−1/α)) − log α, everything rounded up except log α, which is
  ///   subtracted and rounded down.
  /// R = 0 gives log δ = −∞ (δ = 0); R = ∞ gives 0 (δ = 1).
  /// - Precondition: ε ≥ 0 (+∞ allowed).
  static func delta(totals: [MPFRNumber], orders: [Int], epsilon: Double) -> PrivacyBound {
    let epsilonExact = MPFRNumber(exactly: epsilon)
    let scratch = MPFRNumber()
    let logTerm = MPFRNumber()
    let candidate = MPFRNumber()
    let best = MPFRNumber()
    best.setInfinity()
    var bestIndex = 0
    for (index, alpha) in orders.enumerated() {
      let r = totals[index]
      if r.isZero {
        mpfr_set_inf(candidate.raw, -1)
      } else if r.isInfinite {
        candidate.setZero()
      } else {
        // ½·log(−expm1(−R̂)), rounded up.
        mpfr_neg(scratch.raw, r.raw, MPFR_RNDD)  // exact
        mpfr_expm1(scratch.raw, scratch.raw, MPFR_RNDD)
        mpfr_neg(scratch.raw, scratch.raw, MPFR_RNDU)  // exact
        mpfr_log(candidate.raw, scratch.raw, MPFR_RNDU)
        mpfr_div_2ui(candidate.raw, candidate.raw, 1, MPFR_RNDU)
        // (α−1)·(R̂ − ε + log1p(−1/α)↑)↑ − log(α)↓, rounded up.
        oneMinusInverseLogUp(into: logTerm, order: alpha)
        mpfr_sub(scratch.raw, r.raw, epsilonExact.raw, MPFR_RNDU)
        mpfr_add(scratch.raw, scratch.raw, logTerm.raw, MPFR_RNDU)
        mpfr_mul_ui(scratch.raw, scratch.raw, UInt(alpha - 1), MPFR_RNDU)
        mpfr_set_ui(logTerm.raw, UInt(alpha), MPFR_RNDD)  // exact
        mpfr_log(logTerm.raw, logTerm.raw, MPFR_RNDD)
        mpfr_sub(scratch.raw, scratch.raw, logTerm.raw, MPFR_RNDU)
        if scratch.isLess(than: candidate) { mpfr_set(candidate.raw, scratch.raw, MPFR_RNDU) }
      }
      if candidate.isLess(than: best) {
        mpfr_set(best.raw, candidate.raw, MPFR_RNDU)
        bestIndex = index
      }
    }
    mpfr_exp(best.raw, best.raw, MPFR_RNDU)
    let value = min(best.roundedUp, 1)
    return bound(value, index: bestIndex, orders: orders)
  }

  /// Sets `result` to log1p(−1/α) = log((α−1)/α) rounded up: −1/α is rounded up (1/α
  /// rounded down, then negated exactly) and log1p is increasing.
  private static func oneMinusInverseLogUp(into result: MPFRNumber, order alpha: Int) {
    mpfr_set_ui(result.raw, UInt(alpha), MPFR_RNDD)  // exact
    mpfr_ui_div(result.raw, 1, result.raw, MPFR_RNDD)
    mpfr_neg(result.raw, result.raw, MPFR_RNDU)  // exact
    mpfr_log1p(result.raw, result.raw, MPFR_RNDU)
  }

  private static func bound(_ value: Double, index: Int, orders: [Int]) -> PrivacyBound {
    let atEdge = value > 0 && value.isFinite && (index == 0 || index == orders.count - 1)
    return PrivacyBound(value: value, optimalOrder: Double(orders[index]), orderAtGridEdge: atEdge)
  }
}
