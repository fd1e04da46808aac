import Accountants

/// σ for a run: calibrated to the target ε over the planned rounds (or as given), with the
/// plan that accounts it. At example level σ must protect the examples of every client, so
/// the search finds the client whose local DP-SGD schedule needs the most noise.
struct NoiseCalibration {
  /// σ (0 without privacy).
  var noiseMultiplier: Double
  /// The accounting of the run (at example level, of its least protected client).
  var plan: PrivacyPlan

  /// Calibrates for `configuration` on clients with `clientSizes` examples.
  /// - Throws: ``FederatedError/accounting(_:)`` when the target cannot be met.
  init(configuration: FederatedConfiguration, sampler: CohortSampler, clientSizes: [Int]) throws {
    let userLevel = PrivacyPlan(
      sampler: sampler, delta: configuration.delta, accountant: configuration.accountantKind,
      noise: configuration.noise)
    plan = userLevel
    guard configuration.privacy else {
      noiseMultiplier = 0
      return
    }
    let sizes = try configuration.clientExampleBounds.map {
      try Self.declaredSizes($0, clientSizes: clientSizes, configuration)
    }
    let samplings =
      configuration.privacyUnit == .example
      ? Self.localSamplings(clientSizes: sizes ?? clientSizes, configuration) : []
    // The first guess, the smallest client, is usually the least protected.
    var sigma = 0.0
    var candidate = samplings.first
    for _ in 0..<max(1, samplings.count) {
      plan = userLevel.with(localSampling: candidate)
      sigma =
        try configuration.noiseMultiplier
        ?? plan.calibrate(
          targetEpsilon: configuration.targetEpsilon!, rounds: configuration.plannedRounds)
      let worst = try Self.leastProtected(
        samplings, plan: plan, noiseMultiplier: sigma, rounds: configuration.plannedRounds)
      if worst == candidate { break }
      candidate = worst
    }
    noiseMultiplier = sigma
  }

  /// Each client's local schedule per round (example level), distinct schedules only, most
  /// exposed (largest q) first. DP-SGD: Poisson sampling with q = min(1, B/n) and
  /// `localEpochs`·⌈n/B⌉ steps; with the server's noise (``CentralDPSGDMechanism``) one step
  /// at q = min(1, B/n). DP-BREM: one gradient per round at q = min(1, B/n), into the
  /// momentum β (``CenteredClippingMechanism``).
  static func localSamplings(clientSizes: [Int], _ configuration: FederatedConfiguration)
    -> [PrivacyPlan.LocalSampling]
  {
    var seen: [PrivacyPlan.LocalSampling] = []
    for size in Set(clientSizes).filter({ $0 > 0 }).sorted() {
      let batch = configuration.steps.localBatchSize
      let rate = min(1, Double(batch) / Double(size))
      let sampling =
        configuration.centeredClipping().map {
          PrivacyPlan.LocalSampling(probability: rate, steps: 1, momentum: $0.momentum)
        }
        ?? PrivacyPlan.LocalSampling(
          probability: rate,
          steps: configuration.exampleNoisePlacement == .server
            ? 1 : configuration.localEpochs * batchCount(exampleCount: size, batchSize: batch))
      if !seen.contains(sampling) { seen.append(sampling) }
    }
    return seen
  }

  /// The client sizes whose schedules dominate that of every size in `bounds`
  /// (`--client-examples`): a client of n examples takes ⌈n/B⌉ local steps per epoch at
  /// rate min(1, B/n), so among the sizes with the same step count the smallest has the
  /// largest rate, and a Poisson-subsampled Gaussian's privacy loss only grows with its rate.
  /// Hence the bound's lower end and the first size of each further step count.
  /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)`` when a client
  ///   with examples holds a number outside `bounds`.
  static func declaredSizes(
    _ bounds: ClosedRange<Int>, clientSizes: [Int], _ configuration: FederatedConfiguration
  ) throws -> [Int] {
    if let outside = clientSizes.first(where: { $0 > 0 && !bounds.contains($0) }) {
      throw FederatedError.invalidConfiguration(
        field: "--client-examples", value: "\(bounds.lowerBound)...\(bounds.upperBound)",
        allowed: "a range holding every client's number of examples (a client has \(outside))")
    }
    let batch = configuration.steps.localBatchSize
    let firstOfEachStepCount = stride(
      from: batchCount(exampleCount: bounds.lowerBound, batchSize: batch) * batch + 1,
      through: bounds.upperBound,
      by: batch)
    return [bounds.lowerBound] + firstOfEachStepCount
  }

  /// The schedule with the largest ε over the whole run at σ (`nil` when there are none),
  /// by the plan's accountant. A schedule whose RDP ε (milliseconds) is already no more than
  /// the largest found so far cannot be larger by the tighter accountant, so only the others
  /// are evaluated with it; except with momentum, where PLD does not count the records'
  /// sampling and so is not always the tighter.
  static func leastProtected(
    _ samplings: [PrivacyPlan.LocalSampling], plan: PrivacyPlan, noiseMultiplier: Double,
    rounds: Int
  ) throws -> PrivacyPlan.LocalSampling? {
    func epsilon(_ sampling: PrivacyPlan.LocalSampling, _ plan: PrivacyPlan) throws -> Double {
      let candidate = plan.with(localSampling: sampling)
      return try candidate.epsilon(
        of: candidate.runEvent(noiseMultiplier: noiseMultiplier, rounds: rounds))
    }
    let rdp = plan.with(accountant: .rdp)
    var worst: (PrivacyPlan.LocalSampling, Double)?
    for sampling in samplings {
      if let worst, plan.accountant != .rdp, sampling.momentum == 0,
        try epsilon(sampling, rdp) <= worst.1
      {
        continue
      }
      let value = try epsilon(sampling, plan)
      if worst == nil || value > worst!.1 { worst = (sampling, value) }
    }
    return worst?.0
  }
}
