import Accountants
import DPModel
import DPTestSupport
import Foundation
import Testing

@testable import DPFederated

/// The federated loop on a text model: the tiny random BERT with LoRA, clients holding
/// token sequences whose label is whether token 7 occurs.
@Suite("Text training")
struct TextTrainingTests {
  static func dataset() -> FederatedDataset<[Int]> {
    var generator = Xoshiro256StarStar(seed: 30)
    func example() -> ([Int], Int) {
      var tokens = (0..<6).map { _ in Int.random(in: 8..<64, using: &generator) }
      let label = Int.random(in: 0...1, using: &generator)
      if label == 1 { tokens[Int.random(in: 0..<6, using: &generator)] = 7 }
      return ([2] + tokens + [3], label)
    }
    func client(_ id: String, _ count: Int) -> ClientData<[Int]> {
      let pairs = (0..<count).map { _ in example() }
      return ClientData(id: id, examples: pairs.map(\.0), labels: pairs.map(\.1))
    }
    return FederatedDataset(
      name: "tokens", clients: (0..<12).map { client("client-\($0)", 6) },
      evaluation: client("evaluation", 40), publicSplit: client("public", 0), classCount: 2)
  }

  @Test("a DP-LoRA run on the tiny BERT records its ledger and exports a PEFT adapter")
  func textRun() throws {
    var configuration = FederatedConfiguration.defaults
    configuration.method = .dpLoRA
    configuration.rounds = 4
    configuration.cohortSize = 4
    configuration.population = 10_000
    configuration.noiseCohortSize = 100
    configuration.accountant = .rdp
    configuration.rank = 2
    let encoder = try BertEncoder<Float>(
      folder: TestFixtures.tinyBert, adapters: configuration.adapterConfiguration)
    let folder = try RunFolder(
      creating: FileManager.default.temporaryDirectory.appendingPathComponent("dpfl-text-\(UUID())")
    )
    defer { try? FileManager.default.removeItem(at: folder.url) }
    let summary = try TrainingRun.train(
      configuration: configuration, dataset: Self.dataset(),
      model: TextClassifier(encoder: encoder, classes: 2, seed: 31),
      makeBatch: { TokenBatch(encodings: $0, paddingID: 0) }, folder: folder, resume: false,
      workers: 2,
      progress: { _ in }
    ) { model in
      try PEFTAdapter.write(
        model, baseModel: "tiny-bert", to: folder.url.appendingPathComponent("peft"))
    }
    #expect(summary.rounds == 4 && summary.epsilon <= 2)
    let ledger = try #require(try folder.read(DPEvent.self, from: .ledger))
    #expect(
      ledger
        == .selfComposed(
          .poissonSampled(probability: 0.01, .gaussian(noiseMultiplier: summary.noiseMultiplier)),
          count: 4))
    let adapter = try Safetensors.read(
      contentsOf: folder.url.appendingPathComponent("peft/adapter_model.safetensors"))
    #expect(adapter.tensors.count == 8)
  }
}
