import DPModel
import Testing

@testable import DPFederated

/// `--client-weight-cap W`: client k's update scaled by min(n_k / W, 1) before the clip; and
/// at example level, DP-SGD's fixed denominator B, which weighs clients the same way at W = B.
@Suite("Capped client weights")
struct ClientWeightingTests {
  static func averaging(_ configuration: FederatedConfiguration)
    -> FederatedAveraging<MultilayerPerceptron<Float>, [Float]>
  {
    FederatedAveraging(configuration: configuration, makeBatch: TrainingRun.features)
  }

  @Test("the weight is min(n / W, 1), and absent without a cap")
  func weights() throws {
    var configuration = FederatedTrainerTests.configuration(.dpLoRA)
    #expect(Self.averaging(configuration).clientWeight(examples: 5) == nil)
    configuration.clientWeightCap = 8
    let capped = Self.averaging(configuration)
    #expect(capped.clientWeight(examples: 2) == 0.25)
    #expect(capped.clientWeight(examples: 8) == 1)
    #expect(capped.clientWeight(examples: 30) == 1)
  }

  @Test("a client's update is the uniform update times its weight, before the clip")
  func scaledUpdate() throws {
    var configuration = FederatedTrainerTests.configuration(.dpLoRA)
    let uniform = try FederatedTrainerTests.trainer(configuration)
    let cap = 1_000
    configuration.clientWeightCap = cap
    let capped = try FederatedTrainerTests.trainer(configuration)
    let context = uniform.context(round: 0)
    for client in [0, 7] {
      let examples = FederatedTrainerTests.dataset.clients[client].examples.count
      let weight = Float(examples) / Float(cap)
      let plain = FederatedTrainerTests.update(uniform, client: client, context: context)
      let scaled = FederatedTrainerTests.update(capped, client: client, context: context)
      #expect(plain.flattened().contains { $0 != 0 })
      #expect(zip(scaled.flattened(), plain.flattened()).allSatisfy { $0 == $1 * weight })
    }
  }

  @Test("example level: DP-SGD divides by B whatever n, so a client of n < B counts n/B")
  func dpSGDDividesByBatchSize() throws {
    let configuration = FederatedTrainerTests.configuration(.dpLoRA)
    let base = MultilayerPerceptron<Float>(inputs: 64, hidden: [16], classes: 10, seed: 4)
    let model = base.adapted(configuration.adapterConfiguration)
    let client = try #require(
      FederatedTrainerTests.dataset.clients.first { (2..<16).contains($0.examples.count) })
    let n = client.examples.count
    // One step over all n examples: a clip no gradient reaches and no noise, so DP-SGD's
    // step differs from the plain mean-gradient step only in its denominator.
    let training = LocalTraining(epochs: 1, batchSize: 16, learningRate: 0.5)
    func update(_ steps: any LocalStepRule) -> [Float] {
      let trained = training.train(
        client, from: model, activeRank: nil, live: .all, seed: 5, steps: steps,
        noiseSource: .seeded, makeBatch: TrainingRun.features)
      return zip(trained.parameters.flattened(), model.trainableParameters.flattened()).map {
        $0 - $1
      }
    }
    let mean = update(MinibatchSteps())
    let dpSGD = update(DPSGDSteps(noise: GaussianNoise(clippingBound: 1e9, noiseMultiplier: 0)))
    let scale = Float(n) / 16
    #expect(mean.contains { abs($0) > 1e-4 })
    #expect(zip(dpSGD, mean).allSatisfy { abs($0 - $1 * scale) <= 1e-5 + 1e-4 * abs($1) })
  }

  @Test("a cap is refused at example level, for dp-brem and flora, and when below 1")
  func refused() {
    for flags in [
      ["--client-weight-cap", "64", "--privacy-unit", "example"],
      ["--client-weight-cap", "64", "--method", "dp-brem"],
      ["--client-weight-cap", "64", "--method", "flora"],
      ["--client-weight-cap", "0"],
    ] {
      #expect(throws: (any Error).self, "\(flags)") { try FederatedConfiguration.parse(flags) }
    }
    #expect(throws: Never.self) {
      try FederatedConfiguration.parse(["--client-weight-cap", "64", "--method", "ffa-lora"])
    }
  }
}
