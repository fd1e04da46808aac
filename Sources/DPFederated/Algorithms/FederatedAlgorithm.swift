import DPModel
import Foundation

/// A federated algorithm (ARCHITECTURE, "the federated seam"; pfl-research's
/// FederatedAlgorithm): the round's public choices, what a client computes from them, and
/// how the server steps from the released sum. Privacy is not its concern: the
/// ``PrivacyMechanism`` constrains and noises what clients send, and the
/// ``PrivacyLedger`` accounts every release.
///
/// Conformers: ``FederatedAveraging`` (DP-FedAvg over the LoRA-family adapters, the head
/// or all weights), ``DPDyLoRA`` (a public rank per round), ``DPBREM`` (client momentum,
/// centered clipping) and ``FLoRA`` (fresh adapters of heterogeneous ranks each round,
/// merged into the weights). A new algorithm is one file
/// plus its registration in `FederatedMethod+Registration.swift`.
public protocol FederatedAlgorithm<Model, Example>: Sendable {
  associatedtype Model: ClassificationModel where Model.Scalar == Float
  associatedtype Example: Sendable

  /// The server optimiser and its state (checkpointed).
  var serverOptimizer: Optimizer<Float> { get set }

  /// The round's public choices, given the round, its seed, its cohort and the bound the
  /// mechanism clips to.
  func roundContext(round: Int, seed: UInt64, cohort: [Int], clippingBound: Double)
    -> RoundContext

  /// What client `index` computes in the round: its update (trained minus global
  /// parameters) and what local training recorded.
  func trainClient(
    _ data: ClientData<Example>, index: Int, global: Model, context: RoundContext,
    steps: any LocalStepRule, noiseSource: NoiseSource
  ) -> ClientUpdate

  /// The server's step from the round's released sum.
  mutating func apply(_ release: ParameterSet<Float>, to model: inout Model, context: RoundContext)

  /// What the algorithm keeps between rounds besides the model and the server optimiser
  /// (checkpointed; empty for most algorithms).
  var algorithmState: AlgorithmState { get set }
}

extension FederatedAlgorithm {
  public var algorithmState: AlgorithmState {
    get { AlgorithmState() }
    set {}
  }
}

/// State an algorithm carries from round to round (DP-BREM's momenta), as a checkpoint
/// records it.
public struct AlgorithmState: Codable, Equatable, Sendable {
  /// The server's momentum v, flattened (empty: none).
  public var serverMomentum: [Float] = []
  /// Each client's momentum, by client index.
  public var clientMomenta: [Int: [Float]] = [:]

  public init(serverMomentum: [Float] = [], clientMomenta: [Int: [Float]] = [:]) {
    self.serverMomentum = serverMomentum
    self.clientMomenta = clientMomenta
  }

  /// Whether there is nothing to record.
  public var isEmpty: Bool { serverMomentum.isEmpty && clientMomenta.isEmpty }
}

extension AlgorithmState {
  // Each vector is stored as its little-endian float32 bytes (base64 in JSON): a digits run
  // checkpoints 100 momenta of 4,874 values every round, 4× smaller and far faster to write
  // than JSON numbers.
  enum CodingKeys: String, CodingKey { case serverMomentum, clientMomenta }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    serverMomentum = try Self.floats(container.decode(Data.self, forKey: .serverMomentum))
    clientMomenta = try container.decode([Int: Data].self, forKey: .clientMomenta)
      .mapValues(Self.floats)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(Self.bytes(serverMomentum), forKey: .serverMomentum)
    try container.encode(clientMomenta.mapValues(Self.bytes), forKey: .clientMomenta)
  }

  static func bytes(_ values: [Float]) -> Data {
    var data = Data(capacity: values.count * 4)
    for value in values {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
    }
    return data
  }

  static func floats(_ data: Data) throws -> [Float] {
    guard data.count % 4 == 0 else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: [], debugDescription: "\(data.count) bytes are not float32 values"))
    }
    return stride(from: 0, to: data.count, by: 4).map { offset in
      let bytes = data[data.startIndex + offset..<data.startIndex + offset + 4]
      return Float(bitPattern: bytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    }
  }
}

/// A client's update before the mechanism constrains it.
public struct ClientUpdate: Sendable {
  /// Trained minus global parameters.
  public var update: ParameterSet<Float>
  /// The sum of the last local epoch's per-example losses.
  public var loss: Double
  /// Per-example gradients DP-SGD clipped (0 with plain SGD).
  public var clippedExamples: Int
  /// Local epochs run.
  public var localEpochs: Int
  /// The bits the client sends when it sends something other than the update's live
  /// coordinates as float32 (FLoRA: its factors; `nil`: those).
  public var bitsSent: Int? = nil
}
