import Accountants
import DPFederated

/// The answer to a `dpfl plan` query. Its JSON keys are a stable contract.
struct PlanResult: Encodable, Equatable, Sendable {
  /// ε after a number of steps, for the budget curve.
  struct CurvePoint: Encodable, Equatable, Sendable {
    var steps: Int
    var epsilon: Double
  }

  var query: PlanQuery
  var noiseMultiplier: Double
  var steps: Int
  /// ε of the answer at the target δ, with its optimal order; ε ≤ target.
  var achieved: PrivacyBound
  /// Filled in for single queries; batches skip it to keep sweeps fast.
  var budgetCurve: [CurvePoint]?
  /// `--method dp-rec`: the coder's bits at the answer's σ.
  var coding: CodingTradeOff?

  init(query: PlanQuery, noiseMultiplier: Double, steps: Int, achieved: PrivacyBound) {
    self.query = query
    self.noiseMultiplier = noiseMultiplier
    self.steps = steps
    self.achieved = achieved
  }

  /// How the answer accounts a search (`--tuning-runs`; `nil`: one run).
  var search: PlanQuery.Search?

  /// The search as the JSON output describes it.
  struct Tuning: Encodable, Equatable, Sendable {
    /// "random-search" (Papernot & Steinke) or "composition" (exactly `runs` runs).
    var accountedAs: String
    var distribution: String?
    var parameterName: String?
    var parameter: Double?
    var expectedRuns: Double

    init(_ search: PlanQuery.Search) {
      switch search {
      case .fixed(let runs):
        accountedAs = "composition"
        expectedRuns = Double(runs)
      case .random(let law):
        accountedAs = "random-search"
        expectedRuns = law.expectedRuns
        switch law {
        case .truncatedNegativeBinomial(let shape, let successProbability):
          distribution =
            shape == 0 ? "logarithmic" : shape == 1 ? "geometric" : "negative binomial η = \(shape)"
          (parameterName, parameter) = ("γ", successProbability)
        case .poisson(let mean):
          (distribution, parameterName, parameter) = ("poisson", "μ", mean)
        }
      }
    }

    enum CodingKeys: String, CodingKey {
      case distribution, parameterName = "parameter_name", parameter
      case accountedAs = "accounted_as", expectedRuns = "expected_runs"
    }
  }

  /// The search the answer's ε covers, for the output.
  var tuning: Tuning? { search.map(Tuning.init) }

  /// σ·C, the noise standard deviation on the cohort sum, when C is known.
  var noiseStdOnSum: Double? {
    query.clippingBound.map {
      GaussianNoise(clippingBound: $0, noiseMultiplier: noiseMultiplier).standardDeviation
    }
  }

  /// σ·C/M, the noise standard deviation on the mean update with the fixed, public
  /// denominator M (the cohort size), when C and M are known.
  var noiseStdOnMean: Double? {
    guard let sum = noiseStdOnSum, let cohortSize = query.sampling.cohortSize else { return nil }
    return sum / Double(cohortSize)
  }

  private enum CodingKeys: String, CodingKey {
    case epsilon, delta, accountant, conversion, sampling, steps, bound, orders, solve, population,
      certified
    case precisionBits = "precision_bits"
    case noiseMultiplier = "noise_multiplier"
    case targetEpsilon = "target_epsilon"
    case samplingRate = "sampling_rate"
    case cohortSize = "cohort_size"
    case clippingBound = "clipping_bound"
    case noiseStdOnSum = "noise_std_on_sum"
    case noiseStdOnMean = "noise_std_on_mean"
    case optimalOrder = "optimal_order"
    case orderAtGridEdge = "order_at_grid_edge"
    case neighboringRelation = "neighboring_relation"
    case assumedDefaults = "assumed_defaults"
    case budgetCurve = "budget_curve"
    case coding, tuning, momentum
    case recordRate = "record_rate"
  }

  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(noiseMultiplier, forKey: .noiseMultiplier)
    try container.encode(achieved.value, forKey: .epsilon)
    try container.encode(query.target.epsilon, forKey: .targetEpsilon)
    try container.encode(query.target.delta, forKey: .delta)
    try container.encode(query.unknown.rawValue, forKey: .solve)
    try container.encode(query.method.choice.rawValue, forKey: .accountant)
    try container.encode(query.method.conversion.rawValue, forKey: .conversion)
    try container.encode(query.method.orders?.name, forKey: .orders)
    try container.encode(query.method.neighboringRelation.rawValue, forKey: .neighboringRelation)
    try container.encode(query.sampling.scheme.rawValue, forKey: .sampling)
    try container.encode(query.sampling.rate, forKey: .samplingRate)
    try container.encode(query.sampling.population, forKey: .population)
    try container.encode(query.sampling.cohortSize, forKey: .cohortSize)
    try container.encode(steps, forKey: .steps)
    try container.encode(query.clippingBound, forKey: .clippingBound)
    try container.encode(noiseStdOnSum, forKey: .noiseStdOnSum)
    try container.encode(noiseStdOnMean, forKey: .noiseStdOnMean)
    try container.encode(achieved.optimalOrder, forKey: .optimalOrder)
    try container.encode(achieved.orderAtGridEdge, forKey: .orderAtGridEdge)
    try container.encode(query.assumedDefaults, forKey: .assumedDefaults)
    try container.encodeIfPresent(budgetCurve, forKey: .budgetCurve)
    try container.encodeIfPresent(coding, forKey: .coding)
    try container.encode(tuning, forKey: .tuning)
    try container.encode(query.momentum?.beta, forKey: .momentum)
    try container.encode(query.momentum?.recordRate, forKey: .recordRate)
    try container.encode("upper", forKey: .bound)
    let certified = query.method.choice == .certified
    try container.encode(certified, forKey: .certified)
    try container.encode(
      certified ? CertifiedRDPAccountant.precisionBits : nil, forKey: .precisionBits)
  }
}
