import Foundation
import Testing

/// Runs the built `dpfl` executable, which SwiftPM places beside the test bundle.
enum BinaryRunner {
  struct Output {
    var stdout: String
    var stderr: String
    var status: Int32
  }

  static var executable: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("dpfl")
  }

  /// Runs `dpfl arguments…` with optional standard input and waits for it.
  static func run(_ arguments: [String], stdin: String? = nil) throws -> Output {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    let stderrData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Output(
      stdout: String(decoding: stdoutData, as: UTF8.self),
      stderr: String(decoding: stderrData, as: UTF8.self),
      status: process.terminationStatus)
  }

  /// The one JSON object a `--format json` run printed.
  static func json(_ output: Output) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
    return try #require(object as? [String: Any], "stdout is not one JSON object: \(output.stdout)")
  }
}
