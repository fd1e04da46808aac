import DPModel

/// Everything that can go wrong in a federated run that a user can fix: bad data, a bad
/// configuration, an unreachable budget, an unusable run folder.
public enum FederatedError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A data file has a malformed line (file:line and what is wrong).
  case malformedData(file: String, line: Int, reason: String)
  /// A configuration value is outside what is allowed.
  case invalidConfiguration(field: String, value: String, allowed: String)
  /// Settings (flags, a TOML run config or `config.json`) that do not parse or validate;
  /// the parser's message, one problem per line.
  case invalidSettings(String)
  /// The privacy target cannot be met by any noise multiplier (or the accountant failed).
  case accounting(String)
  /// The run folder cannot be read or written, or does not match the configuration.
  case runFolder(path: String, reason: String)
  /// Training produced a non-finite value; the round was stopped before its release.
  case numerical(String)

  /// One sentence naming the problem and the value found (cut to a short excerpt, control
  /// characters escaped, so that the message stays one line).
  public var description: String {
    switch self {
    case .malformedData(let file, let line, let reason):
      return "\(file):\(line): \(reason)"
    case .invalidConfiguration(let field, let value, let allowed):
      return "\(field) must be \(allowed); got \(MessageText.truncated(value))."
    case .invalidSettings(let message):
      return message
    case .accounting(let reason):
      return "Privacy accounting failed: \(reason)"
    case .runFolder(let path, let reason):
      return "Run folder \(path): \(reason)"
    case .numerical(let reason):
      return "Training diverged: \(reason)"
    }
  }
}
