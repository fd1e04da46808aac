import Foundation

extension MultilayerPerceptron where Scalar == Float {
  /// Non-private training of every trainable parameter on `features` (one row per
  /// example) and `labels`: shuffled mini-batches, mean cross-entropy, Adam. This is the
  /// public pre-training step of the digits task, run before any private data is seen.
  /// - Returns: the mean training loss of each epoch.
  public mutating func pretrain(
    features: Matrix<Float>, labels: [Int], epochs: Int, batchSize: Int, learningRate: Double,
    seed: UInt64
  ) -> [Double] {
    precondition(
      features.rows == labels.count && features.rows > 0,
      "\(features.rows) rows, \(labels.count) labels")
    precondition(epochs >= 1 && batchSize >= 1, "epochs and batch size must be ≥ 1")
    var generator = Xoshiro256StarStar(seed: seed)
    var optimizer = Optimizer<Float>.adam(learningRate: learningRate)
    var history: [Double] = []
    for _ in 0..<epochs {
      let order = Array(0..<features.rows).shuffled(using: &generator)
      var total = 0.0
      for start in stride(from: 0, to: order.count, by: batchSize) {
        let indices = Array(order[start..<min(start + batchSize, order.count)])
        let batch = Matrix(
          rows: indices.count, columns: features.columns,
          values: indices.flatMap {
            features.values[($0 * features.columns)..<(($0 + 1) * features.columns)]
          })
        let (losses, gradient) = batchGradient(batch, labels: indices.map { labels[$0] })
        total += losses.reduce(0) { $0 + Double($1) }
        var parameters = trainableParameters
        var mean = gradient
        mean = mean.with(flattened: gradient.flattened().map { $0 / Float(indices.count) })
        optimizer.step(&parameters, gradient: mean)
        updateTrainables(parameters)
      }
      history.append(total / Double(features.rows))
    }
    return history
  }

  /// The fraction of rows whose most likely class is the label.
  public func accuracy(features: Matrix<Float>, labels: [Int], activeRank: Int? = nil) -> Double {
    let predicted = predictions(features, activeRank: activeRank)
    return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(max(1, labels.count))
  }

  /// Writes the base weights (`layers.<i>.weight`, `layers.<i>.bias`, `classifier.weight`,
  /// `classifier.bias`) to a safetensors file, atomically; adapters are not included.
  /// - Throws: ``ModelError/fileUnwritable(file:reason:)``.
  public func save(to url: URL) throws {
    var tensors: [Tensor] = []
    for (name, layer) in zip(
      layers.indices.map { "layers.\($0)" } + ["classifier"], layers + [head])
    {
      let base = layer.base
      tensors.append(
        Tensor(
          name: "\(name).weight", shape: [base.outputCount, base.inputCount],
          floats: base.weight.values))
      tensors.append(
        Tensor(name: "\(name).bias", shape: [base.outputCount], floats: base.bias ?? []))
    }
    try Safetensors.write(tensors, metadata: ["format": "dpfl-mlp"], to: url)
  }

  /// Reads weights written by ``save(to:)``; every weight trainable, no adapters.
  /// - Throws: ``ModelError`` for a missing, mis-shaped or malformed file.
  public init(contentsOf url: URL) throws {
    let contents = try Safetensors.read(contentsOf: url)
    let hiddenCount = (0...).first { contents["layers.\($0).weight"] == nil }!
    let names = (0..<hiddenCount).map { "layers.\($0)" } + ["classifier"]
    let linears: [Linear<Float>] = try names.map { name in
      let shape = try contents.tensor(named: "\(name).weight").shape
      guard shape.count == 2 else {
        throw ModelError.unexpectedShape(
          file: contents.source, tensor: "\(name).weight", expected: [-1, -1], actual: shape)
      }
      return try contents.linear(name, inputs: shape[1], outputs: shape[0])
    }
    for (lower, upper) in zip(linears, linears.dropFirst())
    where lower.outputCount != upper.inputCount {
      throw ModelError.invalidConfiguration(
        file: contents.source,
        reason:
          "a layer with \(lower.outputCount) outputs feeds one with \(upper.inputCount) inputs")
    }
    self.init(
      layers: linears.dropLast().map { AdaptedLinear($0, trainsBase: true) },
      head: AdaptedLinear(linears.last!, trainsBase: true))
  }
}
