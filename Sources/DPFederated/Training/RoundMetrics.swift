/// What one round did, as a line of `metrics.jsonl`.
///
/// **Outside ε.** ``loss``, ``clipFraction`` and ``examples`` are the cohort's own numbers,
/// without noise: what the server sees in the central model (it sees the clipped updates
/// too), kept as diagnostics. The run's ε covers the released model (and the adaptive clip's
/// noisy count), not these. Publish the adapter and the summary; give `metrics.jsonl` only to
/// whom the server's view may go, as with Opacus's training loss.
public struct RoundMetrics: Codable, Equatable, Sendable {
  /// The round, from 0.
  public var round: Int
  /// DP-DyLoRA's active rank (`nil` for other methods).
  public var activeRank: Int?
  /// Clients trained this round.
  public var cohort: Int
  /// The cohort's training examples (each client's examples once, whatever its local
  /// epochs); `nil` in run folders written before it was recorded.
  public var examples: Int?
  /// Mean local training loss over the cohort's examples.
  public var loss: Double
  /// Fraction of the cohort whose update was clipped.
  public var clipFraction: Double
  /// C used this round (user level).
  public var clippingBound: Double?
  /// ε spent after this round (at the run's δ; 0 without privacy accounting).
  public var epsilon: Double
  /// Bytes one client sends this round (live coordinates × 4).
  public var bytesPerClient: Int
  /// Accuracy on the evaluation split after the round (`nil` when not evaluated).
  public var accuracy: Double?

  enum CodingKeys: String, CodingKey {
    case round, activeRank = "active_rank", cohort, examples, loss
    case clipFraction = "clip_fraction"
    case clippingBound = "clipping_bound", epsilon
    case bytesPerClient = "bytes_per_client", accuracy
  }
}
