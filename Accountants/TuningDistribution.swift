import RealModule

/// The law of the number of runs K of a hyper-parameter search accounted as
/// ``DPEvent/tuned(runs:_:)``, and the Rényi-DP bound it gives the released best run
/// (Papernot & Steinke 2022, "Hyperparameter Tuning with Rényi Differential Privacy",
/// arXiv:2110.03620v2, ICLR 2022).
///
/// Setting (the paper's §3.3; every item is needed): K is drawn from this distribution,
/// independently of the data; each run draws its candidate hyper-parameters independently and
/// uniformly from a fixed set and runs the inner mechanism Q on fresh randomness; one RDP
/// bound ε(·) holds for every candidate; only the best run by a total order is released
/// (nothing when K = 0). Releasing every run, a fixed K, or an adaptive search is *not*
/// covered: account for those as a composition.
///
/// Both bounds take the inner RDP curve ε(·) (an upper bound at every order, e.g. the inner
/// event's RDP on the accountant's grid) and return an upper bound ε′(λ) of the tuned
/// mechanism's RDP at each order λ > 1.
public enum TuningDistribution: Hashable, Sendable {
  /// The truncated negative binomial D_{η,γ} (paper, §2.2): for k ≥ 1,
  /// P[K = k] = (1−γ)^k / (γ^{−η} − 1) · Π_{ℓ<k} (ℓ + η)/(ℓ + 1) when η ≠ 0, and the
  /// logarithmic law P[K = k] = (1−γ)^k / (k·log(1/γ)) when η = 0. η = 1 is the geometric
  /// law P[K = k] = γ(1−γ)^{k−1}.
  /// - `shape` η > −1, finite;
  /// - `successProbability` γ ∈ (0, 1).
  case truncatedNegativeBinomial(shape: Double, successProbability: Double)

  /// The Poisson law with mean μ > 0 (finite): P[K = k] = e^{−μ} μ^k / k!, k ≥ 0; K = 0
  /// releases nothing.
  case poisson(mean: Double)

  /// The geometric law (η = 1): E[K] = 1/γ.
  public static func geometric(successProbability: Double) -> TuningDistribution {
    .truncatedNegativeBinomial(shape: 1, successProbability: successProbability)
  }

  /// The logarithmic law (η = 0): E[K] = (1/γ − 1)/log(1/γ).
  public static func logarithmic(successProbability: Double) -> TuningDistribution {
    .truncatedNegativeBinomial(shape: 0, successProbability: successProbability)
  }

  /// `nil` when the parameters are in range, otherwise the rule they break.
  public func failure() -> String? {
    switch self {
    case .truncatedNegativeBinomial(let shape, let successProbability):
      guard shape.isFinite, shape > -1 else {
        return "negative binomial shape η must be finite and > −1; got \(shape)."
      }
      guard successProbability > 0, successProbability < 1 else {
        return
          "negative binomial success probability γ must be in (0, 1); got \(successProbability)."
      }
      return nil
    case .poisson(let mean):
      guard mean.isFinite, mean > 0 else {
        return "Poisson mean number of runs μ must be finite and > 0; got \(mean)."
      }
      return nil
    }
  }

  /// log E[K].
  ///
  /// Truncated negative binomial (paper, §2.2): E[K] = η(1−γ)/(γ(1 − γ^η)) for η ≠ 0 and
  /// (1/γ − 1)/log(1/γ) for η = 0. Both are (1−γ)/(γ·log(1/γ)) · x/expm1(x) with
  /// x = η·log γ (x/expm1(x) → 1 as η → 0), which is how it is evaluated: no cancellation
  /// near η = 0 and no overflow of γ^η for η < 0. Poisson: log μ.
  /// - Precondition: ``failure()`` is `nil`.
  public var logExpectedRuns: Double {
    switch self {
    case .truncatedNegativeBinomial(let eta, let gamma):
      let logGamma = Double.log(gamma)
      let x = eta * logGamma
      let ratio = x == 0 ? 1 : x / Double.expMinusOne(x)
      return Double.log(onePlus: -gamma) - logGamma - Double.log(-logGamma) + Double.log(ratio)
    case .poisson(let mean):
      return Double.log(mean)
    }
  }

  /// E[K].
  public var expectedRuns: Double { Double.exp(logExpectedRuns) }

  /// The one-line form used by ``DPEvent/summary``.
  var summary: String {
    switch self {
    case .truncatedNegativeBinomial(let shape, let successProbability):
      return "TruncatedNegativeBinomial(η=\(shape), γ=\(successProbability))"
    case .poisson(let mean):
      return "Poisson(μ=\(mean))"
    }
  }
}

/// The tuned mechanism's RDP bound on a grid of orders, and the free parameter chosen for it.
public struct TunedRDPBound: Hashable, Sendable {
  /// ε′(λ) for each order λ of the grid (+∞ where the inner curve is +∞).
  public var values: [Double]
  /// Truncated negative binomial: the order λ̂ minimising the λ-independent part of
  /// Theorem 2 (1 or an order of the grid); `nil` for Poisson, or when every λ̂ gives +∞.
  public var secondOrder: Double?
}

extension TuningDistribution {
  /// Upper bounds ε′(λ) of the tuned mechanism's RDP at every order λ of `orders`, from
  /// upper bounds `inner` of the inner mechanism's RDP at the same orders.
  ///
  /// **Truncated negative binomial** (Papernot & Steinke 2022, arXiv:2110.03620v2,
  /// Theorem 2): if Q is (λ, ε)- and (λ̂, ε̂)-RDP, λ > 1, λ̂ ≥ 1, then the tuned mechanism is
  /// (λ, ε′)-RDP with
  ///
  ///     ε′ = ε + (1+η)·(1 − 1/λ̂)·ε̂ + (1+η)·log(1/γ)/λ̂ + log(E[K])/(λ − 1).
  ///
  /// λ̂ is free: the λ-independent part (1+η)[(1 − 1/λ̂)ε(λ̂) + log(1/γ)/λ̂] is minimised
  /// over λ̂ ∈ {1} ∪ `orders` (at λ̂ = 1 only (1+η)·log(1/γ) remains; it needs the inner KL
  /// finite, which holds whenever some ε(λ) is finite, since RDP is non-decreasing in the
  /// order). The same λ̂ serves every λ. Each term is monotone in the inner bounds, so upper
  /// bounds in give upper bounds out.
  ///
  /// **Poisson** (the paper's Theorem 6, re-derived here with the K = 0 outcome kept):
  /// if Q is (λ, ε)-RDP and (ε̂, δ̂)-DP with e^{ε̂} ≤ 1 + 1/(λ−1), then for outputs y of a run,
  /// A(y) = Q(y)·E_s[G′(u_s)] with G(t) = e^{μ(t−1)} the generating function of K and
  /// u_s ∈ [P(Q < y), P(Q ≤ y)]; joint convexity of a^λ b^{1−λ} and the DP inequality on
  /// the upper sets give λu_s − (λ−1)u′_s ≤ 1 + (λ−1)δ̂, so the outputs y contribute at most
  /// μ·e^{(λ−1)(ε + μδ̂)} to E[(A/A′)^λ], and K = 0 (probability e^{−μ} under both) adds
  /// e^{−μ}:
  ///
  ///     ε′ = log(e^{−μ} + μ·e^{(λ−1)(ε + μ·δ̂)}) / (λ − 1).
  ///
  /// The paper's statement, ε + μδ̂ + log(μ)/(λ−1), omits the e^{−μ}; for μ < 1 and a
  /// data-independent Q it is negative, which no Rényi divergence is, so dpfl keeps the term
  /// (its bound is larger by log(1 + e^{−μ}/(μ·e^{(λ−1)(ε+μδ̂)}))/(λ−1), negligible for
  /// μ ≳ 5). δ̂ is the inner curve's δ at ε̂ = log(1 + 1/(λ−1)) by `conversion`.
  ///
  /// - Parameters:
  ///   - inner: upper bounds of the inner RDP at `orders` (≥ 0, +∞ allowed).
  ///   - orders: the orders, all > 1.
  ///   - conversion: how the Poisson bound turns the inner curve into δ̂.
  /// - Precondition: ``failure()`` is `nil`; `inner.count == orders.count`.
  public func rdpBound(inner: [Double], orders: [Double], conversion: RDPConversion = .improved)
    -> TunedRDPBound
  {
    precondition(inner.count == orders.count, "one inner RDP value per order")
    let inner = inner.map { $0.isNaN ? Double.infinity : max(0, $0) }
    let logMean = logExpectedRuns
    switch self {
    case .truncatedNegativeBinomial(let eta, let gamma):
      let logInverseGamma = -Double.log(gamma)
      // λ̂ = 1 first: (1+η)·log(1/γ), valid when the inner KL is finite.
      var bestSecond: Double? = nil
      var best = Double.infinity
      if inner.contains(where: \.isFinite) {
        best = (1 + eta) * logInverseGamma
        bestSecond = 1
      }
      for (order, value) in zip(orders, inner) {
        let candidate = (1 + eta) * ((1 - 1 / order) * value + logInverseGamma / order)
        if candidate < best {
          best = candidate
          bestSecond = order
        }
      }
      let values = zip(orders, inner).map { order, value in
        value + best + logMean / (order - 1)
      }
      return TunedRDPBound(values: values, secondOrder: bestSecond)
    case .poisson(let mean):
      let values = zip(orders, inner).map { order, value -> Double in
        guard value.isFinite else { return .infinity }
        // ε̂ = log(1 + 1/(λ−1)), the largest the theorem allows (δ̂ decreases in ε̂).
        let epsilonHat = Double.log(onePlus: 1 / (order - 1))
        let deltaHat = conversion.delta(rdp: inner, orders: orders, epsilon: epsilonHat)
        let exponent = (order - 1) * (value + mean * deltaHat)
        return LogSpace.add(-mean, Double.log(mean) + exponent) / (order - 1)
      }
      return TunedRDPBound(values: values, secondOrder: nil)
    }
  }
}
