import RealModule

/// What a ``PLDAccountant`` has composed: its distinct releases, each with how many times it
/// was composed, and whether a non-private release was among them. The inner event of a
/// participation-sampled release is a composition of its own.
///
/// Counts are exact up to `Int.max` and saturate there (a nested `selfComposed` of 2⁴⁰ × 2⁴⁰
/// would overflow): a saturated count exceeds ``PLDAccountant/maximumCount``, so queries
/// refuse it with a resource error, never a trap. Unsampled Gaussians compose exactly into one
/// (Σ count/σ² adds up) and are kept as their precision.
struct PLDComposition: Hashable, Sendable {
  /// A distinct release.
  indirect enum Kind: Hashable, Sendable {
    /// A Poisson-subsampled Gaussian (probability 1: a Gaussian).
    case sampledGaussian(probability: Double, noiseMultiplier: Double)
    /// Participation sampling, 0 < probability < 1, around a non-empty inner composition.
    case participation(probability: Double, PLDComposition)
    /// A revealed mixture of Gaussians (``DPEvent/momentumGaussian(_:)``'s dominating pair):
    /// each component with its weight (noise multiplier ∞: nothing released), and an
    /// unbounded loss with the weight `beyond`.
    case gaussianMixture([MixtureComponent], beyond: Double)
  }

  /// One Gaussian of a ``Kind/gaussianMixture(_:beyond:)``.
  struct MixtureComponent: Hashable, Sendable {
    var weight: Double
    var noiseMultiplier: Double
  }

  /// The weight a momentum Gaussian's mixture may move to its ends (see
  /// ``MomentumGaussian/participationMixture(tail:)``): far below any δ asked of it.
  static let mixtureTail = 1e-16

  struct Release: Hashable, Sendable {
    var kind: Kind
    var count: Int
  }

  /// Whether a non-private release was composed.
  private(set) var nonPrivate = false
  private var sampled: [Release] = []
  private var index: [Kind: Int] = [:]
  /// Σ count/σ² of the unsampled Gaussians.
  private var gaussianPrecision = 0.0

  /// The distinct releases; the unsampled Gaussians as one release of count 1.
  var releases: [Release] {
    guard gaussianPrecision > 0 else { return sampled }
    let sigma = (1 / gaussianPrecision).squareRoot()
    return [Release(kind: .sampledGaussian(probability: 1, noiseMultiplier: sigma), count: 1)]
      + sampled
  }

  /// Whether nothing has been released.
  var isEmpty: Bool { !nonPrivate && sampled.isEmpty && gaussianPrecision == 0 }

  /// Adds `count` repetitions of a supported event.
  /// - Precondition: the event passed the PLD accountant's check.
  mutating func add(_ event: DPEvent, count: Int) {
    switch event {
    case .noOp:
      return
    case .nonPrivate:
      nonPrivate = true
    case .gaussian:
      record(probability: 1, RDPAccountant.effectiveNoiseMultiplier(event), count: count)
    case .poissonSampled(let probability, let inner):
      record(probability: probability, RDPAccountant.effectiveNoiseMultiplier(inner), count: count)
    case .participationSampled(let probability, let inner):
      if probability == 0 { return }
      if probability == 1 {
        add(inner, count: count)
        return
      }
      var composition = PLDComposition()
      composition.add(inner, count: 1)
      if composition.isEmpty { return }
      record(.participation(probability: probability, composition), count: count)
    case .selfComposed(let inner, let repetitions):
      if repetitions > 0 { add(inner, count: Self.product(count, repetitions)) }
    case .composed(let events):
      for inner in events { add(inner, count: count) }
    case .relativeEntropyCoded(_, let inner):
      add(inner, count: count)
    case .momentumGaussian(let release):
      if release.releasesNothing { return }
      if release.noiseMultiplier == 0 {
        nonPrivate = true
        return
      }
      let (components, beyond) = release.participationMixture(tail: Self.mixtureTail)
      let mixture = components.map {
        MixtureComponent(
          weight: $0.weight, noiseMultiplier: release.noiseMultiplier / $0.shift.squareRoot())
      }
      // A single component (every round taken part in, or none) is one Gaussian, exactly.
      if mixture.count == 1, beyond == 0 {
        record(probability: 1, mixture[0].noiseMultiplier, count: count)
      } else {
        record(.gaussianMixture(mixture, beyond: beyond), count: count)
      }
    case .laplace, .discreteGaussian, .sampledWithoutReplacement, .tuned:
      preconditionFailure("PLDComposition.add called on an unsupported event \(event)")
    }
  }

  private mutating func record(probability: Double, _ noiseMultiplier: Double, count: Int) {
    if probability == 0 || noiseMultiplier == .infinity { return }
    if noiseMultiplier == 0 {
      nonPrivate = true
      return
    }
    if probability == 1 {
      gaussianPrecision += Double(count) / (noiseMultiplier * noiseMultiplier)
      if gaussianPrecision == .infinity { nonPrivate = true }
      return
    }
    record(
      .sampledGaussian(probability: probability, noiseMultiplier: noiseMultiplier), count: count)
  }

  private mutating func record(_ kind: Kind, count: Int) {
    if let i = index[kind] {
      sampled[i].count = Self.sum(sampled[i].count, count)
    } else {
      index[kind] = sampled.count
      sampled.append(Release(kind: kind, count: count))
    }
  }

  private static func product(_ a: Int, _ b: Int) -> Int {
    let (value, overflow) = a.multipliedReportingOverflow(by: b)
    return overflow ? .max : value
  }

  private static func sum(_ a: Int, _ b: Int) -> Int {
    let (value, overflow) = a.addingReportingOverflow(b)
    return overflow ? .max : value
  }

  // MARK: - Resources

  /// The expected number of leaf releases (participation probabilities times counts), for the
  /// truncation of each leaf's loss.
  var expectedLeafReleases: Double {
    releases.reduce(0) { total, release in
      switch release.kind {
      case .sampledGaussian, .gaussianMixture: return total + Double(release.count)
      case .participation(let probability, let inner):
        return total + Double(release.count) * probability * inner.expectedLeafReleases
      }
    }
  }

  /// Throws when a release (at any depth) is composed more than
  /// ``PLDAccountant/maximumCount`` times.
  func checkCounts() throws(AccountingError) {
    for release in releases {
      guard release.count <= PLDAccountant.maximumCount else {
        throw .resourceLimitExceeded(
          reason:
            "the PLD accountant composes one release at most \(PLDAccountant.maximumCount) times (FFT powers lose accuracy beyond); got \(release.count == .max ? "more than \(Int.max)" : "\(release.count)"). Hint: use RDPAccountant, whose cost does not grow with the count."
        )
      }
      if case .participation(_, let inner) = release.kind { try inner.checkCounts() }
    }
  }

  /// Throws, before anything is allocated, when the leaf releases' grids at interval h and
  /// the given truncation would exceed ``PLDAccountant/maximumTotalGridPoints`` points or
  /// there are more than ``PLDAccountant/maximumDistinctReleases`` leaves.
  func checkResources(h: Double, truncation: Double) throws(AccountingError) {
    var leaves = 0
    var points = 0.0
    func leaf(probability: Double, noiseMultiplier: Double) {
      leaves += 1
      for direction in [SubsampledGaussianLoss.Direction.remove, .add] {
        let range = SubsampledGaussianLoss(
          probability: probability, noiseMultiplier: noiseMultiplier, direction: direction
        ).lossRange(truncation: truncation)
        let width = range.upperBound - range.lowerBound
        points += width.isFinite ? width / h + 2 : .infinity
      }
    }
    func visit(_ composition: PLDComposition) {
      for release in composition.releases {
        switch release.kind {
        case .sampledGaussian(let probability, let noiseMultiplier):
          leaf(probability: probability, noiseMultiplier: noiseMultiplier)
        case .participation(_, let inner):
          visit(inner)
        case .gaussianMixture(let components, _):
          for component in components where component.noiseMultiplier.isFinite {
            leaf(probability: 1, noiseMultiplier: component.noiseMultiplier)
          }
        }
      }
    }
    visit(self)
    guard leaves <= PLDAccountant.maximumDistinctReleases else {
      throw .resourceLimitExceeded(
        reason:
          "the ledger has \(leaves) distinct releases; the PLD accountant composes at most \(PLDAccountant.maximumDistinctReleases) (each is discretised and convolved on its own). Hint: use RDPAccountant, whose cost per distinct release is microseconds, or merge releases with equal parameters."
      )
    }
    guard points <= Double(PLDAccountant.maximumTotalGridPoints) else {
      throw .resourceLimitExceeded(
        reason:
          "the PLD grids at interval \(h) would need \(points.isFinite ? "\(points.rounded(.up))" : "unboundedly many") points in all, more than \(PLDAccountant.maximumTotalGridPoints). Hint: pass a coarser discretization or use RDPAccountant."
      )
    }
  }
}
