import Accountants

/// The answer to a `dpfl account` query, from flags or from a ledger. Its JSON keys are a
/// stable contract.
struct AccountResult: Encodable, Equatable, Sendable {
  enum Unknown: String, Encodable, Sendable {
    case epsilon
    case delta
  }

  /// The sampled-Gaussian schedule behind a result, when the event has that shape.
  struct Schedule: Equatable, Sendable {
    var sampling: Sampling
    var steps: Int
    /// σ relative to the clipping bound C (noise std σ·C).
    var noiseMultiplier: Double
  }

  var epsilon: Double
  var delta: Double
  var solvedFor: Unknown
  var finding: LedgerAccounting.Finding
  var schedule: Schedule?
  var ledger: DPEvent

  /// The result of `finding` for a query that fixed one of ε and δ.
  init(finding: LedgerAccounting.Finding, target: AccountQuery.Target, schedule: Schedule?, ledger: DPEvent) {
    switch target {
    case .delta(let delta):
      (epsilon, self.delta, solvedFor) = (finding.bound.value, delta, .epsilon)
    case .epsilon(let epsilon):
      (self.epsilon, delta, solvedFor) = (epsilon, finding.bound.value, .delta)
    }
    self.finding = finding
    self.schedule = schedule
    self.ledger = ledger
  }

  private enum CodingKeys: String, CodingKey {
    case epsilon, delta, accountant, conversion, sampling, steps, bound, orders, ledger
    case samplingRate = "sampling_rate"
    case noiseMultiplier = "noise_multiplier"
    case optimalOrder = "optimal_order"
    case orderAtGridEdge = "order_at_grid_edge"
    case neighboringRelation = "neighboring_relation"
    case population, certified
    case cohortSize = "cohort_size"
    case solvedFor = "solved_for"
    case precisionBits = "precision_bits"
    case discretization
    case epsRemove = "eps_remove"
    case epsAdd = "eps_add"
    case deltaRemove = "delta_remove"
    case deltaAdd = "delta_add"
  }

  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(epsilon, forKey: .epsilon)
    try container.encode(delta, forKey: .delta)
    try container.encode(solvedFor, forKey: .solvedFor)
    try container.encode(finding.method.rawValue, forKey: .accountant)
    try container.encode(finding.conversion?.rawValue, forKey: .conversion)
    try container.encode(finding.orders?.name, forKey: .orders)
    try container.encode(finding.neighboringRelation.rawValue, forKey: .neighboringRelation)
    try container.encode(schedule?.sampling.scheme.rawValue, forKey: .sampling)
    try container.encode(schedule?.sampling.rate, forKey: .samplingRate)
    try container.encode(schedule?.sampling.population, forKey: .population)
    try container.encode(schedule?.sampling.cohortSize, forKey: .cohortSize)
    try container.encode(schedule?.steps, forKey: .steps)
    try container.encode(schedule?.noiseMultiplier, forKey: .noiseMultiplier)
    try container.encode(ledger.summary, forKey: .ledger)
    try container.encode(finding.bound.optimalOrder, forKey: .optimalOrder)
    try container.encode(finding.bound.orderAtGridEdge, forKey: .orderAtGridEdge)
    try container.encode("upper", forKey: .bound)
    let certified = finding.method == .certified
    try container.encode(certified, forKey: .certified)
    try container.encode(
      certified ? CertifiedRDPAccountant.precisionBits : nil, forKey: .precisionBits)
    if let pld = finding.pld {
      let epsilon = solvedFor == .epsilon
      try container.encode(pld.discretization, forKey: .discretization)
      try container.encode(pld.remove, forKey: epsilon ? .epsRemove : .deltaRemove)
      try container.encode(pld.add, forKey: epsilon ? .epsAdd : .deltaAdd)
    }
  }
}

extension AccountResult.Schedule {
  /// The schedule of a ledger that is T releases of one sampled Gaussian, the shape every
  /// `dpfl account` flag query and every constant-σ training run has; `nil` otherwise.
  init?(ledger: DPEvent) {
    var steps = 1
    var step = ledger
    if case .selfComposed(let inner, let count) = ledger {
      (step, steps) = (inner, count)
    }
    switch step {
    case .poissonSampled(let probability, .gaussian(let sigma)):
      self.init(
        sampling: Sampling(scheme: .poisson, rate: probability), steps: steps,
        noiseMultiplier: sigma)
    case .sampledWithoutReplacement(let sourceSize, let sampleSize, .gaussian(let sigma)):
      // The event's σ is relative to the replace-one sensitivity 2C (see Sampling.event).
      let sampling = Sampling(
        scheme: .fixedSize, rate: Double(sampleSize) / Double(sourceSize), population: sourceSize,
        cohortSize: sampleSize)
      self.init(sampling: sampling, steps: steps, noiseMultiplier: 2 * sigma)
    case .noOp, .nonPrivate, .gaussian, .discreteGaussian, .laplace, .poissonSampled,
      .sampledWithoutReplacement, .selfComposed, .composed, .relativeEntropyCoded,
      .participationSampled, .tuned, .momentumGaussian:
      return nil
    }
  }
}
