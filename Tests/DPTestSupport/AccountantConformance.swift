import Accountants
import Testing

/// dp_accounting's abstract accountant test (`privacy_accountant_test.py`) in Swift:
/// the contract every ``PrivacyAccountant`` must keep. Call it from each accountant's
/// test suite with a factory of fresh accountants.
///
/// Checks: a fresh ledger is `noOp`; `noOp` gives ε = 0 and δ = 0; `nonPrivate` gives
/// ε = ∞, also nested in a composition; an unsupported or invalid event nested in
/// compositions is reported as the innermost sub-event and leaves the accountant
/// unchanged; `selfComposed(e, n)` equals n separate composes of `e`; queries do not
/// change the ledger.
public func checkAccountantConformance<A: PrivacyAccountant & Equatable>(
  _ make: () -> A, unsupported: DPEvent, supported: DPEvent,
  sourceLocation: SourceLocation = #_sourceLocation
) throws {
  let fresh = make()
  #expect(fresh.ledger == .noOp, sourceLocation: sourceLocation)
  #expect(try fresh.epsilon(delta: 1e-5) == 0, "fresh ε", sourceLocation: sourceLocation)

  var noOp = make()
  try noOp.compose(.noOp, count: 7)
  #expect(try noOp.epsilon(delta: 1e-5) == 0, "noOp ε", sourceLocation: sourceLocation)
  #expect(try noOp.delta(epsilon: 0.5) == 0, "noOp δ", sourceLocation: sourceLocation)

  var nonPrivate = make()
  try nonPrivate.compose(.composed([supported, .selfComposed(.nonPrivate, count: 2)]))
  #expect(
    try nonPrivate.epsilon(delta: 1e-5) == .infinity, "nested nonPrivate ε",
    sourceLocation: sourceLocation)

  var accountant = make()
  try accountant.compose(supported)
  let before = accountant
  let nested = DPEvent.composed([
    supported, .selfComposed(.composed([.noOp, unsupported]), count: 3),
  ])
  let failure = accountant.check(nested)
  #expect(
    failure?.event == unsupported, "innermost sub-event named", sourceLocation: sourceLocation)
  #expect(throws: AccountingError.self, sourceLocation: sourceLocation) {
    try accountant.compose(nested)
  }
  #expect(accountant == before, "a failed compose changes nothing", sourceLocation: sourceLocation)

  let invalid = DPEvent.composed([supported, .gaussian(noiseMultiplier: -1)])
  #expect(
    accountant.check(invalid)?.event == .gaussian(noiseMultiplier: -1),
    sourceLocation: sourceLocation)

  var once = make()
  try once.compose(.selfComposed(supported, count: 5))
  var oneByOne = make()
  for _ in 0..<5 { try oneByOne.compose(supported) }
  let epsilonOnce = try once.epsilon(delta: 1e-6)
  let epsilonOneByOne = try oneByOne.epsilon(delta: 1e-6)
  #expect(
    abs(epsilonOnce - epsilonOneByOne) <= 1e-12 * max(1, epsilonOnce),
    "selfComposed(e, 5) = 5 × compose(e): \(epsilonOnce) vs \(epsilonOneByOne)",
    sourceLocation: sourceLocation)

  let ledger = once.ledger
  _ = try once.epsilon(delta: 1e-3)
  _ = try once.delta(epsilon: 1)
  #expect(once.ledger == ledger, "queries leave the ledger alone", sourceLocation: sourceLocation)
}
