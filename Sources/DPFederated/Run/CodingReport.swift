import Accountants
import RealModule

/// DP-REC's communication in a run's summary: what one client sends per round in this run,
/// and what it would send in the deployment the accounting describes (m_noise clients per
/// round, each carrying σC/√m_noise of noise, so fewer bits than a simulated client, which
/// carries the simulated sum's share).
public struct CodingReport: Codable, Equatable, Sendable {
  /// The coded adapter's method: `dp-lora`, `ffa-lora` or `fed-sb`.
  public var adapter: String
  /// d, the largest block's coordinates.
  public var blockDimension: Int
  /// Blocks per client update.
  public var blocks: Int
  /// K, the index alphabet of a block.
  public var candidateCount: Int
  /// M, the expected number of candidates a client draws per block.
  public var expectedCandidatesPerBlock: Double
  /// The probability that a block codes nothing (independent of the data).
  public var blockFailureProbability: Double
  /// Bits one client sends per round: blocks × log₂K.
  public var bitsPerClient: Int
  /// ``bitsPerClient`` ÷ trainable parameters (32 for float32 updates).
  public var bitsPerParameter: Double
  /// The same for a client of the deployment (per-client noise σC/√m_noise).
  public var deploymentBitsPerParameter: Double

  enum CodingKeys: String, CodingKey {
    case adapter, blockDimension = "block_dimension", blocks, candidateCount = "candidate_count"
    case expectedCandidatesPerBlock = "expected_candidates_per_block"
    case blockFailureProbability = "block_failure_probability"
    case bitsPerClient = "bits_per_client", bitsPerParameter = "bits_per_parameter"
    case deploymentBitsPerParameter = "deployment_bits_per_parameter"
  }

  /// The report of `coder` on D = `coordinates` of `adapter`'s update, with `deployment` the
  /// coder a deployment client would use.
  public init(
    adapter: String, coder: RelativeEntropyCoder, deployment: RelativeEntropyCoder,
    coordinates: Int
  ) {
    self.adapter = adapter
    blockDimension = coder.blockDimension
    blocks = coder.blockCount(coordinates: coordinates)
    candidateCount = coder.candidateCount
    expectedCandidatesPerBlock = Double.exp(coder.logAcceptanceBound)
    blockFailureProbability = coder.failureProbability
    bitsPerClient = coder.bits(coordinates: coordinates)
    bitsPerParameter = coder.bitsPerParameter(coordinates: coordinates)
    deploymentBitsPerParameter = deployment.bitsPerParameter(coordinates: coordinates)
  }
}
