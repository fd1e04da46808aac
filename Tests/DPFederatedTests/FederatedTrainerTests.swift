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

  static func configuration(_ method: FederatedConfiguration.Method = .dpDyLoRA)
    -> FederatedConfiguration
  {
    var configuration = FederatedConfiguration()
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

  static func trainer(_ configuration: FederatedConfiguration) throws -> FederatedTrainer<
    MultilayerPerceptron<Float>, [Float]
  > {
    let base = MultilayerPerceptron<Float>(inputs: 64, hidden: [16], classes: 10, seed: 4)
    return try FederatedTrainer(
      configuration: configuration, model: base.adapted(configuration.adapterConfiguration),
      dataset: dataset, makeBatch: TrainingRun.features)
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
    let ranks = (0..<400).map { trainer.activeRank(round: $0)! }
    #expect(ranks == (0..<400).map { trainer.activeRank(round: $0)! })
    for rank in 1...4 {
      let share = Double(ranks.filter { $0 == rank }.count) / 400
      #expect(abs(share - 0.25) < 6 * (0.25 * 0.75 / 400).squareRoot())
    }
    #expect(try Self.trainer(Self.configuration(.dpLoRA)).activeRank(round: 0) == nil)
  }

  @Test(
    "a client's DyLoRA update touches only the live slices of the round's rank",
    arguments: [true, false])
  func dyLoRALiveSlices(frozen: Bool) throws {
    var configuration = Self.configuration()
    configuration.frozen = frozen
    let trainer = try Self.trainer(configuration)
    let global = trainer.model.trainableParameters
    var update = trainer.trainLocally(
      Self.dataset.clients[0], from: trainer.model, activeRank: 2, seed: 5
    ).parameters
    update.add(global, scaledBy: -1)
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
    configuration.targetEpsilon = nil
    var trainer = try Self.trainer(configuration)
    for round in 0..<3 {
      let global = trainer.model.trainableParameters
      let cohort = trainer.plan.sampler.sample(roundSeed: trainer.roundSeed(round))
      var sum = global.with(flattened: Array(repeating: 0, count: global.scalarCount))
      for client in cohort {
        var update = trainer.trainLocally(
          Self.dataset.clients[client], from: trainer.model, activeRank: nil,
          seed: trainer.roundSeed(round) ^ UInt64(client + 1)
        ).parameters
        update.add(global, scaledBy: -1)
        sum.add(update)
      }
      guard case .completed(let metrics) = try trainer.runRound(record: { _ in }) else {
        Issue.record("round refused")
        return
      }
      #expect(metrics.cohort == cohort.count)
      var expected = global
      expected.add(sum, scaledBy: 1 / Float(configuration.cohortSize))
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
    #expect(recorded.last == trainer.ledger.build())
    var accountant = RDPAccountant()
    try accountant.compose(recorded.last!)
    expectClose(
      try trainer.exactEpsilonSpent(), try accountant.epsilon(delta: 1e-6), relative: 1e-12)
    // A failed write releases nothing and leaves the trainer as it was.
    let round = trainer.round
    let parameters = trainer.model.trainableParameters
    struct DiskFull: Error {}
    #expect(throws: DiskFull.self) { try trainer.runRound { _ in throw DiskFull() } }
    #expect(trainer.round == round && trainer.model.trainableParameters == parameters)
  }

  @Test(
    "DP-REC: the ledger names the exact coder around the fixed-size release; the decoded mean is the block-clipped mean plus Gaussian noise of the calibrated size",
    arguments: [nil, FederatedConfiguration.Method.ffaLoRA, .fedSB]
  )
  func relativeEntropyCodedRounds(adapter: FederatedConfiguration.Method?) throws {
    var configuration = Self.configuration(.dpREC)
    configuration.codedAdapter = adapter
    configuration.cohortSampling = .fixedSize
    configuration.noiseCohortSize = 6  // no noise simulation: s = σC/√m
    configuration.population = 30
    configuration.noiseMultiplier = 2
    configuration.targetEpsilon = nil
    var trainer = try Self.trainer(configuration)
    let coder = try #require(trainer.coder)
    #expect(coder.failure() == nil)
    let global = trainer.model.trainableParameters
    let seed = trainer.roundSeed(0)
    let cohort = trainer.plan.sampler.sample(roundSeed: seed)
    let codec = RelativeEntropyCodec(
      coder: coder, coordinates: global.scalarCount, clippingBound: 0.5,
      noiseStandardDeviation: 2 * 0.5 / 6.0.squareRoot(),
      roundKey: trainer.codingKey(roundSeed: seed))
    var mean = [Double](repeating: 0, count: global.scalarCount)
    for client in cohort {
      var update = trainer.trainLocally(
        Self.dataset.clients[client], from: trainer.model, activeRank: nil,
        seed: seed ^ UInt64(client + 1)
      ).parameters
      update.add(global, scaledBy: -1)
      _ = GaussianMechanism.clip(&update, to: 0.5)
      let values = update.flattened()
      for block in 0..<codec.blockCount {
        for (position, value) in zip(
          codec.positions(ofBlock: block), codec.clippedBlock(block, of: values))
        {
          mean[position] += value / 6
        }
      }
    }
    guard case .completed(let metrics) = try trainer.runRound(record: { _ in }) else {
      Issue.record("round refused")
      return
    }
    #expect(metrics.bytesPerClient == (codec.bitsPerClient + 7) / 8)
    #expect(
      trainer.ledger.build()
        == .relativeEntropyCoded(
          coder,
          .sampledWithoutReplacement(
            sourceSize: 30, sampleSize: 6, .gaussian(noiseMultiplier: 1))))
    // Server SGD at rate 1: new − old = noisy mean; its noise is σC/m per coordinate.
    let noise = zip(trainer.model.trainableParameters.flattened(), global.flattened()).enumerated()
      .map { Double($1.0 - $1.1) - mean[$0] }
    let n = Double(noise.count)
    let std = (noise.reduce(0) { $0 + $1 * $1 } / n).squareRoot()
    let expected = 2 * 0.5 / 6
    // n ≈ 1300 coordinates: the sample std's relative standard error is 1/√(2n) ≈ 2 %.
    #expect(abs(std / expected - 1) < 5 / (2 * n).squareRoot(), "std \(std), expected \(expected)")
    #expect(abs(noise.reduce(0, +) / n) < 5 * expected / n.squareRoot())
    #expect(trainer.codingReport?.adapter == (adapter ?? .dpLoRA).rawValue)
    let uncodedNames = try Self.trainer(Self.configuration(adapter ?? .dpLoRA)).model
      .trainableParameters.names
    #expect(trainer.model.trainableParameters.names == uncodedNames)
    var poisson = configuration
    poisson.cohortSampling = .poisson
    #expect(
      poisson.problems(clientCount: 30).contains {
        "\($0)".contains("fixed-size with --method dp-rec")
      })
    var dynamic = configuration
    dynamic.codedAdapter = .dpDyLoRA
    #expect(dynamic.problems(clientCount: 30).contains { "\($0)".contains("--rec-adapter") })
    var uncoded = Self.configuration(.ffaLoRA)
    uncoded.codedAdapter = .ffaLoRA
    #expect(uncoded.problems(clientCount: 30).contains { "\($0)".contains("--rec-adapter") })
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
    configuration.targetEpsilon = try accountant.epsilon(delta: 1e-6) * (1 + 1e-9)
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
    #expect(try trainer.exactEpsilonSpent() <= configuration.targetEpsilon!)
  }

  @Test("example level: calibrated for the least protected client, every client within ε")
  func exampleLevel() throws {
    var configuration = Self.configuration(.dpLoRA)
    configuration.privacyUnit = .example
    configuration.targetEpsilon = 8
    configuration.clippingBound = 1
    var trainer = try Self.trainer(configuration)
    let samplings = FederatedTrainer<MultilayerPerceptron<Float>, [Float]>.localSamplings(
      Self.dataset, configuration)
    #expect(samplings.count > 1)
    for sampling in samplings {
      let plan = PrivacyPlan(
        sampler: trainer.plan.sampler, delta: 1e-6, accountant: .rdp, localSampling: sampling)
      let epsilon = try plan.epsilon(
        of: .selfComposed(plan.roundEvent(noiseMultiplier: trainer.noiseMultiplier), count: 6))
      #expect(epsilon <= 8 * (1 + 1e-9), "\(sampling)")
    }
    guard case .completed(let metrics) = try trainer.runRound(record: { _ in }) else {
      Issue.record("round refused")
      return
    }
    #expect(metrics.epsilon > 0 && metrics.epsilon <= 8)
    let local = try #require(trainer.plan.localSampling)
    #expect(
      trainer.ledger.build()
        == .selfComposed(
          .poissonSampled(
            probability: local.probability, .gaussian(noiseMultiplier: trainer.noiseMultiplier)),
          count: local.steps))
  }

  @Test(
    "fixed-size cohorts: exactly m clients, accounted as sampling without replacement (σ/2, replace-one)"
  )
  func fixedSizeCohorts() throws {
    var configuration = Self.configuration(.dpLoRA)
    configuration.cohortSampling = .fixedSize
    var trainer = try Self.trainer(configuration)
    for round in 0..<20 {
      #expect(trainer.plan.sampler.sample(roundSeed: trainer.roundSeed(round)).count == 6)
    }
    guard case .completed = try trainer.runRound(record: { _ in }) else {
      Issue.record("round refused")
      return
    }
    let sigma = trainer.noiseMultiplier
    #expect(
      trainer.ledger.build()
        == .sampledWithoutReplacement(
          sourceSize: 100_000, sampleSize: 200, .gaussian(noiseMultiplier: sigma / 2)))
    var accountant = RDPAccountant(neighboringRelation: .replaceOne)
    try accountant.compose(
      .sampledWithoutReplacement(
        sourceSize: 100_000, sampleSize: 200, .gaussian(noiseMultiplier: sigma / 2)), count: 6)
    #expect(try accountant.epsilon(delta: 1e-6) <= 2)
    configuration.accountant = .pld
    #expect(
      configuration.problems(clientCount: 30).contains {
        $0.description.hasPrefix("--accountant must be rdp with --cohort-sampling fixed-size")
      })
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
  func configurationProblems() {
    var configuration = FederatedConfiguration()
    configuration.rounds = 0
    configuration.clippingBound = -1
    configuration.cohortSize = 500
    let problems = configuration.problems(clientCount: 100).map(\.description)
    #expect(problems.contains("--rounds must be an integer ≥ 1; got 0."))
    #expect(problems.contains("--clipping-bound must be a number > 0; got -1.0."))
    #expect(problems.contains("--cohort-size must be in 1...100 (the task's clients); got 500."))
  }
}
