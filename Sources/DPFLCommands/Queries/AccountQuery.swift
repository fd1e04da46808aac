import Accountants

/// A validated `dpfl account` query: a noise multiplier and schedule, and either δ (to
/// get ε) or ε (to get δ).
struct AccountQuery: Equatable, Sendable {
  enum Target: Equatable, Sendable {
    case delta(Double)
    case epsilon(Double)
  }

  /// The fields `dpfl account` accepts, as flags and as batch keys.
  static let fields: Set<QueryField> = [
    .noiseMultiplier, .samplingRate, .steps, .population, .cohortSize, .rounds,
    .delta, .epsilon, .accountant, .conversion, .sampling, .momentum, .recordRate,
  ]

  var noiseMultiplier: Double
  var sampling: Sampling
  var steps: Int
  var target: Target
  var method: AccountingMethod
  /// `nil`: each step is a sampled Gaussian release.
  var momentum: MomentumRelease?

  /// Validates every field; the first problem is reported.
  init(_ raw: RawQuery) throws(CLIError) {
    guard let noiseMultiplier = raw.noiseMultiplier else {
      throw .missing(.noiseMultiplier, hint: "the noise std divided by the clipping bound C.")
    }
    self.noiseMultiplier = try Validate.nonNegative(noiseMultiplier, .noiseMultiplier)
    sampling = try Sampling(raw)
    guard let steps = try raw.stepCount() else {
      throw .missing(.steps, hint: "give --steps (or --rounds).")
    }
    self.steps = steps
    target = try Target(raw)
    method = try AccountingMethod(raw, sampling: sampling)
    momentum = try MomentumRelease(raw, sampling: sampling)
  }

  /// Runs the accountant.
  func evaluate() throws(CLIError) -> AccountResult {
    let event = sampling.event(noiseMultiplier: noiseMultiplier, steps: steps, momentum: momentum)
    // A momentum release is shown as its ledger event, not as a sampled-Gaussian schedule.
    let schedule =
      momentum == nil
      ? AccountResult.Schedule(sampling: sampling, steps: steps, noiseMultiplier: noiseMultiplier)
      : nil
    return AccountResult(
      finding: try method.finding(of: event, target: target), target: target, schedule: schedule,
      ledger: event)
  }
}
