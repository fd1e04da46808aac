import Accountants
import DPModel
import DPTestSupport
import Foundation
import Testing

@testable import DPFederated

/// The round loop on the digits task with small settings.
@Suite("FederatedTrainer")
struct FederatedTrainerTests {
  static let dataset = try! DigitsTask.load(DigitsTask.Configuration(clients: 30, seed: 3))

  static func configuration(_ method: FederatedMethod = .dpDyLoRA) -> FederatedConfiguration {
    var configuration = FederatedConfiguration.defaults
    configuration.method = method
    configuration.rounds = 6
    configuration.cohortSize = 6
    configuration.population = 100_000
    configuration.noiseCohortSize = 200
    configuration.accountant = .rdp
    configuration.rank = 4
    configuration.seed = 11
    return configuration
  }

  static func trainer(_ configuration: FederatedConfiguration, workers: Int = 1) throws
    -> FederatedTrainer<MultilayerPerceptron<Float>, [Float]>
  {
    let base = MultilayerPerceptron<Float>(inputs: 64, hidden: [16], classes: 10, seed: 4)
    return try FederatedTrainer(
      configuration: configuration, model: base.adapted(configuration.adapterConfiguration),
      dataset: dataset, workers: workers, makeBatch: TrainingRun.features)
  }

  @Test(
    "clients and evaluation on several threads give the single thread's model bit for bit",
    arguments: FederatedPrivacyCase.allCases)
  func workersDoNotChangeResults(_ privacy: FederatedPrivacyCase) throws {
    var configuration = Self.configuration(.dpLoRA)
    configuration.rounds = 4
    privacy.apply(to: &configuration)
    var trained: [[Float]] = []
    var accuracies: [Double] = []
    for workers in [1, 3] {
      var trainer = try Self.trainer(configuration, workers: workers)
      for _ in 0..<4 { _ = try trainer.runRound { _ in } }
      trained.append(trainer.model.trainableParameters.flattened())
      accuracies.append(trainer.evaluationAccuracy())
    }
    #expect(trained[0] == trained[1])
    #expect(accuracies[0] == accuracies[1])
    #expect(trained[0] != Self.trainerModelBefore(configuration))
  }

  /// The trainables of a fresh trainer of `configuration` (to check that rounds changed them).
  static func trainerModelBefore(_ configuration: FederatedConfiguration) -> [Float] {
    (try? trainer(configuration))?.model.trainableParameters.flattened() ?? []
  }

  /// Client `client`'s update in `context`, computed as the trainer's backend computes it.
  static func update(
    _ trainer: FederatedTrainer<MultilayerPerceptron<Float>, [Float]>, client: Int,
    context: RoundContext
  ) -> ParameterSet<Float> {
    trainer.algorithm.trainClient(
      dataset.clients[client], index: client, global: trainer.model, context: context,
      steps: trainer.mechanism.localSteps, noiseSource: trainer.configuration.randomness
    ).update
  }

  @Test("the digits split is disjoint and covers every image; clients are label-skewed")
  func digitsSplit() {
    let dataset = Self.dataset
    let total =
      dataset.publicSplit.examples.count + dataset.evaluation.examples.count
      + dataset.privateExampleCount
    #expect(total == 1797)
    #expect(dataset.publicSplit.examples.count == 539)
    let classesPerClient = dataset.clients.map { Set($0.labels).count }
    #expect(Double(classesPerClient.reduce(0, +)) / Double(classesPerClient.count) < 7)
  }

  @Test("one active rank per round, the same for every client, uniform over 1…r")
  func dyLoRARankPerRound() throws {
    let trainer = try Self.trainer(Self.configuration())
    let ranks = (0..<400).map { trainer.context(round: $0).activeRank! }
    #expect(ranks == (0..<400).map { trainer.context(round: $0).activeRank! })
    for rank in 1...4 {
      let share = Double(ranks.filter { $0 == rank }.count) / 400
      #expect(abs(share - 0.25) < 6 * (0.25 * 0.75 / 400).squareRoot())
    }
    #expect(try Self.trainer(Self.configuration(.dpLoRA)).context(round: 0).activeRank == nil)
  }

  @Test(
    "a client's DyLoRA update touches only the live slices of the round's rank",
    arguments: [true, false])
  func dyLoRALiveSlices(frozen: Bool) throws {
    var configuration = Self.configuration()
    configuration.frozen = frozen
    let trainer = try Self.trainer(configuration)
    let global = trainer.model.trainableParameters
    var context = trainer.context(round: 0)
    context.activeRank = 2
    context.live = LiveCoordinates(adapter: configuration.adapterConfiguration, activeRank: 2)
    let update = Self.update(trainer, client: 0, context: context)
    let live = Set(
      LiveCoordinates(adapter: configuration.adapterConfiguration, activeRank: 2).indices(
        in: global))
    let values = update.flattened()
    #expect(values.indices.filter { !live.contains($0) }.allSatisfy { values[$0] == 0 })
    #expect(values.indices.filter { live.contains($0) }.contains { values[$0] != 0 })
  }

  @Test(
    "the server divides the cohort's sum by the fixed expected cohort size, whoever was sampled")
  func fixedDenominator() throws {
    var configuration = Self.configuration(.dpLoRA)
    configuration.privacy = false
    configuration.epsilon = nil
    var trainer = try Self.trainer(configuration)
    for round in 0..<3 {
      let global = trainer.model.trainableParameters
      let context = trainer.context(round: round)
      let cohort = context.cohort
      var sum = global.with(flattened: Array(repeating: 0, count: global.scalarCount))
      for client in cohort { sum.add(Self.update(trainer, client: client, context: context)) }
      guard case .completed(let metrics) = try trainer.runRound(record: { _ in }) else {
        Issue.record("round refused")
        return
      }
      #expect(metrics.cohort == cohort.count)
      var expected = global
      expected.add(sum, scaledBy: 1 / Float(configuration.clientsPerRound))
      #expect(
        relativeError(
          trainer.model.trainableParameters.flattened().map(Double.init),
          expected.flattened().map(Double.init)) < 1e-6)
    }
  }

  @Test("the ledger is recorded before release and re-accounts to the reported ε")
  func ledgerBeforeRelease() throws {
    var trainer = try Self.trainer(Self.configuration())
    var recorded: [DPEvent] = []
    for _ in 0..<3 {
      _ = try trainer.runRound { recorded.append($0) }
    }
    #expect(recorded.last == trainer.ledger.events)
    var accountant = RDPAccountant()
    try accountant.compose(recorded.last!)
    expectClose(
      try trainer.ledger.exactEpsilonSpent(), try accountant.epsilon(delta: 1e-6), relative: 1e-12)
    // A failed write releases nothing and leaves the trainer as it was.
    let round = trainer.round
    let parameters = trainer.model.trainableParameters
    struct DiskFull: Error {}
    #expect(throws: DiskFull.self) { try trainer.runRound { _ in throw DiskFull() } }
    #expect(trainer.round == round && trainer.model.trainableParameters == parameters)
  }

  @Test("a round that would exceed the budget is refused before it is recorded")
  func budgetRefusal() throws {
    var configuration = Self.configuration()
    configuration.noiseMultiplier = 0.8
    // A target just above the ε of 3 rounds: rounds 1–3 fit, round 4 does not.
    let sampler = CohortSampler(
      clientCount: Self.dataset.clients.count, cohortSize: 6, population: 100_000,
      noiseCohortSize: 200)
    var accountant = RDPAccountant()
    try accountant.compose(sampler.event(noiseMultiplier: 0.8), count: 3)
    configuration.epsilon = try accountant.epsilon(delta: 1e-6) * (1 + 1e-9)
    var trainer = try Self.trainer(configuration)
    var outcomes: [FederatedTrainer<MultilayerPerceptron<Float>, [Float]>.Outcome] = []
    var records = 0
    for _ in 0..<6 { outcomes.append(try trainer.runRound { _ in records += 1 }) }
    let refused = outcomes.firstIndex {
      if case .refused = $0 { return true } else { return false }
    }
    let first = try #require(refused, "\(outcomes)")
    #expect(first == 3, "\(outcomes)")
    #expect(records == first && trainer.round == first)
    #expect(try trainer.ledger.exactEpsilonSpent() <= configuration.targetEpsilon!)
  }

  @Test(
    "Fed-SB's factors come from the public split's gradient: orthonormal, R = 0, outputs unchanged")
  func fedSBFromPublicData() throws {
    let configuration = Self.configuration(.fedSB)
    let base = MultilayerPerceptron<Float>(inputs: 64, hidden: [16], classes: 10, seed: 4)
    let model = TrainingRun.perceptron(base, configuration, publicSplit: Self.dataset.publicSplit)
    let factors = try #require(model.layers[0].adapter?.factors)
    #expect(factors.core == Matrix(rows: 4, columns: 4))
    let gram = BLAS.matmul(factors.up, factors.up, transposeA: true)
    for i in 0..<4 { for j in 0..<4 { #expect(abs(gram[i, j] - (i == j ? 1 : 0)) < 1e-5) } }
    let batch = TrainingRun.features(Array(Self.dataset.evaluation.examples.prefix(5)))
    #expect(model.logits(batch, activeRank: nil) == base.logits(batch, activeRank: nil))
    // The seed-only factors differ: the initialisation used the public gradient.
    #expect(TrainingRun.perceptron(base, configuration).layers[0].adapter?.factors.up != factors.up)
  }

  @Test("full fine-tuning trains every weight of the perceptron")
  func fullFineTuning() throws {
    let configuration = Self.configuration(.full)
    let base = MultilayerPerceptron<Float>(inputs: 64, hidden: [16], classes: 10, seed: 4)
    var trainer = try FederatedTrainer(
      configuration: configuration, model: TrainingRun.perceptron(base, configuration),
      dataset: Self.dataset, makeBatch: TrainingRun.features)
    #expect(
      trainer.model.trainableParameters.names == [
        "layers.0.weight", "layers.0.bias", "classifier.weight", "classifier.bias",
      ])
    let before = trainer.model.trainableParameters
    guard case .completed = try trainer.runRound(record: { _ in }) else {
      Issue.record("round refused")
      return
    }
    #expect(trainer.model.trainableParameters["layers.0.weight"] != before["layers.0.weight"])
  }

  @Test("bad settings are reported together, each naming the flag and what is allowed")
  func configurationProblems() throws {
    var configuration = FederatedConfiguration.defaults
    configuration.rounds = 0
    configuration.clippingBound = -1
    configuration.localLearningRate = .infinity
    let problems = configuration.problems.map(\.description)
    #expect(problems.contains("--rounds must be an integer ≥ 1; got 0."))
    #expect(problems.contains("--clipping-bound must be a finite number > 0; got -1.0."))
    #expect(problems.contains("--local-learning-rate must be a finite number > 0; got inf."))
    var large = FederatedConfiguration.defaults
    large.cohortSize = 500
    #expect(
      throws: FederatedError.invalidConfiguration(
        field: "--cohort-size", value: "500", allowed: "in 1...100 (the task's clients)")
    ) {
      try large.check(clientCount: 100)
    }
  }
}

/// The privacy settings the thread-count test runs under: user level with central noise,
/// example level (local DP-SGD noise drawn inside each client), and discrete noise.
enum FederatedPrivacyCase: CaseIterable, Sendable {
  case user, example, exampleServerNoise, discrete

  func apply(to configuration: inout FederatedConfiguration) {
    switch self {
    case .user: break
    case .example, .exampleServerNoise:
      configuration.privacyUnit = .example
      configuration.epsilon = 8
      if self == .exampleServerNoise { configuration.exampleNoise = .server }
    case .discrete: configuration.noiseDistribution = .discrete
    }
  }
}
