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

  /// The seed of client `client`'s local randomness in this round.
  public func clientSeed(_ client: Int) -> UInt64 { seed ^ UInt64(client + 1) }
}
