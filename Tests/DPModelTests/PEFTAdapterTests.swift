import DPTestSupport
import Foundation
import Testing

@testable import DPModel

/// The PEFT export: PEFT's tensor names and shapes, and (α/r)·B·A reproducing each
/// adapter's weight change.
@Suite("PEFTAdapter")
struct PEFTAdapterTests {
  static func classifier(_ kind: AdapterConfiguration.Kind) throws -> TextClassifier<Float> {
    var encoder = try tinyBert(
      Double.self, adapters: AdapterConfiguration(kind: kind, rank: 4, alpha: 8))
    randomizeAdapters(&encoder, seed: 50)
    var model = TextClassifier<Float>(
      encoder: try tinyBert(
        Float.self, adapters: AdapterConfiguration(kind: kind, rank: 4, alpha: 8)), classes: 3,
      seed: 51)
    for index in encoder.layers.indices {
      for projection in [BertProjection.query, .value] {
        let source = encoder.layers[index].projections[projection]!.adapter!.factors
        model.encoder.layers[index].projections[projection]!.adapter!.factors = LowRankFactors(
          down: Matrix<Float>(source.down), up: Matrix<Float>(source.up),
          core: source.core.map { Matrix<Float>($0) })
      }
    }
    return model
  }

  @Test(
    "names, shapes and config follow PEFT; (α/r)·B·A is the adapter's ΔW",
    arguments: [
      (AdapterConfiguration.Kind.lora, nil), (.dyLoRA, 2), (.ffaLoRA, nil), (.fedSB, nil),
    ] as [(AdapterConfiguration.Kind, Int?)])
  func export(kind: AdapterConfiguration.Kind, activeRank: Int?) throws {
    let model = try Self.classifier(kind)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-peft-\(kind.rawValue)-\(UUID())")
    defer { try? FileManager.default.removeItem(at: folder) }
    try PEFTAdapter.write(model, baseModel: "tiny-bert", activeRank: activeRank, to: folder)
    let decoder = JSONDecoder()
    let configuration = try decoder.decode(
      PEFTAdapter.Configuration.self,
      from: Data(contentsOf: folder.appendingPathComponent(PEFTAdapter.configurationFile)))
    let rank = activeRank ?? 4
    #expect(configuration.r == rank)
    #expect(configuration.targetModules == ["attention.self.query", "attention.self.value"])
    let weights = try Safetensors.read(
      contentsOf: folder.appendingPathComponent(PEFTAdapter.weightsFile))
    #expect(weights.tensors.count == 2 * 2 * 2)
    for index in 0..<2 {
      for projection in [BertProjection.query, .value] {
        let prefix = "base_model.model.encoder.layer.\(index).\(projection.rawValue)"
        let down: Matrix<Float> = try weights.matrix(
          "\(prefix).lora_A.weight", rows: rank, columns: 32)
        let up: Matrix<Float> = try weights.matrix(
          "\(prefix).lora_B.weight", rows: 32, columns: rank)
        let delta = (Float(configuration.loraAlpha) / Float(rank)) * BLAS.matmul(up, down)
        let expected = model.encoder.layers[index].projections[projection]!.adapter!.weightDelta(
          activeRank: activeRank)
        #expect(
          relativeError(delta.values.map(Double.init), expected.values.map(Double.init)) < 1e-6)
        #expect(expected.frobeniusNorm > 0)
      }
    }
    let head = try Safetensors.read(contentsOf: folder.appendingPathComponent(PEFTAdapter.headFile))
    let headWeight: Matrix<Float> = try head.matrix("classifier.weight", rows: 3, columns: 32)
    #expect(headWeight == model.head.base.weight)
  }
}
