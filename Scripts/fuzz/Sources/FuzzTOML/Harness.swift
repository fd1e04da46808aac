import DPFederated
import Foundation
import FuzzSupport

@testable import DPFLCommands

/// A `--config` settings file, as `dpfl train --config` and `dpfl plan --config` read it:
/// parsed, each value checked against its setting, resolved into a configuration and
/// validated.
@_cdecl("FuzzTOML_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { bytes in
    guard let text = String(validating: bytes, as: UTF8.self) else { return }
    do throws(CLIError) {
      let settings = try RunConfigFile.settings(text: text, path: "run.toml")
      do {
        _ = try FederatedConfiguration(settings: settings)
      } catch {
        // One line per problem, each short.
        for line in "\(error)".split(separator: "\n") {
          precondition(line.utf8.count < 2048, "problem too long: \(line.utf8.count) bytes")
        }
      }
    } catch {
      let message = error.message(.flag)
      precondition(!message.contains("\n"), "a multi-line message")
      precondition(message.utf8.count < 2048, "message too long: \(message.utf8.count) bytes")
    }
  }
}
