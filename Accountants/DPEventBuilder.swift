/// A run-length ledger of released events, as in dp_accounting's `DpEventBuilder`
/// and Opacus's `history`.
///
/// Composing the same event several times in a row merges into one
/// ``DPEvent/selfComposed(_:count:)`` entry, so a 10⁶-step run is one entry, not 10⁶.
/// ``build()`` returns the smallest event that accounts exactly like the sequence of
/// composed events (property tested).
public struct DPEventBuilder: Hashable, Sendable {
  private struct Run: Hashable, Sendable {
    var event: DPEvent
    var count: Int
  }

  private var runs: [Run] = []

  /// Creates an empty ledger (it builds to ``DPEvent/noOp``).
  public init() {}

  /// Appends `count` ≥ 1 repetitions of `event`, merging with the last entry when it
  /// holds the same event and the merged count fits in an `Int` (otherwise the repetitions
  /// start a new entry: the ledger stays exact, it never traps; issue 14).
  /// - Precondition: `count` ≥ 1; accountants validate counts before calling this.
  public mutating func compose(_ event: DPEvent, count: Int = 1) {
    precondition(count >= 1, "DPEventBuilder.compose: count must be ≥ 1; got \(count)")
    if let last = runs.last, last.event == event {
      let (merged, overflow) = last.count.addingReportingOverflow(count)
      if !overflow {
        runs[runs.count - 1].count = merged
        return
      }
    }
    runs.append(Run(event: event, count: count))
  }

  /// The ledger as one event: `noOp` when empty, the event itself (or its
  /// `selfComposed` form) for a single run, `composed` of the runs otherwise.
  public func build() -> DPEvent {
    let events = runs.map { $0.count == 1 ? $0.event : .selfComposed($0.event, count: $0.count) }
    switch events.count {
    case 0: return .noOp
    case 1: return events[0]
    default: return .composed(events)
    }
  }
}
