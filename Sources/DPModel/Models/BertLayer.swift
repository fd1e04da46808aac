/// The linear layers of a BERT block an adapter can sit on, named by their module path
/// inside the block (PEFT's `target_modules` match the last component).
public enum BertProjection: String, Codable, CaseIterable, Sendable {
  case query = "attention.self.query"
  case key = "attention.self.key"
  case value = "attention.self.value"
  case attentionOutput = "attention.output.dense"
  case intermediate = "intermediate.dense"
  case output = "output.dense"

  /// Where adapters go by default: the query and value projections (LoRA's choice).
  public static let loraTargets: Set<BertProjection> = [.query, .value]

  /// The index of this projection's adapter in block `layer` among all of the encoder's
  /// projections, which sets the adapter's seed (``AdapterConfiguration/makeAdapter``).
  func adapterIndex(inLayer layer: Int) -> Int {
    layer * Self.allCases.count + Self.allCases.firstIndex(of: self)!
  }
}

/// One post-norm transformer block of BERT:
/// h₁ = LN(h + Dense(Attention(Q h, K h, V h))), h₂ = LN(h₁ + Dense(GELU(Dense h₁))).
public struct BertLayer<Scalar: BLASScalar>: Sendable {
  /// The six projections, each possibly adapted.
  public var projections: [BertProjection: AdaptedLinear<Scalar>]
  /// The layer norm after attention.
  public var attentionNorm: LayerNorm<Scalar>
  /// The layer norm after the feed-forward block.
  public var outputNorm: LayerNorm<Scalar>
  /// Multi-head attention.
  public let attention: SelfAttention

  /// What the backward pass needs.
  public struct Cache: Sendable {
    var projections: [BertProjection: AdaptedLinear<Scalar>.Cache] = [:]
    var attention: SelfAttention.Cache<Scalar>
    var attentionNorm: LayerNorm<Scalar>.Cache
    var activation: GELU.Cache<Scalar>
    var outputNorm: LayerNorm<Scalar>.Cache
    var dropout: [[Scalar]?]
  }

  func projection(_ name: BertProjection) -> AdaptedLinear<Scalar> { projections[name]! }

  /// The block's trainable parameters, named `<projection path>.<parameter>`.
  public var trainableParameters: ParameterSet<Scalar> {
    var set = ParameterSet<Scalar>()
    for name in BertProjection.allCases {
      set.append(contentsOf: projection(name).trainableParameters, prefix: name.rawValue + ".")
    }
    return set
  }

  /// The block's output for `hidden` (one row per token), applying `dropout` with
  /// `generator` after each dense output when given.
  func forward<G: RandomNumberGenerator>(
    _ hidden: Matrix<Scalar>, batch: TokenBatch, activeRank: Int?, dropout: Dropout?,
    generator: inout G
  ) -> (Matrix<Scalar>, Cache) {
    var caches: [BertProjection: AdaptedLinear<Scalar>.Cache] = [:]
    func apply(_ name: BertProjection, _ x: Matrix<Scalar>) -> Matrix<Scalar> {
      let (y, cache) = projection(name).forward(x, activeRank: activeRank)
      caches[name] = cache
      return y
    }
    let (context, attentionCache) = attention.forward(
      query: apply(.query, hidden), key: apply(.key, hidden), value: apply(.value, hidden),
      keyMask: batch.mask, sequenceLength: batch.sequenceLength)
    let firstMask: [Scalar]? = dropout?.mask(count: hidden.count, using: &generator)
    let attended = Dropout.apply(firstMask, to: apply(.attentionOutput, context)) + hidden
    let (normed, attentionNormCache) = attentionNorm.forward(attended)
    let intermediate = apply(.intermediate, normed)
    let secondMask: [Scalar]? = dropout?.mask(count: hidden.count, using: &generator)
    let (activated, activation) = GELU.trainingForward(intermediate)
    let fed = Dropout.apply(secondMask, to: apply(.output, activated)) + normed
    let (output, outputNormCache) = outputNorm.forward(fed)
    return (
      output,
      Cache(
        projections: caches, attention: attentionCache, attentionNorm: attentionNormCache,
        activation: activation, outputNorm: outputNormCache, dropout: [firstMask, secondMask])
    )
  }

  /// ∂L/∂hidden and the per-example gradients of the block's trainables, named
  /// `<projection path>.<parameter>`.
  /// - Parameter needsInputGradient: `false` (the first block) skips ∂L/∂hidden.
  func backward(
    _ cache: Cache, outputGradient: Matrix<Scalar>, examples: Int, needsInputGradient: Bool
  ) -> (Matrix<Scalar>?, PerExampleGradients<Scalar>) {
    var perProjection: [BertProjection: PerExampleGradients<Scalar>] = [:]
    func back(_ name: BertProjection, _ gradient: Matrix<Scalar>, needed: Bool = true) -> Matrix<
      Scalar
    >? {
      let (input, parameters) = projection(name).backward(
        cache.projections[name]!, outputGradient: gradient, examples: examples,
        needsInputGradient: needed)
      perProjection[name] = parameters
      return input
    }
    let fedGradient = outputNorm.inputGradient(cache.outputNorm, outputGradient: outputGradient)
    let activated = back(.output, Dropout.apply(cache.dropout[1], to: fedGradient))!
    let intermediateGradient = GELU.backward(cache.activation, outputGradient: activated)
    let normedGradient = back(.intermediate, intermediateGradient)! + fedGradient
    let attendedGradient = attentionNorm.inputGradient(
      cache.attentionNorm, outputGradient: normedGradient)
    let contextGradient = back(
      .attentionOutput, Dropout.apply(cache.dropout[0], to: attendedGradient))!
    let (query, key, value) = attention.backward(cache.attention, outputGradient: contextGradient)
    var hiddenGradient: Matrix<Scalar>? = needsInputGradient ? attendedGradient : nil
    for (name, gradient) in [(BertProjection.query, query), (.key, key), (.value, value)] {
      if let input = back(name, gradient, needed: needsInputGradient) {
        BLAS.axpy(1, input, &hiddenGradient!)
      }
    }
    // Blocks in the order of ``trainableParameters``, whatever order backward ran in.
    var perExample = PerExampleGradients<Scalar>(examples: examples)
    for name in BertProjection.allCases {
      perExample.append(contentsOf: perProjection[name]!, prefix: name.rawValue + ".")
    }
    return (hiddenGradient, perExample)
  }
}
