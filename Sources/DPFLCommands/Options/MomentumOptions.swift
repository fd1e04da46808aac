import ArgumentParser

/// DP-BREM's client momentum, for `dpfl plan` and `dpfl account`: `--momentum β
/// --record-rate p` account the rounds as one momentum release (``MomentumRelease``).
struct MomentumOptions: ParsableArguments {
  @Option(
    parsing: .unconditional,
    help:
      "DP-BREM's client momentum β in (0, 1): the rounds are one momentum release at record level (the sampling rate is each client's participation q; C the sensitivity R/B)."
  )
  var momentum: Double?

  @Option(
    parsing: .unconditional,
    help:
      "With --momentum: the probability p in (0, 1] that a record is in its client's gradient in a round it takes part in (B/n of the least protected client; default 1)."
  )
  var recordRate: Double?

  /// The momentum fields of a query.
  func apply(to raw: inout RawQuery) {
    raw.momentum = momentum
    raw.recordRate = recordRate
  }
}
