import DPModel

/// A client's local training from the global parameters: `epochs` passes over its
/// examples, each of the rule's steps (⌈n/B⌉, or one) whose batch, gradient, noise and denominator come from the
/// mechanism's ``LocalStepRule`` (plain mini-batch SGD, or DP-SGD).
struct LocalTraining: Sendable {
  var epochs: Int
  var batchSize: Int
  var learningRate: Double

  /// The trained parameters, the summed loss of the last epoch and the clipped examples.
  /// - Parameter seed: the client's seed for the round (shuffles, batches, local noise).
  func train<Model: ClassificationModel, Example>(
    _ client: ClientData<Example>, from start: Model, activeRank: Int?, live: LiveCoordinates,
    seed: UInt64, steps: any LocalStepRule, noiseSource: NoiseSource,
    makeBatch: ([Example]) -> Model.Batch
  ) -> (parameters: ParameterSet<Float>, loss: Double, clippedExamples: Int)
  where Model.Scalar == Float {
    var local = start
    var parameters = local.trainableParameters
    var generator = Xoshiro256StarStar(seed: seed)
    var noise = noiseSource.generator(roundSeed: seed ^ 0x6C6F_6361_6C00)
    var lastLoss = 0.0
    var clipped = 0
    let count = client.examples.count
    for _ in 0..<epochs {
      lastLoss = 0
      let order = Array(client.examples.indices).shuffled(using: &generator)
      for step in 0..<steps.stepsPerEpoch(exampleCount: count, batchSize: batchSize) {
        let indices = steps.batch(step: step, order: order, batchSize: batchSize, using: &generator)
        var gradient = parameters.with(
          flattened: Array(repeating: 0, count: parameters.scalarCount))
        if !indices.isEmpty {
          let step = steps.gradient(
            local, batch: makeBatch(indices.map { client.examples[$0] }),
            labels: indices.map { client.labels[$0] }, activeRank: activeRank)
          gradient = step.gradient
          lastLoss += step.loss
          clipped += step.clippedExamples
        }
        steps.privatize(&gradient, live: live, using: &noise)
        let denominator = steps.denominator(
          batchCount: indices.count, batchSize: batchSize, exampleCount: count)
        parameters.add(gradient, scaledBy: Float(-learningRate / max(1, denominator)))
        local.updateTrainables(parameters)
      }
    }
    return (parameters, lastLoss, clipped)
  }
}
