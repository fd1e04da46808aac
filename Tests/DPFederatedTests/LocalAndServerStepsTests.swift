import Testing

@testable import DPFederated

/// The local and server step settings by kind of task: FedSGD with a server Adam for text at
/// user level, FedAvg for features and at example level; given values always win.
@Suite("Local and server steps")
struct LocalAndServerStepsTests {
  static func parsed(_ flags: [String]) throws -> FederatedConfiguration {
    try FederatedConfiguration.parse(flags)
  }

  @Test("a built-in text task at user level runs FedSGD with Adam; digits runs FedAvg")
  func builtInDefaults() throws {
    for task in ["shakespeare-genre", "chitchat-topic"] {
      #expect(try Self.parsed(["--task", task]).steps == .federatedSGDWithAdam)
      #expect(try Self.parsed(["--task", task, "--no-privacy"]).steps == .federatedSGDWithAdam)
    }
    #expect(try Self.parsed([]).steps == .federatedAveraging)
    #expect(
      try Self.parsed(["--task", "shakespeare-genre", "--privacy-unit", "example"]).steps
        == .federatedAveraging)
    #expect(LocalAndServerSteps.federatedSGDWithAdam.localBatchSize == 64)
    #expect(LocalAndServerSteps.federatedAveraging.localBatchSize == 8)
  }

  @Test("given values win, and the server learning rate follows a given optimiser")
  func givenValues() throws {
    let text = try Self.parsed([
      "--task", "chitchat-topic", "--local-batch-size", "8", "--server-optimizer", "sgd",
    ])
    #expect(text.steps.localBatchSize == 8)
    #expect(text.steps.localLearningRate == 1)
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
}
