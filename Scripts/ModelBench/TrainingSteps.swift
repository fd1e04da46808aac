import DPModel
import Foundation

/// Times `warmup` untimed and then `steps` timed training steps of `model`, one batch after
/// another from `batches`, and returns the seconds of the timed ones. A step is the
/// gradient of the summed loss, or with `privately` DP-SGD's: per-example gradients clipped
/// to C = 1 and summed, N(0, 1) noise on every coordinate drawn as `GaussianNoise` draws it
/// (``StandardNormalPairs``); then SGD at learning rate 0.01 on the mean.
func timeTrainingSteps<Model: ClassificationModel>(
  _ model: inout Model, batches: [(Model.Batch, [Int])], privately: Bool, warmup: Int,
  steps: Int, generator: inout Xoshiro256StarStar
) -> Double where Model.Scalar == Float {
  let learningRate: Float = 0.01
  func step(_ index: Int) {
    let (batch, labels) = batches[index % batches.count]
    var update: ParameterSet<Float>
    if privately {
      let (_, perExample) = model.perExampleGradients(batch, labels: labels)
      update = perExample.clippedSum(clippingBound: 1).sum
      var normals = StandardNormalPairs()
      update = update.with(
        flattened: update.flattened().map { $0 + Float(normals.next(using: &generator)) })
    } else {
      update = model.batchGradient(batch, labels: labels).gradient
    }
    var parameters = model.trainableParameters
    parameters.add(update, scaledBy: -learningRate / Float(labels.count))
    model.updateTrainables(parameters)
  }
  for index in 0..<warmup { step(index) }
  let start = DispatchTime.now().uptimeNanoseconds
  for index in 0..<steps { step(index) }
  return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
