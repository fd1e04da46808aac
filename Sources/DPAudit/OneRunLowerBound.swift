import RealModule

/// The one-run audit of Steinke, Nasr & Jagielski ("Privacy Auditing with One (1) Training
/// Run", NeurIPS 2023): m canaries, each included by an independent fair coin; the auditor
/// guesses "included" for the r canaries of highest score and counts v correct guesses.
/// If the training is (ε, δ)-DP with respect to each canary, the probability of v or more
/// correct is at most p(ε) = f(v) + 2mδ·max_{1≤i≤v} (f(v−i) − f(v))/i, with
/// f(u) = P[Binomial(r, e^ε/(1+e^ε)) ≥ u] (their Theorem 5.2 as their Appendix D computes
/// it). The largest ε with p(ε) < β is a lower bound on the true ε with confidence 1 − β:
/// a guarantee, unlike a fitted estimate.
public struct OneRunLowerBound: Equatable, Sendable {
  /// m, the canaries (included and not).
  public var canaries: Int
  /// r, the guesses made.
  public var guesses: Int
  /// v, the correct guesses.
  public var correct: Int
  /// δ of the (ε, δ) claim tested.
  public var delta: Double

  public init(canaries: Int, guesses: Int, correct: Int, delta: Double) {
    precondition(0 <= correct && correct <= guesses && guesses <= canaries)
    self.canaries = canaries
    self.guesses = guesses
    self.correct = correct
    self.delta = delta
  }

  /// p(ε): how likely v or more correct guesses are under (ε, δ)-DP, at most.
  public func pValue(epsilon: Double) -> Double {
    let (r, v) = (guesses, correct)
    let q = 1 / (1 + Double.exp(-epsilon))
    // pmf(u) of Binomial(r, q) for u = 0…r: log pmf(0) = r log(1 − q), then the ratio
    // pmf(u+1)/pmf(u) = (r − u)/(u + 1) · q/(1 − q).
    let logOdds = Double.log(q) - Double.log(onePlus: -q)
    var logPMF = Double(r) * Double.log(onePlus: -q)
    var pmf = [Double](repeating: 0, count: r + 1)
    for u in 0...r {
      pmf[u] = Double.exp(logPMF)
      if u < r { logPMF += Double.log(Double(r - u) / Double(u + 1)) + logOdds }
    }
    let tail = pmf[v...].reduce(0, +)
    var spread = 0.0
    var gap = 0.0  // f(v − i) − f(v)
    if v > 0 {
      for i in 1...v {
        gap += pmf[v - i]
        spread = max(spread, gap / Double(i))
      }
    }
    return min(1, tail + 2 * Double(canaries) * delta * spread)
  }

  /// The largest ε with p(ε) < β (0 when even ε = 0 fails), to 2⁻³⁰ of the search range,
  /// rounded down: the lower bound at confidence 1 − β.
  public func epsilon(confidence: Double) -> Double {
    let beta = 1 - confidence
    guard pValue(epsilon: 0) < beta else { return 0 }
    var (low, high) = (0.0, 1.0)
    while pValue(epsilon: high) < beta {
      (low, high) = (high, high + 1)
      if high > 1_000 { return low }
    }
    for _ in 0..<30 {
      let middle = (low + high) / 2
      if pValue(epsilon: middle) < beta { low = middle } else { high = middle }
    }
    return low
  }
}

extension OneRunLowerBound {
  /// The guess counts r an audit tries, as fractions of the inserted canaries' expected
  /// number m/2; fixed before any score is seen, and paid for by a Bonferroni correction.
  public static let guessFractions = [0.02, 0.05, 0.1, 0.2, 0.5]

  /// The best lower bound at overall confidence `confidence` from canary `scores` (higher:
  /// more likely inserted) and the truth: for each r of ``guessFractions``, guess the r
  /// highest scores, each tried at confidence 1 − (1 − `confidence`)/(number of r).
  public static func best(
    scores: [Double], isInserted: [Bool], delta: Double, confidence: Double
  ) -> (bound: OneRunLowerBound, epsilon: Double) {
    let order = scores.indices.sorted { scores[$0] > scores[$1] }
    let counts = Set(
      guessFractions.map { max(1, Int(($0 * Double(scores.count) / 2).rounded())) }
    ).filter { $0 <= scores.count }.sorted()
    let each = 1 - (1 - confidence) / Double(counts.count)
    return counts.map { r in
      let bound = OneRunLowerBound(
        canaries: scores.count, guesses: r,
        correct: order.prefix(r).filter { isInserted[$0] }.count, delta: delta)
      return (bound, bound.epsilon(confidence: each))
    }.max { $0.1 < $1.1 }!
  }
}
