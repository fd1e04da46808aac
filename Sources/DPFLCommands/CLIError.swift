import Accountants
import ArgumentParser
import DPModel
import Foundation

/// A named input of a query, spelled as a flag on the command line (`--noise-multiplier`)
/// and as a key in JSON Lines batches (`noise_multiplier`).
enum QueryField: String, CaseIterable, Sendable {
  case noiseMultiplier = "noise_multiplier"
  case samplingRate = "sampling_rate"
  case steps
  case population
  case cohortSize = "cohort_size"
  case rounds
  case delta
  case epsilon
  case accountant
  case conversion
  case sampling
  case clippingBound = "clipping_bound"
  case solve
  case tuningRuns = "tuning_runs"
  case tuningDistribution = "tuning_distribution"
  case momentum
  case recordRate = "record_rate"
  case ledger
  case compare
  case config

  /// The command-line spelling.
  var flag: String { "--" + rawValue.replacingOccurrences(of: "_", with: "-") }
}

/// How error messages name fields: as flags for the command line, as keys in batches.
enum FieldSpelling: Sendable {
  case flag
  case jsonKey

  func name(_ field: QueryField) -> String {
    switch self {
    case .flag: return field.flag
    case .jsonKey: return field.rawValue
    }
  }
}

/// A user error of the CLI, rendered as one line naming the flag (or key), the value
/// and what is allowed. Exit codes follow sysexits: 64 usage, 65 malformed data.
enum CLIError: Error, Equatable, Sendable {
  /// A field's value is outside what is allowed.
  case invalidValue(QueryField, value: String, requirement: String)
  /// A required field is missing; `hint` says which alternatives exist.
  case missing(QueryField, hint: String)
  /// Fields that cannot be combined.
  case conflict(QueryField, QueryField, reason: String)
  /// A value of the wrong JSON type, or a key that does not exist.
  case malformedField(key: String, reason: String)
  /// A line of a batch file that is not a JSON object.
  case malformedLine(reason: String)
  /// A file that cannot be read.
  case unreadableFile(path: String, reason: String)
  /// A file whose content is not what it should be.
  case malformedFile(path: String, reason: String)
  /// A file that cannot be written (`--report`).
  case unwritableFile(path: String, reason: String)
  /// The accountant rejected the query (unreachable target, unsupported event).
  case accounting(AccountingError)
  /// Some lines of a batch failed; their results say why.
  case batchHadErrors

  /// A training setting is invalid (the message names the flag, the value and what is allowed).
  case invalidConfiguration(String)

  /// One line, fields spelled as flags or JSON keys.
  func message(_ spelling: FieldSpelling) -> String {
    switch self {
    case .invalidValue(let field, let value, let requirement):
      return "\(spelling.name(field)) must \(requirement); got \(value)."
    case .missing(let field, let hint):
      return "\(spelling.name(field)) is required; \(hint)"
    case .conflict(let first, let second, let reason):
      return "\(spelling.name(first)) and \(spelling.name(second)) cannot be combined: \(reason)"
    case .malformedField(let key, let reason):
      return "\(MessageText.truncated(key)): \(reason)"
    case .malformedLine(let reason):
      return "not a JSON object: \(reason)"
    case .unreadableFile(let path, let reason):
      return "cannot read \(path): \(reason)"
    case .unwritableFile(let path, let reason):
      return "cannot write \(path): \(reason)"
    case .malformedFile(let path, let reason):
      return "\(path): \(reason)"
    case .accounting(let error):
      return error.description
    case .batchHadErrors:
      return "some lines of the batch failed; their results carry \"error\" and \"line\"."
    case .invalidConfiguration(let message):
      return message
    }
  }

  /// 64 (usage) for bad flags and values, 65 for malformed files, 1 otherwise.
  var exitCode: Int32 {
    switch self {
    case .invalidValue, .missing, .conflict, .invalidConfiguration: return 64
    case .malformedField, .malformedLine, .malformedFile, .batchHadErrors: return 65
    case .unreadableFile: return 66
    case .unwritableFile, .accounting(.noBracketFound), .accounting(.cannotCompose),
      .accounting(.resourceLimitExceeded):
      return 1
    case .accounting(.invalidArgument): return 64
    }
  }
}

/// Runs the body of `command`; a ``CLIError`` becomes one line "Error: …" on stderr and the
/// error's exit code, never a trap. A usage error (exit 64) is followed by the command's
/// usage line, as ArgumentParser shows it for the errors it finds itself.
func reportingErrors(
  of command: any ParsableCommand.Type, _ body: () throws(CLIError) -> Void
) throws {
  do {
    try body()
  } catch {
    var text = "Error: \(error.message(.flag))\n"
    if error.exitCode == ExitStatus.usage {
      let name = command.configuration.commandName ?? ""
      text += "Usage: \(DPFL.usageString(for: command))\n"
      text += "  See 'dpfl \(name) --help' for more information.\n"
    }
    FileHandle.standardError.write(Data(text.utf8))
    throw ExitCode(error.exitCode)
  }
}
