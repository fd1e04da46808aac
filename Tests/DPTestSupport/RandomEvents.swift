import Accountants

/// Random, valid ``DPEvent`` trees for property tests, built deterministically from a
/// seed so that a failing case is reproduced by its seed alone.
public enum RandomEvents {
  /// A random event of nesting depth ≤ `depth` that the RDP accountant supports under
  /// add/remove neighbours (Gaussians, Laplace, Poisson-sampled Gaussians, participation
  /// sampling of any of these, compositions).
  public static func supported(seed: UInt64, depth: Int = 3) -> DPEvent {
    var generator = SeededGenerator(seed: seed)
    return supported(depth: depth, using: &generator)
  }

  /// A random event of any shape (including unsupported combinations, the replace-one-only
  /// `sampledWithoutReplacement`, participation sampling and tuning), for Codable and
  /// validation tests.
  public static func any(seed: UInt64, depth: Int = 3) -> DPEvent {
    var generator = SeededGenerator(seed: seed)
    return any(depth: depth, using: &generator)
  }

  /// A Poisson-sampled Gaussian with realistic parameters.
  public static func sampledGaussian(using generator: inout SeededGenerator) -> DPEvent {
    .poissonSampled(
      probability: generator.logUniform(1e-4, 1),
      .gaussian(noiseMultiplier: generator.logUniform(0.5, 20)))
  }

  private static func supported(depth: Int, using generator: inout SeededGenerator) -> DPEvent {
    let choice = Int.random(in: 0..<(depth > 0 ? 8 : 4), using: &generator)
    switch choice {
    case 0: return .noOp
    case 1: return .gaussian(noiseMultiplier: generator.logUniform(0.3, 50))
    case 2: return .laplace(noiseMultiplier: generator.logUniform(0.3, 50))
    case 3: return sampledGaussian(using: &generator)
    case 4:
      return .selfComposed(
        supported(depth: depth - 1, using: &generator),
        count: Int.random(in: 0...50, using: &generator))
    case 5:
      let count = Int.random(in: 0...3, using: &generator)
      return .composed((0..<count).map { _ in supported(depth: depth - 1, using: &generator) })
    case 6:
      return .poissonSampled(
        probability: generator.logUniform(1e-4, 1), gaussians(depth: depth - 1, using: &generator))
    default:
      // Not `tuned`: its bound depends on the whole grid of orders, so it is not a per-order
      // curve (property tests compare single-order accountants with the full grid).
      return .participationSampled(
        probability: generator.logUniform(1e-4, 1), supported(depth: depth - 1, using: &generator))
    }
  }

  private static func gaussians(depth: Int, using generator: inout SeededGenerator) -> DPEvent {
    let gaussian = DPEvent.gaussian(noiseMultiplier: generator.logUniform(0.5, 20))
    guard depth > 0 else { return gaussian }
    switch Int.random(in: 0..<3, using: &generator) {
    case 0: return gaussian
    case 1:
      return .selfComposed(
        gaussians(depth: depth - 1, using: &generator),
        count: Int.random(in: 1...4, using: &generator))
    default: return .composed([gaussian, gaussians(depth: depth - 1, using: &generator)])
    }
  }

  private static func any(depth: Int, using generator: inout SeededGenerator) -> DPEvent {
    let choice = Int.random(in: 0..<(depth > 0 ? 10 : 4), using: &generator)
    switch choice {
    case 0: return .noOp
    case 1: return .nonPrivate
    case 2: return .gaussian(noiseMultiplier: generator.logUniform(0.01, 100))
    case 3: return .laplace(noiseMultiplier: generator.logUniform(0.01, 100))
    case 4:
      return .poissonSampled(
        probability: Double.random(in: 0...1, using: &generator),
        any(depth: depth - 1, using: &generator))
    case 5:
      let source = Int.random(in: 1...1_000_000, using: &generator)
      return .sampledWithoutReplacement(
        sourceSize: source, sampleSize: Int.random(in: 0...source, using: &generator),
        any(depth: depth - 1, using: &generator))
    case 6:
      return .selfComposed(
        any(depth: depth - 1, using: &generator),
        count: Int.random(in: 0...1_000_000, using: &generator))
    case 7:
      return .participationSampled(
        probability: Double.random(in: 0...1, using: &generator),
        any(depth: depth - 1, using: &generator))
    case 8:
      let runs: TuningDistribution =
        Bool.random(using: &generator)
        ? .truncatedNegativeBinomial(
          shape: Double.random(in: -0.99...5, using: &generator),
          successProbability: generator.logUniform(1e-6, 0.999))
        : .poisson(mean: generator.logUniform(1e-3, 1e4))
      return .tuned(runs: runs, any(depth: depth - 1, using: &generator))
    default:
      let count = Int.random(in: 0...3, using: &generator)
      return .composed((0..<count).map { _ in any(depth: depth - 1, using: &generator) })
    }
  }
}
