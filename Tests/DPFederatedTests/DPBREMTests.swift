import Accountants
import DPModel
import DPTestSupport
import Foundation
import Testing

@testable import DPFederated

/// DP-BREM's invariants (spec `brem-flora.md` §1.9) on digits: the reduction to FedSGD,
/// the centered clip's robustness and non-expansiveness, a record's sensitivity through the
/// momentum, the noise, the accounting, empty batches, checkpoints and the attacks.
@Suite("DP-BREM")
struct DPBREMTests {
  typealias Trainer = FederatedTrainer<MultilayerPerceptron<Float>, [Float]>

  /// DP-BREM at record level with every client in every round (q = 1, no simulation).
  static func configuration(momentum: Double = 0.9) -> FederatedConfiguration {
    var configuration = FederatedTrainerTests.configuration(.dpBREM)
    let clients = FederatedTrainerTests.dataset.clients.count
    configuration.privacyUnit = .example
    configuration.momentum = momentum
    configuration.population = clients
    configuration.cohortSize = clients
    configuration.noiseCohortSize = clients
    configuration.clippingBound = 1
    configuration.epsilon = 8
    configuration.rank = 2
    configuration.noiseSource = .seeded
    return configuration
  }

  static func trainer(_ configuration: FederatedConfiguration) throws -> Trainer {
    var configuration = configuration
    try configuration.validate()
    return try FederatedTrainerTests.trainer(configuration)
  }

  static func mechanism(_ trainer: Trainer) throws -> CenteredClippingMechanism {
    try #require(trainer.mechanism as? CenteredClippingMechanism)
  }

  /// A round's context with centre `center` and radius `radius`.
  static func context(_ trainer: Trainer, center: [Float], radius: Double) -> RoundContext {
    var context = trainer.context(round: 0)
    context.centeredClip = CenteredClip(center: center, radius: radius)
    return context
  }

  static func random(_ count: Int, scale: Float, seed: UInt64) -> [Float] {
    var generator = Xoshiro256StarStar(seed: seed)
    return (0..<count).map { _ in scale * Float(generator.nextStandardNormal()) }
  }

  static func norm(_ values: [Float]) -> Double {
    values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
  }

  /// The sum of the messages of `updates` (no noise).
  static func clippedSum(
    _ mechanism: CenteredClippingMechanism, _ updates: [[Float]], template: ParameterSet<Float>,
    context: RoundContext
  ) -> [Double] {
    var sum = [Double](repeating: 0, count: template.scalarCount)
    for (client, update) in updates.enumerated() {
      let message = mechanism.message(
        for: template.with(flattened: update), client: client, context: context)
      guard case .update(let sent) = message.payload else { return [] }
      for (index, value) in sent.flattened().enumerated() { sum[index] += Double(value) }
    }
    return sum
  }

  @Test("one centered-clipping step with τ above every deviation is the mean, whatever v")
  func centeredStepIsMean() throws {
    var configuration = Self.configuration()
    configuration.privacy = false
    configuration.epsilon = nil
    let trainer = try Self.trainer(configuration)
    let mechanism = try Self.mechanism(trainer)
    let template = trainer.model.trainableParameters
    let count = template.scalarCount
    let updates = (0..<7).map { Self.random(count, scale: 0.3, seed: UInt64($0)) }
    let center = Self.random(count, scale: 2, seed: 99)
    let context = Self.context(trainer, center: center, radius: 1e6)
    let sum = Self.clippedSum(mechanism, updates, template: template, context: context)
    for index in 0..<count {
      let mean = updates.reduce(0.0) { $0 + Double($1[index]) } / 7
      #expect(abs(Double(center[index]) + sum[index] / 7 - mean) < 1e-5)
    }
  }

  @Test(
    "with β = 0 and no clip or noise, a round is FedSGD: θ − η·(mean of the clients' gradients)")
  func zeroMomentumIsFederatedSGD() throws {
    var configuration = Self.configuration(momentum: 0)
    configuration.privacy = false
    configuration.epsilon = nil
    configuration.robustnessRadius = 1e6
    var trainer = try Self.trainer(configuration)
    let before = trainer.model.trainableParameters.flattened()
    let context = trainer.context(round: 0)
    #expect(context.cohort.count == FederatedTrainerTests.dataset.clients.count)
    let gradients = context.cohort.map {
      FederatedTrainerTests.update(trainer, client: $0, context: context).flattened()
    }
    guard case .completed = try trainer.runRound(record: { _ in }) else {
      Issue.record("round refused")
      return
    }
    let after = trainer.model.trainableParameters.flattened()
    let rate = configuration.steps.serverLearningRate
    for index in before.indices {
      let mean = gradients.reduce(0.0) { $0 + Double($1[index]) } / Double(gradients.count)
      #expect(abs(Double(after[index]) - (Double(before[index]) - rate * mean)) < 1e-5)
    }
  }

  @Test("robustness: replacing one client's momentum by anything moves the step by at most 2τ/m")
  func oneClientMovesStepByTwoRadii() throws {
    let trainer = try Self.trainer(Self.configuration())
    let mechanism = try Self.mechanism(trainer)
    let template = trainer.model.trainableParameters
    let count = template.scalarCount
    let radius = 0.05
    let context = Self.context(
      trainer, center: Self.random(count, scale: 0.01, seed: 5), radius: radius)
    let honest = (0..<10).map { Self.random(count, scale: 0.05, seed: UInt64($0)) }
    let base = Self.clippedSum(mechanism, honest, template: template, context: context)
    for scale: Float in [0.001, 1, 1e4] {
      var attacked = honest
      attacked[3] = Self.random(count, scale: scale, seed: 42)
      let moved = Self.clippedSum(mechanism, attacked, template: template, context: context)
      let shift = zip(moved, base).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
      #expect(shift / 10 <= 2 * radius / 10 * (1 + 1e-5), "scale \(scale)")
    }
  }

  @Test(
    "sensitivity: a record moves its client's gradient by ≤ R/B and the sent message at round t by ≤ (1 − β)·Σ β^{t−s}·R/B"
  )
  func recordSensitivityThroughMomentum() throws {
    let beta = 0.9
    let trainer = try Self.trainer(Self.configuration(momentum: beta))
    let mechanism = try Self.mechanism(trainer)
    let steps = mechanism.localSteps
    let batchSize = trainer.configuration.steps.localBatchSize
    let client = FederatedTrainerTests.dataset.clients[0]
    let examples = Array(client.examples.prefix(5))
    let labels = Array(client.labels.prefix(5))
    // One gradient with the record (index 0) and without it, divided by B either way.
    let with = steps.gradient(
      trainer.model, batch: TrainingRun.features(examples), labels: labels, activeRank: nil)
    let without = steps.gradient(
      trainer.model, batch: TrainingRun.features(Array(examples.dropFirst())),
      labels: Array(labels.dropFirst()), activeRank: nil)
    let denominator = steps.denominator(batchCount: 5, batchSize: batchSize, exampleCount: 50)
    #expect(denominator == Double(batchSize))
    let gradientShift =
      Self.norm(zip(with.gradient.flattened(), without.gradient.flattened()).map { $0 - $1 })
      / denominator
    let bound = mechanism.clippingBound / Double(batchSize)
    #expect(gradientShift <= bound * (1 + 1e-5) && gradientShift > 0)
    // The record sampled in rounds 0 and 2 only: the two worlds' momenta, through the clip.
    let count = trainer.model.trainableParameters.scalarCount
    let gradients = (0..<6).map { Self.random(count, scale: 0.02, seed: UInt64(10 + $0)) }
    let shift = (0..<6).map { Self.random(count, scale: 1, seed: UInt64(20 + $0)) }.map { values in
      values.map { $0 * Float(bound / Self.norm(values)) }
    }
    let sampled: Set<Int> = [0, 2]
    let (worldA, worldB) = (ClientMomenta(), ClientMomenta())
    let template = trainer.model.trainableParameters
    for round in 0..<6 {
      let a = worldA.update(client: 0, gradient: gradients[round], beta: beta)
      let b = worldB.update(
        client: 0,
        gradient: sampled.contains(round)
          ? zip(gradients[round], shift[round]).map { $0 + $1 } : gradients[round], beta: beta)
      let context = Self.context(
        trainer, center: Self.random(count, scale: 0.01, seed: 7), radius: 0.01)
      let sent = [a, b].map { update -> [Float] in
        guard
          case .update(let message) = mechanism.message(
            for: template.with(flattened: update), client: 0, context: context
          ).payload
        else { return [] }
        return message.flattened()
      }
      let expected = sampled.filter { $0 <= round }.reduce(0.0) {
        $0 + (1 - beta) * Foundation.pow(beta, Double(round - $1)) * bound
      }
      let moved = Self.norm(zip(sent[0], sent[1]).map { $0 - $1 })
      #expect(moved <= expected * (1 + 1e-4) + 1e-7, "round \(round)")
    }
  }

  @Test(
    "the noise on the sum has std σR/B, whatever τ, as the event says", arguments: [0.01, 10.0])
  func noiseIsSigmaRecordBound(radius: Double) throws {
    var configuration = Self.configuration()
    configuration.noiseMultiplier = 0.7
    configuration.epsilon = 1e6
    configuration.robustnessRadius = radius
    var trainer = try Self.trainer(configuration)
    var mechanism = try Self.mechanism(trainer)
    #expect(PrivacyMechanismTests.eventNoiseMultiplier(mechanism.roundEvent) == 0.7)
    let template = trainer.model.trainableParameters
    let context = trainer.context(round: 0)
    let zero = template.with(flattened: [Float](repeating: 0, count: template.scalarCount))
    let results = [
      ClientResult(
        message: .unclipped(zero, client: 0), loss: 0, exampleCount: 1, clippedExamples: 0,
        localEpochs: 1)
    ]
    guard case .granted(let authorization) = try trainer.ledger.authorize(record: { _ in }) else {
      Issue.record("round refused")
      return
    }
    let release = mechanism.release(
      results, template: template, context: context, authorization: authorization)
    let noise = release.sum.flattened().map(Double.init)
    let n = Double(noise.count)
    let deviation = (noise.reduce(0) { $0 + $1 * $1 } / n).squareRoot()
    let expected =
      0.7 * configuration.effectiveClippingBound / Double(configuration.steps.localBatchSize)
    // n ≈ 1,300 coordinates: the sample std's relative standard error is 1/√(2n) ≈ 2 %.
    #expect(abs(deviation / expected - 1) < 6 / (2 * n).squareRoot())
  }

  /// ε of the run's ledger after `rounds` rounds, by `accountant`.
  static func epsilon(_ trainer: Trainer, rounds: Int, accountant: AccountantKind = .pld) throws
    -> Double
  {
    try trainer.ledger.plan.with(accountant: accountant).epsilon(
      of: trainer.mechanism.ledger(rounds: rounds))
  }

  @Test("accounting: β = 0 is the Poisson-subsampled Gaussian at the smallest client's B/n")
  func zeroMomentumAccountsAsSubsampledGaussian() throws {
    var configuration = Self.configuration(momentum: 0)
    configuration.noiseMultiplier = 1.2
    configuration.epsilon = 1e6
    let trainer = try Self.trainer(configuration)
    let smallest = FederatedTrainerTests.dataset.clients.map(\.examples.count).filter { $0 > 0 }
      .min()!
    let rate = min(1, Double(configuration.steps.localBatchSize) / Double(smallest))
    #expect(rate < 1)
    #expect(try Self.mechanism(trainer).plan?.localSampling?.probability == rate)
    let subsampled = try trainer.ledger.plan.with(accountant: .pld).epsilon(
      of: .selfComposed(
        .poissonSampled(probability: rate, .gaussian(noiseMultiplier: 1.2)), count: 20))
    expectClose(try Self.epsilon(trainer, rounds: 20), subsampled, relative: 1e-9)
  }

  @Test(
    "accounting: β > 0 is the run's MomentumGaussian at the smallest client's B/n, never below one inclusion's Gaussian through the momentum over the same rounds, which fresh-gradient accounting undercuts",
    arguments: [0.5, 0.9, 0.99])
  func momentumNotBelowSingleParticipation(beta: Double) throws {
    var configuration = Self.configuration(momentum: beta)
    configuration.noiseMultiplier = 3
    configuration.epsilon = 1e6
    let trainer = try Self.trainer(configuration)
    let smallest = FederatedTrainerTests.dataset.clients.map(\.examples.count).filter { $0 > 0 }
      .min()!
    let rate = min(1, Double(configuration.steps.localBatchSize) / Double(smallest))
    #expect(
      trainer.mechanism.ledger(rounds: 20)
        == .momentumGaussian(
          MomentumGaussian(
            noiseMultiplier: 3, momentum: beta, recordProbability: rate,
            participationProbability: 1, rounds: 20)))
    // One inclusion in the first of T rounds moves the k-th release by (1 − β)β^k R/B.
    func floor(rounds: Int) throws -> Double {
      let column = (0..<rounds).reduce(0.0) {
        $0 + Foundation.pow((1 - beta) * Foundation.pow(beta, Double($1)), 2)
      }
      var single = PLDAccountant()
      try single.compose(.gaussian(noiseMultiplier: 3 / column.squareRoot()), count: 1)
      return try single.epsilon(delta: 1e-6)
    }
    for rounds in [1, 5, 40] {
      #expect(
        try Self.epsilon(trainer, rounds: rounds) >= floor(rounds: rounds), "\(rounds) rounds")
    }
    // The same inclusion counted by its fresh gradient's (1 − β)R/B alone: below the floor.
    var naive = PLDAccountant()
    try naive.compose(.gaussian(noiseMultiplier: 3 / (1 - beta)), count: 1)
    #expect(try naive.epsilon(delta: 1e-6) < floor(rounds: 40))
  }

  @Test("an empty Poisson batch contributes 0/B: the momentum only decays")
  func emptyBatchDecays() throws {
    var configuration = Self.configuration(momentum: 0.5)
    configuration.localBatchSize = 1
    let trainer = try Self.trainer(configuration)
    let algorithm = try #require(trainer.algorithm as? DPBREM<MultilayerPerceptron<Float>, [Float]>)
    let client = FederatedTrainerTests.dataset.clients.indices.max {
      FederatedTrainerTests.dataset.clients[$0].examples.count
        < FederatedTrainerTests.dataset.clients[$1].examples.count
    }!
    var previous: [Float]?
    var empties = 0
    for round in 0..<40 {
      let context = trainer.context(round: round)
      let local = algorithm.trainClient(
        FederatedTrainerTests.dataset.clients[client], index: client, global: trainer.model,
        context: context, steps: trainer.mechanism.localSteps, noiseSource: .seeded)
      let momentum = local.update.flattened()
      if local.loss == 0, let previous {
        empties += 1
        #expect(momentum == previous.map { 0.5 * $0 })
      }
      previous = momentum
    }
    #expect(empties > 0)
  }

  @Test(
    "a run resumed from its checkpoint continues exactly: v and the clients' momenta are restored")
  func checkpointRestoresMomenta() throws {
    let configuration = Self.configuration()
    var straight = try Self.trainer(configuration)
    for _ in 0..<3 { _ = try straight.runRound { _ in } }
    var first = try Self.trainer(configuration)
    var ledger = DPEvent.noOp
    _ = try first.runRound { ledger = $0 }
    let checkpoint = try JSONDecoder().decode(
      Checkpoint.self, from: try JSONEncoder().encode(first.checkpoint))
    #expect(
      checkpoint.algorithmState?.clientMomenta.count == FederatedTrainerTests.dataset.clients.count)
    var resumed = try Self.trainer(configuration)
    try resumed.restore(checkpoint, recordedLedger: ledger, folder: "test")
    for _ in 0..<2 { _ = try resumed.runRound { _ in } }
    #expect(
      resumed.model.trainableParameters.flattened()
        == straight.model.trainableParameters.flattened())
  }

  @Test("τ's default: R/2, or twice the norm σ(R/B)√D/m of one round's noise on v when larger")
  func defaultRadiusFollowsNoise() throws {
    for (sigma, expectsNoise) in [(0.1, false), (20.0, true)] {
      var configuration = Self.configuration()
      configuration.noiseMultiplier = sigma
      configuration.epsilon = 1e6
      let trainer = try Self.trainer(configuration)
      let coordinates = trainer.model.trainableParameters.scalarCount
      let noiseNorm =
        sigma * configuration.effectiveClippingBound / Double(configuration.steps.localBatchSize)
        * Double(coordinates).squareRoot() / Double(FederatedTrainerTests.dataset.clients.count)
      expectClose(
        try Self.mechanism(trainer).noiseNorm(coordinates: coordinates), noiseNorm, relative: 1e-12)
      let radius = try #require(trainer.context(round: 0).centeredClip?.radius)
      expectClose(
        radius, expectsNoise ? 2 * noiseNorm : configuration.effectiveClippingBound / 2,
        relative: 1e-12)
      // τ stays; the learning rate decays to 10 %.
      let last = try #require(
        trainer.context(round: configuration.plannedRounds).centeredClip?.radius)
      #expect(last == radius)
      let settings = try #require(configuration.centeredClipping())
      expectClose(
        settings.learningRateFactor(round: configuration.plannedRounds), 0.1, relative: 1e-12)
    }
  }

  @Test("configuration: dp-brem needs example level and one local epoch; its settings need dp-brem")
  func configurationProblems() {
    var user = Self.configuration()
    user.privacyUnit = .user
    #expect(
      user.problems.contains {
        "\($0)".hasPrefix("--privacy-unit must be example with --method dp-brem")
      })
    var epochs = Self.configuration()
    epochs.localEpochs = 2
    #expect(epochs.problems.contains { "\($0)".hasPrefix("--local-epochs") })
    var stray = FederatedTrainerTests.configuration(.dpLoRA)
    stray.momentum = 0.5
    stray.robustnessRadius = 1
    #expect(stray.problems.count == 2)
    var momentum = Self.configuration(momentum: 1)
    #expect(momentum.problems.contains { "\($0)".hasPrefix("--momentum") })
    momentum.momentum = 0.99
    #expect(momentum.problems.isEmpty)
    var attack = Self.configuration()
    attack.byzantineFraction = 0.2
    #expect(attack.problems.contains { "\($0)".hasPrefix("--attack") })
    attack.attack = .alie
    #expect(attack.problems.isEmpty)
    attack.byzantineFraction = 0.5
    #expect(attack.problems.contains { "\($0)".hasPrefix("--byzantine-fraction") })
  }
}
