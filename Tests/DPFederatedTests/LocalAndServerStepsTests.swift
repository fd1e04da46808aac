import DPModel
import Foundation
import Testing

@testable import DPFederated

/// The local and server step settings by kind of task: FedSGD with a server Adam for text,
/// FedAvg for features; given values always win.
@Suite("Local and server steps")
struct LocalAndServerStepsTests {
  static func parsed(_ flags: [String]) throws -> FederatedConfiguration {
    try FederatedConfiguration.parse(flags)
  }

  @Test("a built-in text task runs FedSGD with Adam at either unit; digits runs FedAvg")
  func builtInDefaults() throws {
    for task in ["shakespeare-genre", "chitchat-topic"] {
      #expect(try Self.parsed(["--task", task]).steps == .federatedSGDWithAdam)
      #expect(try Self.parsed(["--task", task, "--no-privacy"]).steps == .federatedSGDWithAdam)
      #expect(
        try Self.parsed(["--task", task, "--privacy-unit", "example"]).steps
          == .federatedSGDWithAdam)
    }
    #expect(try Self.parsed([]).steps == .federatedAveraging)
    #expect(try Self.parsed(["--privacy-unit", "example"]).steps == .federatedAveraging)
    #expect(LocalAndServerSteps.federatedSGDWithAdam.localBatchSize == 64)
    #expect(LocalAndServerSteps.federatedAveraging.localBatchSize == 8)
  }

  @Test("the clip is 4 per example for text at example level, 0.5 otherwise, unless given")
  func clippingBoundDefaults() throws {
    for task in ["shakespeare-genre", "chitchat-topic"] {
      #expect(try Self.parsed(["--task", task]).clippingBound == 0.5)
      #expect(try Self.parsed(["--task", task, "--privacy-unit", "example"]).clippingBound == 4)
      #expect(
        try Self.parsed(["--task", task, "--privacy-unit", "example", "--clipping-bound", "1"])
          .clippingBound == 1)
    }
    #expect(try Self.parsed([]).clippingBound == 0.5)
    #expect(try Self.parsed(["--privacy-unit", "example"]).clippingBound == 0.5)
    var text = try Self.parsed([
      "--task", "jsonl", "--data", "/tmp/x.jsonl", "--privacy-unit", "example",
    ])
    #expect(text.clippingBound == nil && text.effectiveClippingBound == 0.5)
    text.resolveStepDefaults(isText: true)
    #expect(text.clippingBound == 4 && text.effectiveClippingBound == 4)
  }

  @Test("given values win, and the server learning rate follows a given optimiser")
  func givenValues() throws {
    let text = try Self.parsed([
      "--task", "chitchat-topic", "--local-batch-size", "8", "--server-optimizer", "sgd",
    ])
    #expect(text.steps.localBatchSize == 8)
    #expect(text.steps.localLearningRate == 0.125)
    #expect(text.steps.serverOptimizer == .sgd && text.steps.serverLearningRate == 1)
    let digitsAdam = try Self.parsed(["--server-optimizer", "adam"])
    #expect(digitsAdam.steps.serverLearningRate == 0.003)
    #expect(digitsAdam.steps.localBatchSize == 8)
    let given = try Self.parsed([
      "--task", "shakespeare-genre", "--server-optimizer", "momentum", "--server-learning-rate",
      "0.5",
      "--local-learning-rate", "0.02",
    ])
    #expect(given.steps.serverOptimizer == .momentum && given.steps.serverLearningRate == 0.5)
    #expect(given.steps.localLearningRate == 0.02)
  }

  @Test("a JSON Lines run leaves the steps open until its data says text or features")
  func jsonLines() throws {
    var configuration = try Self.parsed(["--task", "jsonl", "--data", "/tmp/x.jsonl"])
    #expect(configuration.localBatchSize == nil && configuration.serverOptimizer == nil)
    var features = configuration
    features.resolveStepDefaults(isText: false)
    #expect(features.steps == .federatedAveraging)
    configuration.resolveStepDefaults(isText: true)
    #expect(configuration.steps == .federatedSGDWithAdam)
    #expect(configuration.localBatchSize == 64 && configuration.serverLearningRate == 0.003)
  }

  @Test("the cosine schedule falls from 1 in the first round to near 0 in the last")
  func cosineSchedule() throws {
    #expect(ServerSchedule.constant.factor(round: 59, rounds: 60) == 1)
    let cosine = ServerSchedule.cosine
    #expect(cosine.factor(round: 0, rounds: 60) == 1)
    #expect(abs(cosine.factor(round: 30, rounds: 60) - 0.5) < 1e-15)
    #expect(abs(cosine.factor(round: 59, rounds: 60) - (1 + cos(Double.pi * 59 / 60)) / 2) < 1e-15)
    #expect(cosine.factor(round: 59, rounds: 60) < 0.001)
    let factors = (0..<60).map { cosine.factor(round: $0, rounds: 60) }
    #expect(zip(factors, factors.dropFirst()).allSatisfy { $0 > $1 })
    #expect(try Self.parsed([]).serverSchedule == .constant)
    #expect(try Self.parsed(["--server-schedule", "cosine"]).serverSchedule == .cosine)
    #expect(throws: (any Error).self) { try Self.parsed(["--server-schedule", "step"]) }
  }

  @Test("FedAvg's server step follows the schedule: round t moves by η·factor(t) of the mean")
  func scheduledServerStep() throws {
    let configuration = try Self.parsed([
      "--server-schedule", "cosine", "--rounds", "4", "--server-optimizer", "sgd",
      "--server-learning-rate", "2", "--cohort-size", "2", "--method", "head-only",
    ])
    var algorithm = FederatedAveraging<MultilayerPerceptron<Float>, Int>(
      configuration: configuration, makeBatch: { _ in preconditionFailure("no local training") })
    var model = MultilayerPerceptron<Float>(inputs: 3, hidden: [], classes: 2, seed: 1)
    let sum = model.trainableParameters.with(
      flattened: (0..<model.trainableParameters.scalarCount).map { Float($0 % 5) - 2 })
    for round in 0..<4 {
      let before = model.trainableParameters.flattened()
      let context = RoundContext(
        round: round, seed: 0, cohort: [0, 1], activeRank: nil, live: .all, clippingBound: 1,
        cohortKey: nil)
      algorithm.apply(sum, to: &model, context: context)
      let factor = ServerSchedule.cosine.factor(round: round, rounds: 4)
      let expected = zip(before, sum.flattened()).map { $0 + Float(2 * factor / 2) * $1 }
      #expect(
        zip(model.trainableParameters.flattened(), expected).allSatisfy {
          abs($0 - $1) <= 1e-6
        })
    }
  }
}
