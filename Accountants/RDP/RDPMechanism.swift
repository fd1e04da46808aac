import RealModule

/// One release whose per-step RDP curve the RDP accountant knows: the leaves a
/// ``DPEvent`` is flattened into (nested Gaussians on one sample already reduced to one).
enum RDPMechanism: Hashable, Sendable {
  case nonPrivate
  case gaussian(noiseMultiplier: Double)
  case laplace(noiseMultiplier: Double)
  case poissonSampledGaussian(probability: Double, noiseMultiplier: Double)
  /// A Poisson-sampled mechanism whose only known property is its Rényi curve α/(2σ²) (a
  /// discrete Gaussian): Zhu & Wang's general bound, at integer orders only.
  case poissonSampledDiscreteGaussian(probability: Double, noiseMultiplier: Double)
  case sampledWithoutReplacementGaussian(fraction: Double, noiseMultiplier: Double)
  /// ``DPEvent/participationSampled(probability:_:)``: the inner composition's terms
  /// (merged, q ∈ (0, 1)).
  case participationSampled(probability: Double, terms: [RDPTerm])
  /// A bound known only on the accountant's grid (``DPEvent/tuned(runs:_:)``), evaluated
  /// when the event is composed: `values[i]` at `orders[i]`, +∞ at any other order.
  case tabulated(orders: [Double], values: [Double])
  /// ``DPEvent/momentumGaussian(_:)`` (σ > 0, releasing something): the Rényi divergence
  /// of its dominating mixture, log E[e^{λS}]/(α − 1) with λ = α(α − 1)/(2σ²) (each
  /// component is a Gaussian of shift √S/σ, whose E[(P/Q)^α] is e^{α(α−1)S/(2σ²)}).
  case momentumGaussian(MomentumGaussian)

  /// Per-step RDP at order α.
  func epsilon(order alpha: Double) -> Double {
    switch self {
    case .participationSampled(let q, let terms):
      var inner = 0.0
      for term in terms { inner += term.count * term.mechanism.epsilon(order: alpha) }
      return Self.participationEpsilon(probability: q, inner: inner, order: alpha)
    case .tabulated(let orders, let values):
      guard let index = Self.index(of: alpha, in: orders) else { return .infinity }
      return values[index]
    case .nonPrivate:
      return .infinity
    case .momentumGaussian(let release):
      let sigma = release.noiseMultiplier
      let lambda = alpha * (alpha - 1) / (2 * sigma * sigma)
      // σ so small that λ overflows: no finite bound.
      guard lambda.isFinite else { return .infinity }
      return release.logMomentGenerating(lambda) / (alpha - 1)
    case .gaussian(let sigma):
      return SubsampledGaussianRDP.epsilon(
        samplingProbability: 1, noiseMultiplier: sigma, order: alpha)
    case .laplace(let b):
      return LaplaceRDP.epsilon(noiseMultiplier: b, order: alpha)
    case .poissonSampledGaussian(let q, let sigma):
      return SubsampledGaussianRDP.epsilon(
        samplingProbability: q, noiseMultiplier: sigma, order: alpha)
    case .poissonSampledDiscreteGaussian(let q, let sigma):
      if sigma == 0 { return q == 0 ? 0 : .infinity }
      return PoissonSampledRDPBound.epsilon(samplingProbability: q, order: alpha) {
        $0 / (2 * sigma * sigma)
      }
    case .sampledWithoutReplacementGaussian(let fraction, let sigma):
      return SampledWithoutReplacementRDP.epsilon(
        samplingFraction: fraction, noiseMultiplier: sigma, order: alpha)
    }
  }

  /// The RDP of participation sampling at order α from the inner RDP x = ε_inner(α):
  /// ε(α) = log(1 + q·(e^{(α−1)x} − 1))/(α − 1), exact for the pair
  /// (qP + (1−q)⊥, qQ + (1−q)⊥) since E_Q′[(P′/Q′)^α] = 1 − q + q·E_Q[(P/Q)^α] (see
  /// ``DPEvent/participationSampled(probability:_:)``). Non-decreasing in x and in q, ≤ x.
  ///
  /// In log space: with K = (α−1)x, log1p(q·expm1(K)) while K < 1 (no cancellation for tiny
  /// K), else log((1−q) + q·e^K) as a log-sum, which never overflows for large K.
  static func participationEpsilon(probability q: Double, inner x: Double, order alpha: Double)
    -> Double
  {
    if q == 0 || x <= 0 { return 0 }
    if x.isNaN || x == .infinity { return .infinity }
    if q == 1 { return x }
    let k = (alpha - 1) * x
    let logMoment =
      k < 1
      ? Double.log(onePlus: q * Double.expMinusOne(k))
      : LogSpace.add(Double.log(onePlus: -q), Double.log(q) + k)
    return logMoment / (alpha - 1)
  }

  /// The index of `alpha` in the sorted `orders`, if present.
  private static func index(of alpha: Double, in orders: [Double]) -> Int? {
    var low = 0
    var high = orders.count
    while low < high {
      let middle = (low + high) / 2
      if orders[middle] < alpha { low = middle + 1 } else { high = middle }
    }
    return low < orders.count && orders[low] == alpha ? low : nil
  }

  /// Whether ``epsilon(order:)`` is cheap (closed form), so that it serves as its own
  /// lower bound when the accountant prunes orders.
  var hasClosedForm: Bool {
    switch self {
    case .nonPrivate, .gaussian, .laplace, .tabulated: return true
    case .poissonSampledGaussian(let q, _), .poissonSampledDiscreteGaussian(let q, _):
      return q == 0 || q == 1
    case .sampledWithoutReplacementGaussian(let fraction, _): return fraction == 0 || fraction == 1
    case .participationSampled(_, let terms): return terms.allSatisfy(\.mechanism.hasClosedForm)
    case .momentumGaussian: return false
    }
  }

  /// Whether ``epsilon(order:)`` at `alpha` is the exact RDP (up to rounding), so that by
  /// monotonicity of RDP in α it bounds the value at every larger order from below.
  /// True for the Poisson-subsampled Gaussian at integer orders (a finite sum); false at
  /// fractional orders, whose series is an upper bound, and for sampling without
  /// replacement, whose values are Theorem 27 bounds, not RDP itself.
  ///
  /// Participation sampling is exact where its inner terms all are: its value is then the
  /// Rényi divergence of a genuine pair of distributions (the mixture of ⊥ with the product of
  /// the terms' pairs), so it has the curve properties ``RDPCurve`` relies on. A tabulated
  /// (tuning) bound is not an RDP curve.
  func isExactAnchor(order alpha: Double) -> Bool {
    switch self {
    case .nonPrivate, .gaussian, .laplace: return true
    case .poissonSampledGaussian: return alpha.rounded() == alpha
    case .poissonSampledDiscreteGaussian, .sampledWithoutReplacementGaussian, .tabulated:
      return false
    case .participationSampled(_, let terms):
      return terms.allSatisfy { $0.mechanism.isExactAnchor(order: alpha) }
    case .momentumGaussian(let release):
      // With p = 1 the divergence of a genuine pair (the mixture); a grid bound otherwise.
      return release.recordProbability == 1
    }
  }

  /// Whether integer orders are exact (finite sums, up to rounding) and cheap, so that
  /// their values bound fractional and larger orders from below (see ``RDPCurve``).
  var hasExactIntegerOrders: Bool {
    switch self {
    case .poissonSampledGaussian: return true
    case .nonPrivate, .gaussian, .laplace, .poissonSampledDiscreteGaussian,
      .sampledWithoutReplacementGaussian, .tabulated, .momentumGaussian:
      return false
    case .participationSampled(_, let terms):
      // Closed forms (Gaussian, Laplace, non-private) are exact at every order.
      return !hasClosedForm
        && terms.allSatisfy {
          $0.mechanism.hasExactIntegerOrders
            || ($0.mechanism.hasClosedForm && $0.mechanism.isExactAnchor(order: 2))
        }
    }
  }

  /// A lower bound on the RDP at every order α > 1, valid without evaluating any order:
  /// RDP(α) ≥ KL ≥ 2·TV² (Pinsker), and for the Poisson-subsampled Gaussian
  /// TV = q·TV(N(1, σ²), N(0, σ²)) = q·erf(1/(2√2σ)). 0 where nothing better is known.
  var orderFreeLowerBound: Double {
    switch self {
    case .nonPrivate:
      return .infinity
    case .gaussian(let sigma):
      return sigma == 0 ? .infinity : 1 / (2 * sigma * sigma)
    case .poissonSampledGaussian(let q, let sigma):
      guard sigma > 0 else { return q > 0 ? .infinity : 0 }
      let totalVariation = q * Double.erf(1 / (2 * 2.0.squareRoot() * sigma))
      return 2 * totalVariation * totalVariation
    case .laplace, .poissonSampledDiscreteGaussian, .sampledWithoutReplacementGaussian,
      .participationSampled, .tabulated, .momentumGaussian:
      return 0
    }
  }
}
