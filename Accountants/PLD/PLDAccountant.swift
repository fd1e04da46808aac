import RealModule

/// A privacy-loss-distribution accountant for Poisson-subsampled Gaussians under add/remove
/// neighbours: tight where RDP over-states ε by 5–30 % and more.
///
/// Each direction of the relation (remove, add) is accounted separately and ε = max of the
/// two (δ likewise). One release's loss distribution is discretised by pessimistic
/// connect-the-dots from its exact hockey-stick curve (Doroshenko et al. 2022), composed
/// `count` times by an FFT power, and the distinct mechanisms are convolved together.
/// Releases without sampling are Gaussians and compose exactly: T Gaussians with
/// multipliers σᵢ are one with μ = √(Σ σᵢ⁻²) (Dong, Roth & Su 2019), answered in closed
/// form when nothing else was composed.
///
/// Float64 FFT round-off is about 10⁻¹⁶ of the largest value at every grid point. The
/// measured round-off is added back to every composed value as a margin, and each
/// composition is exponentially tilted towards the queried ε (``PLDTilt``) as far as its FFT
/// allows: up to 8 times wider when the untilted round-off could reach 0.1 % of δ, so that
/// it stays far below δ even for δ = 1e-12.
/// For ε(δ) the single-release losses are truncated where the moved tail mass is at most
/// 0.1 % of δ (pessimistically, to the grid's ends and +∞).
///
/// Discretisation: ``Discretization/automatic(relativeError:)`` (the default) halves the
/// interval h from 1e-4 (or from the finest of 2e-4, 4e-4, … 1.6e-3 whose grid fits) until
/// two successive ε agree to the relative error (0.1 % by default) and returns the finer
/// one; ``Discretization/fixed(_:)`` uses one h. Every answer is an upper
/// bound for its h (connect-the-dots is pessimistic; tails are cut pessimistically); the
/// agreement test estimates how far it is above the h → 0 limit.
///
/// Supported: `noOp`, `nonPrivate`, `gaussian`, `poissonSampled` around Gaussians (or
/// compositions of Gaussians), `participationSampled` around any supported event (its inner
/// composition discretised and composed untilted, then mixed with a mass 1 − q at loss 0:
/// the privacy-loss distribution of the pair (qP + (1−q)⊥, qQ + (1−q)⊥), in each direction),
/// `selfComposed`, `composed`, and `momentumGaussian` (its dominating mixture of Gaussians
/// with every record in every round, each component discretised, mixed by weight). Other
/// events are rejected; `tuned` has RDP bounds only.
///
/// Resources: a query refuses (``AccountingError/resourceLimitExceeded(reason:)``) a
/// release composed more than ``maximumCount`` times, more than ``maximumDistinctReleases``
/// distinct releases, or single-release grids above ``maximumTotalGridPoints`` points in all,
/// before allocating them: memory stays below about 1 GB whatever the ledger.
public struct PLDAccountant: PrivacyAccountant, Equatable {
  /// How the loss grid is chosen.
  public enum Discretization: Hashable, Sendable {
    /// Refine h until two successive ε agree to this relative error.
    case automatic(relativeError: Double)
    /// One fixed interval h.
    case fixed(Double)
  }

  /// The answer of a PLD query.
  public struct Bound: Hashable, Sendable {
    /// ε (from ``epsilonBound(delta:)``) or δ (from ``deltaBound(epsilon:)``): the larger
    /// of the two directions.
    public var value: Double
    /// The remove direction's value.
    public var remove: Double
    /// The add direction's value.
    public var add: Double
    /// The discretisation interval h of the answer (`nil` when exact, without one).
    public var discretization: Double?
  }

  /// The largest FFT a query may use (2²³ points, about 400 MB of work space).
  public static let maximumGridSize = 1 << 23

  /// The most times one release may be composed (2³²): an FFT power z^n carries a relative
  /// rounding error of about n·2⁻⁵³ in every frequency, 5·10⁻⁷ at this count; beyond it the
  /// composed masses are no longer accurate enough to be a bound. Use ``RDPAccountant``.
  public static let maximumCount = 1 << 32

  /// The most distinct releases (leaves, each direction counted once) a query composes: each
  /// is discretised, self-composed and convolved into the total on its own.
  public static let maximumDistinctReleases = 4096

  /// The most single-release grid points (both directions, all leaves) a query may hold,
  /// 2²⁴ (the δ grids, their PMFs and moments take about 40 bytes a point).
  public static let maximumTotalGridPoints = 1 << 24

  /// How the loss grid is chosen.
  public let discretization: Discretization
  /// Always add/remove.
  public var neighboringRelation: NeighboringRelation { .addOrRemoveOne }
  /// The distinct releases composed so far and how many times each was composed.
  private var composition = PLDComposition()
  private var builder = DPEventBuilder()

  /// Creates an empty accountant.
  /// - Parameter discretization: default: automatic to 0.1 % of ε.
  public init(discretization: Discretization = .automatic(relativeError: 1e-3)) {
    self.discretization = discretization
  }

  /// Everything composed so far.
  public var ledger: DPEvent { builder.build() }

  public func check(_ event: DPEvent) -> CompositionFailure? {
    event.parameterFailure() ?? Self.supportFailure(event)
  }

  public mutating func compose(_ event: DPEvent, count: Int) throws(AccountingError) {
    try validateComposition(of: event, count: count)
    composition.add(event, count: count)
    builder.compose(event, count: count)
  }

  public func epsilon(delta: Double) throws(AccountingError) -> Double {
    try epsilonBound(delta: delta).value
  }

  public func delta(epsilon: Double) throws(AccountingError) -> Double {
    try deltaBound(epsilon: epsilon).value
  }

  /// ε(δ), with each direction's value and the discretisation used.
  /// - Throws: ``AccountingError/invalidArgument(name:value:requirement:)`` unless δ ∈ (0, 1];
  ///   ``AccountingError/resourceLimitExceeded(reason:)`` when the grid would exceed
  ///   ``maximumGridSize``.
  /// - Complexity: O(G log G) per refinement for a grid of G losses.
  public func epsilonBound(delta: Double) throws(AccountingError) -> Bound {
    guard delta > 0, delta <= 1 else {
      throw .invalidArgument(name: "delta", value: delta, requirement: "be in (0, 1]")
    }
    return try query(.epsilon(delta: delta)) { Self.gaussianEpsilon(delta: delta, sigma: $0) }
  }

  /// The smallest ε with δ_G(ε) ≤ δ for a Gaussian with noise multiplier σ (Balle & Wang
  /// 2018), to 1e-12 relative, from above.
  private static func gaussianEpsilon(delta: Double, sigma: Double) -> Double {
    let gap = { (epsilon: Double) in
      SubsampledGaussianLoss.gaussianDelta(epsilon: epsilon, sigma: sigma) - delta
    }
    if gap(0) <= 0 { return 0 }
    var high = 1.0
    while gap(high) > 0 { high *= 2 }
    return RootFinding.feasibleBoundary(
      infeasible: (0, gap(0)), feasible: (high, gap(high)), tolerance: 1e-12 * high, gap)
  }

  /// δ(ε), with each direction's value and the discretisation used.
  /// - Throws: as ``epsilonBound(delta:)``, and for ε < 0.
  public func deltaBound(epsilon: Double) throws(AccountingError) -> Bound {
    guard epsilon >= 0 else {
      throw .invalidArgument(name: "epsilon", value: epsilon, requirement: "be ≥ 0")
    }
    return try query(.delta(epsilon: epsilon)) {
      SubsampledGaussianLoss.gaussianDelta(epsilon: epsilon, sigma: $0)
    }
  }

  // MARK: - Implementation

  /// What a query asks; it also fixes the tilt of the composition (``PLDTilt``).
  private enum Query {
    case epsilon(delta: Double)
    case delta(epsilon: Double)

    func answer(_ pmf: PLDPmf) -> Double {
      switch self {
      case .epsilon(let delta): pmf.epsilon(delta: delta)
      case .delta(let epsilon): pmf.delta(epsilon: epsilon)
      }
    }

    /// The normal quantile at which each release's loss is truncated: the moved tail mass,
    /// 2Φ̄(z) per release and end, adds up to at most ``truncationShare`` of δ over all
    /// `count` releases. For δ(ε) the widest, ``SubsampledGaussianLoss/truncation``.
    func truncation(count: Double) -> Double {
      switch self {
      case .epsilon(let delta):
        SubsampledGaussianLoss.truncation(tailMass: truncationShare * delta / (2 * max(1, count)))
      case .delta: SubsampledGaussianLoss.truncation
      }
    }

    func tilt(logMoment: (Double) -> Double) -> Double {
      switch self {
      case .epsilon(let delta): PLDTilt.forEpsilon(delta: delta, logMoment: logMoment)
      case .delta(let epsilon): PLDTilt.forDelta(epsilon: epsilon, logMoment: logMoment)
      }
    }
  }

  private func query(
    _ query: Query, exactGaussian: (_ sigma: Double) -> Double
  ) throws(AccountingError) -> Bound {
    if composition.nonPrivate {
      return Bound(
        value: query.answer(Self.nonPrivatePmf), remove: .infinity, add: .infinity,
        discretization: nil)
    }
    let releases = composition.releases
    if releases.isEmpty {
      return Bound(value: query.answer(Self.noOpPmf), remove: 0, add: 0, discretization: nil)
    }
    if releases.count == 1, case .sampledGaussian(1, let sigma) = releases[0].kind {
      let value = exactGaussian(sigma)
      return Bound(value: value, remove: value, add: value, discretization: nil)
    }
    try composition.checkCounts()
    var grids: [HockeyStickGrid] = []
    switch discretization {
    case .fixed(let h):
      guard h.isFinite, h >= Self.finestInterval else {
        throw .invalidArgument(
          name: "PLD discretization interval", value: h,
          requirement: "be finite and ≥ \(Self.finestInterval)")
      }
      return try evaluate(h: h, query, grids: &grids)
    case .automatic(let relativeError):
      guard relativeError.isFinite, relativeError > 0 else {
        throw .invalidArgument(
          name: "PLD relative error", value: relativeError, requirement: "be finite and > 0")
      }
      var h = Self.initialInterval
      var coarse: Bound
      while true {
        do {
          coarse = try evaluate(h: h, query, grids: &grids)
          break
        } catch {
          // Losses in the thousands need a coarser grid to fit (and lose nothing by it).
          guard case .resourceLimitExceeded = error, h * 2 <= Self.coarsestInterval else {
            throw error
          }
          h *= 2
        }
      }
      while true {
        h /= 2
        let fine: Bound
        do {
          fine = try evaluate(h: h, query, grids: &grids)
        } catch {
          return coarse  // the finest grid that fits: still an upper bound
        }
        // Equal values end it too: ∞ = ∞ (p_∞ > δ) has no relative error, and must not refine
        // forever; so does reaching the finest interval.
        if coarse.value == fine.value
          || abs(coarse.value - fine.value) <= relativeError * max(fine.value, 1e-12)
          || h / 2 < Self.finestInterval
        {
          return fine
        }
        coarse = fine
      }
    }
  }

  /// The share of δ that truncating each release's loss may cost: the mass beyond the
  /// truncation moves to the ends of the grid or to +∞ (pessimistic).
  static let truncationShare = 1e-3

  /// The finest fixed interval accepted: 10⁻⁹ (a loss range of 1 would already need 10⁹
  /// points, far beyond ``maximumGridSize``).
  static let finestInterval = 1e-9

  /// The first interval of the automatic refinement: dp_accounting's default, 1e-4.
  static let initialInterval = 1e-4

  /// The coarsest interval the automatic refinement starts from when the grid at
  /// ``initialInterval`` exceeds ``maximumGridSize`` (it doubles until the grid fits).
  static let coarsestInterval = 1.6e-3

  /// How much wider than the untilted one a tilted composition's FFT may be: the tilt is
  /// halved until it fits. Wider tilts cut the round-off in the answer's tail further.
  static let maximumTiltGrowth = 8

  /// Both directions' bounds at interval h. `grids` holds each leaf release's exact δ grid
  /// per direction (remove, then add; depth first) from the previous, twice coarser call, and
  /// returns this call's.
  private func evaluate(h: Double, _ query: Query, grids: inout [HockeyStickGrid])
    throws(AccountingError) -> Bound
  {
    let truncation = query.truncation(count: composition.expectedLeafReleases)
    try composition.checkResources(h: h, truncation: truncation)
    var values: [Double] = []
    var computed: [HockeyStickGrid] = []
    for direction in [SubsampledGaussianLoss.Direction.remove, .add] {
      let singles = try Self.singles(
        of: composition, direction, h: h, truncation: truncation, previous: grids,
        computed: &computed)
      let (tilt, windows) = try Self.affordableTilt(query, singles)
      var total: PLDPmf?
      for (single, window) in zip(singles, windows) {
        let composed = single.pmf.selfComposed(
          single.count, tilt: tilt, moments: single.moments, window: window)
        total = total.map { $0.composed(with: composed) } ?? composed
      }
      values.append(total.map(query.answer) ?? 0)
    }
    grids = computed
    return Bound(
      value: max(values[0], values[1]), remove: values[0], add: values[1], discretization: h)
  }

  /// The discretised single releases of `composition` in one direction (untilted), each with
  /// its count. A participation-sampled release is its inner composition, composed untilted
  /// and mixed with a mass 1 − q at loss 0 (``PLDPmf/mixedWithNoRelease(probability:)``).
  private static func singles(
    of composition: PLDComposition, _ direction: SubsampledGaussianLoss.Direction, h: Double,
    truncation: Double, previous: [HockeyStickGrid], computed: inout [HockeyStickGrid]
  ) throws(AccountingError) -> [Single] {
    var result: [Single] = []
    for release in composition.releases {
      let pmf: PLDPmf
      // The discretised loss of one Poisson-subsampled Gaussian (its exact δ grid kept).
      func leaf(probability: Double, noiseMultiplier: Double) throws(AccountingError) -> PLDPmf {
        let loss = SubsampledGaussianLoss(
          probability: probability, noiseMultiplier: noiseMultiplier, direction: direction)
        let range = loss.lossRange(truncation: truncation)
        let points = (range.upperBound - range.lowerBound) / h
        guard points.isFinite, points < Double(maximumGridSize) else {
          throw .resourceLimitExceeded(
            reason:
              "a PLD grid with interval \(h) for q = \(probability), σ = \(noiseMultiplier) needs more than \(maximumGridSize) points; pass a coarser discretization."
          )
        }
        let reusable = previous.indices.contains(computed.count) ? previous[computed.count] : nil
        let grid = HockeyStickGrid(loss, discretization: h, range: range, reusing: reusable)
        computed.append(grid)
        return PLDPmf(connectingDots: grid)
      }
      switch release.kind {
      case .sampledGaussian(let probability, let noiseMultiplier):
        pmf = try leaf(probability: probability, noiseMultiplier: noiseMultiplier)
      case .gaussianMixture(let components, let beyond):
        var parts: [(weight: Double, pmf: PLDPmf)] = []
        for component in components {
          let part =
            component.noiseMultiplier.isFinite
            ? try leaf(probability: 1, noiseMultiplier: component.noiseMultiplier)
            : PLDPmf.noRelease(discretization: h)
          parts.append((component.weight, part))
        }
        pmf = PLDPmf.mixture(parts, infinityMass: beyond)
      case .participation(let probability, let inner):
        let innerSingles = try singles(
          of: inner, direction, h: h, truncation: truncation, previous: previous,
          computed: &computed)
        let composed = try composedUntilted(innerSingles, nonPrivate: inner.nonPrivate, h: h)
        pmf = composed.mixedWithNoRelease(probability: probability)
        guard pmf.probabilities.count <= maximumGridSize else {
          throw .resourceLimitExceeded(
            reason:
              "a participation-sampled PLD with interval \(h) needs more than \(maximumGridSize) points; pass a coarser discretization."
          )
        }
      }
      result.append(Single(pmf: pmf, count: release.count, moments: LossMoments(pmf)))
    }
    return result
  }

  /// The untilted composition of `singles` (each self-composed by an FFT power on its
  /// Chernoff window, then convolved), every step pessimistic: tails move up or to +∞ and
  /// the round-off margin is added (elementwise upper bounds of a dominating discrete PLD
  /// keep its δ(ε) an upper bound). Non-private: all mass at +∞.
  private static func composedUntilted(_ singles: [Single], nonPrivate: Bool, h: Double)
    throws(AccountingError) -> PLDPmf
  {
    if nonPrivate || singles.isEmpty {
      return PLDPmf(
        discretization: h, offset: 0, probabilities: [nonPrivate ? 0 : 1],
        infinityMass: nonPrivate ? 1 : 0)
    }
    var total: PLDPmf?
    for single in singles {
      let window = single.pmf.chernoffWindow(single.count, tilt: 0, moments: single.moments)
      guard FFT.size(atLeast: window.high - window.low + 1) <= maximumGridSize else {
        throw .resourceLimitExceeded(
          reason:
            "the composed PLD inside a participation-sampled event needs more than \(maximumGridSize) points."
        )
      }
      let composed = single.pmf.selfComposed(
        single.count, tilt: 0, moments: single.moments, window: window)
      total = total.map { $0.composed(with: composed) } ?? composed
    }
    return total!
  }

  /// One release's discretised loss and how many times it is composed.
  private struct Single {
    var pmf: PLDPmf
    var count: Int
    var moments: LossMoments
  }

  /// The tilt of a query's compositions and their windows: the largest of the query's tilt
  /// λ, λ/2, λ/4, … (or 0) whose FFTs are at most ``maximumTiltGrowth`` times the untilted
  /// ones, or no larger at all when the untilted round-off (about 2⁻⁵³ per point) cannot
  /// reach ``untiltedShare`` of δ (a free tilt still shrinks the round-off margin's share).
  /// - Throws: ``AccountingError/resourceLimitExceeded(reason:)`` when even the untilted
  ///   composition exceeds ``maximumGridSize``.
  private static func affordableTilt(
    _ query: Query, _ singles: [Single]
  ) throws(AccountingError) -> (tilt: Double, windows: [(low: Int, high: Int)]) {
    func size(_ window: (low: Int, high: Int)) -> Int {
      FFT.size(atLeast: window.high - window.low + 1)
    }
    let plain = singles.map { $0.pmf.chernoffWindow($0.count, tilt: 0, moments: $0.moments) }
    guard plain.allSatisfy({ size($0) <= maximumGridSize }) else {
      throw .resourceLimitExceeded(
        reason: "the composed PLD needs more than \(maximumGridSize) points.")
    }
    var growth = maximumTiltGrowth
    if case .epsilon(let delta) = query {
      let roundOff = 0x1p-49 * Double(plain.reduce(0) { $0 + size($1) })
      if roundOff <= untiltedShare * delta { growth = 1 }
    }
    var tilt = query.tilt { lambda in
      singles.reduce(0) { $0 + Double($1.count) * $1.moments(lambda) }
    }
    while tilt >= PLDTilt.range.lowerBound {
      let windows = zip(singles, plain).map { single, plain in
        let tilted = single.pmf.chernoffWindow(single.count, tilt: tilt, moments: single.moments)
        return (low: min(plain.low, tilted.low), high: max(plain.high, tilted.high))
      }
      let affordable = zip(windows, plain).allSatisfy {
        size($0) <= maximumGridSize && size($0) <= growth * size($1)
      }
      if affordable { return (tilt, windows) }
      tilt /= 2
    }
    return (0, plain)
  }

  /// The share of δ below which the untilted compositions' round-off needs no wider FFT
  /// (it is still bounded by the round-off margin).
  static let untiltedShare = 1e-3

  private static let noOpPmf = PLDPmf.noRelease(discretization: 1)
  private static let nonPrivatePmf = PLDPmf(
    discretization: 1, offset: 0, probabilities: [0], infinityMass: 1)

  private static func supportFailure(_ event: DPEvent) -> CompositionFailure? {
    switch event.sampledGaussianObstacle(allowingMomentum: true) {
    case nil:
      return nil
    case .discreteGaussian(let offending):
      return offending.discreteGaussianRefusal(by: "PLD")
    case .mechanism(let offending):
      if case .tuned = offending {
        return CompositionFailure(
          event: offending,
          reason:
            "the PLD accountant cannot account for Tuned: Papernot & Steinke's bounds are Rényi-DP bounds and no privacy-loss distribution (dominating pair) of the best-of-K release is known; use RDPAccountant."
        )
      }
      return CompositionFailure(
        event: offending, reason: "the PLD accountant does not support this event yet.")
    case .insideSampling(let offending):
      return CompositionFailure(
        event: offending,
        reason:
          "the PLD accountant supports PoissonSampled only around a Gaussian or a composition of Gaussians."
      )
    }
  }
}
