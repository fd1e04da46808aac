/// A Rényi-DP accountant (Mironov 2017): tracks the total RDP ε(α) of everything
/// composed, on a grid of orders, and converts it to (ε, δ) on demand.
///
/// Supported events (every other combination is rejected by ``check(_:)`` with the
/// innermost offending sub-event):
/// - `noOp`, `nonPrivate`, `gaussian` and `discreteGaussian` (α/(2σ²)), `laplace`
///   (Mironov 2017 Prop. 6);
/// - `poissonSampled(q, e)` under add/remove neighbours, and
///   `sampledWithoutReplacement(n, m, e)` under replace-one neighbours, where `e` is a
///   Gaussian or a composition of Gaussians on the same sample (reduced to one Gaussian
///   with σ = (Σσᵢ⁻²)^(−1/2), arXiv:1812.06210 §3);
/// - `poissonSampled(q, e)` where `e` composes discrete Gaussians (and possibly Gaussians):
///   the same reduction gives its Rényi curve α/(2σ²), amplified by Zhu & Wang's general
///   bound at integer orders (`PoissonSampledRDPBound`; fractional orders are +∞);
/// - `participationSampled(q, e)` around any supported `e`, under either relation:
///   ε(α) = log(1 + q(e^{(α−1)ε_e(α)} − 1))/(α − 1), exact for its dominating pair (see
///   ``DPEvent/participationSampled(probability:_:)``);
/// - `tuned(runs, e)` around any supported `e` (Papernot & Steinke 2022, see
///   ``TuningDistribution/rdpBound(inner:orders:conversion:)``), its second order λ̂
///   chosen on this grid (``tuningBound(_:_:)`` reports it);
/// - `selfComposed` and `composed` of supported events (RDP adds up per order).
///
/// ```swift
/// var accountant = RDPAccountant()
/// try accountant.compose(.poissonSampled(probability: 0.001, .gaussian(noiseMultiplier: 1.1)), count: 2000)
/// let epsilon = try accountant.epsilon(delta: 1e-6)
/// ```
///
/// Results agree with dp_accounting 0.6.0's `RdpAccountant` to 1e-9 relative on the
/// same grid (golden tests over several hundred cases).
public struct RDPAccountant: PrivacyAccountant, Equatable {
  /// The orders at which RDP is tracked.
  public let orders: RDPOrders
  /// How RDP is converted to (ε, δ).
  public let conversion: RDPConversion
  /// The neighbouring relation of every result.
  public let neighboringRelation: NeighboringRelation
  /// The distinct per-step mechanisms composed so far with their multiplicities, in
  /// first-composed order (RDP adds up per order, so this is all a query needs).
  private var mechanisms: [RDPTerm] = []
  private var mechanismIndex: [RDPMechanism: Int] = [:]
  private var builder = DPEventBuilder()

  /// Creates an empty accountant.
  /// - Parameters:
  ///   - orders: the Rényi orders (default: dp_accounting's 156-order grid).
  ///   - conversion: RDP → (ε, δ) conversion (default: ``RDPConversion/improved``).
  ///   - neighboringRelation: add/remove (default; for Poisson sampling) or replace-one
  ///     (for sampling without replacement).
  public init(
    orders: RDPOrders = .dpAccountingDefault,
    conversion: RDPConversion = .improved,
    neighboringRelation: NeighboringRelation = .addOrRemoveOne
  ) {
    self.orders = orders
    self.conversion = conversion
    self.neighboringRelation = neighboringRelation
  }

  /// The total RDP of everything composed, one value per order of ``orders``.
  /// - Complexity: evaluates every order; queries evaluate only the orders they need.
  public var rdp: [Double] {
    var curve = curve()
    return curve.all()
  }

  /// Everything composed so far.
  public var ledger: DPEvent { builder.build() }

  /// Validates parameters and support, without composing.
  public func check(_ event: DPEvent) -> CompositionFailure? {
    event.parameterFailure() ?? supportFailure(event)
  }

  /// Composes `count` repetitions of `event` (all or nothing).
  /// - Complexity: O(size of the event); the RDP curves are evaluated by queries, except a
  ///   `tuned` event's, whose inner curve is evaluated here on the whole grid.
  public mutating func compose(_ event: DPEvent, count: Int) throws(AccountingError) {
    try validateComposition(of: event, count: count)
    for (mechanism, multiplicity) in flatten(event, count: Double(count)) {
      if let index = mechanismIndex[mechanism] {
        mechanisms[index].count += multiplicity
      } else {
        mechanismIndex[mechanism] = mechanisms.count
        mechanisms.append(RDPTerm(mechanism: mechanism, count: multiplicity))
      }
    }
    builder.compose(event, count: count)
  }

  /// ε(δ) with the optimal order and the grid-edge flag.
  /// - Throws: ``AccountingError/invalidArgument(name:value:requirement:)`` unless δ ∈ [0, 1].
  public func epsilonBound(delta: Double) throws(AccountingError) -> PrivacyBound {
    guard delta >= 0, delta <= 1 else {
      throw .invalidArgument(name: "delta", value: delta, requirement: "be in [0, 1]")
    }
    var curve = curve()
    return conversion.epsilon(curve: &curve, delta: delta)
  }

  /// δ(ε) with the optimal order and the grid-edge flag.
  /// - Throws: ``AccountingError/invalidArgument(name:value:requirement:)`` unless ε ≥ 0.
  public func deltaBound(epsilon: Double) throws(AccountingError) -> PrivacyBound {
    guard epsilon >= 0 else {
      throw .invalidArgument(name: "epsilon", value: epsilon, requirement: "be ≥ 0")
    }
    var curve = curve()
    return conversion.delta(curve: &curve, epsilon: epsilon)
  }

  public func epsilon(delta: Double) throws(AccountingError) -> Double {
    try epsilonBound(delta: delta).value
  }

  public func delta(epsilon: Double) throws(AccountingError) -> Double {
    try deltaBound(epsilon: epsilon).value
  }

  // MARK: - Traversal

  /// The innermost sub-event this accountant cannot handle, assuming valid parameters.
  private func supportFailure(_ event: DPEvent) -> CompositionFailure? {
    switch event {
    case .noOp, .nonPrivate, .gaussian, .discreteGaussian, .laplace:
      return nil
    case .momentumGaussian(let release):
      guard neighboringRelation == .addOrRemoveOne else {
        return CompositionFailure(
          event: event,
          reason:
            "MomentumGaussian needs add/remove neighbours; this accountant uses \(neighboringRelation.rawValue)."
        )
      }
      guard release.gridWorkIsAffordable else {
        return CompositionFailure(
          event: event,
          reason:
            "the RDP accountant bounds a MomentumGaussian with sampled records (p < 1) on a grid of \(release.gridSize) steps per round, at most \(Int(MomentumGaussian.maximumGridWork)) in all; got \(release.rounds) rounds. Hint: p = 1 (every record in every round) or the PLD accountant costs no grid."
        )
      }
      return nil
    case .poissonSampled(_, let inner):
      guard neighboringRelation == .addOrRemoveOne else {
        return CompositionFailure(
          event: event,
          reason:
            "PoissonSampled needs add/remove neighbours; this accountant uses \(neighboringRelation.rawValue)."
        )
      }
      return inner.firstSubEvent(outsideGaussians: true).map {
        CompositionFailure(
          event: $0,
          reason:
            "the RDP accountant supports PoissonSampled only around a Gaussian, a discrete Gaussian or a composition of them."
        )
      }
    case .sampledWithoutReplacement(_, _, let inner):
      guard neighboringRelation == .replaceOne else {
        return CompositionFailure(
          event: event,
          reason:
            "SampledWithoutReplacement needs replace-one neighbours; this accountant uses \(neighboringRelation.rawValue)."
        )
      }
      return gaussianFailure(inner, sampledBy: "SampledWithoutReplacement")
    case .selfComposed(let inner, _), .relativeEntropyCoded(_, let inner),
      .participationSampled(_, let inner), .tuned(_, let inner):
      return supportFailure(inner)
    case .composed(let events):
      for inner in events {
        if let failure = supportFailure(inner) { return failure }
      }
      return nil
    }
  }

  /// A failure naming the first sub-event of a sampled event that is not a Gaussian or
  /// a composition of Gaussians.
  private func gaussianFailure(_ event: DPEvent, sampledBy sampler: String) -> CompositionFailure? {
    event.firstNonGaussianSubEvent.map {
      CompositionFailure(
        event: $0,
        reason:
          "the RDP accountant supports \(sampler) only around a Gaussian or a composition of Gaussians."
      )
    }
  }

  private func curve() -> RDPCurve {
    RDPCurve(grid: orders, mechanisms: mechanisms)
  }

  /// The per-step mechanisms of a supported event with their multiplicities
  /// (`count` × the event's own repetitions); no-ops and zero counts vanish.
  ///
  /// Participation sampling keeps its inner composition as terms of one mechanism (q = 1
  /// is the inner event itself, q = 0 nothing). A tuning event's bound needs the inner
  /// curve at every order of the grid at once (its second order λ̂ or its δ̂), so it is
  /// evaluated here, once, and tabulated on the grid.
  private func flatten(_ event: DPEvent, count: Double) -> [(RDPMechanism, Double)] {
    switch event {
    case .participationSampled(let probability, let inner):
      if probability == 0 { return [] }
      if probability == 1 { return flatten(inner, count: count) }
      let terms = Self.merged(flatten(inner, count: 1))
      if terms.isEmpty { return [] }
      return [(.participationSampled(probability: probability, terms: terms), count)]
    case .tuned(let runs, let inner):
      guard let bound = tunedBound(runs, Self.merged(flatten(inner, count: 1))) else { return [] }
      return [(.tabulated(orders: orders.values, values: bound.values), count)]
    case .noOp:
      return []
    case .nonPrivate:
      return [(.nonPrivate, count)]
    case .gaussian(let noiseMultiplier), .discreteGaussian(let noiseMultiplier):
      // The same Rényi curve α/(2σ²) (exact at integer orders, an upper bound between).
      return [(.gaussian(noiseMultiplier: noiseMultiplier), count)]
    case .laplace(let noiseMultiplier):
      return [(.laplace(noiseMultiplier: noiseMultiplier), count)]
    case .momentumGaussian(let release):
      if release.releasesNothing { return [] }
      if release.noiseMultiplier == 0 { return [(.nonPrivate, count)] }
      return [(.momentumGaussian(release), count)]
    case .poissonSampled(let probability, let inner):
      let sigma = Self.effectiveNoiseMultiplier(inner)
      // MTZ19's formulas hold for the continuous mixture only; anything discrete inside takes
      // the general bound, which needs only the inner Rényi curve.
      let mechanism: RDPMechanism =
        inner.firstNonGaussianSubEvent == nil
        ? .poissonSampledGaussian(probability: probability, noiseMultiplier: sigma)
        : .poissonSampledDiscreteGaussian(probability: probability, noiseMultiplier: sigma)
      return [(mechanism, count)]
    case .sampledWithoutReplacement(let sourceSize, let sampleSize, let inner):
      let fraction = Double(sampleSize) / Double(sourceSize)
      return [
        (
          .sampledWithoutReplacementGaussian(
            fraction: fraction, noiseMultiplier: Self.effectiveNoiseMultiplier(inner)), count
        )
      ]
    case .selfComposed(let inner, let repetitions):
      // count = 0 is a no-op, even around a non-private event (0 · ∞ would be NaN).
      return repetitions == 0 ? [] : flatten(inner, count: count * Double(repetitions))
    case .composed(let events):
      return events.flatMap { flatten($0, count: count) }
    case .relativeEntropyCoded(_, let inner):
      return flatten(inner, count: count)
    }
  }

  /// Equal mechanisms merged (multiplicities added), in first-seen order.
  private static func merged(_ list: [(RDPMechanism, Double)]) -> [RDPTerm] {
    var terms: [RDPTerm] = []
    var index: [RDPMechanism: Int] = [:]
    for (mechanism, count) in list {
      if let i = index[mechanism] {
        terms[i].count += count
      } else {
        index[mechanism] = terms.count
        terms.append(RDPTerm(mechanism: mechanism, count: count))
      }
    }
    return terms
  }

  /// The tuning bound of ``TuningDistribution/rdpBound(inner:orders:conversion:)`` on this
  /// accountant's grid for the inner terms; `nil` when the inner event releases nothing
  /// (the best of K data-independent runs is data-independent: ε = 0).
  private func tunedBound(_ runs: TuningDistribution, _ terms: [RDPTerm]) -> TunedRDPBound? {
    if terms.isEmpty { return nil }
    var curve = RDPCurve(grid: orders, mechanisms: terms)
    return runs.rdpBound(inner: curve.all(), orders: orders.values, conversion: conversion)
  }

  /// The RDP bound of `.tuned(runs, inner)` on this accountant's grid, with the second order
  /// λ̂ Theorem 2 uses (Papernot & Steinke 2022; see
  /// ``TuningDistribution/rdpBound(inner:orders:conversion:)``).
  /// - Returns: `nil` when the inner event releases nothing (then ε = 0).
  /// - Throws: ``AccountingError/cannotCompose(_:)`` when `.tuned(runs, inner)` fails
  ///   ``check(_:)``.
  /// - Complexity: evaluates the inner event's RDP at every order of the grid.
  public func tuningBound(_ runs: TuningDistribution, _ inner: DPEvent) throws(AccountingError)
    -> TunedRDPBound?
  {
    if let failure = check(.tuned(runs: runs, inner)) { throw .cannotCompose(failure) }
    return tunedBound(runs, Self.merged(flatten(inner, count: 1)))
  }

  /// The noise multiplier of the single Gaussian equivalent to a composition of
  /// Gaussians (or discrete Gaussians: the same Rényi curve) on the same data:
  /// (Σ σᵢ⁻²)^(−1/2), +∞ for an empty composition.
  /// - Precondition: `event` is made of Gaussians and discrete Gaussians only (as checked).
  static func effectiveNoiseMultiplier(_ event: DPEvent) -> Double {
    1 / inverseSquareSum(event).squareRoot()
  }

  private static func inverseSquareSum(_ event: DPEvent) -> Double {
    switch event {
    case .gaussian(let noiseMultiplier), .discreteGaussian(let noiseMultiplier):
      return 1 / (noiseMultiplier * noiseMultiplier)
    case .selfComposed(let inner, let count):
      return count == 0 ? 0 : Double(count) * inverseSquareSum(inner)
    case .composed(let events):
      return events.reduce(0) { $0 + inverseSquareSum($1) }
    case .noOp, .nonPrivate, .laplace, .poissonSampled, .sampledWithoutReplacement,
      .relativeEntropyCoded, .participationSampled, .tuned, .momentumGaussian:
      preconditionFailure("effectiveNoiseMultiplier called on an unsupported event \(event)")
    }
  }
}
