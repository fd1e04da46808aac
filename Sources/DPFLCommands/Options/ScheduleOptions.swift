import ArgumentParser
import DPFederated

/// How often a record or client is sampled and for how many steps: `--sampling-rate Q
/// --steps T`, or `--population N --cohort-size M --rounds T`.
struct ScheduleOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help: "Sampling rate q per step, in (0, 1]: expected batch size / dataset size.")
  var samplingRate: Double?

  @Option(parsing: .unconditional, help: "Number of steps (noisy releases), ≥ 1.")
  var steps: Int?

  @Option(
    parsing: .unconditional, help: "Population N: clients (user-level privacy) or records, ≥ 1.")
  var population: Int?

  @Option(parsing: .unconditional, help: "Clients per round M, 1 ≤ M ≤ N; q = M/N.")
  var cohortSize: Int?

  @Option(parsing: .unconditional, help: "Number of federated rounds (a synonym of --steps), ≥ 1.")
  var rounds: Int?

  @Option(
    help:
      "poisson (each joins with probability q; add/remove neighbours) or fixed-size (exactly M of N; replace-one neighbours, sensitivity 2C)."
  )
  var sampling: SamplingScheme?

  /// The schedule fields of a query.
  func apply(to raw: inout RawQuery) {
    raw.samplingRate = samplingRate
    raw.steps = steps
    raw.population = population
    raw.cohortSize = cohortSize
    raw.rounds = rounds
    raw.sampling = sampling
  }
}
