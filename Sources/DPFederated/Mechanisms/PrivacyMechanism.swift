import Accountants
import DPModel

/// How a participant's contribution is made private (ARCHITECTURE, "the federated seam";
/// pfl-research's split mechanism): what each client's contribution is constrained to, how
/// the cohort's release is noised, and the ``DPEvent`` one round's release costs.
///
/// Conformers: ``CentralGaussianMechanism`` (user level: one clip per client, Gaussian noise
/// on the cohort sum, optionally with adaptive clipping), ``LocalDPSGDMechanism`` (example
/// level: DP-SGD inside each client), ``CentralDPSGDMechanism`` (example level: one clipped
/// step per client, the noise on the cohort sum), ``CodedGaussianMechanism`` (DP-REC: each client sends
/// an exactly coded noisy update) and ``NonPrivateMechanism`` (the comparison row). The
/// round loop never branches on which.
///
/// The server side ``release(_:template:context:authorization:)`` needs the round's
/// ``ReleaseAuthorization``, which only ``PrivacyLedger`` hands out, after composing,
/// checking and persisting the round's event.
public protocol PrivacyMechanism: Sendable {
  /// σ, the noise multiplier the run was calibrated to (0 without privacy).
  var noiseMultiplier: Double { get }
  /// C for the next round (it moves with adaptive clipping; restored from checkpoints).
  var clippingBound: Double { get set }
  /// The event one round releases, cohort sampling included.
  var roundEvent: DPEvent { get }
  /// The ledger after `rounds` rounds (``PrivacyPlan/repeated(_:rounds:)`` of
  /// ``roundEvent`` unless the rounds are one release, as DP-BREM's momentum makes them).
  func ledger(rounds: Int) -> DPEvent
  /// How a client's local training forms its batches and steps.
  var localSteps: any LocalStepRule { get }
  /// Whether the round's event counts on each client's own local sampling (example level:
  /// its Poisson batches), so that randomness must be the client's secret: a Flower node
  /// then draws it from its OS CSPRNG, not from the server's round seed.
  var samplesLocally: Bool { get }
  /// What the run's ε means, in words (for the summary).
  var assumptions: [String] { get }

  /// DP-REC's candidate key for the round: a secret of the server and the cohort, never
  /// published (`nil` for mechanisms that need none).
  func cohortKey(roundSeed: UInt64) -> UInt64?

  /// The communication of a coded mechanism: bits per parameter here and in the
  /// deployment (`nil` when updates travel as floats).
  func codingReport(adapter: FederatedMethod) -> CodingReport?

  /// Client side: the message carrying `update` (the trained minus the global
  /// parameters), constrained as the mechanism requires.
  func message(for update: ParameterSet<Float>, client: Int, context: RoundContext)
    -> ClientMessage

  /// Server side: the message a client sent from another process (a Flower node), put
  /// through the constraint of ``message(for:client:context:)`` again, so that the
  /// sensitivity the noise is calibrated for holds whatever a node sends; an honest node's
  /// passes unchanged (the default: ``message(for:client:context:)`` again, whose clip is
  /// idempotent).
  func received(_ sent: ParameterSet<Float>, client: Int, context: RoundContext)
    -> ClientMessage

  /// Server side: the cohort's released sum (noised, decoded) from the clients' results.
  /// - Parameters:
  ///   - template: the global parameters (names and shapes of the sum).
  ///   - authorization: the ledger's proof that the round was accounted and recorded.
  mutating func release(
    _ results: [ClientResult], template: ParameterSet<Float>, context: RoundContext,
    authorization: ReleaseAuthorization
  ) -> Release
}

extension PrivacyMechanism {
  public func ledger(rounds: Int) -> DPEvent { PrivacyPlan.repeated(roundEvent, rounds: rounds) }
  public func cohortKey(roundSeed: UInt64) -> UInt64? { nil }
  public func codingReport(adapter: FederatedMethod) -> CodingReport? { nil }

  public func received(_ sent: ParameterSet<Float>, client: Int, context: RoundContext)
    -> ClientMessage
  {
    message(for: sent, client: client, context: context)
  }
}

/// What the server releases in a round.
public struct Release: Sendable {
  /// The cohort's sum, noised (or decoded) as the mechanism prescribes.
  public var sum: ParameterSet<Float>
  /// The fraction of the round's clipping that bit: of clients (user level) or of
  /// examples over the local epochs (example level).
  public var clipFraction: Double
  /// The bound the round clipped client updates to (`nil` when updates are not clipped).
  public var clippingBound: Double?
  /// Bits one client sent (`nil`: 32 per live coordinate).
  public var bitsPerClient: Int?
}

/// What one client sends the server.
public struct ClientMessage: Equatable, Sendable {
  /// The contribution.
  public enum Payload: Equatable, Sendable {
    /// The (clipped or locally privatised) update; only live coordinates are non-zero.
    case update(ParameterSet<Float>)
    /// DP-REC: one candidate index per block.
    case codedBlocks([Int])
  }

  /// The client's index among the task's clients.
  public var client: Int
  /// The contribution.
  public var payload: Payload
  /// Whether the update fitted within the round's clipping bound (adaptive clipping
  /// counts these bits under noise).
  public var withinBound: Bool

  /// An update sent as it is (no clip at this stage).
  static func unclipped(_ update: ParameterSet<Float>, client: Int) -> ClientMessage {
    ClientMessage(client: client, payload: .update(update), withinBound: true)
  }

  /// `update` clipped to L2 norm `bound`, noting whether the clip bit.
  static func clipped(_ update: ParameterSet<Float>, to bound: Double, client: Int)
    -> ClientMessage
  {
    var clipped = update
    let (_, wasClipped) = GaussianNoise.clip(&clipped, to: bound)
    return ClientMessage(client: client, payload: .update(clipped), withinBound: !wasClipped)
  }

  /// Whether every value sent is finite (coded indices always are).
  public var isFinite: Bool {
    guard case .update(let update) = payload else { return true }
    return update.flattened().allSatisfy(\.isFinite)
  }
}

/// A client's message and what the simulation records about its local training.
public struct ClientResult: Sendable {
  public var message: ClientMessage
  /// The sum of the per-example losses of the last local epoch.
  public var loss: Double
  /// The client's examples.
  public var exampleCount: Int
  /// Per-example gradients that DP-SGD clipped (0 at user level).
  public var clippedExamples: Int
  /// Local epochs run.
  public var localEpochs: Int
  /// The bits the client sent when not its update's live coordinates as float32 (`nil`:
  /// those, or the mechanism's ``Release/bitsPerClient``).
  public var bitsSent: Int?

  public init(
    message: ClientMessage, loss: Double, exampleCount: Int, clippedExamples: Int, localEpochs: Int,
    bitsSent: Int? = nil
  ) {
    self.message = message
    self.loss = loss
    self.exampleCount = exampleCount
    self.clippedExamples = clippedExamples
    self.localEpochs = localEpochs
    self.bitsSent = bitsSent
  }
}

extension [ClientResult] {
  /// The sum of the cohort's plain updates in cohort order, on a zero `template`.
  /// - Precondition: every payload is an update.
  func updateSum(template: ParameterSet<Float>) -> ParameterSet<Float> {
    var sum = template.with(flattened: [Float](repeating: 0, count: template.scalarCount))
    for result in self {
      guard case .update(let update) = result.message.payload else {
        preconditionFailure("client \(result.message.client) sent a coded update")
      }
      sum.add(update)
    }
    return sum
  }

  /// The release of updates whose privacy (if any) was added by the clients: their plain
  /// sum, with the fraction of per-example gradients DP-SGD clipped.
  func plainRelease(template: ParameterSet<Float>) -> Release {
    Release(
      sum: updateSum(template: template), clipFraction: clippedExampleFraction,
      clippingBound: nil, bitsPerClient: nil)
  }

  /// The fraction of per-example gradients DP-SGD clipped over every local epoch.
  var clippedExampleFraction: Double {
    let steps = reduce(0) { $0 + $1.exampleCount * $1.localEpochs }
    return Double(reduce(0) { $0 + $1.clippedExamples }) / Double(Swift.max(1, steps))
  }

  /// The fraction of clients whose update exceeded the clipping bound.
  var clippedClientFraction: Double {
    isEmpty ? 0 : Double(filter { !$0.message.withinBound }.count) / Double(count)
  }
}
