import Foundation

/// The hyper-parameters of a BERT encoder, read from a Hugging Face `config.json`.
public struct BertConfiguration: Codable, Equatable, Sendable {
  /// Word-piece vocabulary size.
  public var vocabSize: Int
  /// Hidden width H.
  public var hiddenSize: Int
  /// Number of transformer layers.
  public var numHiddenLayers: Int
  /// Attention heads per layer; H must be a multiple.
  public var numAttentionHeads: Int
  /// Width of the feed-forward layer.
  public var intermediateSize: Int
  /// The longest sequence the position table covers.
  public var maxPositionEmbeddings: Int
  /// Number of segment ids.
  public var typeVocabSize: Int
  /// ε of every layer norm.
  public var layerNormEps: Double
  /// The activation; dpfl implements "gelu" (exact, erf-based).
  public var hiddenAct: String

  /// Reads and checks `config.json`.
  /// - Throws: ``ModelError/fileUnreadable(file:reason:)``,
  ///   ``ModelError/malformedJSON(file:line:column:reason:)`` (not strict JSON, or a field
  ///   missing or of the wrong type) or ``ModelError/invalidConfiguration(file:reason:)``.
  public init(contentsOf url: URL) throws {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
      throw ModelError.fileUnreadable(file: url.path, reason: error.localizedDescription)
    }
    self = try StrictJSON.decode(
      BertConfiguration.self, from: data, source: url.path,
      options: StrictJSON.DecodingOptions(convertsFromSnakeCase: true))
    if let problem = problem {
      throw ModelError.invalidConfiguration(file: url.path, reason: problem)
    }
  }

  /// The first thing wrong with the configuration, or `nil`.
  var problem: String? {
    if [
      vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize,
      maxPositionEmbeddings, typeVocabSize,
    ].contains(where: { $0 <= 0 }) {
      return "sizes must be positive"
    }
    if hiddenSize % numAttentionHeads != 0 {
      return
        "hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)"
    }
    if hiddenAct != "gelu" {
      return "hidden_act \(MessageText.quoted(hiddenAct)) (only \"gelu\" is implemented)"
    }
    if !(layerNormEps > 0) { return "layer_norm_eps \(layerNormEps) (must be > 0)" }
    return nil
  }
}
