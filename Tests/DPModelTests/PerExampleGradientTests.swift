import DPTestSupport
import Testing

@testable import DPModel

/// Per-example gradients of whole models (STYLE §2.6 (a)–(d)): each matches finite
/// differences of that example's loss, equals the gradient of a batch of one, the rows add
/// up to the batch gradient, and the clipped sum equals clip-each-then-sum.
@Suite("Per-example gradients")
struct PerExampleGradientTests {
  /// A tiny-BERT classifier in Double with the given adapters, B and R randomised.
  static func textClassifier(_ kind: AdapterConfiguration.Kind) throws -> TextClassifier<Double> {
    var encoder = try tinyBert(
      Double.self, adapters: AdapterConfiguration(kind: kind, rank: 3, alpha: 6, frozen: false))
    randomizeAdapters(&encoder, seed: 40)
    return TextClassifier(encoder: encoder, classes: 3, seed: 41)
  }

  static let batch = TokenBatch(
    encodings: [[2, 17, 33, 5, 3], [2, 60, 3], [2, 9, 9, 41, 12, 3]], paddingID: 0)
  static let labels = [0, 2, 1]

  /// The loss of the examples in `batch` as a function of the flattened trainables.
  static func loss<Model: ClassificationModel>(
    _ model: Model, _ batch: Model.Batch, _ labels: [Int], activeRank: Int?
  ) -> ([Double]) -> Double where Model.Scalar == Double {
    { values in
      var changed = model
      changed.updateTrainables(model.trainableParameters.with(flattened: values))
      let logits = changed.logits(batch, activeRank: activeRank)
      return SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels, reduction: .sum).losses
        .reduce(0, +)
    }
  }

  /// A fixed sample of coordinates: finite differences on all of them would be slow in
  /// a debug build, and any mistake shows up in a sample this size.
  static func sample(_ count: Int, seed: UInt64) -> [Int] {
    var generator = SeededGenerator(seed: seed)
    return Array((0..<count).shuffled(using: &generator).prefix(120)).sorted()
  }

  func checkModel<Model: ClassificationModel>(
    _ model: Model, batch: Model.Batch, single: (Int) -> Model.Batch, labels: [Int],
    activeRank: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation
  ) where Model.Scalar == Double {
    let (losses, perExample) = model.perExampleGradients(
      batch, labels: labels, activeRank: activeRank, dropoutSeed: nil)
    let parameters = model.trainableParameters
    #expect(perExample.names == parameters.names, sourceLocation: sourceLocation)
    let point = parameters.flattened()
    let indices = Self.sample(point.count, seed: 42)
    for example in labels.indices {
      let analytic = perExample.gradient(ofExample: example).flattened()
      // (a) finite differences of this example's loss.
      let numeric = finiteDifferenceGradient(
        at: point, indices: indices,
        Self.loss(model, single(example), [labels[example]], activeRank: activeRank))
      let error = relativeError(indices.map { analytic[$0] }, numeric)
      #expect(
        error < 1e-6, "example \(example): relative error \(error)", sourceLocation: sourceLocation)
      // (b) the gradient of a batch of one.
      let (singleLoss, alone) = model.perExampleGradients(
        single(example), labels: [labels[example]], activeRank: activeRank, dropoutSeed: nil)
      #expect(
        relativeError(alone.sum().flattened(), analytic) < 1e-12, sourceLocation: sourceLocation)
      expectClose(singleLoss[0], losses[example], relative: 1e-12)
    }
    // (c) the rows add up to the gradient of the summed loss.
    let summed = perExample.sum().flattened()
    let numeric = finiteDifferenceGradient(
      at: point, indices: indices, Self.loss(model, batch, labels, activeRank: activeRank))
    #expect(
      relativeError(indices.map { summed[$0] }, numeric) < 1e-6, sourceLocation: sourceLocation)
    let direct = model.batchGradient(batch, labels: labels, activeRank: activeRank).gradient
    #expect(relativeError(direct.flattened(), summed) < 1e-12, sourceLocation: sourceLocation)
    // (d) clipping each example and then summing.
    let norms = perExample.norms()
    let bound = norms.sorted()[norms.count / 2]
    let (clipped, reportedNorms) = perExample.clippedSum(clippingBound: bound)
    var expected = [Double](repeating: 0, count: point.count)
    for example in labels.indices {
      let gradient = perExample.gradient(ofExample: example).flattened()
      let norm = gradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
      expectClose(reportedNorms[example], norm, relative: 1e-12)
      let factor = min(1, bound / norm)
      for index in expected.indices { expected[index] += factor * gradient[index] }
    }
    #expect(relativeError(clipped.flattened(), expected) < 1e-12, sourceLocation: sourceLocation)
  }

  @Test(
    "text classifier on tiny BERT",
    arguments: [AdapterConfiguration.Kind.lora, .dyLoRA, .ffaLoRA, .fedSB])
  func textClassifier(kind: AdapterConfiguration.Kind) throws {
    let model = try Self.textClassifier(kind)
    let encodings = [[2, 17, 33, 5, 3], [2, 60, 3], [2, 9, 9, 41, 12, 3]]
    checkModel(
      model, batch: Self.batch, single: { TokenBatch(encodings: [encodings[$0]], paddingID: 0) },
      labels: Self.labels, activeRank: kind == .dyLoRA ? 2 : nil)
  }

  @Test("text classifier with the head alone trainable (the encoder is not differentiated)")
  func headOnlyTextClassifier() throws {
    let model = TextClassifier(encoder: try tinyBert(Double.self), classes: 3, seed: 41)
    #expect(model.encoder.trainableParameters.scalarCount == 0)
    let encodings = [[2, 17, 33, 5, 3], [2, 60, 3], [2, 9, 9, 41, 12, 3]]
    checkModel(
      model, batch: Self.batch, single: { TokenBatch(encodings: [encodings[$0]], paddingID: 0) },
      labels: Self.labels)
  }

  @Test("text classifier with a public embedding centre")
  func centredTextClassifier() throws {
    var model = try Self.textClassifier(.lora)
    model.embeddingCenter = model.meanUnitEmbedding([Self.batch])
    let encodings = [[2, 17, 33, 5, 3], [2, 60, 3], [2, 9, 9, 41, 12, 3]]
    checkModel(
      model, batch: Self.batch, single: { TokenBatch(encodings: [encodings[$0]], paddingID: 0) },
      labels: Self.labels)
  }

  @Test("perceptron: full training and LoRA fine-tuning")
  func perceptron() {
    let features = randomMatrix(4, 8, seed: 43)
    let labels = [1, 0, 3, 3]
    let pretrained = MultilayerPerceptron<Double>(inputs: 8, hidden: [6, 5], classes: 4, seed: 44)
    checkModel(
      pretrained, batch: features, single: { features.rows($0..<($0 + 1)) }, labels: labels)
    var adapted = pretrained.adapted(AdapterConfiguration(kind: .lora, rank: 2, alpha: 4))
    for index in adapted.layers.indices {
      adapted.layers[index].adapter!.factors.up = randomMatrix(
        adapted.layers[index].base.outputCount, 2, seed: 45 + UInt64(index))
    }
    #expect(
      adapted.trainableParameters.names == [
        "layers.0.lora_A", "layers.0.lora_B", "layers.1.lora_A", "layers.1.lora_B",
        "classifier.weight", "classifier.bias",
      ])
    checkModel(adapted, batch: features, single: { features.rows($0..<($0 + 1)) }, labels: labels)
  }

  @Test("padding does not change an example's gradient")
  func paddingInvariance() throws {
    let model = try Self.textClassifier(.lora)
    let alone = model.perExampleGradients(
      TokenBatch(encodings: [[2, 60, 3]], paddingID: 0), labels: [2], activeRank: nil,
      dropoutSeed: nil)
    let (_, padded) = model.perExampleGradients(
      Self.batch, labels: Self.labels, activeRank: nil, dropoutSeed: nil)
    #expect(
      relativeError(padded.gradient(ofExample: 1).flattened(), alone.gradients.sum().flattened())
        < 1e-12)
  }
}
