import DPModel
import Testing

@testable import DPFederated

/// `--client-weight-cap W`: client k's update scaled by min(n_k / W, 1) before the clip.
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
