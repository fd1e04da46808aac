extension DPEvent: CustomStringConvertible {
  /// A one-line rendering for logs and the CLI, e.g.
  /// `SelfComposed(PoissonSampled(q=0.001, Gaussian(σ=1.1)), count=2000)`.
  public var summary: String {
    switch self {
    case .noOp:
      return "NoOp"
    case .nonPrivate:
      return "NonPrivate"
    case .gaussian(let noiseMultiplier):
      return "Gaussian(σ=\(noiseMultiplier))"
    case .discreteGaussian(let noiseMultiplier):
      return "DiscreteGaussian(σ=\(noiseMultiplier))"
    case .laplace(let noiseMultiplier):
      return "Laplace(b=\(noiseMultiplier))"
    case .poissonSampled(let probability, let event):
      return "PoissonSampled(q=\(probability), \(event.summary))"
    case .sampledWithoutReplacement(let sourceSize, let sampleSize, let event):
      return "SampledWithoutReplacement(n=\(sourceSize), m=\(sampleSize), \(event.summary))"
    case .selfComposed(let event, let count):
      return "SelfComposed(\(event.summary), count=\(count))"
    case .composed(let events):
      return "Composed([\(events.map(\.summary).joined(separator: ", "))])"
    case .participationSampled(let probability, let event):
      return "ParticipationSampled(q=\(probability), \(event.summary))"
    case .tuned(let runs, let event):
      return "Tuned(\(runs.summary), \(event.summary))"
    case .momentumGaussian(let release):
      return
        "MomentumGaussian(σ=\(release.noiseMultiplier), β=\(release.momentum), p=\(release.recordProbability), q=\(release.participationProbability), T=\(release.rounds))"
    case .relativeEntropyCoded(let coder, let event):
      return
        "RelativeEntropyCoded(d=\(coder.blockDimension), K=\(coder.candidateCount), \(event.summary))"
    }
  }

  /// Same as ``summary``.
  public var description: String { summary }
}
