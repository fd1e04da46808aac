import DPTestSupport
import Testing

@testable import DPModel

/// Every layer's backward pass against central differences in Double (STYLE §2.6:
/// shapes ≤ 8×8, h = 1e-6·max(1, |x|), relative error < 1e-6).
@Suite("Layer gradients")
struct LayerGradientTests {
  static let tolerance = 1e-6

  /// Checks ∂(Σ f(x)⊙R)/∂x from `backward(R)` against finite differences over x.
  func checkInputGradient(
    _ x: Matrix<Double>, projection: Matrix<Double>, forward: (Matrix<Double>) -> Matrix<Double>,
    backward: Matrix<Double>, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let numeric = finiteDifferenceGradient(at: x.values) { values in
      projectedLoss(forward(Matrix(rows: x.rows, columns: x.columns, values: values)), projection)
    }
    let error = relativeError(backward.values, numeric)
    #expect(error < Self.tolerance, "relative error \(error)", sourceLocation: sourceLocation)
  }

  @Test("Linear: input, weight and bias gradients")
  func linear() {
    let x = randomMatrix(5, 4, seed: 1)
    let layer = Linear(
      weight: randomMatrix(3, 4, seed: 2), bias: randomMatrix(1, 3, seed: 3).values)
    let r = randomMatrix(5, 3, seed: 4)
    checkInputGradient(
      x, projection: r, forward: { layer($0) }, backward: layer.inputGradient(outputGradient: r))
    let gradient = layer.parameterGradient(input: x, outputGradient: r)
    let numericWeight = finiteDifferenceGradient(at: layer.weight.values) { values in
      projectedLoss(
        Linear(weight: Matrix(rows: 3, columns: 4, values: values), bias: layer.bias)(x), r)
    }
    #expect(relativeError(gradient.weight.values, numericWeight) < Self.tolerance)
    let numericBias = finiteDifferenceGradient(at: layer.bias!) { values in
      projectedLoss(Linear(weight: layer.weight, bias: values)(x), r)
    }
    #expect(relativeError(gradient.bias!, numericBias) < Self.tolerance)
  }

  @Test("Embedding: table gradient, repeated ids accumulate")
  func embedding() {
    let table = randomMatrix(6, 3, seed: 5)
    let ids = [1, 4, 1, 0, 5]
    let r = randomMatrix(ids.count, 3, seed: 6)
    let analytic = Embedding(table: table).tableGradient(ids: ids, outputGradient: r)
    let numeric = finiteDifferenceGradient(at: table.values) { values in
      projectedLoss(Embedding(table: Matrix(rows: 6, columns: 3, values: values))(ids), r)
    }
    #expect(relativeError(analytic.values, numeric) < Self.tolerance)
  }

  @Test("LayerNorm: input, gain and shift gradients")
  func layerNorm() {
    let x = randomMatrix(4, 6, seed: 7, scale: 2)
    let gain = randomMatrix(1, 6, seed: 8).values.map { 1 + $0 / 2 }
    let shift = randomMatrix(1, 6, seed: 9).values
    let norm = LayerNorm(gain: gain, shift: shift, epsilon: 1e-12)
    let r = randomMatrix(4, 6, seed: 10)
    let (_, cache) = norm.forward(x)
    checkInputGradient(
      x, projection: r, forward: { norm.forward($0).0 },
      backward: norm.inputGradient(cache, outputGradient: r))
    let gradient = norm.parameterGradient(cache, outputGradient: r)
    let numericGain = finiteDifferenceGradient(at: gain) { values in
      projectedLoss(LayerNorm(gain: values, shift: shift, epsilon: 1e-12).forward(x).0, r)
    }
    let numericShift = finiteDifferenceGradient(at: shift) { values in
      projectedLoss(LayerNorm(gain: gain, shift: values, epsilon: 1e-12).forward(x).0, r)
    }
    #expect(relativeError(gradient.gain, numericGain) < Self.tolerance)
    #expect(relativeError(gradient.shift, numericShift) < Self.tolerance)
  }

  @Test("LayerNorm rows have mean β and standard deviation |γ| (forward)")
  func layerNormForward() throws {
    let x = randomMatrix(3, 8, seed: 11, scale: 3)
    let (y, _) = LayerNorm(
      gain: Array(repeating: 2, count: 8), shift: Array(repeating: 0.5, count: 8), epsilon: 1e-12
    ).forward(x)
    for row in 0..<3 {
      let values = (0..<8).map { y[row, $0] }
      let mean = values.reduce(0, +) / 8
      let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 8
      expectClose(mean, 0.5, relative: 0, absolute: 1e-12)
      expectClose(variance.squareRoot(), 2, relative: 1e-10)
    }
  }

  @Test("GELU: exact erf form and its derivative")
  func gelu() {
    let x = randomMatrix(4, 5, seed: 12, scale: 3)
    let r = randomMatrix(4, 5, seed: 13)
    checkInputGradient(
      x, projection: r, forward: { GELU.forward($0) },
      backward: GELU.backward(GELU.trainingForward(x).1, outputGradient: r))
    // GELU(1) = Φ(1) = 0.841344746068543 (erf form, not the tanh approximation 0.841192).
    expectClose(
      GELU.forward(Matrix<Double>(rows: 1, columns: 1, values: [1])).values[0], 0.841344746068543,
      relative: 1e-14)
  }

  @Test("Float GELU's erf approximation is within 4.2e-7 of erf on [−8, 8]")
  func fastErf() {
    var worst = 0.0
    for step in -80_000...80_000 {
      let x = Float(step) / 10_000
      worst = max(worst, abs(Double(GELU.fastErf(SIMD8(repeating: x))[3]) - Double.erf(Double(x))))
    }
    #expect(worst < 4.2e-7)
    let x = randomMatrix(3, 5, seed: 46, scale: 4)
    let float = GELU.forward(Matrix<Float>(x))
    let double = GELU.forward(x)
    #expect(zip(float.values, double.values).allSatisfy { abs(Double($0.0) - $0.1) < 2e-6 })
  }

  @Test("Dropout: the gradient is masked and scaled like the output")
  func dropout() {
    var generator = Xoshiro256StarStar(seed: 14)
    let mask: [Double]? = Dropout(rate: 0.5).mask(count: 12, using: &generator)
    let x = randomMatrix(3, 4, seed: 15)
    let r = randomMatrix(3, 4, seed: 16)
    #expect(Set(mask!) == [0, 2])
    checkInputGradient(
      x, projection: r, forward: { Dropout.apply(mask, to: $0) },
      backward: Dropout.apply(mask, to: r))
  }

  @Test("Dropout keeps 1 − rate of 10⁶ entries, within 6 standard errors")
  func dropoutRate() {
    var generator = Xoshiro256StarStar(seed: 17)
    let mask: [Float] = Dropout(rate: 0.1).mask(count: 1_000_000, using: &generator)!
    let kept = Double(mask.filter { $0 > 0 }.count) / 1e6
    let standardError = (0.9 * 0.1 / 1e6).squareRoot()
    #expect(abs(kept - 0.9) < 6 * standardError)
  }

  @Test("Mean pooling: masked mean and its gradient")
  func meanPooling() {
    let x = randomMatrix(8, 3, seed: 18)
    let mask = [true, true, false, false, true, true, true, false]
    let r = randomMatrix(2, 3, seed: 19)
    checkInputGradient(
      x, projection: r, forward: { MeanPooling.forward($0, mask: mask, sequenceLength: 4) },
      backward: MeanPooling.backward(outputGradient: r, mask: mask, sequenceLength: 4))
    let pooled = MeanPooling.forward(x, mask: mask, sequenceLength: 4)
    expectClose(pooled[0, 1], (x[0, 1] + x[1, 1]) / 2, relative: 1e-14)
    expectClose(pooled[1, 2], (x[4, 2] + x[5, 2] + x[6, 2]) / 3, relative: 1e-14)
  }

  @Test("Row normalisation: norm s per row, and its gradient")
  func rowNormalization() {
    let x = randomMatrix(3, 5, seed: 47, scale: 3)
    let r = randomMatrix(3, 5, seed: 48)
    let (y, norms) = RowNormalization.forward(x, scale: 2)
    for row in 0..<3 {
      expectClose(
        (0..<5).map { y[row, $0] * y[row, $0] }.reduce(0, +).squareRoot(), 2, relative: 1e-14)
    }
    checkInputGradient(
      x, projection: r, forward: { RowNormalization.forward($0, scale: 2).0 },
      backward: RowNormalization.backward(output: y, norms: norms, scale: 2, outputGradient: r))
  }

  @Test("Softmax cross-entropy: losses and logit gradients, sum and mean")
  func crossEntropy() {
    let logits = randomMatrix(4, 3, seed: 20, scale: 4)
    let labels = [0, 2, 1, 2]
    for reduction in [SoftmaxCrossEntropy.Reduction.sum, .mean] {
      let (losses, gradient) = SoftmaxCrossEntropy.evaluate(
        logits: logits, labels: labels, reduction: reduction)
      let numeric = finiteDifferenceGradient(at: logits.values) { values in
        let total = SoftmaxCrossEntropy.evaluate(
          logits: Matrix(rows: 4, columns: 3, values: values), labels: labels, reduction: reduction
        ).losses.reduce(0, +)
        return reduction == .sum ? total : total / 4
      }
      #expect(relativeError(gradient.values, numeric) < Self.tolerance)
      let row = (0..<3).map { logits[1, $0] }
      let expected = -row[2] + .log(row.map { .exp($0) }.reduce(0, +))
      expectClose(losses[1], expected, relative: 1e-13)
    }
  }

  @Test("Self-attention: Q, K and V gradients with padding masks")
  func attention() {
    let attention = SelfAttention(heads: 2)
    let length = 4
    let mask = [true, true, true, false, true, true, false, false]
    let q = randomMatrix(8, 6, seed: 21)
    let k = randomMatrix(8, 6, seed: 22)
    let v = randomMatrix(8, 6, seed: 23)
    let r = randomMatrix(8, 6, seed: 24)
    let (_, cache) = attention.forward(
      query: q, key: k, value: v, keyMask: mask, sequenceLength: length)
    let (dq, dk, dv) = attention.backward(cache, outputGradient: r)
    let forwardQ = {
      attention.forward(query: $0, key: k, value: v, keyMask: mask, sequenceLength: length).0
    }
    let forwardK = {
      attention.forward(query: q, key: $0, value: v, keyMask: mask, sequenceLength: length).0
    }
    let forwardV = {
      attention.forward(query: q, key: k, value: $0, keyMask: mask, sequenceLength: length).0
    }
    checkInputGradient(q, projection: r, forward: forwardQ, backward: dq)
    checkInputGradient(k, projection: r, forward: forwardK, backward: dk)
    checkInputGradient(v, projection: r, forward: forwardV, backward: dv)
    // Masked keys get no gradient and do not change any output.
    for column in 0..<6 {
      #expect(dk[3, column] == 0 && dv[3, column] == 0 && dk[6, column] == 0 && dk[7, column] == 0)
    }
  }

  @Test("Self-attention of one head equals softmax(QKᵀ/√d)V computed by hand")
  func attentionForward() {
    let q = randomMatrix(3, 2, seed: 25)
    let k = randomMatrix(3, 2, seed: 26)
    let v = randomMatrix(3, 2, seed: 27)
    let (context, _) = SelfAttention(heads: 1).forward(
      query: q, key: k, value: v, keyMask: [true, true, false], sequenceLength: 3)
    for row in 0..<3 {
      let scores = (0..<2).map { key in
        (q[row, 0] * k[key, 0] + q[row, 1] * k[key, 1]) / 2.0.squareRoot()
      }
      let weights = scores.map { Double.exp($0) }
      let total = weights.reduce(0, +)
      for column in 0..<2 {
        expectClose(
          context[row, column], (weights[0] * v[0, column] + weights[1] * v[1, column]) / total,
          relative: 1e-13)
      }
    }
  }
}
