import DPTestSupport
import Foundation
import Testing

@testable import DPModel

@Suite("Optimizers and pre-training")
struct TrainingTests {
  static let parameters = ParameterSet<Double>([
    ("w", Matrix(rows: 1, columns: 3, values: [1, -2, 0.5]))
  ])
  static let gradient = ParameterSet<Double>([
    ("w", Matrix(rows: 1, columns: 3, values: [0.2, -4, 1e-3]))
  ])

  @Test("SGD and momentum follow θ ← θ − η·v with v ← μ·v + g")
  func sgdAndMomentum() {
    var plain = Self.parameters
    var sgd = Optimizer<Double>(.sgd(learningRate: 0.5))
    sgd.step(&plain, gradient: Self.gradient)
    #expect(plain["w"]!.values == [0.9, 0.0, 0.4995])
    var moving = Self.parameters
    var momentum = Optimizer<Double>(.momentum(learningRate: 0.5, momentum: 0.9))
    momentum.step(&moving, gradient: Self.gradient)
    momentum.step(&moving, gradient: Self.gradient)
    // v₁ = g, v₂ = 1.9 g: θ₂ = θ₀ − 0.5·2.9·g.
    #expect(
      relativeError(moving["w"]!.values, [1 - 1.45 * 0.2, -2 + 1.45 * 4, 0.5 - 1.45e-3]) < 1e-15)
  }

  @Test("Adam's first step is −η·sign(g), its second matches the bias-corrected formula")
  func adam() {
    var parameters = Self.parameters
    var adam = Optimizer<Double>.adam(learningRate: 0.1)
    adam.step(&parameters, gradient: Self.gradient)
    let expected = zip(Self.parameters["w"]!.values, Self.gradient["w"]!.values).map {
      $0 - 0.1 * ($1 / (abs($1) + 1e-8 / 1))
    }
    #expect(relativeError(parameters["w"]!.values, expected) < 1e-6)
    adam.step(&parameters, gradient: Self.gradient)
    // A constant gradient keeps m̂ = g and v̂ = g², so the second step is −η·g/(|g| + ε) again.
    let twice = zip(expected, Self.gradient["w"]!.values).map { $0 - 0.1 * $1 / (abs($1) + 1e-8) }
    #expect(relativeError(parameters["w"]!.values, twice) < 1e-6)
  }

  @Test("a learning-rate factor scales the step and leaves Adam's moments as without it")
  func learningRateFactor() {
    var scaled = Self.parameters
    var sgd = Optimizer<Double>(.sgd(learningRate: 0.5))
    sgd.step(&scaled, gradient: Self.gradient, learningRateFactor: 0.25)
    #expect(relativeError(scaled["w"]!.values, [1 - 0.025, -2 + 0.5, 0.5 - 1.25e-4]) < 1e-15)
    // Two Adam steps, the second at factor 0.1: the second move is a tenth of the full one.
    var full = Self.parameters
    var partial = Self.parameters
    var adamFull = Optimizer<Double>.adam(learningRate: 0.1)
    var adamPartial = adamFull
    adamFull.step(&full, gradient: Self.gradient)
    adamPartial.step(&partial, gradient: Self.gradient)
    let first = full["w"]!.values
    adamFull.step(&full, gradient: Self.gradient)
    adamPartial.step(&partial, gradient: Self.gradient, learningRateFactor: 0.1)
    #expect(adamFull == adamPartial)
    let fullMove = zip(full["w"]!.values, first).map { $0 - $1 }
    let partialMove = zip(partial["w"]!.values, first).map { ($0 - $1) * 10 }
    #expect(relativeError(partialMove, fullMove) < 1e-12)
  }

  /// Three well-separated Gaussian blobs in 8 dimensions.
  static func blobs(count: Int, seed: UInt64) -> (Matrix<Float>, [Int]) {
    var generator = Xoshiro256StarStar(seed: seed)
    var values: [Float] = []
    var labels: [Int] = []
    for index in 0..<count {
      let label = index % 3
      labels.append(label)
      for dimension in 0..<8 {
        values.append(
          Float(generator.nextStandardNormal()) * 0.5 + (dimension % 3 == label ? 2 : 0))
      }
    }
    return (Matrix(rows: count, columns: 8, values: values), labels)
  }

  @Test("a perceptron pre-trains to ≥ 95 % on separable data, and save/load keeps its logits")
  func pretrainAndSave() throws {
    let (features, labels) = Self.blobs(count: 300, seed: 60)
    var model = MultilayerPerceptron<Float>(inputs: 8, hidden: [16], classes: 3, seed: 61)
    let history = model.pretrain(
      features: features, labels: labels, epochs: 15, batchSize: 32, learningRate: 0.01, seed: 62)
    #expect(history.last! < history.first!)
    let (test, testLabels) = Self.blobs(count: 300, seed: 63)
    #expect(model.accuracy(features: test, labels: testLabels) >= 0.95)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-mlp-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try model.save(to: url)
    let loaded = try MultilayerPerceptron<Float>(contentsOf: url)
    #expect(loaded.logits(test, activeRank: nil) == model.logits(test, activeRank: nil))
    #expect(loaded.trainableParameters == model.trainableParameters)
  }
}
