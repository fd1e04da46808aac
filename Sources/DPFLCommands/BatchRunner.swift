import Foundation

/// Runs JSON Lines batches: one query per line, one JSON result per line, in order.
/// A bad line yields `{"error": "...", "line": N}` and the others still run. Lines end
/// with LF or CRLF. Lines are answered on every core, a block at a time; each line's answer
/// depends on that line alone, so the output is the same for any number of cores.
enum BatchRunner {
  /// Lines answered together before their results are printed.
  static let blockSize = 512

  /// Answers every line of `path` ('-' for stdin) and prints the results to stdout.
  ///
  /// - Parameters:
  ///   - defaults: fields given as flags; each line's own fields take precedence.
  ///   - allowed: the keys a line may have.
  ///   - timings: add `seconds`, the time `answer` took, to each result.
  ///   - workers: how many lines are answered at once.
  ///   - answer: validates and answers one query.
  /// - Returns: whether every line succeeded.
  /// - Throws: ``CLIError/unreadableFile(path:reason:)`` when the file cannot be read.
  static func run<Result: Encodable & SendableMetatype>(
    path: String, defaults: RawQuery, allowed: Set<QueryField>, timings: Bool,
    workers: Int = ProcessInfo.processInfo.activeProcessorCount,
    answer: @escaping @Sendable (RawQuery) throws(CLIError) -> Result
  ) throws(CLIError) -> Bool {
    let data: Data
    if path == "-" {
      data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
      guard let contents = FileManager.default.contents(atPath: path) else {
        throw .unreadableFile(path: path, reason: "no such file, or not readable.")
      }
      data = contents
    }
    let numbered = lines(of: data).enumerated().filter { !isBlank($0.element) }.map {
      NumberedLine(number: $0.offset + 1, bytes: $0.element)
    }
    var allSucceeded = true
    for start in stride(from: 0, to: numbered.count, by: blockSize) {
      let block = numbered[start..<min(start + blockSize, numbered.count)]
      let outputs = block.concurrentMap(workers: workers) {
        respond(to: $0, defaults: defaults, allowed: allowed, timings: timings, answer: answer)
      }
      for output in outputs {
        allSucceeded = allSucceeded && output.succeeded
        print(output.json)
      }
    }
    return allSucceeded
  }

  /// A non-blank line of a batch and its 1-based number in the file.
  struct NumberedLine: Sendable {
    var number: Int
    var bytes: ArraySlice<UInt8>
  }

  /// One line's JSON result, or its error object.
  static func respond<Result: Encodable>(
    to line: NumberedLine, defaults: RawQuery, allowed: Set<QueryField>, timings: Bool,
    answer: (RawQuery) throws(CLIError) -> Result
  ) -> (json: String, succeeded: Bool) {
    let clock = ContinuousClock()
    let start = clock.now
    do throws(CLIError) {
      let object = try JSONScalar.object(line: line.bytes)
      let result = try answer(RawQuery(json: object, allowed: allowed).overriding(defaults))
      let seconds = timings ? (clock.now - start).seconds : nil
      return (Rendering.json(Timed(result: result, seconds: seconds)), true)
    } catch {
      return (Rendering.json(LineError(error: error.message(.jsonKey), line: line.number)), false)
    }
  }

  /// The lines of `data`: split at LF, a CR before the LF dropped (CRLF files), and a
  /// UTF-8 byte-order mark at the start dropped.
  static func lines(of data: Data) -> [ArraySlice<UInt8>] {
    var bytes = [UInt8](data)[...]
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
    return bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
      line.last == 0x0D ? line.dropLast() : line
    }
  }

  /// Whether a line holds only JSON whitespace.
  static func isBlank(_ line: ArraySlice<UInt8>) -> Bool {
    line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
  }

  /// A result with an optional `seconds` key added beside its own keys.
  private struct Timed<Result: Encodable>: Encodable {
    var result: Result
    var seconds: Double?

    private enum CodingKeys: String, CodingKey { case seconds }

    func encode(to encoder: any Encoder) throws {
      try result.encode(to: encoder)
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encodeIfPresent(seconds, forKey: .seconds)
    }
  }

  private struct LineError: Encodable {
    var error: String
    var line: Int
  }
}

extension Duration {
  /// The duration in seconds as a Double.
  var seconds: Double {
    let (whole, fraction) = components
    return Double(whole) + Double(fraction) * 1e-18
  }
}
