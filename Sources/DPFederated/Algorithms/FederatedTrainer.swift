import Accountants
import DPModel

/// DP-FedAvg over a model's trainable parameters (spec §1, §5.2, ARCHITECTURE "one private
/// round"), in simulation: for each round the server picks the public randomness (cohort,
/// DyLoRA rank), each sampled client trains locally and sends its clipped update, the sum's
/// release is accounted and recorded BEFORE noise is added, then the noisy sum is divided by
/// the fixed expected cohort size and applied by the server optimiser.
///
/// Every random choice of round t comes from a seed derived from (run seed, t), so a run
/// resumed from a checkpoint at round t continues exactly as an uninterrupted run would.
public struct FederatedTrainer<Model: ClassificationModel, Example: Sendable>: Sendable
where Model.Scalar == Float {
  /// The run's configuration.
  public let configuration: FederatedConfiguration
  /// The model: frozen weights, adapters, head.
  public private(set) var model: Model
  /// The task.
  public let dataset: FederatedDataset<Example>
  /// The sampler and accountant (and, at example level, the least protected client's
  /// local sampling).
  public let plan: PrivacyPlan
  /// σ (calibrated or given; 0 without privacy).
  public let noiseMultiplier: Double
  /// The events released so far.
  public private(set) var ledger: DPEventBuilder
  /// The next round to run.
  public private(set) var round: Int
  /// An upper bound on ε spent so far (see ``spentBound(rounds:)``);
  /// ``exactEpsilonSpent()`` evaluates the plan's accountant on the ledger itself.
  public private(set) var epsilonSpent: Double
  /// The plan's accountant's ε after milestone round counts, computed once each.
  private var milestones: [Int: Double] = [:]
  private var serverOptimizer: Optimizer<Float>
  /// C for the next round (fixed, or adapted round by round).
  public private(set) var clippingBound: Double
  /// With adaptive clipping: σ_b on the count, and z_Δ ≥ σ on the update.
  private let indicatorNoise: Double
  private let updateNoiseMultiplier: Double
  private let makeBatch: @Sendable ([Example]) -> Model.Batch
  /// DP-REC: the coder of every client's update (`nil` for other methods).
  public let coder: RelativeEntropyCoder?

  /// How a round ended.
  public enum Outcome: Equatable, Sendable {
    /// The round was released; its metrics.
    case completed(RoundMetrics)
    /// The round would exceed the budget and was not run; the ε it would have reached.
    case refused(wouldReach: Double)
  }

  /// A trainer at round 0 (or at a checkpoint's round, with its ledger and parameters).
  /// - Throws: ``FederatedError`` for an invalid configuration or an unreachable target.
  public init(
    configuration: FederatedConfiguration, model: Model, dataset: FederatedDataset<Example>,
    makeBatch: @escaping @Sendable ([Example]) -> Model.Batch
  ) throws {
    if let problem = configuration.problems(clientCount: dataset.clients.count).first {
      throw problem
    }
    let sampler = CohortSampler(
      kind: configuration.cohortSampling, clientCount: dataset.clients.count,
      cohortSize: configuration.cohortSize,
      population: configuration.population ?? dataset.clients.count,
      noiseCohortSize: configuration.noiseCohortSize ?? configuration.cohortSize)
    var plan = PrivacyPlan(
      sampler: sampler, delta: configuration.delta, accountant: configuration.accountant)
    let samplings =
      configuration.privacyUnit == .example
      ? Self.localSamplings(dataset, configuration) : []
    if !configuration.privacy {
      noiseMultiplier = 0
    } else {
      // Example level: σ must protect the examples of every client; find the client that
      // needs the most noise (the first guess, the smallest client, usually is).
      var sigma = 0.0
      var candidate = samplings.first
      for _ in 0..<max(1, samplings.count) {
        plan = PrivacyPlan(
          sampler: sampler, delta: configuration.delta, accountant: configuration.accountant,
          localSampling: candidate)
        sigma =
          try configuration.noiseMultiplier
          ?? plan.calibrate(
            targetEpsilon: configuration.targetEpsilon!, rounds: configuration.rounds)
        let worst = try Self.leastProtected(
          samplings, plan: plan, noiseMultiplier: sigma, rounds: configuration.rounds)
        if worst == candidate { break }
        candidate = worst
      }
      noiseMultiplier = sigma
    }
    self.plan = plan
    clippingBound = configuration.clippingBound
    indicatorNoise =
      (configuration.adaptiveClipping?.indicatorNoiseFraction ?? 0)
      * Double(sampler.noiseCohortSize)
    updateNoiseMultiplier =
      configuration.adaptiveClipping != nil && configuration.privacy
      ? try AdaptiveClipping.updateNoiseMultiplier(
        overall: noiseMultiplier, indicatorNoise: indicatorNoise)
      : noiseMultiplier
    self.configuration = configuration
    self.model = model
    self.dataset = dataset
    coder =
      configuration.method == .dpREC
      ? RelativeEntropyCodec.design(
        coordinates: model.trainableParameters.scalarCount,
        clippingBound: configuration.clippingBound,
        noiseStandardDeviation: Self.clientNoise(
          sampler: plan.sampler, noiseMultiplier: noiseMultiplier,
          clippingBound: configuration.clippingBound))
      : nil
    self.makeBatch = makeBatch
    ledger = DPEventBuilder()
    round = 0
    epsilonSpent = 0
    serverOptimizer = Self.makeServerOptimizer(configuration)
  }

  /// Each client's local DP-SGD schedule per round (example level): Poisson sampling with
  /// q = min(1, B/n) and `localEpochs`·⌈n/B⌉ steps, distinct schedules only, most
  /// exposed (largest q) first.
  static func localSamplings(
    _ dataset: FederatedDataset<Example>, _ configuration: FederatedConfiguration
  )
    -> [PrivacyPlan.LocalSampling]
  {
    let sizes = Set(dataset.clients.map(\.examples.count)).filter { $0 > 0 }.sorted()
    var seen: [PrivacyPlan.LocalSampling] = []
    for size in sizes {
      let batch = configuration.localBatchSize
      let sampling = PrivacyPlan.LocalSampling(
        probability: min(1, Double(batch) / Double(size)),
        steps: configuration.localEpochs * ((size + batch - 1) / batch))
      if !seen.contains(sampling) { seen.append(sampling) }
    }
    return seen
  }

  /// The schedule with the largest ε over the whole run at σ (`nil` when there are none).
  static func leastProtected(
    _ samplings: [PrivacyPlan.LocalSampling], plan: PrivacyPlan, noiseMultiplier: Double,
    rounds: Int
  ) throws -> PrivacyPlan.LocalSampling? {
    var worst: (PrivacyPlan.LocalSampling, Double)?
    for sampling in samplings {
      let candidate = PrivacyPlan(
        sampler: plan.sampler, delta: plan.delta, accountant: plan.accountant,
        localSampling: sampling)
      let epsilon = try candidate.epsilon(
        of: .selfComposed(candidate.roundEvent(noiseMultiplier: noiseMultiplier), count: rounds))
      if worst == nil || epsilon > worst!.1 { worst = (sampling, epsilon) }
    }
    return worst?.0
  }

  /// What one round releases: the plan's event (coded by DP-REC's coder), or `.nonPrivate`
  /// without privacy.
  var releaseEvent: DPEvent {
    guard configuration.privacy else { return .nonPrivate }
    let event = plan.roundEvent(noiseMultiplier: noiseMultiplier)
    return coder.map { .relativeEntropyCoded($0, event) } ?? event
  }

  /// DP-REC: the communication of this run's coder and of a deployment client's
  /// (noise σC/√m_noise each); `nil` for other methods.
  public var codingReport: CodingReport? {
    guard let coder else { return nil }
    let coordinates = model.trainableParameters.scalarCount
    let deploymentNoise =
      noiseMultiplier * configuration.clippingBound
      / Double(plan.sampler.noiseCohortSize).squareRoot()
    return CodingReport(
      adapter: configuration.adapterMethod.rawValue, coder: coder,
      deployment: RelativeEntropyCodec.design(
        coordinates: coordinates, clippingBound: configuration.clippingBound,
        noiseStandardDeviation: deploymentNoise),
      coordinates: coordinates)
  }

  /// DP-REC: the round's candidate key, a secret of the server and the cohort (their law is
  /// Gaussian only for someone who does not know the candidates): from the OS CSPRNG with
  /// secure noise, from the round seed in seeded simulation.
  func codingKey(roundSeed: UInt64) -> UInt64 {
    var generator = configuration.noiseSource.generator(roundSeed: roundSeed ^ 0x7265_6300)
    return generator.next()
  }

  /// DP-REC: s, each of the m_sim clients' noise, such that their m_sim draws add up to the
  /// simulated sum's noise (m_sim/m_noise)·σC: s = (m_sim/m_noise)·σC/√m_sim.
  static func clientNoise(sampler: CohortSampler, noiseMultiplier: Double, clippingBound: Double)
    -> Double
  {
    sampler.noiseScale * noiseMultiplier * clippingBound / Double(sampler.cohortSize).squareRoot()
  }

  /// The ledger builder of `rounds` rounds of this configuration.
  func ledgerBuilder(rounds: Int) -> DPEventBuilder {
    var builder = DPEventBuilder()
    if rounds > 0 { builder.compose(releaseEvent, count: rounds) }
    return builder
  }

  /// The ledger a run of this configuration has after `rounds` rounds.
  public func expectedLedger(rounds: Int) -> DPEvent { ledgerBuilder(rounds: rounds).build() }

  /// Restores the state a checkpoint recorded, given the ledger found beside it.
  ///
  /// The ledger is written before a round's release and the checkpoint after it, so a run
  /// killed in between has one more round in its ledger than in its checkpoint. With seeded
  /// noise that round is re-run and releases exactly what it would have (same seeds), so
  /// it is not charged twice; with secure noise a re-run would be a second, different
  /// release, so the lost round stays charged and the next round is charged again.
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when the ledger matches neither
  ///   the checkpoint's round count nor one more.
  public mutating func restore(_ checkpoint: Checkpoint, recordedLedger: DPEvent, folder: String)
    throws
  {
    let completed = checkpoint.round
    guard
      let recorded = [completed, completed + 1].first(where: {
        expectedLedger(rounds: $0) == recordedLedger
      })
    else {
      throw FederatedError.runFolder(
        path: folder,
        reason:
          "ledger.json does not match checkpoint.json (\(completed) rounds) for this configuration")
    }
    let charged = configuration.noiseSource == .seeded ? completed : recorded
    model.updateTrainables(checkpoint.trainables)
    round = completed
    ledger = ledgerBuilder(rounds: charged)
    epsilonSpent =
      configuration.privacy && charged > 0
      ? try spentBound(rounds: charged) : checkpoint.epsilonSpent
    serverOptimizer = checkpoint.serverOptimizer
    clippingBound = checkpoint.clippingBound
  }

  /// The state to checkpoint now.
  public var checkpoint: Checkpoint {
    Checkpoint(
      round: round, epsilonSpent: epsilonSpent, trainables: model.trainableParameters,
      serverOptimizer: serverOptimizer, clippingBound: clippingBound)
  }

  static func makeServerOptimizer(_ configuration: FederatedConfiguration) -> Optimizer<Float> {
    let rate = configuration.serverLearningRate
    switch configuration.serverOptimizer {
    case .sgd: return Optimizer(.sgd(learningRate: rate))
    case .momentum: return Optimizer(.momentum(learningRate: rate, momentum: 0.9))
    case .adam: return .adam(learningRate: rate)
    }
  }

  /// The seed of everything random in round t.
  func roundSeed(_ t: Int) -> UInt64 {
    var generator = Xoshiro256StarStar(
      seed: configuration.seed ^ (UInt64(t) &* 0x9E37_79B9_7F4A_7C15))
    return generator.next()
  }

  /// DP-DyLoRA's rank for round t: uniform on 1…r from public randomness, the same for the
  /// whole cohort; `nil` for other methods.
  public func activeRank(round t: Int) -> Int? {
    guard configuration.method == .dpDyLoRA else { return nil }
    var generator = Xoshiro256StarStar(seed: roundSeed(t) ^ 0x7261_6E6B)
    return Int.random(in: 1...configuration.rank, using: &generator)
  }

  /// Runs the next round.
  /// - Parameter record: persists the ledger (the events after this round); called after
  ///   the round's event is composed and before any noise is drawn. If it throws, nothing
  ///   is released and the trainer is unchanged.
  /// - Throws: ``FederatedError/accounting(_:)``, or what `record` throws.
  public mutating func runRound(record: (DPEvent) throws -> Void) throws -> Outcome {
    let t = round
    let seed = roundSeed(t)
    let rank = activeRank(round: t)
    let live = LiveCoordinates(adapter: configuration.adapterConfiguration, activeRank: rank)
    let cohort = plan.sampler.sample(roundSeed: seed)
    let global = model.trainableParameters
    var sum = global.with(flattened: Array(repeating: 0, count: global.scalarCount))
    var clipped = 0
    var lossTotal = 0.0
    var exampleCount = 0
    let mechanism = GaussianMechanism(
      clippingBound: clippingBound, noiseMultiplier: updateNoiseMultiplier)
    let userLevel = configuration.privacy && configuration.privacyUnit == .user
    var clippedExamples = 0
    var codedUpdates: [(client: Int, values: [Float])] = []
    for client in cohort {
      let local = trainLocally(
        dataset.clients[client], from: model, activeRank: rank, seed: seed ^ UInt64(client + 1))
      var update = local.parameters
      let loss = local.loss
      clippedExamples += local.clippedExamples
      update.add(global, scaledBy: -1)
      if userLevel, mechanism.clip(&update).clipped { clipped += 1 }
      if coder != nil {
        codedUpdates.append((client, update.flattened()))
      } else {
        sum.add(update)
      }
      lossTotal += loss
      exampleCount += dataset.clients[client].examples.count
    }
    // Account, check the budget and record the spend before anything noisy exists.
    var next = ledger
    next.compose(releaseEvent)
    var spent = 0.0
    if configuration.privacy {
      let charged = ledger.build() == expectedLedger(rounds: t) ? t + 1 : nil
      let target = configuration.targetEpsilon ?? .infinity
      spent = try charged.map { try spentBound(rounds: $0) } ?? plan.epsilon(of: next.build())
      if spent > target { spent = try plan.epsilon(of: next.build()) }
      if spent > target { return .refused(wouldReach: spent) }
    }
    try record(next.build())
    ledger = next
    epsilonSpent = configuration.privacy ? spent : .infinity
    // Release: noise on live coordinates, fixed public denominator, server optimiser.
    let roundBound = clippingBound
    let liveIndices = live.indices(in: global)
    var bitsPerClient = liveIndices.count * 32
    if userLevel {
      var generator = configuration.noiseSource.generator(roundSeed: seed)
      if let coder {
        // Each client codes its own noisy update; the server decodes and adds them up.
        let codec = RelativeEntropyCodec(
          coder: coder, coordinates: global.scalarCount, clippingBound: clippingBound,
          noiseStandardDeviation: Self.clientNoise(
            sampler: plan.sampler, noiseMultiplier: noiseMultiplier, clippingBound: clippingBound),
          roundKey: codingKey(roundSeed: seed))
        var values = sum.flattened()
        for (client, update) in codedUpdates {
          var acceptance = configuration.noiseSource.generator(
            roundSeed: seed ^ UInt64(client + 1) ^ 0x6163_6365_7074)
          let indices = codec.encode(update, client: client, acceptance: &acceptance)
          var (decoded, failed) = codec.decode(indices, client: client)
          codec.addBlockNoise(to: &decoded, blocks: failed, using: &generator)
          for index in values.indices { values[index] += decoded[index] }
        }
        sum = sum.with(flattened: values)
        bitsPerClient = codec.bitsPerClient
      } else {
        mechanism.addNoise(to: &sum, live: live, scale: plan.sampler.noiseScale, using: &generator)
      }
      if let adaptive = configuration.adaptiveClipping {
        // The noisy fraction of clients whose update fitted, then the geometric step.
        let unclipped = Double(cohort.count - clipped)
        let noisyCount =
          unclipped + indicatorNoise * plan.sampler.noiseScale * generator.nextStandardNormal()
        clippingBound = adaptive.nextBound(
          roundBound, unclippedFraction: noisyCount / Double(configuration.cohortSize))
      }
    }
    let estimate = sum.with(flattened: sum.flattened().map { $0 / Float(configuration.cohortSize) })
    var parameters = global
    serverOptimizer.step(
      &parameters, gradient: estimate.with(flattened: estimate.flattened().map { -$0 }))
    var values = global.flattened()
    let stepped = parameters.flattened()
    for index in liveIndices { values[index] = stepped[index] }
    model.updateTrainables(global.with(flattened: values))
    round += 1
    let clipFraction: Double =
      userLevel
      ? (cohort.isEmpty ? 0 : Double(clipped) / Double(cohort.count))
      : Double(clippedExamples) / Double(max(1, exampleCount * configuration.localEpochs))
    let meanLoss: Double = exampleCount > 0 ? lossTotal / Double(exampleCount) : 0
    return .completed(
      RoundMetrics(
        round: t, activeRank: rank, cohort: cohort.count, loss: meanLoss,
        clipFraction: clipFraction,
        clippingBound: userLevel ? roundBound : nil, epsilon: configuration.privacy ? spent : 0,
        bytesPerClient: (bitsPerClient + 7) / 8, accuracy: nil))
  }

  /// An upper bound on ε(δ) after `rounds` rounds of this run's event, cheap enough for
  /// every round: RDP's ε, and for PLD the tighter of that and PLD's ε at the next
  /// milestone (every twentieth of the planned rounds), since a prefix of a composition
  /// spends no more than the whole. Exact at milestones; each milestone costs one PLD
  /// evaluation, once.
  mutating func spentBound(rounds: Int) throws -> Double {
    let ledger = expectedLedger(rounds: rounds)
    let rdp = try plan.with(accountant: .rdp).epsilon(of: ledger)
    guard plan.accountant == .pld else { return rdp }
    guard rounds <= configuration.rounds else { return min(rdp, try plan.epsilon(of: ledger)) }
    let step = max(1, configuration.rounds / 20)
    let milestone = min(configuration.rounds, (rounds + step - 1) / step * step)
    if milestones[milestone] == nil {
      milestones[milestone] = try plan.epsilon(of: expectedLedger(rounds: milestone))
    }
    return min(rdp, milestones[milestone]!)
  }

  /// ε(δ) of the rounds released so far by the plan's accountant (PLD by default).
  public func exactEpsilonSpent() throws -> Double {
    configuration.privacy ? try plan.epsilon(of: ledger.build()) : .infinity
  }

  /// What local training returns: the trained parameters, the summed loss of the last
  /// epoch, and (example level) how many per-example gradients were clipped.
  struct LocalResult {
    var parameters: ParameterSet<Float>
    var loss: Double
    var clippedExamples: Int
  }

  /// Local training from the global parameters for `localEpochs` epochs.
  ///
  /// User level: plain SGD on shuffled mini-batches of the mean loss. Example level
  /// (DP-SGD, Abadi et al. 2016): ⌈n/B⌉ steps per epoch, each on a Poisson sample of the
  /// examples (rate min(1, B/n)); per-example gradients clipped to C, N(0, (σC)²) added to
  /// their sum on the live coordinates, divided by the expected batch size B.
  func trainLocally(
    _ client: ClientData<Example>, from start: Model, activeRank: Int?, seed: UInt64
  )
    -> LocalResult
  {
    var local = start
    var parameters = local.trainableParameters
    var generator = Xoshiro256StarStar(seed: seed)
    var lastLoss = 0.0
    var clipped = 0
    let batchSize = configuration.localBatchSize
    let count = client.examples.count
    let exampleLevel = configuration.privacy && configuration.privacyUnit == .example
    let live = LiveCoordinates(adapter: configuration.adapterConfiguration, activeRank: activeRank)
    let mechanism = GaussianMechanism(
      clippingBound: configuration.clippingBound, noiseMultiplier: noiseMultiplier)
    var noise = configuration.noiseSource.generator(roundSeed: seed ^ 0x6C6F_6361_6C00)
    for _ in 0..<configuration.localEpochs {
      lastLoss = 0
      let order = Array(client.examples.indices).shuffled(using: &generator)
      for step in 0..<((count + batchSize - 1) / batchSize) {
        let indices =
          exampleLevel
          ? client.examples.indices.filter { _ in
            Double.random(in: 0..<1, using: &generator) < min(1, Double(batchSize) / Double(count))
          }
          : Array(order[(step * batchSize)..<min((step + 1) * batchSize, count)])
        var gradient = parameters.with(
          flattened: Array(repeating: 0, count: parameters.scalarCount))
        if !indices.isEmpty {
          let batch = makeBatch(indices.map { client.examples[$0] })
          let labels = indices.map { client.labels[$0] }
          if exampleLevel {
            let (losses, perExample) = local.perExampleGradients(
              batch, labels: labels, activeRank: activeRank)
            let (sum, norms) = perExample.clippedSum(
              clippingBound: Float(configuration.clippingBound))
            gradient = sum
            clipped += norms.filter { Double($0) > configuration.clippingBound }.count
            lastLoss += losses.reduce(0) { $0 + Double($1) }
          } else {
            let (losses, sum) = local.batchGradient(batch, labels: labels, activeRank: activeRank)
            gradient = sum
            lastLoss += losses.reduce(0) { $0 + Double($1) }
          }
        }
        if exampleLevel { mechanism.addNoise(to: &gradient, live: live, scale: 1, using: &noise) }
        let denominator = exampleLevel ? Double(min(batchSize, count)) : Double(indices.count)
        parameters.add(
          gradient, scaledBy: Float(-configuration.localLearningRate / max(1, denominator)))
        local.updateTrainables(parameters)
      }
    }
    return LocalResult(parameters: parameters, loss: lastLoss, clippedExamples: clipped)
  }

  /// Accuracy on the evaluation split (at `activeRank`, or the full rank).
  public func evaluationAccuracy(activeRank: Int? = nil) -> Double {
    let evaluation = dataset.evaluation
    var correct = 0
    for begin in stride(from: 0, to: evaluation.examples.count, by: 256) {
      let end = min(begin + 256, evaluation.examples.count)
      let predicted = model.predictions(
        makeBatch(Array(evaluation.examples[begin..<end])), activeRank: activeRank)
      correct += zip(predicted, evaluation.labels[begin..<end]).filter { $0 == $1 }.count
    }
    return Double(correct) / Double(max(1, evaluation.examples.count))
  }
}
