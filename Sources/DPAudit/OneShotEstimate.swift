/// The one-shot empirical privacy estimate of Andrew, Kairouz, Oh, Oprea, McMahan &
/// Suriyakumar (ICLR 2024) for the final-model threat model, from the cosines of the
/// canaries with the model's change θ_T − θ₀. A canary that was never inserted has, in d
/// dimensions, a cosine of mean 0 and variance exactly 1/d (normal as d grows); an inserted
/// one is shifted by its influence μ. Under the Gaussian mechanism both are normal with the
/// same variance, so the canary's presence is the Gaussian mechanism of sensitivity
/// μ' = μ̂·√d, and ``epsilon`` is its ε at δ. Below 1,000 dimensions, and for scores that
/// are not cosines with one vector (the example-level audit's), the held-out canaries' mean
/// and standard deviation are the null.
///
/// ``twoGaussianEpsilon`` is the authors' code's variant, which also fits the inserted
/// canaries' own σ̂ (``GaussianPair``): it sees a spread of exposures, but the privacy loss
/// of two normals of unequal variance is unbounded, so a few per cent of sampling error in
/// σ̂ moves it a lot at small δ (5 % doubles it at δ = 1e-6 with a few hundred canaries).
///
/// Both are estimates, not bounds: exact for the Gaussian mechanism as d and the canaries
/// grow, with no confidence statement. ``OneRunLowerBound`` gives the guarantee.
public struct OneShotEstimate: Codable, Equatable, Sendable {
  /// The estimated ε at ``delta`` (equal variances).
  public var epsilon: Double
  /// The estimate with the inserted canaries' own variance fitted.
  public var twoGaussianEpsilon: Double
  public var delta: Double
  /// μ', the inserted canaries' mean shift in units of the null's standard deviation.
  public var sensitivity: Double
  /// μ̂ and σ̂ of the inserted canaries' scores.
  public var insertedMean: Double
  public var insertedStandardDeviation: Double
  /// Mean and standard deviation of the held-out canaries' scores (the null, measured).
  public var heldOutMean: Double
  public var heldOutStandardDeviation: Double
  /// The null the estimate used, in words.
  public var null: String

  /// The estimate from the inserted and held-out canaries' scores: cosines in `dimension`
  /// coordinates, or (`dimension` `nil`) scores whose null is the held-out canaries' fit.
  /// - Precondition: at least two inserted and two held-out canaries.
  public init(
    inserted insertedScores: [Double], heldOut heldOutScores: [Double], dimension: Int?,
    delta: Double
  ) {
    precondition(insertedScores.count >= 2 && heldOutScores.count >= 2)
    let inserted = Self.moments(insertedScores)
    let heldOut = Self.moments(heldOutScores)
    let nullDistribution: GaussianPair.Normal
    if let dimension, dimension >= 1_000 {
      nullDistribution = .init(mean: 0, standardDeviation: 1 / Double(dimension).squareRoot())
      null = "N(0, 1/d), d = \(dimension)"
    } else {
      nullDistribution = .init(mean: heldOut.mean, standardDeviation: heldOut.deviation)
      null = "the held-out canaries' normal fit"
    }
    sensitivity = (inserted.mean - nullDistribution.mean) / nullDistribution.standardDeviation
    epsilon = GaussianPair(
      nullDistribution,
      .init(mean: inserted.mean, standardDeviation: nullDistribution.standardDeviation)
    ).epsilon(delta: delta)
    twoGaussianEpsilon = GaussianPair(
      nullDistribution, .init(mean: inserted.mean, standardDeviation: inserted.deviation)
    ).epsilon(delta: delta)
    self.delta = delta
    insertedMean = inserted.mean
    insertedStandardDeviation = inserted.deviation
    heldOutMean = heldOut.mean
    heldOutStandardDeviation = heldOut.deviation
  }

  /// The mean and the (n − 1) standard deviation, which is positive for any two distinct
  /// values (a floor of 1e-300 keeps the fit a distribution otherwise).
  static func moments(_ values: [Double]) -> (mean: Double, deviation: Double) {
    let mean = values.reduce(0, +) / Double(values.count)
    let variance =
      values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    return (mean, max(variance.squareRoot(), 1e-300))
  }

  enum CodingKeys: String, CodingKey {
    case epsilon, twoGaussianEpsilon = "two_gaussian_epsilon", delta, sensitivity
    case insertedMean = "inserted_mean"
    case insertedStandardDeviation = "inserted_standard_deviation"
    case heldOutMean = "held_out_mean", heldOutStandardDeviation = "held_out_standard_deviation"
    case null
  }
}
