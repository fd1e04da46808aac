import Accountants
import Foundation

/// The folder a training run writes, and reads back to resume:
/// - `config.json`: the resolved ``FederatedConfiguration`` (flags and defaults applied);
/// - `ledger.json`: the ``DPEvent`` of everything released so far, which
///   `dpfl account --ledger` re-accounts; written before each round's noisy release;
/// - `metrics.jsonl`: one ``RoundMetrics`` object per completed round;
/// - `checkpoint.json`: the state after the last completed round (``Checkpoint``);
/// - the trained adapter (written by the task at the end).
/// Every file is replaced atomically (``AtomicFile``).
public struct RunFolder: Sendable {
  /// The folder.
  public let url: URL

  /// File names inside the folder.
  public enum File: String, Sendable {
    case configuration = "config.json"
    case ledger = "ledger.json"
    case metrics = "metrics.jsonl"
    case checkpoint = "checkpoint.json"
    case summary = "summary.json"
  }

  /// A folder at `url`, created if missing.
  /// - Throws: ``FederatedError/runFolder(path:reason:)``.
  public init(creating url: URL) throws {
    do {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      throw FederatedError.runFolder(
        path: url.path, reason: "cannot create it (\(error.localizedDescription))")
    }
    self.url = url
  }

  /// An existing run folder (for `--resume`).
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when it has no config.json.
  public init(existing url: URL) throws {
    guard
      FileManager.default.fileExists(
        atPath: url.appendingPathComponent(File.configuration.rawValue).path)
    else {
      throw FederatedError.runFolder(
        path: url.path, reason: "no config.json (not a dpfl run folder)")
    }
    self.url = url
  }

  /// The path of `file`.
  public func path(_ file: File) -> URL { url.appendingPathComponent(file.rawValue) }

  static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return encoder
  }()

  static let decoder: JSONDecoder = {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return decoder
  }()

  /// Writes `value` as JSON to `file`, atomically.
  public func write<T: Encodable>(_ value: T, to file: File) throws {
    let data: Data
    do { data = try Self.encoder.encode(value) } catch {
      throw FederatedError.runFolder(path: path(file).path, reason: "cannot encode (\(error))")
    }
    try AtomicFile.write(data + Data("\n".utf8), to: path(file))
  }

  /// Reads `file` as JSON, or `nil` if it does not exist.
  public func read<T: Decodable>(_ type: T.Type, from file: File) throws -> T? {
    guard let data = FileManager.default.contents(atPath: path(file).path) else { return nil }
    do { return try Self.decoder.decode(type, from: data) } catch {
      throw FederatedError.runFolder(path: path(file).path, reason: "malformed (\(error))")
    }
  }

  /// The run's configuration, as `config.json` records its settings (parsed and validated
  /// as flags would be).
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when it is missing or invalid.
  public func readConfiguration() throws -> FederatedConfiguration {
    guard let settings = try read([String: SettingValue].self, from: .configuration) else {
      throw FederatedError.runFolder(path: url.path, reason: "no config.json")
    }
    do { return try FederatedConfiguration(settings: settings) } catch {
      throw FederatedError.runFolder(path: path(.configuration).path, reason: "\(error)")
    }
  }

  /// Rewrites `metrics.jsonl` with `metrics`, one object per line, atomically.
  public func writeMetrics(_ metrics: [RoundMetrics]) throws {
    var data = Data()
    for line in metrics {
      do { data += try Self.encoder.encode(line) + Data("\n".utf8) } catch {
        throw FederatedError.runFolder(
          path: path(.metrics).path, reason: "cannot encode (\(error))")
      }
    }
    try AtomicFile.write(data, to: path(.metrics))
  }

  /// The metrics lines written so far.
  public func readMetrics() throws -> [RoundMetrics] {
    guard let data = FileManager.default.contents(atPath: path(.metrics).path) else { return [] }
    return try data.split(separator: UInt8(ascii: "\n")).enumerated().map { index, line in
      do { return try Self.decoder.decode(RoundMetrics.self, from: Data(line)) } catch {
        throw FederatedError.malformedData(
          file: path(.metrics).path, line: index + 1, reason: "\(error)")
      }
    }
  }
}
