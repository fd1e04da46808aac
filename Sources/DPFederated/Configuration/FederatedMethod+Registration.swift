import DPModel

/// The registry of the federated seam: which algorithm a method runs and which mechanism
/// makes its contributions private. A new algorithm is one file plus a case here.
extension FederatedConfiguration {
  /// The algorithm of ``method``, given the run's `mechanism` and its D `coordinates` (a
  /// default of DP-BREM's follows from the noise).
  public func algorithm<Model: ClassificationModel, Example: Sendable>(
    mechanism: any PrivacyMechanism, coordinates: Int,
    makeBatch: @escaping @Sendable ([Example]) -> Model.Batch
  ) -> any FederatedAlgorithm<Model, Example> where Model.Scalar == Float {
    switch method {
    case .dpDyLoRA:
      return DPDyLoRA<Model, Example>(configuration: self, makeBatch: makeBatch)
    case .flora:
      return FLoRA<Model, Example>(configuration: self, makeBatch: makeBatch)
    case .dpBREM:
      let noiseNorm =
        (mechanism as? CenteredClippingMechanism)?.noiseNorm(coordinates: coordinates) ?? 0
      return DPBREM<Model, Example>(
        configuration: self, noiseNorm: noiseNorm, makeBatch: makeBatch)
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
    let clippingBound = effectiveClippingBound
    if let centeredClipping = centeredClipping() {
      return CenteredClippingMechanism(
        noiseMultiplier: sigma, clippingBound: clippingBound, batchSize: steps.localBatchSize,
        plan: privacy ? calibration.plan : nil, momentum: centeredClipping.momentum,
        noiseSource: randomness)
    }
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
    case .example where exampleNoisePlacement == .server:
      return CentralDPSGDMechanism(
        noiseMultiplier: sigma, clippingBound: clippingBound, batchSize: steps.localBatchSize,
        learningRate: steps.localLearningRate, plan: calibration.plan, noiseSource: randomness)
    case .example:
      return LocalDPSGDMechanism(
        noiseMultiplier: sigma, clippingBound: clippingBound, plan: calibration.plan,
        noiseSource: randomness)
    }
  }

  /// How many of the task's `clientCount` clients are Byzantine: ⌊F·K⌉, the first ones.
  public func byzantineClients(clientCount: Int) -> Int {
    Int((byzantineFraction * Double(clientCount)).rounded())
  }

  /// The backend of an in-process run: the simulation, with Byzantine clients when
  /// ``byzantineFraction`` is above 0.
  func simulation<Model: ClassificationModel, Example: Sendable>(
    clients: [ClientData<Example>], program: ClientProgram<Model, Example>, workers: Int,
    classCount: Int
  ) -> any FederatedBackend<Model> where Model.Scalar == Float {
    let simulation = SimulatedBackend(clients: clients, program: program, workers: workers)
    let attackers = byzantineClients(clientCount: clients.count)
    guard let attack, attackers > 0 else { return simulation }
    return ByzantineBackend(
      simulation: simulation, attack: attack, attackers: attackers, classCount: classCount)
  }
}
