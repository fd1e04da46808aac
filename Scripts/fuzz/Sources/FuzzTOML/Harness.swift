import DPFederated
import Foundation
import FuzzSupport

@testable import DPFLCommands

/// A `--config` settings file, as `dpfl train --config` and `dpfl plan --config` read it:
/// parsed, decoded into the settings, resolved into a configuration and validated.
@_cdecl("FuzzTOML_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { bytes in
    guard let text = String(validating: bytes, as: UTF8.self) else { return }
    do throws(CLIError) {
      let settings = try FlatTOML.decode(
        TrainSettings.self, text: text, path: "run.toml",
        allowedKeys: TrainSettings.CodingKeys.allCases.map(\.rawValue))
      let configuration = settings.configuration
      for problem in configuration.problems(clientCount: nil) {
        precondition(!problem.description.contains("\n"), "a multi-line message")
      }
    } catch {
      let message = error.message(.flag)
      precondition(!message.contains("\n"), "a multi-line message")
      precondition(message.utf8.count < 2048, "message too long: \(message.utf8.count) bytes")
    }
  }
}
