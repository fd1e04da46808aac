import Accountants
import DPModel

/// Chooses each round's cohort and names the sampling in the privacy event.
///
/// Large populations are simulated as pfl-research does (spec §1.2): the accountant sees a
/// deployment of `population` N clients with `noiseCohortSize` m_noise per round
/// (q = m_noise/N), while `cohortSize` m_sim of the task's clients are trained. The noise
/// on the simulated sum is scaled by m_sim/m_noise, so the noise on the mean is σC/m_noise,
/// exactly the deployment's. With N = the task's clients and m_noise = m_sim there is no
/// simulation. Memory is O(model + cohort): nothing per population member is stored.
public struct CohortSampler: Equatable, Sendable {
  /// The sampling scheme.
  public let scheme: SamplingScheme
  /// K, the task's clients.
  public let clientCount: Int
  /// m_sim, the expected number of trained clients per round (the fixed denominator).
  public let cohortSize: Int
  /// N, the population the accounting assumes.
  public let population: Int
  /// m_noise, the cohort the noise is calibrated for.
  public let noiseCohortSize: Int

  /// A sampler; see the type's documentation for the parameters.
  public init(
    scheme: SamplingScheme = .poisson, clientCount: Int, cohortSize: Int, population: Int,
    noiseCohortSize: Int
  ) {
    self.scheme = scheme
    self.clientCount = clientCount
    self.cohortSize = cohortSize
    self.population = population
    self.noiseCohortSize = noiseCohortSize
  }

  /// q = m_noise/N, the sampling probability the accountant uses.
  public var samplingProbability: Double { Double(noiseCohortSize) / Double(population) }

  /// m_sim/m_noise, the factor on the noise of the simulated sum.
  public var noiseScale: Double { Double(cohortSize) / Double(noiseCohortSize) }

  /// Whether a larger deployment is simulated.
  public var isSimulation: Bool { population != clientCount || noiseCohortSize != cohortSize }

  /// The sampling the accounting assumes, in words (for the summary).
  public var samplingAssumption: String {
    switch scheme {
    case .poisson:
      "Poisson cohort sampling with q = \(samplingProbability)"
    case .fixedSize:
      "fixed-size cohorts: \(noiseCohortSize) of \(population) clients without replacement, replace-one-client neighbours (sensitivity 2C)"
    }
  }

  /// The simulation, in words (`nil` when none).
  public var simulationAssumption: String? {
    isSimulation
      ? "simulation: noise calibrated for \(noiseCohortSize) of \(population) clients per round, \(cohortSize) trained"
      : nil
  }

  /// The round's cohort, from a generator seeded by the round (public randomness):
  /// Poisson, each of the task's clients independently with probability m_sim/K; fixed
  /// size, m_sim distinct clients uniformly. Indices in increasing order.
  public func sample(roundSeed: UInt64) -> [Int] {
    var generator = Xoshiro256StarStar(seed: roundSeed ^ 0x636F_686F_7274_0000)
    return sample(using: &generator)
  }

  /// The round's cohort drawn from `generator` (the operating system's CSPRNG where the
  /// cohort must stay secret, as in a real federation).
  public func sample(using generator: inout some RandomNumberGenerator) -> [Int] {
    switch scheme {
    case .poisson:
      let rate = Double(cohortSize) / Double(clientCount)
      return (0..<clientCount).filter { _ in Double.random(in: 0..<1, using: &generator) < rate }
    case .fixedSize:
      return Array(Array(0..<clientCount).shuffled(using: &generator).prefix(cohortSize)).sorted()
    }
  }

  /// The event of one Gaussian release of the cohort's clipped sum with noise multiplier σ
  /// (noise σC) in the deployment the accounting describes: m_noise of N clients
  /// (``SamplingScheme/event(noiseMultiplier:population:cohortSize:noise:)``).
  public func event(noiseMultiplier: Double, noise: NoiseDistribution = .continuous) -> DPEvent {
    scheme.event(
      noiseMultiplier: noiseMultiplier, population: population, cohortSize: noiseCohortSize,
      noise: noise)
  }
}
