import DPFederated

/// dpfl's exit codes (sysexits where one fits), in one place: the commands use them and
/// `--help` lists them.
enum ExitStatus {
  /// Success.
  static let success: Int32 = 0
  /// A runtime failure: an unreachable privacy target, an accountant that cannot answer, a
  /// damaged run folder, a model file that does not load.
  static let failure: Int32 = 1
  /// A run stopped because its next round would exceed the privacy budget.
  static let budgetExhausted: Int32 = 3
  /// An audit whose lower bound exceeds the accountant's ε: the mechanism leaks more than
  /// it claims, with the audit's confidence.
  static let auditFailed: Int32 = 4
  /// A bad flag, value or combination (EX_USAGE).
  static let usage: Int32 = 64
  /// A malformed input file or batch line (EX_DATAERR).
  static let malformedInput: Int32 = 65
  /// An input file that cannot be read (EX_NOINPUT).
  static let unreadableInput: Int32 = 66
  /// A Flower SuperLink that cannot be reached or refuses the node (EX_UNAVAILABLE).
  static let unavailable: Int32 = 69

  /// The exit codes as `--help` shows them.
  static let help = """
    Exit codes: 0 success; 1 runtime failure (unreachable target, damaged run folder); \
    3 budget exhausted (a round was refused); 4 an audit's lower bound exceeds the \
    accountant's ε; 64 bad flags or values; 65 malformed input \
    file or batch line; 66 unreadable input file; 69 a Flower SuperLink unreachable or \
    refusing the node.
    """

  /// The code of a training error.
  static func code(of error: FederatedError) -> Int32 {
    switch error {
    case .invalidConfiguration, .invalidSettings: usage
    case .malformedData: malformedInput
    case .accounting, .runFolder, .numerical: failure
    }
  }
}
