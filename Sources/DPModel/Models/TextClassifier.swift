/// A BERT encoder, mean pooling over real tokens, L2 normalisation (to norm √width), and
/// a linear head: sentence classification. The head (`classifier.weight`, `classifier.bias`) and the encoder's
/// adapters are the trainable parameters.
public struct TextClassifier<Scalar: BLASScalar>: ClassificationModel {
  /// The encoder (frozen, with adapters).
  public var encoder: BertEncoder<Scalar>
  /// The task head on the pooled embedding.
  public var head: AdaptedLinear<Scalar>

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

  /// The head's input: the embedding scaled to norm √width (see ``RowNormalization``).
  var headScale: Scalar { Scalar(encoder.configuration.hiddenSize).squareRoot() }

  public func logits(_ batch: TokenBatch, activeRank: Int?) -> Matrix<Scalar> {
    head.forward(
      RowNormalization.forward(embeddings(batch, activeRank: activeRank), scale: headScale).0
    ).0
  }

  public func gradients(
    _ batch: TokenBatch, labels: [Int], activeRank: Int?, dropoutSeed: UInt64?, perExample: Bool
  ) -> (losses: [Scalar], gradients: PerExampleGradients<Scalar>) {
    let dropout = dropoutSeed.map { (Dropout(rate: 0.1), Xoshiro256StarStar(seed: $0)) }
    let (hidden, encoderCache) = encoder.forward(batch, activeRank: activeRank, dropout: dropout)
    let pooled = MeanPooling.forward(hidden, mask: batch.mask, sequenceLength: batch.sequenceLength)
    let (normalized, norms) = RowNormalization.forward(pooled, scale: headScale)
    let (logits, headCache) = head.forward(normalized)
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
