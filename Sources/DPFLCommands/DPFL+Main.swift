import ArgumentParser
import DPModel
import Foundation

extension DPFL {
  /// Parses the process's arguments and runs the command, as `ParsableCommand.main()` does,
  /// except that `dpfl train --config FILE` is first expanded into the flags the file stands
  /// for (``RunConfigFile/expand(_:)``), and an error message quotes long argument values cut
  /// to a short excerpt (``MessageText``): ArgumentParser echoes a bad value whole, and a
  /// 10 MB value would otherwise fill the terminal.
  public static func main() {
    main(Array(CommandLine.arguments.dropFirst()))
  }

  /// ``main()`` over `arguments` (without the program name).
  public static func main(_ givenArguments: [String]) {
    let arguments: [String]
    do { arguments = try RunConfigFile.expand(givenArguments) } catch {
      FileHandle.standardError.write(Data("Error: \(error.message(.flag))\n".utf8))
      Foundation.exit(error.exitCode)
    }
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
    } catch {
      let code = exitCode(for: error)
      guard code != .success else { exit(withError: error) }
      let message = errorMessage(for: error, arguments: arguments)
      if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
      Foundation.exit(code.rawValue)
    }
  }

  /// ArgumentParser's full message for `error` (error line, then usage), with every
  /// argument longer than ``MessageText/limit`` replaced by its truncated form.
  static func errorMessage(for error: any Error, arguments: [String]) -> String {
    var message = fullMessage(for: error)
    let long = Set(arguments.filter { $0.unicodeScalars.count > MessageText.limit })
    for argument in long.sorted(by: { $0.utf8.count > $1.utf8.count }) {
      message = message.replacingOccurrences(of: argument, with: MessageText.truncated(argument))
    }
    return message
  }
}
