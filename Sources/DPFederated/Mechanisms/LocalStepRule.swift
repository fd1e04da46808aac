import DPModel

/// How a client's local training forms each step's batch and gradient: plain mini-batch
/// SGD (``MinibatchSteps``) or DP-SGD (``DPSGDSteps``). A mechanism names its rule; local
/// training has no branch on which.
public protocol LocalStepRule: Sendable {
  /// The examples of step `step` of an epoch, given the epoch's shuffled `order` of the
  /// client's n examples (``stepsPerEpoch(exampleCount:batchSize:)`` steps per epoch).
  func batch(
    step: Int, order: [Int], batchSize: Int, using generator: inout Xoshiro256StarStar
  ) -> [Int]

  /// The summed gradient of the step's examples, their summed loss and how many
  /// per-example gradients were clipped.
  func gradient<Model: ClassificationModel>(
    _ model: Model, batch: Model.Batch, labels: [Int], activeRank: Int?
  ) -> (gradient: ParameterSet<Float>, loss: Double, clippedExamples: Int)
  where Model.Scalar == Float

  /// Privatises the step's gradient sum in place (DP-SGD's noise; nothing for plain SGD).
  func privatize(
    _ gradient: inout ParameterSet<Float>, live: LiveCoordinates,
    using generator: inout any RandomNumberGenerator)

  /// What the step's gradient sum is divided by.
  func denominator(batchCount: Int, batchSize: Int, exampleCount: Int) -> Double

  /// The steps of one local epoch over a client's `exampleCount` examples (default ⌈n/B⌉).
  func stepsPerEpoch(exampleCount: Int, batchSize: Int) -> Int
}

extension LocalStepRule {
  public func stepsPerEpoch(exampleCount: Int, batchSize: Int) -> Int {
    batchCount(exampleCount: exampleCount, batchSize: batchSize)
  }
}

/// ⌈n/B⌉: the batches of `batchSize` that one pass over `exampleCount` examples takes, the
/// local steps of an epoch that training takes and that the accounting charges.
func batchCount(exampleCount: Int, batchSize: Int) -> Int {
  (exampleCount + batchSize - 1) / batchSize
}

/// Plain mini-batch SGD: consecutive slices of the shuffled order, the mean gradient.
public struct MinibatchSteps: LocalStepRule {
  public init() {}

  public func batch(
    step: Int, order: [Int], batchSize: Int, using generator: inout Xoshiro256StarStar
  ) -> [Int] {
    Array(order[(step * batchSize)..<min((step + 1) * batchSize, order.count)])
  }

  public func gradient<Model: ClassificationModel>(
    _ model: Model, batch: Model.Batch, labels: [Int], activeRank: Int?
  ) -> (gradient: ParameterSet<Float>, loss: Double, clippedExamples: Int)
  where Model.Scalar == Float {
    let (losses, sum) = model.batchGradient(batch, labels: labels, activeRank: activeRank)
    return (sum, losses.reduce(0) { $0 + Double($1) }, 0)
  }

  public func privatize(
    _ gradient: inout ParameterSet<Float>, live: LiveCoordinates,
    using generator: inout any RandomNumberGenerator
  ) {}

  public func denominator(batchCount: Int, batchSize: Int, exampleCount: Int) -> Double {
    Double(batchCount)
  }
}

/// DP-SGD (Abadi et al. 2016): each step a Poisson sample of the client's examples at rate
/// min(1, B/n); per-example gradients clipped to C; N(0, (σC)²) added to their sum on the
/// live coordinates; divided by B, the expected batch of a client of at least B examples,
/// whatever the client's n. So a client of n < B examples counts n/B of a full one (capped
/// example weights, McMahan et al. 2018), every client's noise is σC/B, and the scale does
/// not depend on n. Dividing by the client's own min(B, n) would put most of the noise on
/// the mean on the smallest clients (a client of 2 examples would send σC/2), which cost
/// 3.7 points on `chitchat-topic` (docs/federated-learning-diagnosis.md §7.6).
public struct DPSGDSteps: LocalStepRule {
  /// The per-example clip C and the noise σC on each step's sum.
  public let noise: GaussianNoise

  public init(noise: GaussianNoise) { self.noise = noise }

  public func batch(
    step: Int, order: [Int], batchSize: Int, using generator: inout Xoshiro256StarStar
  ) -> [Int] {
    let rate = min(1, Double(batchSize) / Double(order.count))
    return order.indices.filter { _ in Double.random(in: 0..<1, using: &generator) < rate }
  }

  public func gradient<Model: ClassificationModel>(
    _ model: Model, batch: Model.Batch, labels: [Int], activeRank: Int?
  ) -> (gradient: ParameterSet<Float>, loss: Double, clippedExamples: Int)
  where Model.Scalar == Float {
    let (losses, perExample) = model.perExampleGradients(
      batch, labels: labels, activeRank: activeRank)
    let (sum, norms) = perExample.clippedSum(clippingBound: Float(noise.clippingBound))
    let clipped = norms.filter { Double($0) > noise.clippingBound }.count
    return (sum, losses.reduce(0) { $0 + Double($1) }, clipped)
  }

  public func privatize(
    _ gradient: inout ParameterSet<Float>, live: LiveCoordinates,
    using generator: inout any RandomNumberGenerator
  ) {
    noise.add(to: &gradient, live: live, scale: 1, using: &generator)
  }

  public func denominator(batchCount: Int, batchSize: Int, exampleCount: Int) -> Double {
    Double(batchSize)
  }
}

/// One gradient per client and round of per-record clipped gradients, without local noise:
/// DP-SGD's Poisson sample and per-record clip to R, and the sum divided by the expected
/// batch size B whatever the sample's size, so that adding or removing one record moves the
/// gradient by at most R/B (and one step at learning rate η the update by at most ηR/B).
/// DP-BREM's client gradient, and a round's local training when the server adds the
/// example-level noise (``CentralDPSGDMechanism``).
public struct PerRecordClippedSteps: LocalStepRule {
  /// DP-SGD's sampling and clipping, with σ = 0.
  let sampling: DPSGDSteps

  /// Records clipped to `clippingBound`.
  public init(clippingBound: Double) {
    sampling = DPSGDSteps(noise: GaussianNoise(clippingBound: clippingBound, noiseMultiplier: 0))
  }

  public func batch(
    step: Int, order: [Int], batchSize: Int, using generator: inout Xoshiro256StarStar
  ) -> [Int] {
    sampling.batch(step: step, order: order, batchSize: batchSize, using: &generator)
  }

  public func gradient<Model: ClassificationModel>(
    _ model: Model, batch: Model.Batch, labels: [Int], activeRank: Int?
  ) -> (gradient: ParameterSet<Float>, loss: Double, clippedExamples: Int)
  where Model.Scalar == Float {
    sampling.gradient(model, batch: batch, labels: labels, activeRank: activeRank)
  }

  public func privatize(
    _ gradient: inout ParameterSet<Float>, live: LiveCoordinates,
    using generator: inout any RandomNumberGenerator
  ) {}

  public func denominator(batchCount: Int, batchSize: Int, exampleCount: Int) -> Double {
    Double(batchSize)
  }

  /// One step, whatever n: a second step would move with the first one's records.
  public func stepsPerEpoch(exampleCount: Int, batchSize: Int) -> Int { 1 }
}
