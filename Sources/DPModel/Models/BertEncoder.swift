import Foundation

/// A BERT encoder (word, position and segment embeddings, a layer norm, then N
/// transformer blocks) with frozen pre-trained weights and optional LoRA-family adapters
/// on chosen projections. Loads all-MiniLM-L6-v2's `model.safetensors` (or its first k
/// blocks) as Hugging Face names its tensors.
public struct BertEncoder<Scalar: BLASScalar>: Sendable {
  /// The hyper-parameters (with `numHiddenLayers` the number of blocks actually kept).
  public let configuration: BertConfiguration
  /// Token, position and segment embeddings.
  public let wordEmbeddings, positionEmbeddings, typeEmbeddings: Embedding<Scalar>
  /// The layer norm over the summed embeddings.
  public let embeddingNorm: LayerNorm<Scalar>
  /// The transformer blocks.
  public var layers: [BertLayer<Scalar>]

  /// What the backward pass needs.
  public struct Cache: Sendable {
    var layers: [BertLayer<Scalar>.Cache]
    var batch: TokenBatch
  }

  /// Loads the encoder from safetensors weights named as Hugging Face's `BertModel` names
  /// them (`embeddings.word_embeddings.weight`, `encoder.layer.0.attention.self.query.weight`…).
  /// - Parameters:
  ///   - layers: keep only the first k blocks (all when `nil`).
  ///   - adapters: the adapter to put on each of `targets` in every kept block.
  /// - Throws: ``ModelError`` when a tensor is missing or has the wrong shape or dtype, or
  ///   when `layers` is outside 1…numHiddenLayers.
  public init(
    configuration: BertConfiguration, weights: Safetensors.Contents, layers keep: Int? = nil,
    adapters: AdapterConfiguration? = nil, targets: Set<BertProjection> = BertProjection.loraTargets
  ) throws {
    let count = keep ?? configuration.numHiddenLayers
    guard count >= 1 && count <= configuration.numHiddenLayers else {
      throw ModelError.invalidConfiguration(
        file: weights.source,
        reason: "layers \(count) (the model has 1...\(configuration.numHiddenLayers))")
    }
    var configuration = configuration
    configuration.numHiddenLayers = count
    let width = configuration.hiddenSize
    let epsilon = configuration.layerNormEps
    self.configuration = configuration
    wordEmbeddings = Embedding(
      table: try weights.matrix(
        "embeddings.word_embeddings.weight", rows: configuration.vocabSize, columns: width))
    positionEmbeddings = Embedding(
      table: try weights.matrix(
        "embeddings.position_embeddings.weight", rows: configuration.maxPositionEmbeddings,
        columns: width))
    typeEmbeddings = Embedding(
      table: try weights.matrix(
        "embeddings.token_type_embeddings.weight", rows: configuration.typeVocabSize, columns: width
      ))
    embeddingNorm = try weights.layerNorm("embeddings.LayerNorm", width: width, epsilon: epsilon)
    self.layers = try (0..<count).map { index in
      let prefix = "encoder.layer.\(index)."
      var projections: [BertProjection: AdaptedLinear<Scalar>] = [:]
      for name in BertProjection.allCases {
        let (inputs, outputs) =
          switch name {
          case .intermediate: (width, configuration.intermediateSize)
          case .output: (configuration.intermediateSize, width)
          default: (width, width)
          }
        let base: Linear<Scalar> = try weights.linear(
          prefix + name.rawValue, inputs: inputs, outputs: outputs)
        let adapter: (any Adapter<Scalar>)? =
          targets.contains(name)
          ? adapters?.makeAdapter(
            inputs: inputs, outputs: outputs, layerIndex: name.adapterIndex(inLayer: index)) : nil
        projections[name] = AdaptedLinear(base, adapter: adapter)
      }
      return BertLayer(
        projections: projections,
        attentionNorm: try weights.layerNorm(
          prefix + "attention.output.LayerNorm", width: width, epsilon: epsilon),
        outputNorm: try weights.layerNorm(
          prefix + "output.LayerNorm", width: width, epsilon: epsilon),
        attention: SelfAttention(heads: configuration.numAttentionHeads))
    }
  }

  /// Loads `config.json` and `model.safetensors` from a model folder.
  public init(
    folder: URL, layers: Int? = nil, adapters: AdapterConfiguration? = nil,
    targets: Set<BertProjection> = BertProjection.loraTargets
  ) throws {
    try self.init(
      configuration: try BertConfiguration(
        contentsOf: folder.appendingPathComponent("config.json")),
      weights: try Safetensors.read(contentsOf: folder.appendingPathComponent("model.safetensors")),
      layers: layers, adapters: adapters, targets: targets)
  }

  /// The last hidden state, one row per position (padding rows included), and the cache
  /// for ``backward(_:outputGradient:)``.
  /// - Parameters:
  ///   - activeRank: the DyLoRA rank for every adapter this pass.
  ///   - dropout: hidden dropout and its generator for training; `nil` for evaluation.
  /// - Precondition: ids are inside the vocabulary, the sequence fits the position table.
  public func forward(
    _ batch: TokenBatch, activeRank: Int? = nil,
    dropout: (Dropout, Xoshiro256StarStar)? = nil
  ) -> (Matrix<Scalar>, Cache) {
    precondition(
      batch.sequenceLength <= configuration.maxPositionEmbeddings,
      "sequence length \(batch.sequenceLength) exceeds \(configuration.maxPositionEmbeddings) positions"
    )
    let positions = (0..<batch.ids.count).map { $0 % batch.sequenceLength }
    var generator = dropout?.1 ?? Xoshiro256StarStar(seed: 0)
    let summed =
      wordEmbeddings(batch.ids) + positionEmbeddings(positions) + typeEmbeddings(batch.typeIDs)
    let embeddingMask: [Scalar]? = dropout?.0.mask(count: summed.count, using: &generator)
    var hidden = Dropout.apply(embeddingMask, to: embeddingNorm.forward(summed).0)
    var caches: [BertLayer<Scalar>.Cache] = []
    for layer in layers {
      let (output, cache) = layer.forward(
        hidden, batch: batch, activeRank: activeRank, dropout: dropout?.0, generator: &generator)
      hidden = output
      caches.append(cache)
    }
    return (hidden, Cache(layers: caches, batch: batch))
  }

  /// The per-example gradients of the adapters' trainable factors, named
  /// `encoder.layer.<i>.<projection path>.<parameter>`, from ∂L/∂(last hidden state).
  /// The embeddings are frozen, so the gradient stops at the lowest block that trains (for
  /// the head alone, the encoder is not differentiated at all).
  /// - Parameter perExample: `false` sums over the batch as it goes (one row), which is
  ///   what non-private training needs and costs less.
  public func backward(_ cache: Cache, outputGradient: Matrix<Scalar>, perExample: Bool = true)
    -> PerExampleGradients<Scalar>
  {
    let examples = perExample ? cache.batch.examples : 1
    var result = PerExampleGradients<Scalar>(examples: examples)
    // Below the lowest block that trains, nothing needs a gradient (the head alone: none).
    guard
      let lowest = layers.indices.first(where: { layers[$0].trainableParameters.scalarCount > 0 })
    else { return result }
    var gradient = outputGradient
    var perLayer: [PerExampleGradients<Scalar>] = []
    for index in layers.indices[lowest...].reversed() {
      let (input, parameters) = layers[index].backward(
        cache.layers[index], outputGradient: gradient, examples: examples,
        needsInputGradient: index > lowest)
      if let input { gradient = input }
      perLayer.append(parameters)
    }
    for (offset, parameters) in perLayer.reversed().enumerated() {
      result.append(contentsOf: parameters, prefix: "encoder.layer.\(lowest + offset).")
    }
    return result
  }

  /// Runs every frozen projection's products in bfloat16 (``Linear/useBFloat16Weight()``);
  /// adapters, layer norms, attention and anything that trains stay Float32.
  /// - Precondition: ``BFloat16Weight/isSupported``.
  public mutating func useBFloat16FrozenWeights() where Scalar == Float {
    for index in layers.indices {
      for name in BertProjection.allCases where !layers[index].projections[name]!.trainsBase {
        layers[index].projections[name]!.base.useBFloat16Weight()
      }
    }
  }

  /// Makes the weights and biases of `targets` trainable, dense and without adapters (every
  /// projection: full fine-tuning of the linear layers; ``BertProjection/loraTargets``:
  /// FLoRA's server model). Embeddings and layer norms stay frozen.
  public mutating func trainProjections(_ targets: Set<BertProjection>) {
    for index in layers.indices {
      for name in targets { layers[index].projections[name]!.trainsBase = true }
    }
  }

  /// The adapters' trainable factors, named as ``backward(_:outputGradient:)`` names
  /// their gradients.
  public var trainableParameters: ParameterSet<Scalar> {
    var set = ParameterSet<Scalar>()
    for (index, layer) in layers.enumerated() {
      set.append(contentsOf: layer.trainableParameters, prefix: "encoder.layer.\(index).")
    }
    return set
  }
}
