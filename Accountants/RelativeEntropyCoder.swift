import RealModule

/// The public parameters of DP-REC's exact relative entropy coder (rejection sampling over
/// shared-seed candidates), which decide whether its decoded samples are exactly Gaussian.
///
/// Each client's update Δ is split into blocks of at most ``blockDimension`` coordinates,
/// each block clipped so that κ_b = ‖Δ_b‖²/(2s²) ≤ ``blockDivergence`` (s: the client's
/// noise). The target is q = N(Δ_b, s²I), the proposal p = N(0, ρs²I) with
/// ρ = ``proposalVarianceRatio`` > 1, and candidates z₁, z₂, … ~ p come from a seed shared
/// by the client and the server. The client accepts candidate i with probability
/// q(zᵢ)/(M·p(zᵢ)), M = exp(``logAcceptanceBound``), and sends the first accepted index
/// among K − 1 (K = ``candidateCount``), or K − 1 for "none accepted", in log₂K bits.
///
/// Exactness: sup_z log q(z)/p(z) = (d/2)·log ρ + ‖Δ_b‖²/(2s²(ρ − 1)), so when
/// log M ≥ (d/2)·log ρ + κ_b/(ρ − 1) every acceptance probability is ≤ 1 and this is plain
/// rejection sampling: an accepted candidate has exactly the law q, and the index is
/// geometric with parameter 1/M, whatever Δ is. The failure "none accepted", of probability
/// (1 − 1/M)^(K−1), is therefore independent of the data and of the accepted sample; the
/// server then adds N(0, s²I) to that block itself. The decoded cohort sum is exactly the
/// clipped sum plus the Gaussian noise the clients' s add up to, with a data-independent,
/// random mask of dropped blocks: a post-processing of the Gaussian release. So a DP-REC
/// round accounts exactly as the Gaussian release it reproduces, with no correction for K.
public struct RelativeEntropyCoder: Hashable, Codable, Sendable {
  /// d, the largest block's number of coordinates.
  public var blockDimension: Int
  /// κ_b, the bound on the largest block's ‖Δ_b‖²/(2s²), in nats.
  public var blockDivergence: Double
  /// ρ = proposal variance / target variance, > 1.
  public var proposalVarianceRatio: Double
  /// log M, the acceptance bound in nats.
  public var logAcceptanceBound: Double
  /// K, the index alphabet (a power of two ≥ 2; K − 1 candidates and one failure symbol).
  public var candidateCount: Int

  private enum CodingKeys: String, CodingKey {
    case blockDimension = "block_dimension"
    case blockDivergence = "block_divergence"
    case proposalVarianceRatio = "proposal_variance_ratio"
    case logAcceptanceBound = "log_acceptance_bound"
    case candidateCount = "candidate_count"
  }

  /// A coder with the given parameters (not checked; see ``failure()``).
  public init(
    blockDimension: Int, blockDivergence: Double, proposalVarianceRatio: Double,
    logAcceptanceBound: Double, candidateCount: Int
  ) {
    self.blockDimension = blockDimension
    self.blockDivergence = blockDivergence
    self.proposalVarianceRatio = proposalVarianceRatio
    self.logAcceptanceBound = logAcceptanceBound
    self.candidateCount = candidateCount
  }

  /// sup over z and over blocks with ‖Δ_b‖²/(2s²) ≤ κ_b of log q(z)/p(z):
  /// (d/2)·log ρ + κ_b/(ρ − 1).
  public static func logDensityRatioBound(
    dimension: Int, divergence: Double, proposalVarianceRatio rho: Double
  ) -> Double {
    Double(dimension) / 2 * Double.log(rho) + divergence / (rho - 1)
  }

  /// `nil` when the parameters are valid and the coder is exact, otherwise what is wrong.
  public func failure() -> String? {
    guard blockDimension >= 1 else {
      return "REC block dimension must be ≥ 1; got \(blockDimension)."
    }
    guard blockDivergence.isFinite, blockDivergence >= 0 else {
      return "REC block divergence must be finite and ≥ 0; got \(blockDivergence)."
    }
    guard proposalVarianceRatio.isFinite, proposalVarianceRatio > 1 else {
      return "REC proposal variance ratio must be finite and > 1; got \(proposalVarianceRatio)."
    }
    guard candidateCount >= 2, candidateCount.nonzeroBitCount == 1 else {
      return "REC candidate count must be a power of two ≥ 2; got \(candidateCount)."
    }
    let bound = Self.logDensityRatioBound(
      dimension: blockDimension, divergence: blockDivergence,
      proposalVarianceRatio: proposalVarianceRatio)
    guard logAcceptanceBound.isFinite, logAcceptanceBound >= bound else {
      return
        "REC acceptance bound log M must be ≥ sup log q/p = \(bound) for exact decoding; got \(logAcceptanceBound)."
    }
    return nil
  }

  /// (1 − 1/M)^(K−1), the probability that no candidate of a block is accepted (the same
  /// for every update).
  public var failureProbability: Double {
    Double.exp(Double(candidateCount - 1) * Double.log(onePlus: -Double.exp(-logAcceptanceBound)))
  }

  /// log₂K, the bits of one block's index.
  public var bitsPerBlock: Int { candidateCount.trailingZeroBitCount }

  /// The number of blocks of an update of `coordinates` coordinates: ⌈D/d⌉.
  public func blockCount(coordinates: Int) -> Int {
    (coordinates + blockDimension - 1) / blockDimension
  }

  /// The bits of an update of D = `coordinates` coordinates: blocks × log₂K.
  public func bits(coordinates: Int) -> Int { blockCount(coordinates: coordinates) * bitsPerBlock }

  /// ``bits(coordinates:)`` ÷ D (32 would be float32).
  public func bitsPerParameter(coordinates: Int) -> Double {
    Double(bits(coordinates: coordinates)) / Double(coordinates)
  }

  /// The design with the fewest bits for an update of D = `coordinates` coordinates whose
  /// whole divergence is κ = C²/(2s²) nats, with blocks of equal share κ·d/D:
  /// for each block size d, ρ minimises (d/2)·log ρ + κ_b/(ρ − 1)
  /// (ρ − 1 = (κ_b + √(κ_b² + 2dκ_b))/d), log M is that minimum (plus 10⁻⁹ for rounding) and
  /// K the smallest power of two with failure probability ≤ `failureProbability`; blocks are
  /// as large as `maximumLogAcceptanceBound` (the expected M candidates per block is the
  /// client's work) allows, taking the d with the fewest bits.
  /// - Precondition: D ≥ 1, κ > 0 finite, bounds > 0.
  public static func design(
    coordinates: Int, divergence: Double, maximumLogAcceptanceBound: Double = Double.log(1024),
    failureProbability: Double = 1e-3
  ) -> RelativeEntropyCoder {
    precondition(coordinates >= 1 && divergence > 0 && divergence.isFinite)
    precondition(maximumLogAcceptanceBound > 0 && failureProbability > 0)
    var best: RelativeEntropyCoder?
    var bestBits = Int.max
    for dimension in 1...coordinates {
      let blockDivergence = divergence * Double(dimension) / Double(coordinates)
      let excess =
        (blockDivergence
          + (blockDivergence * blockDivergence + 2 * Double(dimension)
          * blockDivergence).squareRoot()) / Double(dimension)
      let rho = 1 + excess
      let logBound =
        logDensityRatioBound(
          dimension: dimension, divergence: blockDivergence, proposalVarianceRatio: rho) + 1e-9
      if logBound > maximumLogAcceptanceBound && best != nil { break }
      // K − 1 ≥ log(1/p_f)/(−log(1 − 1/M)) candidates.
      let needed =
        Double.log(1 / failureProbability) / -Double.log(onePlus: -Double.exp(-logBound)) + 1
      let exponent = max(1, Int(Double.log2(needed).rounded(.up)))
      guard exponent < 62 else { break }
      let coder = RelativeEntropyCoder(
        blockDimension: dimension, blockDivergence: blockDivergence, proposalVarianceRatio: rho,
        logAcceptanceBound: logBound, candidateCount: 1 << exponent)
      let bits = coder.blockCount(coordinates: coordinates) * exponent
      if bits < bestBits {
        best = coder
        bestBits = bits
      }
    }
    return best!
  }
}
