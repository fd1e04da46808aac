/// A small image classifier for 8×8 digits (or any feature vectors): Linear layers with
/// GELU between them and a linear head. Pre-trained non-privately with every weight
/// trainable, then fine-tuned privately with adapters on the hidden layers.
///
/// Parameter names: `layers.<i>.weight`, `layers.<i>.bias` (and `layers.<i>.lora_A`…),
/// `classifier.weight`, `classifier.bias`.
public struct MultilayerPerceptron<Scalar: BLASScalar>: ClassificationModel {
  /// The hidden layers, each followed by GELU.
  public var layers: [AdaptedLinear<Scalar>]
  /// The head.
  public var head: AdaptedLinear<Scalar>

  /// A freshly initialised network `inputs → hidden… → classes`, every weight trainable.
  public init(inputs: Int, hidden: [Int], classes: Int, seed: UInt64) {
    precondition(
      classes >= 2 && inputs >= 1 && hidden.allSatisfy { $0 >= 1 },
      "perceptron shapes must be positive (classes ≥ 2); got \(inputs) → \(hidden) → \(classes)")
    var generator = Xoshiro256StarStar(seed: seed)
    let widths = [inputs] + hidden
    layers = hidden.indices.map { index in
      AdaptedLinear(
        Linear(inputs: widths[index], outputs: widths[index + 1], using: &generator),
        trainsBase: true)
    }
    head = AdaptedLinear(
      Linear(inputs: widths.last!, outputs: classes, using: &generator), trainsBase: true)
  }

  /// A network from its layers.
  public init(layers: [AdaptedLinear<Scalar>], head: AdaptedLinear<Scalar>) {
    self.layers = layers
    self.head = head
  }

  /// The same weights with the hidden layers frozen and adapted by `configuration` (left
  /// unadapted when `nil`: head-only training); the head stays trainable. This is the
  /// model private fine-tuning starts from.
  public func adapted(_ configuration: AdapterConfiguration?) -> MultilayerPerceptron {
    var result = self
    for index in layers.indices {
      let base = layers[index].base
      let adapter: (any Adapter<Scalar>)? = configuration?.makeAdapter(
        inputs: base.inputCount, outputs: base.outputCount, layerIndex: index)
      result.layers[index] = AdaptedLinear(base, adapter: adapter)
    }
    return result
  }

  /// Fresh adapters on every hidden layer (``adapted(_:)``).
  public func withFreshAdapters(_ configuration: AdapterConfiguration) -> MultilayerPerceptron? {
    adapted(configuration)
  }

  /// s·B·A of every hidden layer's adapter, named `layers.<i>.weight`.
  public func adapterWeightDeltas() -> ParameterSet<Scalar>? {
    var deltas = ParameterSet<Scalar>()
    for (index, layer) in layers.enumerated() {
      if let adapter = layer.adapter {
        deltas.append("layers.\(index).weight", adapter.weightDelta())
      }
    }
    return deltas
  }

  public var classCount: Int { head.base.outputCount }

  public func logits(_ batch: Matrix<Scalar>, activeRank: Int?) -> Matrix<Scalar> {
    var hidden = batch
    for layer in layers { hidden = GELU.forward(layer.forward(hidden, activeRank: activeRank).0) }
    return head.forward(hidden).0
  }

  public func gradients(
    _ batch: Matrix<Scalar>, labels: [Int], activeRank: Int?, dropoutSeed: UInt64?, perExample: Bool
  ) -> (losses: [Scalar], gradients: PerExampleGradients<Scalar>) {
    let groups = perExample ? batch.rows : 1
    var hidden = batch
    var caches: [(AdaptedLinear<Scalar>.Cache, GELU.Cache<Scalar>)] = []
    for layer in layers {
      let (preActivation, cache) = layer.forward(hidden, activeRank: activeRank)
      let (activated, activation) = GELU.trainingForward(preActivation)
      caches.append((cache, activation))
      hidden = activated
    }
    let (logits, headCache) = head.forward(hidden)
    let (losses, logitGradient) = SoftmaxCrossEntropy.evaluate(
      logits: logits, labels: labels, reduction: .sum)
    let headBackward = head.backward(headCache, outputGradient: logitGradient, examples: groups)
    var gradient = headBackward.inputGradient!
    var perLayer: [PerExampleGradients<Scalar>] = []
    for index in layers.indices.reversed() {
      let (cache, activation) = caches[index]
      let (input, parameters) = layers[index].backward(
        cache, outputGradient: GELU.backward(activation, outputGradient: gradient),
        examples: groups, needsInputGradient: index > 0)
      if let input { gradient = input }
      perLayer.append(parameters)
    }
    var gradients = PerExampleGradients<Scalar>(examples: groups)
    for (index, parameters) in perLayer.reversed().enumerated() {
      gradients.append(contentsOf: parameters, prefix: "layers.\(index).")
    }
    gradients.append(contentsOf: headBackward.perExample, prefix: "classifier.")
    return (losses, gradients)
  }

  public var trainableParameters: ParameterSet<Scalar> {
    var set = ParameterSet<Scalar>()
    for (index, layer) in layers.enumerated() {
      set.append(contentsOf: layer.trainableParameters, prefix: "layers.\(index).")
    }
    set.append(contentsOf: head.trainableParameters, prefix: "classifier.")
    return set
  }

  public mutating func updateTrainables(_ parameters: ParameterSet<Scalar>) {
    let prefixes = layers.indices.map { "layers.\($0)." } + ["classifier."]
    dispatchUpdate(parameters, prefixes: prefixes) { index, part in
      if index == layers.count {
        head.updateTrainables(part)
      } else {
        layers[index].updateTrainables(part)
      }
    }
  }
}
