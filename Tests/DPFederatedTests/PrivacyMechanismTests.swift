import Accountants
import DPModel
import DPTestSupport
import Foundation
import Testing

@testable import DPFederated

/// The mechanisms of the federated seam, each inside a real trainer on digits.
@Suite("PrivacyMechanism")
struct PrivacyMechanismTests {
  typealias Trainer = FederatedTrainer<MultilayerPerceptron<Float>, [Float]>

  /// A private configuration of each mechanism (RDP, so the per-round ε is exact).
  enum Kind: String, CaseIterable, CustomTestStringConvertible {
    case central, adaptive, local, server, coded, discrete
    var testDescription: String { rawValue }

    var configuration: FederatedConfiguration {
      var configuration = FederatedTrainerTests.configuration(.dpLoRA)
      configuration.rank = 2
      switch self {
      case .central: break
      case .discrete: configuration.noiseDistribution = .discrete
      case .adaptive: configuration.adaptiveClipping = true
      case .local, .server:
        configuration.privacyUnit = .example
        configuration.epsilon = 8
        if self == .server { configuration.exampleNoise = .server }
      case .coded:
        configuration.method = .dpREC
        configuration.sampling = .fixedSize
        configuration.population = 30
        configuration.noiseCohortSize = 6
      }
      return configuration
    }
  }

  static func trainer(_ configuration: FederatedConfiguration) throws -> Trainer {
    var configuration = configuration
    try configuration.validate()
    return try FederatedTrainerTests.trainer(configuration)
  }

  /// The noise multiplier of the Gaussian inside a round's event, relative to the clip C of
  /// one contribution (σ/2 under replace-one sampling is sensitivity 2C: σ again).
  static func eventNoiseMultiplier(_ event: DPEvent) -> Double? {
    switch event {
    case .gaussian(let sigma), .discreteGaussian(let sigma):
      return sigma
    case .poissonSampled(_, let inner), .relativeEntropyCoded(_, let inner),
      .participationSampled(_, let inner), .tuned(_, let inner):
      return eventNoiseMultiplier(inner)
    case .sampledWithoutReplacement(_, _, let inner):
      return eventNoiseMultiplier(inner).map { 2 * $0 }
    case .selfComposed(let inner, _): return eventNoiseMultiplier(inner)
    case .momentumGaussian(let release): return release.noiseMultiplier
    case .noOp, .nonPrivate, .laplace, .composed: return nil
    }
  }

  @Test("every mechanism: what a client sends respects the clip", arguments: Kind.allCases)
  func clipBoundHolds(kind: Kind) throws {
    var configuration = kind.configuration
    configuration.clippingBound = 0.05
    let trainer = try Self.trainer(configuration)
    let context = trainer.context(round: 0)
    for client in context.cohort {
      let update = FederatedTrainerTests.update(trainer, client: client, context: context)
      let message = trainer.mechanism.message(for: update, client: client, context: context)
      switch (kind, message.payload) {
      case (.local, _), (.server, _):
        // Example level: every per-example gradient of a step is clipped to C.
        let data = FederatedTrainerTests.dataset.clients[client]
        let single = trainer.mechanism.localSteps.gradient(
          trainer.model, batch: TrainingRun.features([data.examples[0]]),
          labels: [data.labels[0]], activeRank: nil)
        #expect(single.gradient.l2Norm <= Float(0.05 * (1 + 1e-5)))
      case (_, .update(let sent)):
        #expect(Double(sent.l2Norm) <= 0.05 * (1 + 1e-5), "client \(client)")
      case (_, .codedBlocks(let indices)):
        let codebook = try #require(trainer.mechanism as? CodedGaussianMechanism)
          .codebook(context)
        #expect(indices.count == codebook.blockCount)
        var clipped = update
        _ = GaussianNoise.clip(&clipped, to: 0.05)
        let blocks = (0..<codebook.blockCount).map {
          codebook.clippedBlock($0, of: clipped.flattened())
        }
        let norm = blocks.flatMap { $0 }.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(norm <= 0.05 * (1 + 1e-5))
      }
    }
  }

  @Test(
    "every mechanism: the released noise has the standard deviation its event names",
    arguments: Kind.allCases)
  func noiseMatchesEvent(kind: Kind) throws {
    var configuration = kind.configuration
    configuration.noiseMultiplier = 0.9
    configuration.epsilon = 1e6
    var trainer = try Self.trainer(configuration)
    let sigma = try #require(Self.eventNoiseMultiplier(trainer.mechanism.roundEvent))
    #expect(abs(sigma - 0.9) < 1e-12)
    let template = trainer.model.trainableParameters
    let context = trainer.context(round: 0)
    var results: [ClientResult] = []
    var noiseless = [Double](repeating: 0, count: template.scalarCount)
    var expectedDeviation = 0.9 * configuration.effectiveClippingBound
    if kind == .local {
      // One DP-SGD step's noise on a zero gradient: σC per coordinate in the deployment;
      // σC·√(m_sim/m_noise) in this simulation (6 clients standing for 200).
      expectedDeviation *= (6.0 / 200).squareRoot()
      #expect(trainer.sampler.noiseScale == 6.0 / 200)
      var gradient = template.with(flattened: [Float](repeating: 0, count: template.scalarCount))
      var generator: any RandomNumberGenerator = Xoshiro256StarStar(seed: 3)
      trainer.mechanism.localSteps.privatize(&gradient, live: .all, using: &generator)
      let values = gradient.flattened().map(Double.init)
      let deviation = (values.reduce(0) { $0 + $1 * $1 } / Double(values.count)).squareRoot()
      #expect(abs(deviation / expectedDeviation - 1) < 6 / (2 * Double(values.count)).squareRoot())
      return
    }
    for client in context.cohort {
      let update = FederatedTrainerTests.update(trainer, client: client, context: context)
      let message = trainer.mechanism.message(for: update, client: client, context: context)
      results.append(
        ClientResult(message: message, loss: 0, exampleCount: 1, clippedExamples: 0, localEpochs: 1)
      )
      var clipped = update
      _ = GaussianNoise.clip(&clipped, to: context.clippingBound)
      if kind == .discrete, case .update(let sent) = message.payload {
        // The grid values sent are the exact noiseless contribution.
        for (index, value) in sent.flattened().enumerated() { noiseless[index] += Double(value) }
      } else if kind == .server, case .update(let sent) = message.payload {
        // One clipped step, sent as it is.
        for (index, value) in sent.flattened().enumerated() { noiseless[index] += Double(value) }
      } else if let coded = trainer.mechanism as? CodedGaussianMechanism {
        let codebook = coded.codebook(context)
        for block in 0..<codebook.blockCount {
          for (position, value) in zip(
            codebook.positions(ofBlock: block),
            codebook.clippedBlock(block, of: clipped.flattened()))
          {
            noiseless[position] += value
          }
        }
      } else {
        for (index, value) in clipped.flattened().enumerated() { noiseless[index] += Double(value) }
      }
    }
    let sampler = trainer.sampler
    expectedDeviation *= sampler.noiseScale
    if kind == .server {
      // σ times one example's effect on an update, ηC/B.
      let steps = configuration.steps
      expectedDeviation *= steps.localLearningRate / Double(steps.localBatchSize)
    }
    if kind == .adaptive {
      // The update's share of the noise: 1/σ² = 1/z_Δ² + 1/(2σ_b)².
      let sigmaB = AdaptiveClipping().indicatorNoiseFraction * Double(sampler.noiseCohortSize)
      expectedDeviation *=
        try AdaptiveClipping.updateNoiseMultiplier(
          overall: 0.9, indicatorNoise: sigmaB) / 0.9
    }
    let authorization = try #require(
      { () throws -> ReleaseAuthorization? in
        if case .granted(let granted) = try trainer.ledger.authorize(record: { _ in }) {
          return granted
        }
        return nil
      }())
    let release = trainer.mechanism.release(
      results, template: template, context: context, authorization: authorization)
    let noise = zip(release.sum.flattened(), noiseless).map { Double($0) - $1 }
    let n = Double(noise.count)
    let deviation = (noise.reduce(0) { $0 + $1 * $1 } / n).squareRoot()
    // n ≈ 1,300 coordinates: the sample std's relative standard error is 1/√(2n) ≈ 2 %.
    #expect(abs(deviation / expectedDeviation - 1) < 6 / (2 * n).squareRoot(), "\(kind)")
  }

  @Test(
    "every mechanism: the recorded ledger re-accounts to the ε each round reported",
    arguments: Kind.allCases)
  func ledgerReaccounts(kind: Kind) throws {
    var trainer = try Self.trainer(kind.configuration)
    for _ in 0..<2 {
      var recorded: DPEvent?
      guard case .completed(let metrics) = try trainer.runRound(record: { recorded = $0 }) else {
        Issue.record("round refused")
        return
      }
      let json = try JSONEncoder().encode(try #require(recorded))
      let ledger = try JSONDecoder().decode(DPEvent.self, from: json)
      let audit = LedgerAccounting.epsilon(ledger: ledger, delta: 1e-6, methods: [.rdp])[0]
      expectClose(try audit.finding.get().bound.value, metrics.epsilon, relative: 1e-12)
    }
  }

  @Test(
    "DP-REC: the ledger names the exact coder around the fixed-size release; the summary reports its bits",
    arguments: [nil, FederatedMethod.ffaLoRA, .fedSB])
  func relativeEntropyCodedRounds(adapter: FederatedMethod?) throws {
    var configuration = Kind.coded.configuration
    configuration.recAdapter = adapter
    configuration.noiseMultiplier = 2
    configuration.epsilon = 100
    var trainer = try Self.trainer(configuration)
    let coded = try #require(trainer.mechanism as? CodedGaussianMechanism)
    #expect(coded.coder.failure() == nil)
    let codebook = coded.codebook(trainer.context(round: 0))
    guard case .completed(let metrics) = try trainer.runRound(record: { _ in }) else {
      Issue.record("round refused")
      return
    }
    #expect(metrics.bytesPerClient == (codebook.bitsPerClient + 7) / 8)
    #expect(
      trainer.ledger.events
        == .relativeEntropyCoded(
          coded.coder,
          .sampledWithoutReplacement(sourceSize: 30, sampleSize: 6, .gaussian(noiseMultiplier: 1))))
    #expect(
      trainer.mechanism.codingReport(adapter: configuration.adapterMethod)?.adapter
        == (adapter ?? .dpLoRA).rawValue)
    let uncoded = try FederatedTrainerTests.trainer(
      FederatedTrainerTests.configuration(adapter ?? .dpLoRA))
    #expect(trainer.model.trainableParameters.names == uncoded.model.trainableParameters.names)
  }

  @Test("DP-REC refuses Poisson cohorts, a DyLoRA coder, and --rec-adapter without dp-rec")
  func relativeEntropyCodedProblems() {
    var poisson = Kind.coded.configuration
    poisson.sampling = .poisson
    #expect(poisson.problems.contains { "\($0)".contains("fixed-size with --method dp-rec") })
    var dynamic = Kind.coded.configuration
    dynamic.recAdapter = .dpDyLoRA
    #expect(dynamic.problems.contains { "\($0)".contains("--rec-adapter") })
    var uncoded = FederatedTrainerTests.configuration(.ffaLoRA)
    uncoded.recAdapter = .ffaLoRA
    #expect(uncoded.problems.contains { "\($0)".contains("--rec-adapter") })
  }

  @Test(
    "example level: a simulated client's local noise is σC·√(m_sim/m_noise), a deployed one's σC"
  )
  func localNoiseScale() throws {
    for (noiseCohort, factor) in [(200, (6.0 / 200).squareRoot()), (6, 1.0)] {
      var configuration = Kind.local.configuration
      configuration.noiseCohortSize = noiseCohort
      configuration.noiseMultiplier = 0.9
      let trainer = try Self.trainer(configuration)
      let steps = try #require(trainer.mechanism.localSteps as? DPSGDSteps)
      let bound = configuration.effectiveClippingBound
      expectClose(steps.noise.standardDeviation, 0.9 * bound * factor, relative: 1e-12)
      #expect(steps.noise.clippingBound == bound)
      // The ledger's event is the deployment's σ either way.
      let sigma = try #require(Self.eventNoiseMultiplier(trainer.mechanism.roundEvent))
      expectClose(sigma, 0.9, relative: 1e-12)
    }
  }

  @Test("example level: calibrated for the least protected client, every client within ε")
  func exampleLevel() throws {
    var configuration = Kind.local.configuration
    configuration.clippingBound = 1
    var trainer = try Self.trainer(configuration)
    let local = try #require(trainer.mechanism as? LocalDPSGDMechanism)
    let samplings = NoiseCalibration.localSamplings(
      clientSizes: FederatedTrainerTests.dataset.clients.map(\.examples.count), configuration)
    #expect(samplings.count > 1)
    for sampling in samplings {
      let plan = PrivacyPlan(
        sampler: trainer.sampler, delta: 1e-6, accountant: .rdp, localSampling: sampling)
      let epsilon = try plan.epsilon(
        of: .selfComposed(plan.roundEvent(noiseMultiplier: trainer.noiseMultiplier), count: 6))
      #expect(epsilon <= 8 * (1 + 1e-9), "\(sampling)")
    }
    guard case .completed(let metrics) = try trainer.runRound(record: { _ in }) else {
      Issue.record("round refused")
      return
    }
    #expect(metrics.epsilon > 0 && metrics.epsilon <= 8)
    let schedule = try #require(local.plan.localSampling)
    #expect(
      trainer.ledger.events
        == .participationSampled(
          probability: 200.0 / 100_000,
          .selfComposed(
            .poissonSampled(
              probability: schedule.probability,
              .gaussian(noiseMultiplier: trainer.noiseMultiplier)),
            count: schedule.steps)))
  }

  @Test(
    "--client-examples: σ protects every size in the range (checked one by one), including sizes just above a multiple of B that are less protected than the smallest; a client outside is refused"
  )
  func declaredClientSizes() throws {
    var configuration = Kind.local.configuration
    configuration.clippingBound = 1
    configuration.localBatchSize = 8
    configuration.accountant = .rdp
    let sampler = try Self.trainer(configuration).sampler
    var declared = configuration
    declared.clientExamples = "5...40"
    #expect(declared.problems.isEmpty)
    let calibration = try NoiseCalibration(
      configuration: declared, sampler: sampler, clientSizes: [])
    let sigma = calibration.noiseMultiplier
    let rounds = declared.plannedRounds
    var worst = 0.0
    for size in 5...40 {
      let own = try #require(NoiseCalibration.localSamplings(clientSizes: [size], declared).first)
      let plan = calibration.plan.with(localSampling: own)
      let epsilon = try plan.epsilon(
        of: .selfComposed(plan.roundEvent(noiseMultiplier: sigma), count: rounds))
      #expect(epsilon <= 8 * (1 + 1e-9), "\(size) examples: ε \(epsilon)")
      worst = max(worst, epsilon)
    }
    expectClose(worst, 8, relative: 1e-3)
    // The smallest size alone (one step at rate 1) needs less noise than 9 (two at 8/9).
    let smallest = try NoiseCalibration(
      configuration: configuration, sampler: sampler, clientSizes: [5])
    #expect(smallest.noiseMultiplier < sigma * 0.99)
    #expect(throws: FederatedError.self) {
      try NoiseCalibration(configuration: declared, sampler: sampler, clientSizes: [12, 0, 41])
    }
    for (bad, reason) in [
      ("5..40", "MIN...MAX"), ("0...4", "MIN...MAX"), ("9...5", "MIN...MAX"),
      ("1...90000", "at most 10,000 local batches"),
    ] {
      var wrong = configuration
      wrong.clientExamples = bad
      #expect(wrong.problems.contains { "\($0)".contains(reason) }, "\(bad)")
    }
    var user = declared
    user.privacyUnit = .user
    #expect(user.problems.contains { "\($0)".hasPrefix("--client-examples") })
  }

  @Test(
    "example noise at the server: one step per client and round, accounted as one; σ no more than local DP-SGD's"
  )
  func exampleNoiseAtServer() throws {
    var local = Kind.local.configuration
    local.clippingBound = 1
    var server = local
    server.exampleNoise = .server
    let sizes = FederatedTrainerTests.dataset.clients.map(\.examples.count)
    let batch = server.steps.localBatchSize
    #expect(sizes.contains { $0 > batch })
    for sampling in NoiseCalibration.localSamplings(clientSizes: sizes, server) {
      #expect(sampling.steps == 1)
    }
    let serverTrainer = try Self.trainer(server)
    let localTrainer = try Self.trainer(local)
    let mechanism = try #require(serverTrainer.mechanism as? CentralDPSGDMechanism)
    #expect(serverTrainer.noiseMultiplier < localTrainer.noiseMultiplier)
    #expect(mechanism.localSteps.stepsPerEpoch(exampleCount: 100, batchSize: batch) == 1)
    #expect(
      localTrainer.mechanism.localSteps.stepsPerEpoch(exampleCount: 100, batchSize: batch) == 13)
    let schedule = try #require(mechanism.plan.localSampling)
    #expect(
      mechanism.roundEvent
        == .participationSampled(
          probability: 200.0 / 100_000,
          .selfComposed(
            .poissonSampled(
              probability: schedule.probability,
              .gaussian(noiseMultiplier: serverTrainer.noiseMultiplier)),
            count: 1)))
  }

  @Test("example noise at the server: removing one example moves a client's update by at most ηC/B")
  func exampleNoiseAtServerSensitivity() throws {
    var configuration = Kind.server.configuration
    configuration.clippingBound = 0.05
    configuration.localBatchSize = 64
    let trainer = try Self.trainer(configuration)
    let context = trainer.context(round: 0)
    let bound = 0.01 * 0.05 / 64
    var largest = 0.0
    for client in context.cohort {
      let data = FederatedTrainerTests.dataset.clients[client]
      #expect(data.examples.count <= 64)
      let full = FederatedTrainerTests.update(trainer, client: client, context: context)
      for removed in [0, data.examples.count - 1] {
        var neighbour = data
        neighbour.examples.remove(at: removed)
        neighbour.labels.remove(at: removed)
        var shifted = trainer.algorithm.trainClient(
          neighbour, index: client, global: trainer.model, context: context,
          steps: trainer.mechanism.localSteps, noiseSource: configuration.randomness
        ).update
        shifted.add(full, scaledBy: -1)
        largest = max(largest, Double(shifted.l2Norm))
      }
    }
    // The update is a difference of Float parameters: rounding of about 1e-9 here, 0.1 ‰ of
    // this small bound (ηC/B = 7.8e-6).
    #expect(largest <= bound * (1 + 1e-3))
    // Most per-example gradients are longer than C = 0.05, so the bound is nearly reached.
    #expect(largest >= bound * 0.9)
  }

  @Test(
    "--example-noise: only at example level with privacy, one local epoch, not flora or dp-brem")
  func exampleNoiseProblems() {
    func refused(_ change: (inout FederatedConfiguration) -> Void, _ flag: String) -> Bool {
      var configuration = Kind.server.configuration
      change(&configuration)
      return configuration.problems.contains { "\($0)".contains(flag) }
    }
    #expect(!refused({ _ in }, "--example-noise"))
    #expect(
      refused(
        {
          $0.privacyUnit = .user; $0.epsilon = 2
        }, "--example-noise"))
    #expect(refused({ $0.localEpochs = 2 }, "--local-epochs"))
    #expect(refused({ $0.method = .flora }, "--method"))
    #expect(refused({ $0.method = .dpBREM }, "--example-noise"))
  }

  @Test(
    "fixed-size cohorts: exactly m clients, accounted as sampling without replacement (σ/2, replace-one)"
  )
  func fixedSizeCohorts() throws {
    var configuration = Kind.central.configuration
    configuration.sampling = .fixedSize
    var trainer = try Self.trainer(configuration)
    for round in 0..<20 { #expect(trainer.context(round: round).cohort.count == 6) }
    guard case .completed = try trainer.runRound(record: { _ in }) else {
      Issue.record("round refused")
      return
    }
    let sigma = trainer.noiseMultiplier
    let event = DPEvent.sampledWithoutReplacement(
      sourceSize: 100_000, sampleSize: 200, .gaussian(noiseMultiplier: sigma / 2))
    #expect(trainer.ledger.events == event)
    var accountant = RDPAccountant(neighboringRelation: .replaceOne)
    try accountant.compose(event, count: 6)
    #expect(try accountant.epsilon(delta: 1e-6) <= 2)
    configuration.accountant = .pld
    #expect(
      configuration.problems.contains {
        $0.description.hasPrefix("--accountant must be rdp with --sampling fixed-size")
      })
  }

  @Test(
    "adaptive clipping in a run: C moves towards the median update norm from either side; the ledger is the fixed-bound event"
  )
  func adaptiveClippingRun() throws {
    for start in [1e-4, 100.0] {
      var configuration = Kind.adaptive.configuration
      configuration.clippingBound = start
      configuration.noiseMultiplier = 0.5
      configuration.epsilon = 1e6
      configuration.clipLearningRate = 1
      configuration.rounds = 12
      var trainer = try Self.trainer(configuration)
      var bounds: [Double] = []
      for _ in 0..<12 {
        guard case .completed(let metrics) = try trainer.runRound(record: { _ in }) else {
          Issue.record("round refused")
          return
        }
        bounds.append(try #require(metrics.clippingBound))
      }
      // Every update is clipped at 1e-4 and none at 100: each step moves C by a factor
      // of about e^{±η/2} towards the norms (0.01–1 on digits).
      if start < 1 {
        #expect(bounds.last! > start * 50, "\(bounds)")
      } else {
        #expect(bounds.last! < start / 50, "\(bounds)")
      }
      #expect(
        trainer.ledger.events
          == .selfComposed(trainer.sampler.event(noiseMultiplier: 0.5), count: 12))
    }
  }
}
