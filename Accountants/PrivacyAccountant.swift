/// An accountant: a value that composes ``DPEvent``s and answers ε(δ) and δ(ε).
///
/// Accountants are value types: copy one to ask "what if I ran 100 more rounds?"
/// without touching the original. Queries never change the ledger.
///
/// Contract (checked for every accountant by the conformance tests):
/// - ``check(_:)`` is pure and performs *all* validation: parameter ranges and
///   support. If it returns `nil`, ``compose(_:count:)`` succeeds.
/// - ``compose(_:count:)`` is all-or-nothing: on failure nothing is composed and the
///   ledger is unchanged; the error names the innermost unsupported sub-event.
/// - Composing `.selfComposed(e, count: n)` equals composing `e` n times.
/// - `noOp` gives ε = 0; `nonPrivate` gives ε = ∞, even nested.
public protocol PrivacyAccountant: Sendable {
  /// The neighbouring relation every result of this accountant is relative to.
  var neighboringRelation: NeighboringRelation { get }

  /// Everything composed so far, as a run-length event (see ``DPEventBuilder``).
  var ledger: DPEvent { get }

  /// Checks whether `event` can be composed, without composing it.
  /// - Returns: `nil` if it can, otherwise the innermost offending sub-event and why.
  func check(_ event: DPEvent) -> CompositionFailure?

  /// Composes `count` ≥ 1 repetitions of `event`, or nothing at all.
  /// - Throws: ``AccountingError/cannotCompose(_:)`` when ``check(_:)`` fails, and
  ///   ``AccountingError/invalidArgument(name:value:requirement:)`` when `count` < 1.
  mutating func compose(_ event: DPEvent, count: Int) throws(AccountingError)

  /// The smallest ε this accountant can certify at the given δ, for everything
  /// composed so far. `+∞` when no finite ε is certified.
  /// - Throws: ``AccountingError/invalidArgument(name:value:requirement:)`` when δ is not in [0, 1].
  func epsilon(delta: Double) throws(AccountingError) -> Double

  /// The smallest δ this accountant can certify at the given ε.
  /// - Throws: ``AccountingError/invalidArgument(name:value:requirement:)`` when ε is negative or NaN.
  func delta(epsilon: Double) throws(AccountingError) -> Double
}

extension PrivacyAccountant {
  /// Composes `event` once.
  /// - Throws: see ``PrivacyAccountant/compose(_:count:)``.
  public mutating func compose(_ event: DPEvent) throws(AccountingError) {
    try compose(event, count: 1)
  }

  /// Whether ``compose(_:count:)`` would accept `event`.
  public func supports(_ event: DPEvent) -> Bool { check(event) == nil }
}
