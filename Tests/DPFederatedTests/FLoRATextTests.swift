import Accountants
import DPModel
import DPTestSupport
import Foundation
import Testing

@testable import DPFederated

/// FLoRA on the text encoder (the tiny random BERT): the server's query and value weights
/// train dense, each client adapts them afresh, and what it sends merges into them.
@Suite("FLoRA on text")
struct FLoRATextTests {
  typealias Classifier = TextClassifier<Float>

  /// The server's model: the tiny BERT with its query and value weights trainable.
  static func serverModel() throws -> Classifier {
    var encoder = try BertEncoder<Float>(folder: TestFixtures.tinyBert)
    encoder.trainProjections(BertProjection.loraTargets)
    return TextClassifier(encoder: encoder, classes: 2, seed: 31)
  }

  static let makeBatch: @Sendable ([[Int]]) -> TokenBatch = {
    TokenBatch(encodings: $0, paddingID: 0)
  }

  static func configuration(privacy: Bool) -> FederatedConfiguration {
    var configuration = FLoRATests.configuration(ranks: "3,1")
    configuration.rounds = 2
    configuration.cohortSize = 4
    configuration.localLearningRate = 0.5
    configuration.privacy = privacy
    if !privacy { configuration.epsilon = nil }
    return configuration
  }

  static func trainer(_ configuration: FederatedConfiguration) throws
    -> FederatedTrainer<Classifier, [Int]>
  {
    var configuration = configuration
    try configuration.validate()
    return try FederatedTrainer(
      configuration: configuration, model: try serverModel(),
      dataset: TextTrainingTests.dataset(), makeBatch: makeBatch)
  }

  @Test(
    "fresh adapters on the query and value weights leave the logits unchanged, and adding a trained one's s·B·A to those weights keeps them"
  )
  func freshAndMergedLogits() throws {
    let server = try Self.serverModel()
    let names = server.trainableParameters.names
    #expect(names.count == 2 * 2 * 2 + 2, "\(names)")
    #expect(!names.contains { $0.contains("key") || $0.contains("dense") })
    let batch = Self.makeBatch(Array(TextTrainingTests.dataset().clients[0].examples.prefix(4)))
    var fresh = try #require(
      server.withFreshAdapters(AdapterConfiguration(kind: .lora, rank: 3, seed: 9)))
    #expect(
      fresh.logits(batch, activeRank: nil).values == server.logits(batch, activeRank: nil).values)
    #expect(fresh.trainableParameters.names.filter { $0.hasPrefix("encoder.") }.count == 2 * 2 * 2)
    FLoRATests.randomizingUp(&fresh)
    let deltas = try #require(fresh.adapterWeightDeltas())
    #expect(
      deltas.names == [
        "encoder.layer.0.attention.self.query.weight",
        "encoder.layer.0.attention.self.value.weight",
        "encoder.layer.1.attention.self.query.weight",
        "encoder.layer.1.attention.self.value.weight",
      ])
    let merged = FLoRATests.merging(deltas, into: server)
    let adaptedLogits = fresh.logits(batch, activeRank: nil)
    #expect(
      FLoRATests.maximumDifference(adaptedLogits, server.logits(batch, activeRank: nil)) > 1e-2)
    #expect(
      FLoRATests.maximumDifference(merged.logits(batch, activeRank: nil), adaptedLogits) < 1e-4)
    // A model whose projections all stay frozen has nothing to adapt afresh.
    let frozen = TextClassifier(
      encoder: try BertEncoder<Float>(folder: TestFixtures.tinyBert), classes: 2, seed: 31)
    #expect(frozen.withFreshAdapters(AdapterConfiguration(kind: .lora, rank: 3, seed: 9)) == nil)
  }

  @Test(
    "one round without privacy moves each query and value weight by the mean of the clients' rank-r_k updates and nothing else of the encoder"
  )
  func roundMergesMeanUpdate() throws {
    var trainer = try Self.trainer(Self.configuration(privacy: false))
    let algorithm = try #require(trainer.algorithm as? FLoRA<Classifier, [Int]>)
    let before = trainer.model
    let context = trainer.context(round: 0)
    let updates = context.cohort.map { client in
      trainer.algorithm.trainClient(
        TextTrainingTests.dataset().clients[client], index: client, global: trainer.model,
        context: context, steps: trainer.mechanism.localSteps,
        noiseSource: trainer.configuration.randomness
      ).update
    }
    for (client, update) in zip(context.cohort, updates) {
      let delta = try #require(update["encoder.layer.1.attention.self.value.weight"])
      #expect(FLoRATests.rank(delta) == algorithm.rank(ofClient: client), "client \(client)")
      #expect(update["encoder.layer.1.attention.self.value.bias"]!.values.allSatisfy { $0 == 0 })
    }
    guard case .completed = try trainer.runRound(record: { _ in }) else {
      Issue.record("round refused")
      return
    }
    let (start, moved) = (before.trainableParameters, trainer.model.trainableParameters)
    for name in start.names where name.hasSuffix(".weight") && name.hasPrefix("encoder.") {
      var mean = 0 * start[name]!
      for update in updates {
        mean = mean + (1 / Float(trainer.configuration.clientsPerRound)) * update[name]!
      }
      #expect(FLoRATests.maximumDifference(moved[name]! - start[name]!, mean) < 1e-5, "\(name)")
      #expect(mean.values.contains { $0 != 0 }, "\(name)")
    }
    for layer in 0..<2 {
      for name in [BertProjection.key, .attentionOutput, .intermediate, .output] {
        #expect(
          trainer.model.encoder.layers[layer].projections[name]!.base.weight
            == before.encoder.layers[layer].projections[name]!.base.weight)
      }
    }
  }

  @Test(
    "at user level each client's dense update is clipped, and two rounds cost DP-FedAvg's event")
  func privateRounds() throws {
    var trainer = try Self.trainer(Self.configuration(privacy: true))
    try FLoRATests.expectDPFedAvg(&trainer, clients: TextTrainingTests.dataset().clients)
  }
}
