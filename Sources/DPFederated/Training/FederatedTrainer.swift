import Accountants
import DPModel

/// The server's round loop (ARCHITECTURE, "one private round"): the algorithm makes the
/// round's public choices, the ledger accounts and records the round, the backend runs the
/// cohort's clients, the mechanism releases their sum, and the algorithm steps from it.
/// Which algorithm, mechanism and backend is decided once, before the first round (a
/// ``RunEngine`` and a ``RunInstrument`` may replace the backend then); the loop has no
/// branch on any of them.
///
/// Every random choice of round t comes from a seed derived from (run seed, t), so a run
/// resumed from a checkpoint at round t continues exactly as an uninterrupted run would.
public struct FederatedTrainer<Model: ClassificationModel, Example: Sendable>: Sendable
where Model.Scalar == Float {
  /// The run's configuration.
  public let configuration: FederatedConfiguration
  /// The model: frozen weights, adapters, head.
  public internal(set) var model: Model
  /// The task.
  public let dataset: FederatedDataset<Example>
  /// Chooses each round's cohort.
  public let sampler: CohortSampler
  /// The method's algorithm.
  public internal(set) var algorithm: any FederatedAlgorithm<Model, Example>
  /// The run's privacy mechanism.
  public internal(set) var mechanism: any PrivacyMechanism
  /// The ledger and the budget.
  public internal(set) var ledger: PrivacyLedger
  /// Where clients run.
  public internal(set) var backend: any FederatedBackend<Model>
  /// The next round to run.
  public internal(set) var round: Int
  /// How many threads run clients and evaluation batches; results do not depend on it.
  public let workers: Int
  /// Whether cohorts are drawn from the operating system's CSPRNG rather than from the
  /// round's seed: a real federation's cohort must stay secret for sampling to amplify
  /// privacy, and its run seed is in `config.json`.
  public var secretCohorts = false
  let makeBatch: @Sendable ([Example]) -> Model.Batch

  /// How a round ended.
  public enum Outcome: Equatable, Sendable {
    /// The round was released; its metrics.
    case completed(RoundMetrics)
    /// The round would exceed the budget and was not run; the ε it would have reached.
    case refused(wouldReach: Double)
  }

  /// A trainer at round 0, simulating the clients in this process, `workers` at a time
  /// (and evaluating as many batches at a time).
  /// - Parameter clientSizes: each client's number of examples when `dataset` does not hold
  ///   them (a server whose clients are remote); by default the dataset's.
  /// - Throws: ``FederatedError`` for a configuration the task cannot run or an
  ///   unreachable target.
  public init(
    configuration: FederatedConfiguration, model: Model, dataset: FederatedDataset<Example>,
    clientSizes: [Int]? = nil, workers: Int = 1,
    makeBatch: @escaping @Sendable ([Example]) -> Model.Batch
  ) throws {
    try configuration.check(clientCount: dataset.clients.count)
    let sampler = CohortSampler(
      scheme: configuration.samplingScheme, clientCount: dataset.clients.count,
      cohortSize: configuration.clientsPerRound, population: configuration.population,
      noiseCohortSize: configuration.noiseCohortSize)
    let configuration = configuration.resolvingNoiseSource(isSimulation: sampler.isSimulation)
    self.sampler = sampler
    mechanism = try configuration.mechanism(
      sampler: sampler, clientSizes: clientSizes ?? dataset.clients.map(\.examples.count),
      coordinates: model.trainableParameters.scalarCount)
    algorithm = configuration.algorithm(
      mechanism: mechanism, coordinates: model.trainableParameters.scalarCount,
      makeBatch: makeBatch)
    ledger = PrivacyLedger(
      plan: PrivacyPlan(
        sampler: sampler, delta: configuration.delta, accountant: configuration.accountantKind,
        noise: configuration.noise),
      mechanism: mechanism, targetEpsilon: configuration.targetEpsilon,
      plannedRounds: configuration.plannedRounds)
    backend = configuration.simulation(
      clients: dataset.clients,
      program: ClientProgram(
        algorithm: algorithm, mechanism: mechanism, noiseSource: configuration.randomness),
      workers: workers, classCount: dataset.classCount)
    self.workers = max(1, workers)
    self.configuration = configuration
    self.model = model
    self.dataset = dataset
    self.makeBatch = makeBatch
    round = 0
  }

  /// σ (calibrated or given; 0 without privacy).
  public var noiseMultiplier: Double { mechanism.noiseMultiplier }

  /// The seed of everything random in round t.
  public func roundSeed(_ t: Int) -> UInt64 {
    var generator = Xoshiro256StarStar(
      seed: configuration.seed ^ (UInt64(t) &* 0x9E37_79B9_7F4A_7C15))
    return generator.next()
  }

  /// Round t's public choices (and DP-REC's secret key).
  public func context(round t: Int) -> RoundContext {
    let seed = roundSeed(t)
    var secret = SystemRandomNumberGenerator()
    let cohort = secretCohorts ? sampler.sample(using: &secret) : sampler.sample(roundSeed: seed)
    var context = algorithm.roundContext(
      round: t, seed: seed, cohort: cohort, clippingBound: mechanism.clippingBound)
    context.cohortKey = mechanism.cohortKey(roundSeed: seed)
    return context
  }

  /// Runs the next round: its context, then the ledger's authorization (the round is
  /// composed, checked against the budget and recorded before anything is computed or
  /// released), then the clients, the release and the server's step.
  /// - Parameter record: persists the ledger; if it throws, nothing is released and the
  ///   trainer is unchanged.
  /// - Throws: ``FederatedError/accounting(_:)``, or what `record` or the backend throws.
  public mutating func runRound(record: (DPEvent) throws -> Void) throws -> Outcome {
    let context = context(round: round)
    let authorization: ReleaseAuthorization
    switch try ledger.authorize(record: record) {
    case .refused(let wouldReach): return .refused(wouldReach: wouldReach)
    case .granted(let granted): authorization = granted
    }
    let results = try backend.runClients(context, global: model, authorization: authorization)
    if let diverged = results.first(where: { !$0.message.isFinite }) {
      throw FederatedError.numerical(
        "round \(context.round + 1): client \(diverged.message.client)'s update is not finite; nothing was released (lower --local-learning-rate, or --clipping-bound at example level)"
      )
    }
    let release = mechanism.release(
      results, template: model.trainableParameters, context: context,
      authorization: authorization)
    var stepped = model
    algorithm.apply(release.sum, to: &stepped, context: context)
    guard stepped.trainableParameters.flattened().allSatisfy(\.isFinite) else {
      throw FederatedError.numerical(
        "round \(context.round + 1): the server's step made the model non-finite; it was not kept (lower --server-learning-rate or --clipping-bound)"
      )
    }
    model = stepped
    round += 1
    let examples = results.reduce(0) { $0 + $1.exampleCount }
    let liveCount = context.live.indices(in: model.trainableParameters).count
    let clientBits = results.compactMap(\.bitsSent)
    let bits =
      release.bitsPerClient
      ?? (clientBits.isEmpty ? liveCount * 32 : clientBits.reduce(0, +) / clientBits.count)
    return .completed(
      RoundMetrics(
        round: context.round, activeRank: context.activeRank, cohort: results.count,
        examples: examples,
        loss: examples > 0 ? results.reduce(0) { $0 + $1.loss } / Double(examples) : 0,
        clipFraction: release.clipFraction, clippingBound: release.clippingBound,
        epsilon: ledger.isPrivate ? authorization.epsilonSpent : 0,
        bytesPerClient: (bits + 7) / 8, accuracy: nil))
  }

  /// Accuracy on the evaluation split (at `activeRank`, or the full rank).
  public func evaluationAccuracy(activeRank: Int? = nil) -> Double {
    let evaluation = dataset.evaluation
    let correct = Array(stride(from: 0, to: evaluation.examples.count, by: 256))
      .concurrentMap(workers: workers) { begin in
        let end = min(begin + 256, evaluation.examples.count)
        let predicted = model.predictions(
          makeBatch(Array(evaluation.examples[begin..<end])), activeRank: activeRank)
        return zip(predicted, evaluation.labels[begin..<end]).filter { $0 == $1 }.count
      }
    return Double(correct.reduce(0, +)) / Double(max(1, evaluation.examples.count))
  }
}
