import DPTestSupport
import Foundation
import Testing

@testable import DPModel

/// The Float-only vector kernels (exp, softmax, GELU's derivative) against Double.
@Suite("Float vector kernels")
struct FloatKernelTests {
  @Test("vectorExp is within 1.5e-7 relative of exp on its whole range, 0 below it")
  func vectorExpAccuracy() {
    var worst = 0.0
    var generator = SeededGenerator(seed: 3)
    let grid = stride(from: -87.3, through: 88.0, by: 0.0137).map { Float($0) }
    let random = (0..<20_000).map { _ in Float.random(in: -87.3...88, using: &generator) }
    let special: [Float] = [0, -0.0, 1, -1, 0.5, -0.5, 1e-8, -1e-8, 88, -87.33]
    let values = grid + random + special
    for start in stride(from: 0, to: values.count, by: 16) {
      var lanes = SIMD16<Float>(repeating: 0)
      for lane in 0..<16 where start + lane < values.count { lanes[lane] = values[start + lane] }
      let result = vectorExp(lanes)
      for lane in 0..<16 where start + lane < values.count {
        let exact = Foundation.exp(Double(lanes[lane]))
        worst = max(worst, abs(Double(result[lane]) - exact) / exact)
      }
    }
    #expect(worst < 1.5e-7, "worst relative error \(worst)")
    var edges = SIMD16<Float>(repeating: -.infinity)
    edges[1] = -100
    edges[2] = -87.4
    edges[3] = .nan
    edges[4] = 1000
    let result = vectorExp(edges)
    #expect(result[0] == 0 && result[1] == 0 && result[2] == 0)
    #expect(result[3].isNaN)
    expectClose(Double(result[4]), Foundation.exp(88.0), relative: 1e-6)
  }

  @Test("attention in Float (vector softmax) matches Double, masked keys get weight 0")
  func attentionSoftmax() {
    let attention = SelfAttention(heads: 2)
    let length = 37  // two full vectors of 16 and a tail of 5
    let rows = 2 * length
    let query = randomMatrix(rows, 8, seed: 1, scale: 3)
    let key = randomMatrix(rows, 8, seed: 2, scale: 3)
    let value = randomMatrix(rows, 8, seed: 3)
    var mask = [Bool](repeating: true, count: rows)
    for position in [3, 20, 36, length + 30, length + 31, length + 36] { mask[position] = false }
    let (exact, exactCache) = attention.forward(
      query: query, key: key, value: value, keyMask: mask, sequenceLength: length)
    let (float, floatCache) = attention.forward(
      query: Matrix<Float>(query), key: Matrix<Float>(key), value: Matrix<Float>(value),
      keyMask: mask, sequenceLength: length)
    for (f, e) in zip(float.values, exact.values) {
      expectClose(Double(f), e, relative: 0, absolute: 2e-6)
    }
    for (index, probability) in floatCache.probabilities.values.enumerated() {
      let example = index / (2 * length * length)
      let keyPosition = example * length + index % length
      if !mask[keyPosition] { #expect(probability == 0) }
      expectClose(
        Double(probability), exactCache.probabilities.values[index], relative: 0, absolute: 1e-6)
    }
  }

  @Test("GELU's backward pass in Float (vector exp) matches Double")
  func geluBackward() {
    let input = randomMatrix(7, 41, seed: 5, scale: 6)
    let gradient = randomMatrix(7, 41, seed: 6)
    let exact = GELU.backward(GELU.trainingForward(input).1, outputGradient: gradient)
    let float = GELU.backward(
      GELU.trainingForward(Matrix<Float>(input)).1, outputGradient: Matrix<Float>(gradient))
    for (f, e) in zip(float.values, exact.values) {
      expectClose(Double(f), e, relative: 0, absolute: 2e-6)
    }
  }
}
