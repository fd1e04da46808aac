import Accountants
import DPFederated

/// Every input a query may carry, before validation — from flags or from one line of a
/// JSON Lines batch. Both paths go through the same validation (``Schedule``,
/// ``AccountQuery``, ``PlanQuery``), so a flag and its JSON key are checked alike.
struct RawQuery: Equatable, Sendable {
  var noiseMultiplier: Double?
  var samplingRate: Double?
  var steps: Int?
  var population: Int?
  var cohortSize: Int?
  var rounds: Int?
  var delta: Double?
  var epsilon: Double?
  var accountant: AccountantKind?
  var conversion: RDPConversion?
  var sampling: SamplingScheme?
  var clippingBound: Double?
  var solve: PlanUnknown?
  var tuningRuns: Double?
  var tuningDistribution: TuningDistribution.Family?
  var momentum: Double?
  var recordRate: Double?

  /// The fields of `self`, falling back to those of `defaults` where `self` has none.
  /// Batch lines override the flags given with `--batch`.
  func overriding(_ defaults: RawQuery) -> RawQuery {
    RawQuery(
      noiseMultiplier: noiseMultiplier ?? defaults.noiseMultiplier,
      samplingRate: samplingRate ?? defaults.samplingRate,
      steps: steps ?? defaults.steps,
      population: population ?? defaults.population,
      cohortSize: cohortSize ?? defaults.cohortSize,
      rounds: rounds ?? defaults.rounds,
      delta: delta ?? defaults.delta,
      epsilon: epsilon ?? defaults.epsilon,
      accountant: accountant ?? defaults.accountant,
      conversion: conversion ?? defaults.conversion,
      sampling: sampling ?? defaults.sampling,
      clippingBound: clippingBound ?? defaults.clippingBound,
      solve: solve ?? defaults.solve, tuningRuns: tuningRuns ?? defaults.tuningRuns,
      tuningDistribution: tuningDistribution ?? defaults.tuningDistribution,
      momentum: momentum ?? defaults.momentum, recordRate: recordRate ?? defaults.recordRate)
  }

  /// Reads a JSON object whose keys are ``QueryField`` raw values.
  /// - Throws: ``CLIError/malformedField(key:reason:)`` for a key not in `allowed`, or a
  ///   value of the wrong type (a string where a number belongs, 2.5 steps, …).
  init(json object: [String: JSONScalar], allowed: Set<QueryField>) throws(CLIError) {
    for (key, value) in object.sorted(by: { $0.key < $1.key }) {
      guard let field = QueryField(rawValue: key), allowed.contains(field) else {
        let names = allowed.map(\.rawValue).sorted().joined(separator: ", ")
        throw .malformedField(key: key, reason: "unknown key; allowed keys are \(names).")
      }
      switch field {
      case .noiseMultiplier: noiseMultiplier = try value.number(key)
      case .samplingRate: samplingRate = try value.number(key)
      case .steps: steps = try value.integer(key)
      case .population: population = try value.integer(key)
      case .cohortSize: cohortSize = try value.integer(key)
      case .rounds: rounds = try value.integer(key)
      case .delta: delta = try value.number(key)
      case .epsilon: epsilon = try value.number(key)
      case .accountant: accountant = try value.choice(key)
      case .conversion: conversion = try value.choice(key)
      case .sampling: sampling = try value.choice(key)
      case .clippingBound: clippingBound = try value.number(key)
      case .solve: solve = try value.choice(key)
      case .tuningRuns: tuningRuns = try value.number(key)
      case .tuningDistribution: tuningDistribution = try value.choice(key)
      case .momentum: momentum = try value.number(key)
      case .recordRate: recordRate = try value.number(key)
      case .ledger, .compare:
        throw .malformedField(
          key: key, reason: "not available in batches; use dpfl account --ledger.")
      case .config:
        throw .malformedField(key: key, reason: "not available in batches.")
      }
    }
  }

  init(
    noiseMultiplier: Double? = nil, samplingRate: Double? = nil, steps: Int? = nil,
    population: Int? = nil, cohortSize: Int? = nil, rounds: Int? = nil,
    delta: Double? = nil, epsilon: Double? = nil, accountant: AccountantKind? = nil,
    conversion: RDPConversion? = nil, sampling: SamplingScheme? = nil,
    clippingBound: Double? = nil, solve: PlanUnknown? = nil, tuningRuns: Double? = nil,
    tuningDistribution: TuningDistribution.Family? = nil, momentum: Double? = nil,
    recordRate: Double? = nil
  ) {
    self.noiseMultiplier = noiseMultiplier
    self.samplingRate = samplingRate
    self.steps = steps
    self.population = population
    self.cohortSize = cohortSize
    self.rounds = rounds
    self.delta = delta
    self.epsilon = epsilon
    self.accountant = accountant
    self.conversion = conversion
    self.sampling = sampling
    self.clippingBound = clippingBound
    self.solve = solve
    self.tuningRuns = tuningRuns
    self.tuningDistribution = tuningDistribution
    self.momentum = momentum
    self.recordRate = recordRate
  }
}
