import Accountants

/// The answer to a `dpfl account` query. Its JSON keys are a stable contract.
struct AccountResult: Encodable, Equatable, Sendable {
  enum Unknown: String, Encodable, Sendable {
    case epsilon
    case delta
  }

  var epsilon: Double
  var delta: Double
  var solvedFor: Unknown
  var method: AccountingMethod
  var sampling: Sampling
  var steps: Int
  var noiseMultiplier: Double
  var bound: RDPBound

  private enum CodingKeys: String, CodingKey {
    case epsilon, delta, accountant, conversion, sampling, steps, bound, orders
    case samplingRate = "sampling_rate"
    case noiseMultiplier = "noise_multiplier"
    case optimalOrder = "optimal_order"
    case orderAtGridEdge = "order_at_grid_edge"
    case neighboringRelation = "neighboring_relation"
    case population
    case cohortSize = "cohort_size"
    case solvedFor = "solved_for"
  }

  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(epsilon, forKey: .epsilon)
    try container.encode(delta, forKey: .delta)
    try container.encode(solvedFor, forKey: .solvedFor)
    try container.encode(method.choice.rawValue, forKey: .accountant)
    try container.encode(method.conversion.rawValue, forKey: .conversion)
    try container.encode(method.orders.name, forKey: .orders)
    try container.encode(method.neighboringRelation.rawValue, forKey: .neighboringRelation)
    try container.encode(sampling.scheme.rawValue, forKey: .sampling)
    try container.encode(sampling.rate, forKey: .samplingRate)
    try container.encode(sampling.population, forKey: .population)
    try container.encode(sampling.cohortSize, forKey: .cohortSize)
    try container.encode(steps, forKey: .steps)
    try container.encode(noiseMultiplier, forKey: .noiseMultiplier)
    try container.encode(bound.optimalOrder, forKey: .optimalOrder)
    try container.encode(bound.orderAtGridEdge, forKey: .orderAtGridEdge)
    try container.encode("upper", forKey: .bound)
  }
}
