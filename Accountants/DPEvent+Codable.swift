/// Stable JSON form of ``DPEvent``, with type and field names mirroring dp_accounting's
/// `dp_event.py`, so a ledger written by dpfl reads naturally next to a Python one:
///
/// ```json
/// {"type": "SelfComposed", "count": 2000,
///  "event": {"type": "PoissonSampled", "sampling_probability": 0.001,
///            "event": {"type": "Gaussian", "noise_multiplier": 1.1}}}
/// ```
///
/// dpfl's own events, which dp_accounting lacks, follow the same style:
///
/// ```json
/// {"type": "ParticipationSampled", "participation_probability": 0.001,
///  "event": {"type": "SelfComposed", "count": 5, "event": {…}}}
/// {"type": "Tuned", "runs": {"type": "TruncatedNegativeBinomial", "shape": 1,
///  "success_probability": 0.1}, "event": {…}}
/// {"type": "Tuned", "runs": {"type": "Poisson", "mean": 10}, "event": {…}}
/// {"type": "DiscreteGaussian", "noise_multiplier": 0.8}
/// {"type": "MomentumGaussian", "noise_multiplier": 0.5, "momentum": 0.9,
///  "sampling_probability": 0.25, "participation_probability": 0.001, "rounds": 100}
/// ```
///
/// The names are part of dpfl's file format: a name is never reused for a new meaning.
extension DPEvent: Codable {
  private enum CodingKeys: String, CodingKey {
    case type
    case noiseMultiplier = "noise_multiplier"
    case samplingProbability = "sampling_probability"
    case sourceDatasetSize = "source_dataset_size"
    case sampleSize = "sample_size"
    case event
    case events
    case count
    case coder
    case participationProbability = "participation_probability"
    case runs
    case momentum
    case rounds
  }

  private enum TypeName: String, Codable {
    case noOp = "NoOp"
    case nonPrivate = "NonPrivate"
    case gaussian = "Gaussian"
    case discreteGaussian = "DiscreteGaussian"
    case laplace = "Laplace"
    case poissonSampled = "PoissonSampled"
    case sampledWithoutReplacement = "SampledWithoutReplacement"
    case selfComposed = "SelfComposed"
    case composed = "Composed"
    case relativeEntropyCoded = "RelativeEntropyCoded"
    case participationSampled = "ParticipationSampled"
    case tuned = "Tuned"
    case momentumGaussian = "MomentumGaussian"
  }

  /// Decodes an event from its stable JSON form.
  /// - Throws: `DecodingError` for an unknown `type` or a missing field.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    switch try container.decode(TypeName.self, forKey: .type) {
    case .noOp:
      self = .noOp
    case .nonPrivate:
      self = .nonPrivate
    case .gaussian:
      self = .gaussian(noiseMultiplier: try container.decode(Double.self, forKey: .noiseMultiplier))
    case .discreteGaussian:
      self = .discreteGaussian(
        noiseMultiplier: try container.decode(Double.self, forKey: .noiseMultiplier))
    case .laplace:
      self = .laplace(noiseMultiplier: try container.decode(Double.self, forKey: .noiseMultiplier))
    case .poissonSampled:
      self = .poissonSampled(
        probability: try container.decode(Double.self, forKey: .samplingProbability),
        try container.decode(DPEvent.self, forKey: .event))
    case .sampledWithoutReplacement:
      self = .sampledWithoutReplacement(
        sourceSize: try container.decode(Int.self, forKey: .sourceDatasetSize),
        sampleSize: try container.decode(Int.self, forKey: .sampleSize),
        try container.decode(DPEvent.self, forKey: .event))
    case .selfComposed:
      self = .selfComposed(
        try container.decode(DPEvent.self, forKey: .event),
        count: try container.decode(Int.self, forKey: .count))
    case .composed:
      self = .composed(try container.decode([DPEvent].self, forKey: .events))
    case .relativeEntropyCoded:
      self = .relativeEntropyCoded(
        try container.decode(RelativeEntropyCoder.self, forKey: .coder),
        try container.decode(DPEvent.self, forKey: .event))
    case .participationSampled:
      self = .participationSampled(
        probability: try container.decode(Double.self, forKey: .participationProbability),
        try container.decode(DPEvent.self, forKey: .event))
    case .tuned:
      self = .tuned(
        runs: try container.decode(TuningDistribution.self, forKey: .runs),
        try container.decode(DPEvent.self, forKey: .event))
    case .momentumGaussian:
      self = .momentumGaussian(
        MomentumGaussian(
          noiseMultiplier: try container.decode(Double.self, forKey: .noiseMultiplier),
          momentum: try container.decode(Double.self, forKey: .momentum),
          recordProbability: try container.decode(Double.self, forKey: .samplingProbability),
          participationProbability: try container.decode(
            Double.self, forKey: .participationProbability),
          rounds: try container.decode(Int.self, forKey: .rounds)))
    }
  }

  /// Encodes the event in its stable JSON form.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    switch self {
    case .noOp:
      try container.encode(TypeName.noOp, forKey: .type)
    case .nonPrivate:
      try container.encode(TypeName.nonPrivate, forKey: .type)
    case .gaussian(let noiseMultiplier):
      try container.encode(TypeName.gaussian, forKey: .type)
      try container.encode(noiseMultiplier, forKey: .noiseMultiplier)
    case .discreteGaussian(let noiseMultiplier):
      try container.encode(TypeName.discreteGaussian, forKey: .type)
      try container.encode(noiseMultiplier, forKey: .noiseMultiplier)
    case .laplace(let noiseMultiplier):
      try container.encode(TypeName.laplace, forKey: .type)
      try container.encode(noiseMultiplier, forKey: .noiseMultiplier)
    case .poissonSampled(let probability, let event):
      try container.encode(TypeName.poissonSampled, forKey: .type)
      try container.encode(probability, forKey: .samplingProbability)
      try container.encode(event, forKey: .event)
    case .sampledWithoutReplacement(let sourceSize, let sampleSize, let event):
      try container.encode(TypeName.sampledWithoutReplacement, forKey: .type)
      try container.encode(sourceSize, forKey: .sourceDatasetSize)
      try container.encode(sampleSize, forKey: .sampleSize)
      try container.encode(event, forKey: .event)
    case .selfComposed(let event, let count):
      try container.encode(TypeName.selfComposed, forKey: .type)
      try container.encode(event, forKey: .event)
      try container.encode(count, forKey: .count)
    case .composed(let events):
      try container.encode(TypeName.composed, forKey: .type)
      try container.encode(events, forKey: .events)
    case .relativeEntropyCoded(let coder, let event):
      try container.encode(TypeName.relativeEntropyCoded, forKey: .type)
      try container.encode(coder, forKey: .coder)
      try container.encode(event, forKey: .event)
    case .participationSampled(let probability, let event):
      try container.encode(TypeName.participationSampled, forKey: .type)
      try container.encode(probability, forKey: .participationProbability)
      try container.encode(event, forKey: .event)
    case .tuned(let runs, let event):
      try container.encode(TypeName.tuned, forKey: .type)
      try container.encode(runs, forKey: .runs)
      try container.encode(event, forKey: .event)
    case .momentumGaussian(let release):
      try container.encode(TypeName.momentumGaussian, forKey: .type)
      try container.encode(release.noiseMultiplier, forKey: .noiseMultiplier)
      try container.encode(release.momentum, forKey: .momentum)
      try container.encode(release.recordProbability, forKey: .samplingProbability)
      try container.encode(release.participationProbability, forKey: .participationProbability)
      try container.encode(release.rounds, forKey: .rounds)
    }
  }
}

/// Stable JSON form of ``TuningDistribution``:
/// `{"type": "TruncatedNegativeBinomial", "shape": η, "success_probability": γ}` or
/// `{"type": "Poisson", "mean": μ}`.
extension TuningDistribution: Codable {
  private enum CodingKeys: String, CodingKey {
    case type
    case shape
    case successProbability = "success_probability"
    case mean
  }

  private enum TypeName: String, Codable {
    case truncatedNegativeBinomial = "TruncatedNegativeBinomial"
    case poisson = "Poisson"
  }

  /// Decodes a distribution from its stable JSON form.
  /// - Throws: `DecodingError` for an unknown `type` or a missing field.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    switch try container.decode(TypeName.self, forKey: .type) {
    case .truncatedNegativeBinomial:
      self = .truncatedNegativeBinomial(
        shape: try container.decode(Double.self, forKey: .shape),
        successProbability: try container.decode(Double.self, forKey: .successProbability))
    case .poisson:
      self = .poisson(mean: try container.decode(Double.self, forKey: .mean))
    }
  }

  /// Encodes the distribution in its stable JSON form.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    switch self {
    case .truncatedNegativeBinomial(let shape, let successProbability):
      try container.encode(TypeName.truncatedNegativeBinomial, forKey: .type)
      try container.encode(shape, forKey: .shape)
      try container.encode(successProbability, forKey: .successProbability)
    case .poisson(let mean):
      try container.encode(TypeName.poisson, forKey: .type)
      try container.encode(mean, forKey: .mean)
    }
  }
}
