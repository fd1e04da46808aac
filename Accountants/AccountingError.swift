/// Everything the Accountants module throws. Each case carries the facts needed to
/// fix the problem, and its ``description`` is one sentence of the form
/// "<what> must <requirement>; got <value>."
public enum AccountingError: Error, Equatable, Sendable, CustomStringConvertible {
  /// An event could not be composed: a parameter is out of range, or the accountant
  /// does not support the (innermost) sub-event named in the failure. Nothing was
  /// composed.
  case cannotCompose(CompositionFailure)

  /// A numeric argument is outside its allowed range.
  case invalidArgument(name: String, value: Double, requirement: String)

  /// Calibration found no parameter value meeting the target within its search range.
  case noBracketFound(reason: String)

  /// A computation would exceed its documented memory or time bound.
  case resourceLimitExceeded(reason: String)

  /// One sentence naming the problem and its value.
  public var description: String {
    switch self {
    case .cannotCompose(let failure):
      return failure.description
    case .invalidArgument(let name, let value, let requirement):
      return "\(name) must \(requirement); got \(value)."
    case .noBracketFound(let reason), .resourceLimitExceeded(let reason):
      return reason
    }
  }
}
