import Accountants

/// A validated `dpfl plan` query: a privacy target and a schedule, solved for the noise
/// multiplier (default) or for the number of rounds a given noise multiplier affords.
struct PlanQuery: Equatable, Sendable {
  /// The built-in federated run that `dpfl plan --epsilon E` assumes when no schedule is
  /// given: 1,000 of 1,000,000 clients per round for 2,000 rounds, δ = 1/population.
  enum Defaults {
    static let population = 1_000_000
    static let cohortSize = 1_000
    static let rounds = 2_000
  }

  /// The fields `dpfl plan` accepts, as flags and as batch keys.
  static let fields: Set<QueryField> = [
    .epsilon, .delta, .samplingRate, .steps, .population, .cohortSize, .rounds,
    .accountant, .conversion, .sampling, .clippingBound, .solve, .noiseMultiplier, .tuningRuns,
    .tuningDistribution, .momentum, .recordRate,
  ]

  var target: PrivacyBudget
  var sampling: Sampling
  var unknown: PlanUnknown
  /// The steps to plan for (solving σ), or `nil` when solving for rounds.
  var steps: Int?
  /// The given noise multiplier when solving for rounds.
  var noiseMultiplier: Double?
  var method: AccountingMethod
  var clippingBound: Double?
  /// A hyper-parameter search whose best run is released: the law of its number of runs
  /// (`nil`: one run).
  var tuning: TuningDistribution?
  /// ⌈K⌉, the runs of a search of fixed size that costs the same on average.
  var tuningRuns: Int?
  /// `nil`: each step is a sampled Gaussian release.
  var momentum: MomentumRelease?
  /// Human-readable descriptions of the defaults that were filled in.
  var assumedDefaults: [String]

  /// Validates every field and fills in the built-in run's defaults when no schedule is given.
  init(_ raw: RawQuery) throws(CLIError) {
    var raw = raw
    var assumed: [String] = []
    unknown = raw.solve ?? .noiseMultiplier
    let scheduleGiven =
      raw.samplingRate != nil || raw.population != nil || raw.cohortSize != nil
      || raw.steps != nil || raw.rounds != nil
    if !scheduleGiven {
      raw.population = Defaults.population
      raw.cohortSize = Defaults.cohortSize
      assumed += ["population 1,000,000", "cohort 1,000 per round"]
      if unknown == .noiseMultiplier {
        raw.rounds = Defaults.rounds
        assumed.append("2,000 rounds")
      }
    }
    guard let epsilon = raw.epsilon else {
      throw .missing(.epsilon, hint: "the privacy target ε to plan for.")
    }
    let delta: Double
    if let given = raw.delta {
      delta = try Validate.delta(given, .delta)
    } else if let population = raw.population, population > 1 {
      delta = 1 / Double(population)
      assumed.append("δ = 1/population")
    } else {
      throw .missing(.delta, hint: "δ defaults to 1/population only when --population is given.")
    }
    target = try Self.budget(epsilon: Validate.positive(epsilon, .epsilon), delta: delta)
    sampling = try Sampling(raw)
    method = try AccountingMethod(raw, sampling: sampling)
    clippingBound = try raw.clippingBound.map { (bound: Double) throws(CLIError) -> Double in
      try Validate.positive(bound, .clippingBound)
    }
    assumedDefaults = assumed
    tuning = try Self.tuning(raw)
    tuningRuns = raw.tuningRuns.map { Int($0.rounded(.up)) }
    momentum = try MomentumRelease(raw, sampling: sampling)
    switch unknown {
    case .noiseMultiplier:
      if raw.noiseMultiplier != nil {
        throw .conflict(
          .noiseMultiplier, .solve,
          reason:
            "plan solves for the noise multiplier; use --solve rounds to find the rounds a given σ affords."
        )
      }
      guard let steps = try raw.stepCount() else {
        throw .missing(.steps, hint: "give --steps (or --rounds) to plan the noise for.")
      }
      self.steps = steps
    case .rounds:
      guard let noiseMultiplier = raw.noiseMultiplier else {
        throw .missing(
          .noiseMultiplier,
          hint: "--solve rounds finds the rounds a given noise multiplier affords.")
      }
      if try raw.stepCount() != nil {
        throw .conflict(.steps, .solve, reason: "--solve rounds computes the number of rounds.")
      }
      self.noiseMultiplier = try Validate.positive(noiseMultiplier, .noiseMultiplier)
    }
  }

  /// `--tuning-runs K` with `--tuning-distribution` (logarithmic by default).
  private static func tuning(_ raw: RawQuery) throws(CLIError) -> TuningDistribution? {
    guard let runs = raw.tuningRuns else {
      if raw.tuningDistribution != nil {
        throw .missing(
          .tuningRuns, hint: "--tuning-distribution needs the expected number of runs.")
      }
      return nil
    }
    let family = raw.tuningDistribution ?? .logarithmic
    do { return try TuningDistribution.withExpectedRuns(runs, family: family) } catch {
      throw .invalidValue(
        .tuningRuns, value: "\(runs)",
        requirement: family == .poisson
          ? "be finite and > 0" : "be finite and > 1 (a search of at least one run)")
    }
  }

  /// How a hyper-parameter search of several runs, the best of which is released, is
  /// accounted.
  enum Search: Equatable, Sendable {
    /// A random number of runs of this law (Papernot & Steinke 2022).
    case random(TuningDistribution)
    /// Exactly this many runs, accounted as their composition (releasing the best is
    /// post-processing).
    case fixed(runs: Int)
  }

  /// The event of `steps` steps at σ: one run, or a search over runs. With momentum the run
  /// is one release over its rounds.
  func event(noiseMultiplier: Double, steps: Int, search: Search?) -> DPEvent {
    let run = sampling.event(noiseMultiplier: noiseMultiplier, steps: steps, momentum: momentum)
    switch search {
    case nil: return run
    case .random(let law): return .tuned(runs: law, run)
    case .fixed(let runs): return .selfComposed(run, count: runs)
    }
  }

  private static func budget(epsilon: Double, delta: Double) throws(CLIError) -> PrivacyBudget {
    do {
      return try PrivacyBudget(epsilon: epsilon, delta: delta)
    } catch {
      throw .accounting(error)
    }
  }

  /// Solves for the unknown; the answer always meets the target (ε ≤ target). A search
  /// (`--tuning-runs K`) is accounted both as a random search of K runs on average and as
  /// exactly ⌈K⌉ runs composed, and the cheaper answer is kept (the accountant may have no
  /// bound for the random search: PLD).
  func solve() throws(CLIError) -> PlanResult {
    guard let tuning, let tuningRuns else { return try solve(search: nil) }
    let fixed = try solve(search: .fixed(runs: tuningRuns))
    guard let random = try? solve(search: .random(tuning)) else { return fixed }
    switch unknown {
    case .noiseMultiplier: return random.noiseMultiplier <= fixed.noiseMultiplier ? random : fixed
    case .rounds: return random.steps >= fixed.steps ? random : fixed
    }
  }

  private func solve(search: Search?) throws(CLIError) -> PlanResult {
    let kind = method.choice
    let sigma: Double
    let stepCount: Int
    do {
      switch unknown {
      case .noiseMultiplier:
        stepCount = steps ?? 1
        sigma = try kind.noiseMultiplier(
          target: target, neighboringRelation: method.neighboringRelation,
          conversion: method.conversion
        ) { event(noiseMultiplier: $0, steps: stepCount, search: search) }
      case .rounds:
        sigma = noiseMultiplier ?? 0
        stepCount = try kind.count(
          target: target, neighboringRelation: method.neighboringRelation,
          conversion: method.conversion
        ) { event(noiseMultiplier: sigma, steps: $0, search: search) }
      }
    } catch {
      throw .accounting(error)
    }
    let achieved = try method.epsilon(
      of: event(noiseMultiplier: sigma, steps: stepCount, search: search), delta: target.delta)
    var result = PlanResult(
      query: self, noiseMultiplier: sigma, steps: stepCount, achieved: achieved)
    result.search = search
    return result
  }

  /// ε after `fractions` of the planned steps, then all of them (and one step past them when
  /// solving rounds), for the budget curve.
  func budgetCurve(_ result: PlanResult, fractions: [Double] = [0.1, 0.25, 0.5, 0.75])
    throws(CLIError) -> [PlanResult.CurvePoint]
  {
    let total = result.steps
    var counts = fractions.map { max(1, Int((Double(total) * $0).rounded())) } + [total]
    if unknown == .rounds { counts.append(total + 1) }
    var points: [PlanResult.CurvePoint] = []
    for count in Set(counts).sorted() {
      let event = event(
        noiseMultiplier: result.noiseMultiplier, steps: count, search: result.search)
      points.append(
        .init(steps: count, epsilon: try method.epsilon(of: event, delta: target.delta).value))
    }
    return points
  }
}
