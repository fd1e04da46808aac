import DPModel
import Foundation

extension TrainingRun {
  /// A text task on all-MiniLM-L6-v2 (its first `encoderLayers` blocks; `tokenizer` is its
  /// WordPiece tokenizer) with the method's adapters on the query and value projections (for
  /// FLoRA, those projections' weights, which its clients adapt afresh) and a fresh head; the adapter is also written in PEFT's layout to `adapter/`. When the task
  /// has a public split, the mean of its unit-norm embeddings under the pre-trained encoder
  /// is the classifier's ``TextClassifier/embeddingCenter``.
  static func text<Runner: TaskRunner>(
    configuration: FederatedConfiguration, dataset: FederatedDataset<String>,
    tokenizer: WordPieceTokenizer, assets: Assets, runner: Runner
  ) throws -> Runner.Output {
    guard dataset.classCount <= 1_000 else {
      throw FederatedError.invalidConfiguration(
        field: "the number of classes", value: "\(dataset.classCount)", allowed: "at most 1,000")
    }
    var configuration = configuration
    configuration.frozenPrecision = configuration.frozenPrecision ?? .defaultForText
    var encoder = try BertEncoder<Float>(
      folder: assets.miniLM, layers: configuration.layers,
      adapters: configuration.adapterConfiguration)
    try tokenizer.checkFits(modelVocabularySize: encoder.configuration.vocabSize)
    switch configuration.method {
    case .full: encoder.trainProjections(Set(BertProjection.allCases))
    // FLoRA's server model: the weights its clients adapt afresh each round train dense.
    case .flora: encoder.trainProjections(BertProjection.loraTargets)
    default: break
    }
    if configuration.frozenPrecision == .bf16 {
      guard BFloat16Weight.isSupported else {
        throw FederatedError.invalidConfiguration(
          field: "--frozen-precision", value: "bf16",
          allowed: "float32 on this CPU (oneDNN's bfloat16 products need AVX-512)")
      }
      encoder.useBFloat16FrozenWeights()
    }
    var dataset = dataset
    let maxLength = configuration.tokenLimit
    dataset.evaluation = orderedByLength(
      scoredEvaluation(dataset.evaluation, seed: configuration.seed), tokenizer: tokenizer,
      maxLength: maxLength)
    let makeBatch: @Sendable ([String]) -> TokenBatch = {
      TokenBatch(tokenizer.encodeBatch($0, maxLength: maxLength))
    }
    var model = TextClassifier(
      encoder: encoder, classes: max(2, dataset.classCount), seed: configuration.seed ^ 0x6865_6164)
    if !dataset.publicSplit.examples.isEmpty {
      let publicTexts = dataset.publicSplit.examples
      model.embeddingCenter = model.meanUnitEmbedding(
        stride(from: 0, to: publicTexts.count, by: publicBatchSize).map {
          makeBatch(Array(publicTexts[$0..<min($0 + publicBatchSize, publicTexts.count)]))
        })
    }
    let (laidOut, clients) = FlowerFederation.partitioning(configuration, dataset)
    return try runner.run(
      configuration: laidOut, dataset: clients, model: model, makeBatch: makeBatch
    ) { model, folder in
      guard configuration.adapterConfiguration != nil else { return }
      try PEFTAdapter.write(
        model, baseModel: "sentence-transformers/all-MiniLM-L6-v2",
        to: folder.url.appendingPathComponent("adapter"))
    }
  }

  /// Examples per forward pass when embedding the public split.
  static let publicBatchSize = 64

  /// A task of feature vectors (`digits`, or JSON Lines with `features`) on the 64 → 128 →
  /// 128 perceptron, first pre-trained on the public split when there is one (4 epochs of
  /// Adam, no privacy: on digits about 91 % on the evaluation split, leaving the private
  /// clients something to teach).
  /// - Throws: ``FederatedError`` for bad configurations, and what `runner` throws.
  static func tabular<Runner: TaskRunner>(
    configuration: FederatedConfiguration, dataset: FederatedDataset<[Float]>, runner: Runner
  ) throws -> Runner.Output {
    guard configuration.frozenPrecision != .bf16 else {
      throw FederatedError.invalidConfiguration(
        field: "--frozen-precision", value: "bf16",
        allowed: "float32 for feature vectors (bf16 is for the text encoder)")
    }
    var base = MultilayerPerceptron<Float>(
      inputs: dataset.firstExample?.count ?? 0, hidden: digitsHidden,
      classes: max(2, dataset.classCount), seed: configuration.seed ^ 0x6D6C70)
    let publicSplit = dataset.publicSplit
    if !publicSplit.examples.isEmpty {
      _ = base.pretrain(
        features: features(publicSplit.examples), labels: publicSplit.labels, epochs: 4,
        batchSize: 32, learningRate: 3e-3, seed: configuration.seed ^ 0x7072_6574)
    }
    let (laidOut, clients) = FlowerFederation.partitioning(configuration, dataset)
    return try runner.run(
      configuration: laidOut, dataset: clients,
      model: perceptron(base, configuration, publicSplit: publicSplit),
      makeBatch: features, export: { _, _ in })
  }

  /// The perceptron the method trains: adapted (or head-only), or all weights (full, and
  /// FLoRA, whose clients adapt it afresh each round).
  /// Fed-SB's frozen factors come from the SVD of the loss gradient on `publicSplit` when
  /// one is given (LoRA-SB's initialisation; public data only), else from a public seed.
  static func perceptron(
    _ base: MultilayerPerceptron<Float>, _ configuration: FederatedConfiguration,
    publicSplit: ClientData<[Float]>? = nil
  ) -> MultilayerPerceptron<Float> {
    if [.full, .flora].contains(configuration.method) { return base }
    var model = base.adapted(configuration.adapterConfiguration)
    guard configuration.adapterMethod == .fedSB, let publicSplit, !publicSplit.examples.isEmpty
    else {
      return model
    }
    let gradient = base.batchGradient(features(publicSplit.examples), labels: publicSplit.labels)
      .gradient
    for index in model.layers.indices {
      let weight = gradient["layers.\(index).weight"]!
      model.layers[index].adapter = FedSBAdapter<Float>.initialized(
        fromGradient: weight, rank: min(configuration.rank, weight.rows, weight.columns),
        alpha: configuration.alpha, seed: configuration.seed ^ UInt64(index + 1))
    }
    return model
  }

  /// A batch of 64-pixel images as a matrix, one row per image.
  @Sendable static func features(_ images: [[Float]]) -> Matrix<Float> {
    Matrix(rows: images.count, columns: images.first?.count ?? 0, values: images.flatMap { $0 })
  }
}
