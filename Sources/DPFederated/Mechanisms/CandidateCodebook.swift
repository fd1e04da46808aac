import Accountants
import DPModel
import RealModule

/// One round of DP-REC's coding: the candidates the server and a client both generate from
/// the round's shared key, the client's encoder (exact relative entropy coding by rejection
/// sampling over them) and the server's decoder (spec §6). The coder's public parameters
/// and the exactness argument are on ``RelativeEntropyCoder`` (Accountants), which every
/// accountant checks; this type only runs it.
///
/// The update's D coordinates are permuted by a public per-round permutation and cut into
/// blocks of d (the last may be shorter); block b is clipped to C·√(d_b/D), so the blocks'
/// bounds add up to C in L2 and block b's divergence ‖Δ_b‖²/(2s²) is at most κ·d_b/D ≤ κ_b.
/// Candidate i of block b of client c is drawn from N(0, ρs²I) by a generator keyed by
/// (round key, c, b, i) alone, so the server regenerates exactly the candidate the client
/// chose. The decoded block is that candidate: a sample of N(Δ_b, s²I).
///
/// Trust model: the round key is a secret of the server and the client; the server sees each
/// client's noisy sample (less than DP-FedAvg's server, which sees clipped updates in the
/// clear); anyone else sees only the released models, whose law is that of the Gaussian
/// release the event names.
public struct CandidateCodebook: Sendable {
  /// The coder's public parameters.
  public let coder: RelativeEntropyCoder
  /// D, the coordinates of an update.
  public let coordinates: Int
  /// C, the L2 bound of a whole update.
  public let clippingBound: Double
  /// s, each client's noise standard deviation per coordinate.
  public let noiseStandardDeviation: Double
  /// The round's secret key shared by the server and the cohort.
  public let roundKey: UInt64
  /// The public permutation: block b holds the coordinates at positions b·d ..< (b+1)·d.
  let permutation: [Int]

  /// The codec of one round: the coder designed for D coordinates at divergence
  /// κ = C²/(2s²) (``RelativeEntropyCoder/design(coordinates:divergence:maximumLogAcceptanceBound:failureProbability:)``),
  /// and the round's permutation from `roundKey`.
  public init(
    coder: RelativeEntropyCoder, coordinates: Int, clippingBound: Double,
    noiseStandardDeviation: Double, roundKey: UInt64
  ) {
    self.coder = coder
    self.coordinates = coordinates
    self.clippingBound = clippingBound
    self.noiseStandardDeviation = noiseStandardDeviation
    self.roundKey = roundKey
    var generator = Xoshiro256StarStar(seed: roundKey ^ 0x7065_726D)
    permutation = Array(0..<coordinates).shuffled(using: &generator)
  }

  /// The coder with the fewest bits for D coordinates, bound C and noise s.
  public static func design(
    coordinates: Int, clippingBound: Double, noiseStandardDeviation: Double,
    maximumLogAcceptanceBound: Double = Double.log(1024)
  ) -> RelativeEntropyCoder {
    let ratio = clippingBound / noiseStandardDeviation
    return .design(
      coordinates: coordinates, divergence: ratio * ratio / 2,
      maximumLogAcceptanceBound: maximumLogAcceptanceBound)
  }

  /// The number of blocks.
  public var blockCount: Int { coder.blockCount(coordinates: coordinates) }

  /// Bits one client sends: blocks × log₂K.
  public var bitsPerClient: Int { coder.bits(coordinates: coordinates) }

  /// The positions (in the update) of block b's coordinates.
  func positions(ofBlock block: Int) -> ArraySlice<Int> {
    permutation[
      (block * coder.blockDimension)..<min(
        (block + 1) * coder.blockDimension, coordinates)]
  }

  /// Block b's L2 bound, C·√(d_b/D).
  func blockBound(_ block: Int) -> Double {
    clippingBound * (Double(positions(ofBlock: block).count) / Double(coordinates)).squareRoot()
  }

  /// Block b of `update`, clipped to its bound C·√(d_b/D): the mean of the block's target.
  public func clippedBlock(_ block: Int, of update: [Float]) -> [Double] {
    let target = positions(ofBlock: block).map { Double(update[$0]) }
    let norm = target.reduce(0) { $0 + $1 * $1 }.squareRoot()
    let bound = blockBound(block)
    return norm > bound ? target.map { $0 * bound / norm } : target
  }

  /// Candidate `index` of block `block` of client `client`: d_b draws of N(0, ρs²).
  public func candidate(client: Int, block: Int, index: Int) -> [Double] {
    var generator = candidateGenerator(client: client, block: block, index: index)
    return (0..<positions(ofBlock: block).count).map { _ in
      proposalDeviation * generator.nextStandardNormal()
    }
  }

  /// The generator of candidate `index` of block `block` of client `client`, keyed by the
  /// round key and these three numbers alone.
  func candidateGenerator(client: Int, block: Int, index: Int) -> Xoshiro256StarStar {
    Xoshiro256StarStar(
      seed: Self.mix(Self.mix(Self.mix(roundKey ^ UInt64(client)) ^ UInt64(block)) ^ UInt64(index)))
  }

  /// √ρ·s, the proposal's standard deviation.
  var proposalDeviation: Double {
    noiseStandardDeviation * coder.proposalVarianceRatio.squareRoot()
  }

  /// The block indices a client sends for `update` (D values): each block clipped to its
  /// bound, then the first candidate accepted with probability q(z)/(M·p(z)) using
  /// `acceptance`, the client's private randomness; K − 1 when none of K − 1 is accepted.
  public func encode<G: RandomNumberGenerator>(
    _ update: [Float], client: Int, acceptance: inout G
  ) -> [Int] {
    precondition(
      update.count == coordinates, "update has \(update.count) values, not \(coordinates)")
    let variance = noiseStandardDeviation * noiseStandardDeviation
    let rho = coder.proposalVarianceRatio
    let deviation = proposalDeviation
    return (0..<blockCount).map { block in
      let target = clippedBlock(block, of: update)
      let constant = Double(target.count) / 2 * Double.log(rho) - coder.logAcceptanceBound
      for index in 0..<(coder.candidateCount - 1) {
        // The candidate's draws, consumed as they are generated (as `candidate` makes them).
        var generator = candidateGenerator(client: client, block: block, index: index)
        var distance = 0.0
        var length = 0.0
        for mean in target {
          let value = deviation * generator.nextStandardNormal()
          distance += (value - mean) * (value - mean)
          length += value * value
        }
        let logAcceptance = constant - distance / (2 * variance) + length / (2 * rho * variance)
        let u = Double((acceptance.next() >> 11) + 1) * 0x1p-53
        if Double.log(u) <= logAcceptance { return index }
      }
      return coder.candidateCount - 1
    }
  }

  /// The decoded update (D values) of a client's indices, and the blocks it failed to code
  /// (whose coordinates are 0 here; the server noises them itself).
  public func decode(_ indices: [Int], client: Int) -> (update: [Float], failedBlocks: [Int]) {
    precondition(
      indices.count == blockCount, "got \(indices.count) indices for \(blockCount) blocks")
    var update = [Float](repeating: 0, count: coordinates)
    var failed: [Int] = []
    for (block, index) in indices.enumerated() {
      precondition(index >= 0 && index < coder.candidateCount, "index \(index) out of range")
      guard index < coder.candidateCount - 1 else {
        failed.append(block)
        continue
      }
      let z = candidate(client: client, block: block, index: index)
      for (position, value) in zip(positions(ofBlock: block), z) { update[position] = Float(value) }
    }
    return (update, failed)
  }

  /// Adds N(0, s²) to the coordinates of `blocks` of `values` (the server's stand-in for a
  /// failed block's noise, so that the cohort's noise stays exactly Gaussian).
  public func addBlockNoise<G: RandomNumberGenerator>(
    to values: inout [Float], blocks: [Int], using generator: inout G
  ) {
    for block in blocks {
      for position in positions(ofBlock: block) {
        values[position] += Float(noiseStandardDeviation * generator.nextStandardNormal())
      }
    }
  }

  /// SplitMix64's finaliser: a bijective mix of 64 bits.
  static func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
