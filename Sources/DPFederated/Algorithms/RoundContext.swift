/// The choices the server makes for a round before any client computes, the same for
/// every client of the cohort (pfl-research's CentralContext). All are public, except
/// ``cohortKey``, which only the server and the cohort know.
public struct RoundContext: Equatable, Sendable {
  /// The round, from 0.
  public var round: Int
  /// The public seed of everything random in the round.
  public var seed: UInt64
  /// The task's clients that take part, in increasing order.
  public var cohort: [Int]
  /// DP-DyLoRA's active rank (`nil` for other algorithms).
  public var activeRank: Int?
  /// The coordinates a client can change (and that are noised and sent).
  public var live: LiveCoordinates
  /// C, the bound of the round's user-level clip.
  public var clippingBound: Double
  /// DP-REC's candidate key (secret; `nil` for other mechanisms).
  public var cohortKey: UInt64?
  /// DP-BREM's centre and radius of the round's centered clipping (public; `nil` for other
  /// algorithms).
  public var centeredClip: CenteredClip?

  /// The seed of client `client`'s local randomness in this round.
  public func clientSeed(_ client: Int) -> UInt64 { seed ^ UInt64(client + 1) }
}

/// The round's centered clipping (DP-BREM): the server's momentum v, which the server sends
/// with the model, and the radius τ each client's momentum is clipped to around it.
public struct CenteredClip: Equatable, Sendable {
  /// v, over the flattened trainable parameters; empty before the first release (v = 0).
  public var center: [Float]
  /// τ.
  public var radius: Double

  /// `update` − v.
  public func deviation(_ update: [Float]) -> [Float] {
    center.isEmpty ? update : zip(update, center).map { $0 - $1 }
  }
}
