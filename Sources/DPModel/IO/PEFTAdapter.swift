import Foundation

/// Adapters saved in the layout Hugging Face PEFT loads with
/// `PeftModel.from_pretrained(BertModel.from_pretrained(base), folder)`:
/// `adapter_model.safetensors` with tensors
/// `base_model.model.encoder.layer.<i>.<projection>.lora_A.weight` (`r × in`) and
/// `….lora_B.weight` (`out × r`), and `adapter_config.json` (`peft_type` "LORA", `r`,
/// `lora_alpha`, `target_modules`). PEFT computes W₀ + (lora_alpha/r)·B·A.
///
/// Every LoRA-family adapter is exported as that plain LoRA:
/// - DyLoRA at the chosen rank b: A[:b], B[:, :b], r = b, so the scale α/b is kept;
/// - Fed-SB with its core folded into B: B' = B·R, so (α/r)·B'·A = (α/r)·B·R·A;
/// - LoRA and FFA-LoRA as they are.
/// The task head is not part of PEFT's LoRA layout; it goes to `classifier.safetensors`,
/// applied to the mean-pooled embedding normalised to norm √width (the classifier's
/// embedding centre folded into its bias: ``TextClassifier/exportedHead``).
public enum PEFTAdapter {
  /// The name of the adapter weights file.
  public static let weightsFile = "adapter_model.safetensors"
  /// The name of the adapter configuration file.
  public static let configurationFile = "adapter_config.json"
  /// The name of the task-head file written next to them.
  public static let headFile = "classifier.safetensors"

  /// What `adapter_config.json` holds (the keys PEFT needs; PEFT fills in the rest).
  public struct Configuration: Codable, Equatable, Sendable {
    public var peftType = "LORA"
    public var r: Int
    public var loraAlpha: Double
    public var targetModules: [String]
    public var loraDropout = 0.0
    public var bias = "none"
    public var fanInFanOut = false
    public var inferenceMode = true
    public var baseModelNameOrPath: String
    public var taskType = "FEATURE_EXTRACTION"
    /// Which blocks carry adapters (all of the encoder's kept blocks).
    public var layersToTransform: [Int]

    enum CodingKeys: String, CodingKey {
      case peftType = "peft_type", r, loraAlpha = "lora_alpha", targetModules = "target_modules"
      case loraDropout = "lora_dropout", bias, fanInFanOut = "fan_in_fan_out"
      case inferenceMode = "inference_mode", baseModelNameOrPath = "base_model_name_or_path"
      case taskType = "task_type", layersToTransform = "layers_to_transform"
    }
  }

  /// Writes the classifier's adapters (at `activeRank` for DyLoRA) and head to `folder`,
  /// creating it if needed; each file is written atomically.
  /// - Precondition: every adapted projection has an adapter of one rank and α.
  /// - Throws: ``ModelError/fileUnwritable(file:reason:)``.
  public static func write(
    _ model: TextClassifier<Float>, baseModel: String, activeRank: Int? = nil, to folder: URL
  ) throws {
    var tensors: [Tensor] = []
    var targets: Set<String> = []
    var settings: Set<[Double]> = []
    for (index, layer) in model.encoder.layers.enumerated() {
      for projection in BertProjection.allCases {
        guard let adapter = layer.projections[projection]?.adapter else { continue }
        let (down, up, rank) = exported(adapter, activeRank: activeRank)
        settings.insert([Double(rank), adapter.scale(activeRank: rank) * Double(rank)])
        targets.insert(projection.rawValue)
        let prefix = "base_model.model.encoder.layer.\(index).\(projection.rawValue)"
        tensors.append(
          Tensor(
            name: "\(prefix).lora_A.weight", shape: [down.rows, down.columns], floats: down.values))
        tensors.append(
          Tensor(name: "\(prefix).lora_B.weight", shape: [up.rows, up.columns], floats: up.values))
      }
    }
    precondition(
      settings.count <= 1, "PEFT needs one rank and α for every adapter; got \(settings)")
    let setting = settings.first ?? [1, 1]
    let configuration = Configuration(
      r: Int(setting[0]), loraAlpha: setting[1], targetModules: targets.sorted(),
      baseModelNameOrPath: baseModel, layersToTransform: Array(model.encoder.layers.indices))
    let head = model.exportedHead
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      try DurableFile.write(
        encoder.encode(configuration), to: folder.appendingPathComponent(configurationFile))
    } catch let error as ModelError {
      throw error
    } catch {
      throw ModelError.fileUnwritable(
        file: folder.appendingPathComponent(configurationFile).path,
        reason: error.localizedDescription)
    }
    try Safetensors.write(
      tensors, metadata: ["format": "pt"], to: folder.appendingPathComponent(weightsFile))
    try Safetensors.write(
      [
        Tensor(
          name: "classifier.weight", shape: [head.outputCount, head.inputCount],
          floats: head.weight.values),
        Tensor(name: "classifier.bias", shape: [head.outputCount], floats: head.bias ?? []),
      ], metadata: ["format": "pt"], to: folder.appendingPathComponent(headFile))
  }

  /// A's rows and B's columns at the exported rank, with a Fed-SB core folded into B.
  static func exported(_ adapter: any Adapter<Float>, activeRank: Int?)
    -> (down: Matrix<Float>, up: Matrix<Float>, rank: Int)
  {
    let rank = adapter.resolvedRank(activeRank)
    let factors = adapter.factors
    let down = factors.down.rows(0..<rank)
    let up = factors.up.columns(0..<rank)
    guard let core = factors.core else { return (down, up, rank) }
    return (down, BLAS.matmul(up, core), rank)
  }
}
