/// A BERT encoder, mean pooling over real tokens, L2 normalisation (to norm √width), an
/// optional public centre subtracted, and a linear head: sentence classification. The head
/// (`classifier.weight`, `classifier.bias`) and the encoder's adapters are the trainable
/// parameters.
public struct TextClassifier<Scalar: BLASScalar>: ClassificationModel {
  /// The encoder (frozen, with adapters).
  public var encoder: BertEncoder<Scalar>
  /// The task head on the pooled embedding.
  public var head: AdaptedLinear<Scalar>
  /// A public centre c subtracted from every unit-norm sentence embedding u before the head,
  /// which sees √width·(u − c); nil for none. A constant of the model, never trained.
  ///
  /// The sentence embeddings of a pre-trained encoder share a large common direction. Left
  /// in, it dominates the head's input, the head's gradient steps are badly conditioned,
  /// and federated averaging over one-label clients learns little beyond the majority
  /// class. Set it from public data only, with ``meanUnitEmbedding(_:)``;
  /// ``exportedHead`` folds it into the bias.
  public var embeddingCenter: [Scalar]?

  /// A classifier over `encoder` with a fresh head (PyTorch's default initialisation from
  /// `seed`).
  public init(encoder: BertEncoder<Scalar>, classes: Int, seed: UInt64) {
    precondition(classes >= 2, "a classifier needs at least 2 classes; got \(classes)")
    var generator = Xoshiro256StarStar(seed: seed)
    self.encoder = encoder
    self.head = AdaptedLinear(
      Linear(inputs: encoder.configuration.hiddenSize, outputs: classes, using: &generator),
      trainsBase: true)
  }

  public var classCount: Int { head.base.outputCount }

  /// The mean-pooled last hidden state, one row per example (all-MiniLM-L6-v2's sentence
  /// embedding before its L2 normalisation).
  public func embeddings(_ batch: TokenBatch, activeRank: Int? = nil) -> Matrix<Scalar> {
    MeanPooling.forward(
      encoder.forward(batch, activeRank: activeRank).0, mask: batch.mask,
      sequenceLength: batch.sequenceLength)
  }

  /// The scale of the head's input: embeddings are normalised to norm √width (see
  /// ``RowNormalization``).
  var headScale: Scalar { Scalar(encoder.configuration.hiddenSize).squareRoot() }

  /// The mean of the unit-norm sentence embeddings of `batches` (at every adapter's current
  /// state), the value for ``embeddingCenter``.
  /// - Precondition: at least one example.
  public func meanUnitEmbedding(_ batches: [TokenBatch]) -> [Scalar] {
    var sum = [Scalar](repeating: 0, count: encoder.configuration.hiddenSize)
    var count = 0
    for batch in batches {
      let unit = RowNormalization.forward(embeddings(batch), scale: 1).0
      for row in 0..<unit.rows {
        for column in sum.indices { sum[column] += unit[row, column] }
      }
      count += unit.rows
    }
    precondition(count > 0, "the mean embedding needs at least one example")
    return sum.map { $0 / Scalar(count) }
  }

  /// The head's input √width·(u − c) from the pooled embeddings, with the normalised
  /// √width·u and the norms for the backward pass (subtracting c does not change it).
  func headInput(_ pooled: Matrix<Scalar>) -> (
    input: Matrix<Scalar>, normalized: Matrix<Scalar>, norms: [Scalar]
  ) {
    let (normalized, norms) = RowNormalization.forward(pooled, scale: headScale)
    guard let embeddingCenter else { return (normalized, normalized, norms) }
    var input = normalized
    for row in 0..<input.rows {
      for column in embeddingCenter.indices {
        input[row, column] -= headScale * embeddingCenter[column]
      }
    }
    return (input, normalized, norms)
  }

  /// The head on √width·u alone, with ``embeddingCenter`` folded into its bias
  /// (b − √width·W·c): what an exported model applies to the normalised embedding.
  public var exportedHead: Linear<Scalar> {
    var folded = head.base
    guard let embeddingCenter else { return folded }
    var bias = folded.bias ?? [Scalar](repeating: 0, count: folded.outputCount)
    for output in bias.indices {
      for column in embeddingCenter.indices {
        bias[output] -= headScale * folded.weight[output, column] * embeddingCenter[column]
      }
    }
    folded.bias = bias
    return folded
  }

  public func logits(_ batch: TokenBatch, activeRank: Int?) -> Matrix<Scalar> {
    head.forward(headInput(embeddings(batch, activeRank: activeRank)).input).0
  }

  /// How many examples of `batch` one pass of
  /// ``gradients(_:labels:activeRank:dropoutSeed:perExample:)`` takes: at most 8, and at most
  /// 512 padded positions (one example if it is longer), which bounds the activations a pass
  /// keeps for its backward pass. A larger batch is cut into consecutive shards of this
  /// many, each padded only to its own longest text, whose gradients are stacked (or
  /// summed) in order. The shards depend on the batch alone, not on ``workers``, so the
  /// result does not either.
  public static func shardSize(for batch: TokenBatch) -> Int {
    max(1, min(8, 512 / batch.sequenceLength))
  }

  /// How many threads compute a batch's shards at once (1: one after another). With more
  /// than one, set OpenBLAS to one thread per call (``OpenBLASKernel/setThreadsPerCall(_:)``)
  /// so that the two kinds of threads do not compete for the cores. A federated run keeps 1:
  /// it spreads its clients over the cores instead.
  public var workers = 1

  // Specialised here: the federated trainer calls this through `ClassificationModel`
  // from another module, where cross-module optimisation does not reach its body, and
  // the generic code was 1.6× slower (copies and arithmetic through value witnesses).
  @_specialize(where Scalar == Float)
  public func gradients(
    _ batch: TokenBatch, labels: [Int], activeRank: Int?, dropoutSeed: UInt64?, perExample: Bool
  ) -> (losses: [Scalar], gradients: PerExampleGradients<Scalar>) {
    let shardSize = Self.shardSize(for: batch)
    guard batch.examples > shardSize else {
      return shardGradients(
        batch, labels: labels, activeRank: activeRank, dropoutSeed: dropoutSeed,
        perExample: perExample)
    }
    let starts = Array(stride(from: 0, to: batch.examples, by: shardSize))
    let shards = starts.concurrentMap(workers: workers) { start in
      let range = start..<min(start + shardSize, batch.examples)
      // The first shard keeps the seed, so a batch of one shard is unchanged.
      let seed = dropoutSeed.map { $0 ^ (UInt64(start / shardSize) &* 0x9E37_79B9_7F4A_7C15) }
      return shardGradients(
        batch.examples(range), labels: Array(labels[range]), activeRank: activeRank,
        dropoutSeed: seed, perExample: perExample)
    }
    let stacked = PerExampleGradients(stacking: shards.map(\.gradients))
    return (shards.flatMap(\.losses), perExample ? stacked : stacked.summedOverExamples())
  }

  /// ``gradients(_:labels:activeRank:dropoutSeed:perExample:)`` of one shard, in one pass.
  @_specialize(where Scalar == Float)
  func shardGradients(
    _ batch: TokenBatch, labels: [Int], activeRank: Int?, dropoutSeed: UInt64?, perExample: Bool
  ) -> (losses: [Scalar], gradients: PerExampleGradients<Scalar>) {
    let dropout = dropoutSeed.map { (Dropout(rate: 0.1), Xoshiro256StarStar(seed: $0)) }
    let (hidden, encoderCache) = encoder.forward(batch, activeRank: activeRank, dropout: dropout)
    let pooled = MeanPooling.forward(hidden, mask: batch.mask, sequenceLength: batch.sequenceLength)
    let (input, normalized, norms) = headInput(pooled)
    let (logits, headCache) = head.forward(input)
    let (losses, logitGradient) = SoftmaxCrossEntropy.evaluate(
      logits: logits, labels: labels, reduction: .sum)
    let (pooledGradient, headGradients) = head.backward(
      headCache, outputGradient: logitGradient, examples: perExample ? batch.examples : 1)
    let pooledInputGradient = RowNormalization.backward(
      output: normalized, norms: norms, scale: headScale, outputGradient: pooledGradient!)
    let hiddenGradient = MeanPooling.backward(
      outputGradient: pooledInputGradient, mask: batch.mask, sequenceLength: batch.sequenceLength)
    var gradients = encoder.backward(
      encoderCache, outputGradient: hiddenGradient, perExample: perExample)
    gradients.append(contentsOf: headGradients, prefix: "classifier.")
    return (losses, gradients)
  }

  public var trainableParameters: ParameterSet<Scalar> {
    var set = encoder.trainableParameters
    set.append(contentsOf: head.trainableParameters, prefix: "classifier.")
    return set
  }

  public mutating func updateTrainables(_ parameters: ParameterSet<Scalar>) {
    let prefixes =
      encoder.layers.indices.flatMap { layer in
        BertProjection.allCases.map { "encoder.layer.\(layer).\($0.rawValue)." }
      } + ["classifier."]
    let projectionCount = BertProjection.allCases.count
    dispatchUpdate(parameters, prefixes: prefixes) { index, part in
      if index == prefixes.count - 1 {
        head.updateTrainables(part)
      } else {
        let projection = BertProjection.allCases[index % projectionCount]
        encoder.layers[index / projectionCount].projections[projection]!.updateTrainables(part)
      }
    }
  }
}
