import Accountants
import DPFederated

/// How a record (or client) is sampled each step: Poisson with rate q, or a fixed-size
/// cohort of M out of a population of N.
struct Sampling: Equatable, Sendable {
  var scheme: SamplingScheme
  /// q: the Poisson probability, or M/N for fixed-size cohorts.
  var rate: Double
  var population: Int?
  var cohortSize: Int?

  init(scheme: SamplingScheme, rate: Double, population: Int? = nil, cohortSize: Int? = nil) {
    self.scheme = scheme
    self.rate = rate
    self.population = population
    self.cohortSize = cohortSize
  }

  /// Reads `--sampling-rate Q`, or `--population N --cohort-size M`, and `--sampling`.
  init(_ raw: RawQuery) throws(CLIError) {
    scheme = raw.sampling ?? .poisson
    if let samplingRate = raw.samplingRate {
      if raw.cohortSize != nil {
        throw .conflict(.samplingRate, .cohortSize, reason: "give one of the two.")
      }
      if raw.population != nil {
        throw .conflict(
          .samplingRate, .population,
          reason: "give --sampling-rate, or --population with --cohort-size.")
      }
      guard scheme == .poisson else {
        throw .missing(
          .population, hint: "fixed-size sampling needs --population and --cohort-size.")
      }
      rate = try Validate.samplingRate(samplingRate, .samplingRate)
      return
    }
    guard let population = raw.population else {
      throw .missing(
        .samplingRate, hint: "give --sampling-rate, or --population and --cohort-size.")
    }
    guard let cohortSize = raw.cohortSize else {
      throw .missing(.cohortSize, hint: "--population needs --cohort-size (clients per round).")
    }
    self.population = try Validate.count(population, .population)
    guard cohortSize >= 1, cohortSize <= population else {
      throw .invalidValue(
        .cohortSize, value: "\(cohortSize)",
        requirement: "be in [1, \(population)] (the population)")
    }
    self.cohortSize = cohortSize
    rate = Double(cohortSize) / Double(population)
  }

  /// The neighbouring relation the scheme is analysed under.
  var neighboringRelation: NeighboringRelation { scheme.neighboringRelation }

  /// The event of `steps` sampled Gaussian releases with noise standard deviation σ·C
  /// (``SamplingScheme/event(noiseMultiplier:population:cohortSize:)``).
  func event(noiseMultiplier: Double, steps: Int) -> DPEvent {
    let single: DPEvent
    switch scheme {
    case .poisson:
      single = .poissonSampled(probability: rate, .gaussian(noiseMultiplier: noiseMultiplier))
    case .fixedSize:
      // Sampling guarantees population and cohort size for fixed-size schemes.
      single = scheme.event(
        noiseMultiplier: noiseMultiplier, population: population ?? 1, cohortSize: cohortSize ?? 1)
    }
    return .selfComposed(single, count: steps)
  }

  /// ``event(noiseMultiplier:steps:)``, or with `momentum` the steps' one momentum release
  /// at participation q.
  func event(noiseMultiplier: Double, steps: Int, momentum: MomentumRelease?) -> DPEvent {
    guard let momentum else { return event(noiseMultiplier: noiseMultiplier, steps: steps) }
    return .momentumGaussian(
      MomentumGaussian(
        noiseMultiplier: noiseMultiplier, momentum: momentum.beta,
        recordProbability: momentum.recordRate, participationProbability: rate, rounds: steps))
  }
}

/// DP-BREM's client momentum (`--momentum β --record-rate p`): the steps are one
/// ``Accountants/MomentumGaussian`` release at record level, the schedule's rate being each
/// client's participation q.
struct MomentumRelease: Equatable, Sendable {
  /// β ∈ (0, 1).
  var beta: Double
  /// p ∈ (0, 1]: the probability that a record is in its client's gradient in a round the
  /// client takes part in (B/n of the least protected client).
  var recordRate: Double

  /// Reads `--momentum β` with `--record-rate p` (default 1); `nil` without `--momentum`.
  init?(_ raw: RawQuery, sampling: Sampling) throws(CLIError) {
    guard let beta = raw.momentum else {
      if raw.recordRate != nil {
        throw .missing(
          .momentum, hint: "--record-rate is the record sampling of a momentum release.")
      }
      return nil
    }
    guard beta > 0, beta < 1 else {
      throw .invalidValue(
        .momentum, value: "\(beta)",
        requirement: "be in (0, 1) (β = 0 is no momentum: leave --momentum out)")
    }
    guard sampling.scheme == .poisson else {
      throw .conflict(
        .momentum, .sampling,
        reason: "a momentum release is accounted for Poisson participation only.")
    }
    if let steps = try raw.stepCount(), steps > MomentumGaussian.maximumRounds {
      throw .invalidValue(
        raw.steps == nil ? .rounds : .steps, value: "\(steps)",
        requirement: "be at most \(MomentumGaussian.maximumRounds) with --momentum")
    }
    self.beta = beta
    recordRate = try Validate.samplingRate(raw.recordRate ?? 1, .recordRate)
  }
}

extension RawQuery {
  /// `--steps` or its federated synonym `--rounds`, validated; `nil` when neither is given.
  func stepCount() throws(CLIError) -> Int? {
    switch (steps, rounds) {
    case (let steps?, nil): return try Validate.count(steps, .steps)
    case (nil, let rounds?): return try Validate.count(rounds, .rounds)
    case (nil, nil): return nil
    case (.some, .some): throw .conflict(.steps, .rounds, reason: "they are synonyms; give one.")
    }
  }
}
