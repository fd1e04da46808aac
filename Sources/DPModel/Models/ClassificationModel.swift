/// A classifier whose trainable parameters (adapter factors and task head) get
/// per-example gradients: what the private training loops drive.
public protocol ClassificationModel<Scalar>: Sendable {
  /// The scalar type the model computes in.
  associatedtype Scalar: BLASScalar
  /// A batch of inputs (token ids, or feature vectors).
  associatedtype Batch: Sendable

  /// The number of classes.
  var classCount: Int { get }
  /// The trainable parameters, in the order the gradients use.
  var trainableParameters: ParameterSet<Scalar> { get }
  /// Replaces trainable parameters by name (a subset is fine).
  mutating func updateTrainables(_ parameters: ParameterSet<Scalar>)
  /// Logits, one row per example, at a DyLoRA `activeRank` if given.
  func logits(_ batch: Batch, activeRank: Int?) -> Matrix<Scalar>
  /// Per-example losses (softmax cross-entropy) and gradients of every trainable
  /// parameter under sum reduction: one row per example when `perExample`, else a single
  /// row holding the batch gradient (cheaper; for non-private training).
  /// - Parameter dropoutSeed: seeds training-time dropout; `nil` disables it.
  func gradients(
    _ batch: Batch, labels: [Int], activeRank: Int?, dropoutSeed: UInt64?, perExample: Bool
  ) -> (losses: [Scalar], gradients: PerExampleGradients<Scalar>)

  /// FLoRA's client model: the same weights with fresh adapters from `configuration` on the
  /// layers adapters go on, their bases frozen, the head trainable (`nil`: not supported).
  func withFreshAdapters(_ configuration: AdapterConfiguration) -> Self?

  /// FLoRA's merge: the change s·B·A each adapter makes to its base weight, named as that
  /// weight is among the trainables of the model without adapters (`layers.0.weight`), in
  /// full precision rather than as a difference of merged weights (`nil`: not supported).
  func adapterWeightDeltas() -> ParameterSet<Scalar>?
}

extension ClassificationModel {
  public func withFreshAdapters(_ configuration: AdapterConfiguration) -> Self? { nil }
  public func adapterWeightDeltas() -> ParameterSet<Scalar>? { nil }
}

extension ClassificationModel {
  /// Per-example losses and per-example gradients; their sum is the gradient of the
  /// summed loss.
  public func perExampleGradients(
    _ batch: Batch, labels: [Int], activeRank: Int? = nil, dropoutSeed: UInt64? = nil
  ) -> (losses: [Scalar], gradients: PerExampleGradients<Scalar>) {
    gradients(
      batch, labels: labels, activeRank: activeRank, dropoutSeed: dropoutSeed, perExample: true)
  }

  /// Per-example losses and the gradient of their sum.
  public func batchGradient(
    _ batch: Batch, labels: [Int], activeRank: Int? = nil, dropoutSeed: UInt64? = nil
  ) -> (losses: [Scalar], gradient: ParameterSet<Scalar>) {
    let (losses, rows) = gradients(
      batch, labels: labels, activeRank: activeRank, dropoutSeed: dropoutSeed, perExample: false)
    return (losses, rows.sum())
  }

  /// The most likely class of each example.
  public func predictions(_ batch: Batch, activeRank: Int? = nil) -> [Int] {
    let scores = logits(batch, activeRank: activeRank)
    return (0..<scores.rows).map { row in
      (0..<scores.columns).max { scores[row, $0] < scores[row, $1] } ?? 0
    }
  }
}

/// Applies a named update to a list of sub-layers whose parameters carry a prefix
/// (`classifier.`, `layers.3.`): the shared part of every model's `updateTrainables`.
func dispatchUpdate<Scalar>(
  _ parameters: ParameterSet<Scalar>, prefixes: [String], apply: (Int, ParameterSet<Scalar>) -> Void
) {
  var parts = [ParameterSet<Scalar>](repeating: ParameterSet(), count: prefixes.count)
  for (name, value) in zip(parameters.names, parameters.matrices) {
    guard
      let index = prefixes.indices.filter({ name.hasPrefix(prefixes[$0]) })
        .max(by: { prefixes[$0].count < prefixes[$1].count })
    else { preconditionFailure("no trainable parameter named \(name)") }
    parts[index].append(String(name.dropFirst(prefixes[index].count)), value)
  }
  for (index, part) in parts.enumerated() where !part.names.isEmpty { apply(index, part) }
}
