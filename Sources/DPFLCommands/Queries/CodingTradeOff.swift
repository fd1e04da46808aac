import Accountants
import Foundation

/// `dpfl plan --method dp-rec`: what DP-REC's exact coder sends at the planned σ, for a range
/// of client work budgets. Each of the M clients of a round carries noise s = σC/√M, so an
/// update's divergence is κ = C²/(2s²) = M/(2σ²) nats (C cancels). ε does not depend on the
/// row: the coder is exact, so every row releases exactly the planned Gaussian mechanism.
struct CodingTradeOff: Encodable, Equatable, Sendable {
  /// One work budget: blocks are as large as M ≤ `maximumCandidates` allows.
  struct Row: Encodable, Equatable, Sendable {
    var maximumCandidates: Int
    var candidateCount: Int
    var blockDimension: Int
    var blocks: Int
    var bitsPerClient: Int
    var bitsPerParameter: Double
    /// Σ over blocks of M: the candidates a client draws per round on average.
    var expectedCandidatesPerClient: Double
    var blockFailureProbability: Double

    enum CodingKeys: String, CodingKey {
      case maximumCandidates = "maximum_candidates", candidateCount = "candidate_count"
      case blockDimension = "block_dimension", blocks, bitsPerClient = "bits_per_client"
      case bitsPerParameter = "bits_per_parameter"
      case expectedCandidatesPerClient = "expected_candidates_per_client"
      case blockFailureProbability = "block_failure_probability"
    }
  }

  /// D, the coordinates of one client's update.
  var trainableParameters: Int
  /// κ = M/(2σ²), the divergence of a whole update in nats.
  var divergence: Double
  var rows: [Row]

  enum CodingKeys: String, CodingKey {
    case trainableParameters = "trainable_parameters", divergence, rows
  }

  /// The rows for work budgets M ≤ 2², 2⁴, …, 2¹⁶.
  init(noiseMultiplier: Double, cohortSize: Int, trainableParameters: Int) {
    let divergence = Double(cohortSize) / (2 * noiseMultiplier * noiseMultiplier)
    self.trainableParameters = trainableParameters
    self.divergence = divergence
    rows = stride(from: 2, through: 16, by: 2).map { exponent in
      let coder = RelativeEntropyCoder.design(
        coordinates: trainableParameters, divergence: divergence,
        maximumLogAcceptanceBound: Double(exponent) * log(2))
      let blocks = coder.blockCount(coordinates: trainableParameters)
      return Row(
        maximumCandidates: 1 << exponent, candidateCount: coder.candidateCount,
        blockDimension: coder.blockDimension, blocks: blocks,
        bitsPerClient: coder.bits(coordinates: trainableParameters),
        bitsPerParameter: coder.bitsPerParameter(coordinates: trainableParameters),
        expectedCandidatesPerClient: Double(blocks) * exp(coder.logAcceptanceBound),
        blockFailureProbability: coder.failureProbability)
    }
  }
}
