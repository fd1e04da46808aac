import DPModel

/// The registry of the federated seam: which algorithm a method runs and which mechanism
/// makes its contributions private. A new algorithm is one file plus a case here.
extension FederatedConfiguration {
  /// The algorithm of ``method``.
  public func algorithm<Model: ClassificationModel, Example: Sendable>(
    makeBatch: @escaping @Sendable ([Example]) -> Model.Batch
  ) -> any FederatedAlgorithm<Model, Example> where Model.Scalar == Float {
    switch method {
    case .dpDyLoRA:
      return DPDyLoRA<Model, Example>(configuration: self, makeBatch: makeBatch)
    case .dpLoRA, .ffaLoRA, .fedSB, .dpREC, .headOnly, .full:
      return FederatedAveraging<Model, Example>(configuration: self, makeBatch: makeBatch)
    }
  }

  /// The mechanism of the run, with σ calibrated to the target (or as given).
  /// - Parameters:
  ///   - clientSizes: the task's clients' example counts (example level needs them).
  ///   - coordinates: D, the trainable parameters of an update (DP-REC's coder and the
  ///     discrete release's grid need it).
  /// - Throws: ``FederatedError`` when the target cannot be met or adaptive clipping's
  ///   noise split is impossible.
  public func mechanism(sampler: CohortSampler, clientSizes: [Int], coordinates: Int) throws
    -> any PrivacyMechanism
  {
    let calibration = try NoiseCalibration(
      configuration: self, sampler: sampler, clientSizes: clientSizes)
    let sigma = calibration.noiseMultiplier
    guard privacy else { return NonPrivateMechanism(clippingBound: clippingBound) }
    if method == .dpREC {
      return CodedGaussianMechanism(
        noiseMultiplier: sigma, clippingBound: clippingBound, sampler: sampler,
        coordinates: coordinates, noiseSource: randomness)
    }
    switch privacyUnit {
    case .user:
      return try CentralGaussianMechanism(
        noiseMultiplier: sigma, clippingBound: clippingBound, sampler: sampler,
        adaptive: adaptive, noiseSource: randomness,
        grid: noise == .discrete
          ? DiscreteGrid(clippingBound: clippingBound, coordinates: coordinates) : nil)
    case .example:
      return LocalDPSGDMechanism(
        noiseMultiplier: sigma, clippingBound: clippingBound, plan: calibration.plan,
        noiseSource: randomness)
    }
  }
}
