import RealModule

/// Softmax cross-entropy of logits against integer labels.
public enum SoftmaxCrossEntropy {
  /// How per-example losses combine into the batch loss.
  public enum Reduction: Sendable {
    /// Σᵢ ℓᵢ: per-example gradients then add up to the batch gradient (DP-SGD's form).
    case sum
    /// (1/n) Σᵢ ℓᵢ.
    case mean
  }

  /// The per-example losses −log softmax(zᵢ)[yᵢ] and ∂L/∂z under `reduction`.
  /// - Precondition: one label per row, each in `0..<logits.columns`.
  public static func evaluate<Scalar>(
    logits: Matrix<Scalar>, labels: [Int], reduction: Reduction
  ) -> (losses: [Scalar], gradient: Matrix<Scalar>) {
    precondition(labels.count == logits.rows, "\(labels.count) labels for \(logits.rows) rows")
    var gradient = logits
    var losses = [Scalar](repeating: 0, count: logits.rows)
    let weight: Scalar = reduction == .sum ? 1 : 1 / Scalar(max(1, logits.rows))
    for row in 0..<logits.rows {
      let label = labels[row]
      precondition(
        label >= 0 && label < logits.columns, "label \(label) outside 0..<\(logits.columns)")
      let maximum = (0..<logits.columns).map { logits[row, $0] }.max() ?? 0
      var total: Scalar = 0
      for column in 0..<logits.columns { total += Scalar.exp(logits[row, column] - maximum) }
      let logTotal = Scalar.log(total) + maximum
      losses[row] = logTotal - logits[row, label]
      for column in 0..<logits.columns {
        let probability = Scalar.exp(logits[row, column] - logTotal)
        gradient[row, column] = weight * (probability - (column == label ? 1 : 0))
      }
    }
    return (losses, gradient)
  }
}
