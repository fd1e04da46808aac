/// A linear layer with an optional LoRA-family adapter: y = W₀x + b + Δy(x).
///
/// The base weights are frozen unless `trainsBase` (a task head, a baseline without
/// adapters, or non-private pre-training); the adapter's trainable factors always train.
public struct AdaptedLinear<Scalar: BLASScalar>: Sendable {
  /// The (usually frozen) base layer.
  public var base: Linear<Scalar>
  /// The adapter, if the layer is adapted.
  public var adapter: (any Adapter<Scalar>)?
  /// Whether W₀ and b train too.
  public var trainsBase: Bool

  /// What the backward pass needs.
  public struct Cache: Sendable {
    var input: Matrix<Scalar>
    var adapter: LowRankFactors<Scalar>.Cache?
  }

  /// A layer over `base`, adapted by `adapter` if given.
  public init(
    _ base: Linear<Scalar>, adapter: (any Adapter<Scalar>)? = nil, trainsBase: Bool = false
  ) {
    if let adapter {
      precondition(
        adapter.factors.down.columns == base.inputCount
          && adapter.factors.up.rows == base.outputCount,
        "adapter is \(adapter.factors.up.rows)×\(adapter.factors.down.columns); layer is \(base.outputCount)×\(base.inputCount)"
      )
    }
    self.base = base
    self.adapter = adapter
    self.trainsBase = trainsBase
  }

  /// y for every row of x, at the adapter's `activeRank` (DyLoRA) if given.
  public func forward(_ x: Matrix<Scalar>, activeRank: Int? = nil) -> (Matrix<Scalar>, Cache) {
    var output = base(x)
    var adapterCache: LowRankFactors<Scalar>.Cache?
    if let adapter {
      let setting = adapter.setting(activeRank: activeRank)
      let (delta, cache) = adapter.factors.forward(
        x, activeRank: setting.rank, scale: setting.scale)
      BLAS.axpy(1, delta, &output)
      adapterCache = cache
    }
    return (output, Cache(input: x, adapter: adapterCache))
  }

  /// ∂L/∂x and the per-example gradients of everything that trains: the adapter's
  /// factors (named `lora_A`, …) and, if `trainsBase`, `weight` and `bias`.
  /// - Parameter needsInputGradient: `false` skips ∂L/∂x (returned as `nil`).
  public func backward(
    _ cache: Cache, outputGradient: Matrix<Scalar>, examples: Int, needsInputGradient: Bool = true
  ) -> (inputGradient: Matrix<Scalar>?, perExample: PerExampleGradients<Scalar>) {
    var inputGradient =
      needsInputGradient ? base.inputGradient(outputGradient: outputGradient) : nil
    var perExample = PerExampleGradients<Scalar>(examples: examples)
    if let adapter, let adapterCache = cache.adapter {
      let (adapterInput, adapterGradients) = adapter.factors.backward(
        adapterCache, outputGradient: outputGradient, examples: examples,
        trainable: adapter.trainable(activeRank: adapterCache.activeRank),
        needsInputGradient: needsInputGradient)
      if let adapterInput { BLAS.axpy(1, adapterInput, &inputGradient!) }
      perExample.append(contentsOf: adapterGradients)
    }
    if trainsBase {
      perExample.append(
        contentsOf: base.perExampleGradients(
          input: cache.input, outputGradient: outputGradient, examples: examples))
    }
    return (inputGradient, perExample)
  }

  /// The trainable parameters, named as ``backward(_:outputGradient:examples:)`` names
  /// their gradients.
  public var trainableParameters: ParameterSet<Scalar> {
    var set = adapter?.trainableParameters ?? ParameterSet()
    if trainsBase {
      set.append("weight", base.weight)
      if let bias = base.bias {
        set.append("bias", Matrix(rows: 1, columns: bias.count, values: bias))
      }
    }
    return set
  }

  /// Replaces trainable parameters by name (a subset is fine).
  public mutating func updateTrainables(_ parameters: ParameterSet<Scalar>) {
    var adapterPart = ParameterSet<Scalar>()
    for (name, value) in zip(parameters.names, parameters.matrices) {
      switch name {
      case "weight" where trainsBase:
        precondition(
          value.rows == base.weight.rows && value.columns == base.weight.columns, "weight shape")
        base.weight = value
      case "bias" where trainsBase && base.bias != nil:
        precondition(value.count == base.bias!.count, "bias shape")
        base.bias = value.values
      default:
        adapterPart.append(name, value)
      }
    }
    if !adapterPart.names.isEmpty {
      precondition(adapter != nil, "layer has no adapter for \(adapterPart.names)")
      adapter!.factors.update(from: adapterPart)
    }
  }
}

extension Linear {
  /// Per-example ∂L/∂W = Σₜ gₜxₜᵀ and ∂L/∂b = Σₜ gₜ over each example's rows (named
  /// `weight` and `bias`). With one row per example the weight's gradients are the outer
  /// products gᵢxᵢᵀ, kept as their factors g and x (see ``PerExampleGradients``).
  public func perExampleGradients(
    input x: Matrix<Scalar>, outputGradient g: Matrix<Scalar>, examples: Int
  ) -> PerExampleGradients<Scalar> {
    precondition(
      examples > 0 && x.rows % examples == 0 && g.rows == x.rows,
      "\(x.rows) input rows, \(g.rows) gradient rows, \(examples) examples")
    let length = x.rows / examples
    if length == 1 {
      var result = PerExampleGradients<Scalar>(examples: examples)
      result.append("weight", outputGradients: g, inputs: x)
      if bias != nil { result.append("bias", rows: 1, columns: outputCount, block: g) }
      return result
    }
    var weightBlock = Matrix<Scalar>(rows: examples * outputCount, columns: inputCount)
    var biasBlock = Matrix<Scalar>(rows: examples, columns: outputCount)
    for example in 0..<examples {
      let tokens = (example * length)..<((example + 1) * length)
      BLAS.matmul(
        g, block: .init(rows: tokens, columns: 0..<outputCount), transposeA: true,
        x, block: .init(rows: tokens, columns: 0..<inputCount),
        into: &weightBlock,
        block: .init(
          rows: (example * outputCount)..<((example + 1) * outputCount), columns: 0..<inputCount))
      for token in tokens {
        for column in 0..<outputCount { biasBlock[example, column] += g[token, column] }
      }
    }
    var result = PerExampleGradients<Scalar>(examples: examples)
    result.append(
      "weight", rows: outputCount, columns: inputCount,
      block: weightBlock.reshaped(rows: examples, columns: outputCount * inputCount))
    if bias != nil { result.append("bias", rows: 1, columns: outputCount, block: biasBlock) }
    return result
  }
}
