import Accountants
import DPModel
import Foundation

/// The folder a training run owns, writes, and reads back to resume:
/// - `config.json`: the resolved ``FederatedConfiguration`` (its settings, data files by
///   absolute path);
/// - `ledger.json`: the ``DPEvent`` of everything released so far, which
///   `dpfl account --ledger` re-accounts; written before each round's noisy release;
/// - `metrics.jsonl`: one ``RoundMetrics`` object per completed round;
/// - `checkpoint.json`: the state after the last completed round (``Checkpoint``);
/// - `adapter.safetensors` and `summary.json` at the end (`audit.json` for an audit run, and
///   `report.html` once `dpfl report` has drawn it);
/// - `manifest.json`: the SHA-256 of each of these and of the data files (``RunManifest``).
///
/// A folder belongs to one run: a new run refuses a folder that is not empty, and a lock
/// keeps a second process out while the run lasts. Every file is replaced atomically
/// (``AtomicFile``). Resuming verifies the manifest first, so a damaged or edited folder is
/// refused with the file and what is wrong.
public struct RunFolder: Sendable {
  /// The folder.
  public let url: URL
  /// The lock held while this value lives.
  private let lock: RunLock

  /// File names inside the folder.
  public enum File: String, Sendable, CaseIterable {
    case configuration = "config.json"
    case ledger = "ledger.json"
    case metrics = "metrics.jsonl"
    case checkpoint = "checkpoint.json"
    case adapter = "adapter.safetensors"
    case summary = "summary.json"
    case manifest = "manifest.json"
    /// `dpfl audit`'s result (``DPAudit``).
    case audit = "audit.json"
    /// `dpfl report`'s page.
    case report = "report.html"
  }

  /// The files a resumed run reads, verified against the manifest.
  static let resumed: [File] = [.configuration, .ledger, .metrics, .checkpoint]

  /// A new run's folder at `url`: created if missing (mode 0755), refused if it holds
  /// anything but what a run that was stopped before it started leaves (its first files
  /// without `config.json`, which a run writes last), then locked.
  /// - Throws: ``FederatedError/runFolder(path:reason:)``.
  public init(creating url: URL) throws {
    let manager = FileManager.default
    let unstarted = Set([File.manifest, .ledger, .checkpoint, .metrics].map(\.rawValue))
    if let entries = try? manager.contentsOfDirectory(atPath: url.path) {
      guard entries.allSatisfy({ $0.hasPrefix(".") || unstarted.contains($0) }) else {
        let reason =
          entries.contains(File.configuration.rawValue)
          ? "holds a run already; continue it with --resume, or choose another --run-dir"
          : "is not empty; choose an empty or new --run-dir"
        throw FederatedError.runFolder(path: url.path, reason: reason)
      }
    } else {
      do {
        try manager.createDirectory(
          at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
      } catch {
        throw FederatedError.runFolder(
          path: url.path, reason: "cannot create it (\(error.localizedDescription))")
      }
    }
    self.url = url
    lock = try RunLock(folder: url)
  }

  /// An existing run's folder (for `--resume`), locked, its files verified against its
  /// manifest.
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when it has no config.json, is in
  ///   use, or a file is missing or does not match its checksum.
  public init(existing url: URL) throws {
    guard
      FileManager.default.fileExists(
        atPath: url.appendingPathComponent(File.configuration.rawValue).path)
    else {
      throw FederatedError.runFolder(
        path: url.path, reason: "no config.json (not a dpfl run folder)")
    }
    self.url = url
    lock = try RunLock(folder: url)
    try verify()
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

  /// How the folder's JSON is read back: strictly (``DPModel/StrictJSON``; a repeated key,
  /// an out-of-range number or a wrong type is refused with its line and column), with
  /// non-finite numbers as the encoder writes them.
  static let readingOptions = StrictJSON.DecodingOptions(
    nonFiniteStrings: (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan"))

  /// `data` of `file` decoded strictly.
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` saying where and what is wrong.
  func decode<T: Decodable>(_ type: T.Type, from data: Data, file: String) throws -> T {
    do {
      return try StrictJSON.decode(type, from: data, source: file, options: Self.readingOptions)
    } catch let error as ModelError {
      throw FederatedError.runFolder(path: url.path, reason: error.description)
    }
  }

  /// Writes `value` as JSON to `file`, atomically, its checksum first.
  public func write<T: Encodable>(_ value: T, to file: File) throws {
    let data: Data
    do { data = try Self.encoder.encode(value) } catch {
      throw FederatedError.runFolder(path: path(file).path, reason: "cannot encode (\(error))")
    }
    try write(data + Data("\n".utf8), to: file)
  }

  /// Replaces `file` with `contents`: the manifest records the new checksum, then the file
  /// is written atomically.
  public func write(_ contents: Data, to file: File) throws {
    try writeManifest(try manifest().recording(contents, as: file.rawValue))
    try AtomicFile.write(contents, to: path(file))
  }

  /// Reads `file` as JSON, or `nil` if it does not exist.
  public func read<T: Decodable>(_ type: T.Type, from file: File) throws -> T? {
    guard let data = FileManager.default.contents(atPath: path(file).path) else { return nil }
    return try decode(type, from: data, file: file.rawValue)
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
    try write(data, to: .metrics)
  }

  /// The metrics lines written so far.
  public func readMetrics() throws -> [RoundMetrics] {
    guard let data = FileManager.default.contents(atPath: path(.metrics).path) else { return [] }
    return try data.split(separator: UInt8(ascii: "\n")).enumerated().map { index, line in
      try decode(RoundMetrics.self, from: Data(line), file: "\(File.metrics.rawValue) line \(index + 1)")
    }
  }
}
