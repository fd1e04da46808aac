/// FLoRA on the text encoder: the server's encoder trains the adapter targets' weights dense
/// (``BertEncoder/trainProjections(_:)``); each client freezes them under fresh adapters and
/// sends what its trained adapters add to them.
extension BertEncoder {
  /// The same weights with every projection that trains its base frozen under a fresh adapter
  /// from `configuration` (`nil` when none trains its base). Those projections stay Float32
  /// even when the other frozen ones run in bfloat16: their weights change every round.
  public func withFreshAdapters(_ configuration: AdapterConfiguration) -> BertEncoder? {
    var result = self
    var adapted = false
    for index in layers.indices {
      for name in BertProjection.allCases where layers[index].projection(name).trainsBase {
        let base = layers[index].projection(name).base
        result.layers[index].projections[name] = AdaptedLinear(
          base,
          adapter: configuration.makeAdapter(
            inputs: base.inputCount, outputs: base.outputCount,
            layerIndex: name.adapterIndex(inLayer: index)))
        adapted = true
      }
    }
    return adapted ? result : nil
  }

  /// s·B·A of every adapter, named `encoder.layer.<i>.<projection path>.weight`, as the
  /// weight it changes is named among the trainables of the server's encoder.
  public func adapterWeightDeltas() -> ParameterSet<Scalar> {
    var deltas = ParameterSet<Scalar>()
    for (index, layer) in layers.enumerated() {
      for name in BertProjection.allCases {
        if let adapter = layer.projection(name).adapter {
          deltas.append("encoder.layer.\(index).\(name.rawValue).weight", adapter.weightDelta())
        }
      }
    }
    return deltas
  }
}

extension TextClassifier {
  /// The encoder's ``BertEncoder/withFreshAdapters(_:)`` under the same head, which trains.
  public func withFreshAdapters(_ configuration: AdapterConfiguration) -> TextClassifier? {
    guard let fresh = encoder.withFreshAdapters(configuration) else { return nil }
    var result = self
    result.encoder = fresh
    return result
  }

  /// The encoder's ``BertEncoder/adapterWeightDeltas()``.
  public func adapterWeightDeltas() -> ParameterSet<Scalar>? { encoder.adapterWeightDeltas() }
}
