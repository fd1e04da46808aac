import ArgumentParser
import FuzzSupport

@testable import DPFLCommands

/// Argument vectors (the input split at NUL bytes) as `dpfl` parses and validates them:
/// `DPFL.parseAsRoot` (which validates `train`'s settings), then `plan`'s and `account`'s
/// validation into their queries (nothing is run). Options that name files (--config, --ledger, --batch, --data, --resume
/// …) are left to the harnesses of those readers, so that no input reads the disk. Every
/// error renders as a message whose quoted values are short.
@_cdecl("FuzzCLI_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  let fileOptions = [
    "--config", "--ledger", "--batch", "--data", "--evaluation-data", "--public-data", "--resume",
    "--run-dir", "--out",
  ]
  return runFuzzer(argc, argv) { bytes in
    let arguments = splitAtNUL(bytes)
    if arguments.contains(where: { argument in
      fileOptions.contains { argument.hasPrefix($0) } || argument.hasPrefix("@")
    }) {
      return
    }
    do {
      let command = try DPFL.parseAsRoot(arguments)
      switch command {
      case let account as AccountCommand:
        _ = try AccountQuery(account.rawQuery)
      case let plan as PlanCommand:
        _ = try PlanQuery(plan.rawQuery())
      default:
        // train's and export-task's settings are validated while parsing.
        break
      }
    } catch let error as CLIError {
      let message = error.message(.flag)
      precondition(!message.contains("\n"), "a multi-line message")
      precondition(message.utf8.count < 4096, "a message of \(message.utf8.count) bytes")
      _ = error.exitCode
    } catch {
      let message = DPFL.errorMessage(for: error, arguments: arguments)
      _ = DPFL.exitCode(for: error)
      let longest = message.split(separator: "\n").map(\.utf8.count).max() ?? 0
      precondition(longest < 4096, "a message line of \(longest) bytes")
    }
  }
}
