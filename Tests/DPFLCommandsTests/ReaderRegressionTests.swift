import Foundation
import Testing

@testable import DPFLCommands

/// The reproducers of issue 14 for `account --batch` and `account --ledger`, each one line
/// naming what is wrong and where.
@Suite("Batch and ledger readers")
struct ReaderRegressionTests {
  static let query = #"{"noise_multiplier":1,"sampling_rate":0.01,"steps":10,"delta":1e-5}"#

  @Test("a CRLF batch file is read as separate lines")
  func crlf() throws {
    let data = Data((Self.query + "\r\n" + Self.query + "\r\n").utf8)
    let lines = BatchRunner.lines(of: data).filter { !BatchRunner.isBlank($0) }
    #expect(lines.count == 2)
    #expect(lines.allSatisfy { Array($0) == Array(Self.query.utf8) })
    let output = try BinaryRunner.run(
      ["account", "--batch", "-", "--format", "json"],
      stdin: Self.query + "\r\n" + Self.query + "\r\n")
    #expect(output.status == 0)
    #expect(output.stdout.split(separator: "\n").count == 2)
  }

  @Test("1e400 in a batch line says the number is out of range, naming the key")
  func outOfRange() throws {
    #expect(
      throws: CLIError.malformedField(
        key: "noise_multiplier",
        reason:
          "the number 1e400 is out of range (a Double holds magnitudes up to 1.8e308).")
    ) {
      try JSONScalar.object(line: Array(#"{"noise_multiplier":1e400}"#.utf8)[...])
    }
  }

  @Test("a batch line that is not an object, or repeats a key, says what and at which column")
  func malformedLines() throws {
    #expect(throws: CLIError.malformedLine(reason: "expected ',' or '}' at column 8.")) {
      try JSONScalar.object(line: Array(#"{"a":1 "b":2}"#.utf8)[...])
    }
    #expect(throws: CLIError.malformedLine(reason: "the line must be a JSON object; got an array."))
    {
      try JSONScalar.object(line: Array("[1]".utf8)[...])
    }
    #expect(
      throws: CLIError.malformedLine(
        reason: "duplicate key \"steps\" (first at line 1, column 2) at column 13.")
    ) {
      try JSONScalar.object(line: Array(#"{"steps":1, "steps":2}"#.utf8)[...])
    }
  }

  @Test("a 10 MB key or value in a batch line is cut in the error")
  func longValues() throws {
    let long = String(repeating: "x", count: 10 << 20)
    let output = try BinaryRunner.run(
      ["account", "--batch", "-"], stdin: "{\"\(long)\": 1}\n{\"accountant\": \"\(long)\"}\n")
    #expect(output.status == 65)
    let lines = output.stdout.split(separator: "\n")
    #expect(lines.count == 2)
    #expect(lines.allSatisfy { $0.utf8.count < 1000 })
    #expect(lines.allSatisfy { $0.contains("(10485760 bytes)") })
  }

  @Test("a ledger with a key twice is refused with the key and both positions")
  func duplicateLedgerKeys() throws {
    let output = try BinaryRunner.run(
      ["account", "--ledger", "-", "--delta", "1e-5"],
      stdin: #"{"type":"Gaussian","noise_multiplier":1,"noise_multiplier":2}"#)
    #expect(output.status == 65)
    #expect(
      output.stderr
        == "Error: stdin:1:41: not a DPEvent ledger: duplicate key \"noise_multiplier\" (first at line 1, column 20).\n"
    )
  }

  @Test("deep, out-of-range and mistyped ledgers say what is wrong and where")
  func ledgerMessages() throws {
    let deep = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
    #expect(
      throws: CLIError.malformedFile(
        path: "l.json:1:257", reason: "not a DPEvent ledger: nesting deeper than 256 levels.")
    ) { try LedgerQuery.decodeLedger(Data(deep.utf8), source: "l.json") }
    #expect(
      throws: CLIError.malformedFile(
        path: "l.json:1:39",
        reason:
          "not a DPEvent ledger: the number 1e400 is out of range (a Double holds magnitudes up to 1.8e308)."
      )
    ) {
      try LedgerQuery.decodeLedger(
        Data(#"{"type":"Gaussian","noise_multiplier":1e400}"#.utf8), source: "l.json")
    }
    #expect(
      throws: CLIError.malformedFile(
        path: "l.json:2:36",
        reason: "not a DPEvent ledger: count must be an integer; got the number 2.5.")
    ) {
      try LedgerQuery.decodeLedger(
        Data(
          "{\"type\":\"SelfComposed\",\n \"event\":{\"type\":\"NoOp\"}, \"count\": 2.5}".utf8),
        source: "l.json")
    }
  }

  @Test("a 100 KB flag value is cut in ArgumentParser's message, which stays a few lines")
  func longArgument() throws {
    // One argument may hold at most 128 KiB (MAX_ARG_STRLEN); 100 KB makes the point.
    let long = String(repeating: "9", count: 100_000) + "x"
    let output = try BinaryRunner.run(["account", "--delta", long])
    #expect(output.status == 64)
    #expect(output.stderr.utf8.count < 1000)
    #expect(
      output.stderr.hasPrefix(
        "Error: The value '" + String(repeating: "9", count: 64) + "… (100001 bytes)' is invalid"))
  }
}
