import Accountants
import ArgumentParser

/// How a round's cohort (or a step's batch) is drawn, which fixes the event that is
/// accounted and its neighbouring relation (`--sampling` in every command).
public enum SamplingScheme: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// Each client (or record) joins independently with probability q; add/remove-one
  /// neighbours.
  case poisson
  /// Exactly M of N, uniformly without replacement; replace-one neighbours, under which a
  /// sum clipped at C has sensitivity 2C.
  case fixedSize = "fixed-size"

  /// The neighbouring relation the scheme is analysed under.
  public var neighboringRelation: NeighboringRelation {
    switch self {
    case .poisson: .addOrRemoveOne
    case .fixedSize: .replaceOne
    }
  }

  /// One Gaussian release of a sampled sum clipped at C with noise σC: Poisson-sampled
  /// with q = M/N, or M of N sampled without replacement with σ/2 (sensitivity 2C under
  /// replace-one).
  /// - Parameters:
  ///   - population: N.
  ///   - cohortSize: M.
  ///   - noise: the Gaussian's kind (continuous unless given).
  public func event(
    noiseMultiplier: Double, population: Int, cohortSize: Int,
    noise: NoiseDistribution = .continuous
  ) -> DPEvent {
    switch self {
    case .poisson:
      return .poissonSampled(
        probability: Double(cohortSize) / Double(population),
        noise.event(noiseMultiplier: noiseMultiplier))
    case .fixedSize:
      return .sampledWithoutReplacement(
        sourceSize: population, sampleSize: cohortSize,
        noise.event(noiseMultiplier: noiseMultiplier / 2))
    }
  }
}
