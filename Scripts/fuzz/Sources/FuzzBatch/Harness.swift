import Foundation
import FuzzSupport

@testable import DPFLCommands

/// `dpfl account --batch` and `dpfl plan --batch` files: every line as the batch runner
/// reads it, then validated as an account query and as a plan query (not evaluated). Every
/// error renders as one short line.
@_cdecl("FuzzBatch_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { bytes in
    for line in BatchRunner.lines(of: Data(bytes)) where !BatchRunner.isBlank(line) {
      for allowed in [AccountQuery.fields, PlanQuery.fields] {
        do throws(CLIError) {
          let object = try JSONScalar.object(line: line)
          let raw = try RawQuery(json: object, allowed: allowed)
          if allowed == AccountQuery.fields {
            _ = try AccountQuery(raw)
          } else {
            _ = try PlanQuery(raw)
          }
        } catch {
          let message = error.message(.jsonKey)
          precondition(!message.contains("\n"), "a multi-line message")
          precondition(message.utf8.count < 2048, "message too long: \(message.utf8.count) bytes")
          _ = error.exitCode
        }
      }
    }
  }
}
