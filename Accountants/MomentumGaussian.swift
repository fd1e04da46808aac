import RealModule

/// A Gaussian release of a client's momentum, round after round (DP-BREM, Gu, Li & Xiong,
/// USENIX Security 2025): the whole run, because a record that enters the momentum stays in
/// it, so its rounds are not independent releases.
///
/// **The mechanism.** Over `rounds` rounds T, the holder of the protected record (a client)
/// takes part in each round independently with probability q (`participationProbability`),
/// independently of the data; who took part may be public. It keeps a hidden momentum
/// m, initially 0, and in each round it takes part it forms a gradient g in which the record
/// is included independently with probability p (`recordProbability`, Poisson sampling of
/// its records) and then moves g by at most Δ, sets m ← β·m + (1 − β)·g (`momentum` β), and
/// the round releases any function of m that is 1-Lipschitz in m given the public history
/// (DP-BREM's centered clip, a projection), plus the other clients' terms, plus
/// N(0, (σΔ)²) on every coordinate (`noiseMultiplier` σ). Neighbours add or remove the record.
///
/// **The bound.** Let a be the participation pattern and b the record's inclusions in the
/// rounds the holder takes part in; for its k-th participation let
/// c_k = (1 − β)·Σ_{j ≤ k} β^{k−j}·b_j (≤ 1) and S = Σ_k c_k². Then for every γ ≥ 0
///
///     H_γ(M(D) ‖ M(D′)) ≤ E_{a,b}[H_γ(N(√S/σ, 1) ‖ N(0, 1))],
///
/// and the same with the arguments swapped: the revealed mixture over (a, b) of Gaussian
/// pairs with shift √S/σ dominates the mechanism. Proof. (1) Without the record, the law of
/// the transcript does not depend on b (Poisson sampling includes each record
/// independently), so M(D′) = Σ π(a,b)·M(D′) and M(D) = Σ π(a,b)·M_{a,b}(D); hockey-stick
/// divergences are jointly convex, so H_γ(M(D) ‖ M(D′)) ≤ Σ π(a,b)·H_γ(M_{a,b}(D) ‖ M(D′)).
/// (2) Given (a, b) and the public history, both datasets compute the holder's other terms
/// at the same model, so the two momenta differ by (1 − β)·Σ_j β^{k−j}·b_j·(the record's
/// term), of norm at most c_k·Δ; the released function moves by no more; rounds without
/// the holder do not depend on the record. So M_{a,b} is an adaptive composition of Gaussian
/// mechanisms with sensitivities c_k·Δ fixed in advance, which is √S/σ-GDP (Dong, Roth &
/// Su 2022, "Gaussian Differential Privacy", Corollary 3.3).
///
/// Record sampling is used only through S, never by amplification: with β = 0 the bound is
/// the revealed count of inclusions, looser than the Poisson-subsampled Gaussian, and
/// with p = 1 it is exact for this mixture, c_k = 1 − β^k. It is never above the per-round
/// charge `participationSampled(q, gaussian(σ))` composed T times (every c_k ≤ 1), which
/// it equals at β = 0, p = 1.
///
/// Accounted by ``RDPAccountant`` (and ``MomentsAccountant``) with record sampling, E[e^{λS}]
/// bounded from above on a grid of c, and by ``PLDAccountant`` with every c_k at its largest,
/// 1 − β^k (as if p = 1: sound for every p, tighter than RDP when the record is in every
/// sample). The certified accountant refuses it.
public struct MomentumGaussian: Hashable, Sendable {
  /// σ, the noise standard deviation over Δ.
  public var noiseMultiplier: Double
  /// β ∈ [0, 1).
  public var momentum: Double
  /// p ∈ (0, 1], the probability that the record is in a participating round's gradient.
  public var recordProbability: Double
  /// q ∈ [0, 1], the probability that the holder takes part in a round.
  public var participationProbability: Double
  /// T ≥ 0.
  public var rounds: Int

  /// A momentum release; ``DPEvent/validate()`` checks the ranges.
  public init(
    noiseMultiplier: Double, momentum: Double, recordProbability: Double,
    participationProbability: Double, rounds: Int
  ) {
    self.noiseMultiplier = noiseMultiplier
    self.momentum = momentum
    self.recordProbability = recordProbability
    self.participationProbability = participationProbability
    self.rounds = rounds
  }

  /// The most rounds one release may span, 10⁵ (its accounting costs time linear in T).
  public static let maximumRounds = 100_000

  /// The most grid steps (rounds × ``gridSize``) the RDP accountant spends per order on a
  /// release whose records are sampled (p < 1): 2·10⁷, about 10 s over the 156 default
  /// orders on one core.
  static let maximumGridWork = 20_000_000.0

  /// The grid steps per order up to which the grid is refined for accuracy: 2·10⁶, about a
  /// second over the default orders.
  static let preferredGridWork = 2_000_000.0

  /// Whether the RDP accountant's grid for it stays within ``maximumGridWork``.
  var gridWorkIsAffordable: Bool {
    recordProbability == 1 || Double(rounds) * Double(gridSize) <= Self.maximumGridWork
  }

  /// Whether it releases nothing that depends on the record: no round, or no participation.
  var releasesNothing: Bool { rounds == 0 || participationProbability == 0 }

  /// The components (weight, S) of the dominating mixture with every c_k = 1 − β^k: N
  /// participations, N ~ Binomial(T, q), give S_N = Σ_{k ≤ N} (1 − β^k)². Components whose
  /// weights sum to less than `tail` at either end are moved up: at the low end onto the
  /// smallest S kept (which bounds theirs from above), at the high end to `beyond` (an
  /// unbounded loss).
  func participationMixture(tail: Double) -> (
    components: [(weight: Double, shift: Double)], beyond: Double
  ) {
    let weights = Self.logBinomialWeights(count: rounds, probability: participationProbability)
      .map(Double.exp)
    let shifts = Self.exactShifts(rounds: rounds, momentum: momentum)
    var low = 0
    var lowMass = 0.0
    while low < rounds, lowMass + weights[low] < tail {
      lowMass += weights[low]
      low += 1
    }
    var high = rounds
    var beyond = 0.0
    while high > low, beyond + weights[high] < tail {
      beyond += weights[high]
      high -= 1
    }
    var components = (low...high).map { (weight: weights[$0], shift: shifts[$0]) }
    components[0].weight += lowMass
    return (components.filter { $0.weight > 0 }, beyond)
  }

  /// log E[e^{λS}] over the participation and record sampling, from above. With p = 1 it
  /// is exact (S_N as in ``participationMixture(tail:)``). Otherwise the momentum
  /// coefficient c runs on the grid {0, 1/G, …, 1}, rounded up after every step: the
  /// rounded path is above the true one at every step (c ↦ βc + (1 − β)b is increasing), so
  /// its S is too, and e^{λS} grows with S. One pass over n participations gives
  /// log E[e^{λS_n}] for every n, which the binomial law of N then mixes, in log space: a
  /// weight below Double's range can still carry the largest term.
  func logMomentGenerating(_ lambda: Double) -> Double {
    let logWeights = Self.logBinomialWeights(
      count: rounds, probability: participationProbability)
    let perCount =
      recordProbability == 1
      ? Self.exactShifts(rounds: rounds, momentum: momentum).map { lambda * $0 }
      : gridLogMoments(lambda)
    var total = -Double.infinity
    for (n, logWeight) in logWeights.enumerated() where logWeight > -.infinity {
      total = LogSpace.add(total, logWeight + perCount[n])
    }
    return total
  }

  /// S_n = Σ_{k ≤ n} (1 − β^k)² for n = 0 … T.
  private static func exactShifts(rounds: Int, momentum: Double) -> [Double] {
    var shifts = [0.0]
    var factor = 1.0
    for _ in 0..<rounds {
      factor *= momentum
      shifts.append(shifts.last! + (1 - factor) * (1 - factor))
    }
    return shifts
  }

  /// The grid's size G: 100/(1 − β)² steps (at most 65,536), so that the rounding, at most
  /// 1/G per step and 1/(G(1 − β)) in all, stays within 1 % of the smallest nonzero c,
  /// 1 − β, where rounds × G stays within ``preferredGridWork``; else as fine as that
  /// allows, but never coarser than 1,024.
  var gridSize: Int {
    let wanted = min(65_536, (100 / ((1 - momentum) * (1 - momentum))).rounded(.up))
    let affordable = (Self.preferredGridWork / Double(max(rounds, 1))).rounded(.down)
    return Int(max(1_024, min(wanted, affordable)))
  }

  /// log E[e^{λS_n}] for n = 0 … T participations, with record sampling, from above (see
  /// ``logMomentGenerating(_:)``). The distribution over the grid is kept normalised (its
  /// largest entry 1) with the scale in log space; each step multiplies by e^{λ(c² − c̄²)}
  /// ≤ 1, c̄ the largest c reached, so nothing overflows (entries below 2⁻¹⁰⁷⁴ of the
  /// largest vanish: a relative error far below the answer's rounding).
  private func gridLogMoments(_ lambda: Double) -> [Double] {
    let size = gridSize
    let grid = (0...size).map { Double($0) / Double(size) }
    // Where c goes without and with the record, rounded up on the grid.
    func destination(_ c: Double, _ included: Double) -> Int {
      let next = momentum * c + (1 - momentum) * included
      return min(size, Int((next * Double(size)).rounded(.up)))
    }
    let without = grid.map { destination($0, 0) }
    let with = grid.map { destination($0, 1) }
    var mass = [Double](repeating: 0, count: size + 1)
    mass[0] = 1
    var scale = 0.0
    var result = [0.0]
    var next = mass
    for _ in 0..<rounds {
      for i in next.indices { next[i] = 0 }
      for i in mass.indices where mass[i] > 0 {
        next[without[i]] += (1 - recordProbability) * mass[i]
        next[with[i]] += recordProbability * mass[i]
      }
      let reached = grid[next.lastIndex { $0 > 0 }!]
      var largest = 0.0
      for i in next.indices where next[i] > 0 {
        next[i] *= Double.exp(lambda * (grid[i] * grid[i] - reached * reached))
        largest = max(largest, next[i])
      }
      for i in next.indices { next[i] /= largest }
      scale += lambda * reached * reached + Double.log(largest)
      swap(&mass, &next)
      result.append(scale + Double.log(mass.reduce(0, +)))
    }
    return result
  }

  /// The log of the Binomial(count, probability) law (−∞ where it is 0).
  static func logBinomialWeights(count: Int, probability: Double) -> [Double] {
    let none = [Double](repeating: -.infinity, count: count)
    if probability == 0 { return [0] + none }
    if probability == 1 { return none + [0] }
    let n = Double(count)
    let logQ = Double.log(probability)
    let logNotQ = Double.log(onePlus: -probability)
    return (0...count).map { k in
      let k = Double(k)
      return LogSpace.binomialMagnitude(n, k) + k * logQ + (n - k) * logNotQ
    }
  }
}
