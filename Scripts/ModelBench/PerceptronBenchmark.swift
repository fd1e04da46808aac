import DPModel
import Foundation

/// `--model mlp`: SGD or DP-SGD steps on the digits perceptron (every weight trainable) on
/// random 8×8 inputs (``timeTrainingSteps(_:batches:privately:warmup:steps:generator:)``),
/// the row's fields (examples per second over the timed steps).
func perceptronBenchmark(_ options: Options) -> [String: Any] {
  let inputs = 64
  let classes = 10
  var model = MultilayerPerceptron<Float>(
    inputs: inputs, hidden: [128, 128], classes: classes, seed: 1)
  var generator = Xoshiro256StarStar(seed: 2)
  let batches = (0..<8).map { _ in
    Matrix<Float>(
      rows: options.batchSize, columns: inputs,
      values: (0..<(options.batchSize * inputs)).map { _ in
        Float.random(in: 0...16, using: &generator)
      })
  }
  let labels = (0..<8).map { _ in
    (0..<options.batchSize).map { _ in Int.random(in: 0..<classes, using: &generator) }
  }
  let seconds = timeTrainingSteps(
    &model, batches: Array(zip(batches, labels)), privately: options.mode == "dp-sgd",
    warmup: options.warmup, steps: options.steps, generator: &generator)
  return [
    "model": "mlp", "mode": options.mode, "batch": options.batchSize,
    "examples_per_second": Double(options.batchSize * options.steps) / seconds,
    "steps_per_second": Double(options.steps) / seconds,
    "steps": options.steps, "warmup": options.warmup,
    "trainable_parameters": model.trainableParameters.scalarCount,
  ]
}
