import Accountants
import DPModel
import Foundation

/// A validated `dpfl account --ledger FILE` query: re-account a ledger (the `DPEvent` JSON
/// that training runs and ``DPEventBuilder`` write, or a Flower node's own books, a JSON
/// array of events that compose) at a fixed δ or ε, with one accountant or, with
/// `--compare`, with every accountant side by side.
struct LedgerQuery: Sendable {
  var ledger: DPEvent
  var target: AccountQuery.Target
  var methods: [AccountantKind]
  var conversion: RDPConversion

  /// Reads and validates the ledger at `path` ('-' for stdin) and the target flags.
  /// - Throws: ``CLIError/unreadableFile(path:reason:)``, ``CLIError/malformedFile(path:reason:)``
  ///   for JSON that is not a ledger, and usage errors for the flags.
  init(path: String, raw: RawQuery, compare: Bool) throws(CLIError) {
    let scheduleFlags: [(QueryField, Bool)] = [
      (.noiseMultiplier, raw.noiseMultiplier != nil), (.samplingRate, raw.samplingRate != nil),
      (.steps, raw.steps != nil), (.population, raw.population != nil),
      (.cohortSize, raw.cohortSize != nil),
      (.rounds, raw.rounds != nil), (.sampling, raw.sampling != nil),
    ]
    if let (field, _) = scheduleFlags.first(where: \.1) {
      throw .conflict(.ledger, field, reason: "the ledger says what was released.")
    }
    if compare, raw.accountant != nil {
      throw .conflict(.accountant, .compare, reason: "--compare runs every accountant.")
    }
    target = try AccountQuery.Target(raw)
    methods = compare ? AccountantKind.allCases : [raw.accountant ?? .rdp]
    conversion = raw.conversion ?? .improved
    if raw.accountant == .moments, raw.conversion == .improved {
      throw .conflict(
        .accountant, .conversion, reason: "the moments accountant uses the classic conversion.")
    }
    ledger = try Self.decodeLedger(try Self.read(path), source: path == "-" ? "stdin" : path)
  }

  /// The ledger in `data`, read strictly (``StrictJSON/decode(_:from:source:decoder:)``): a
  /// repeated key, a number out of range, nesting deeper than 256 levels or a field of the
  /// wrong type is refused with the line, column and key path. An array of events (a node's
  /// books) is their composition.
  /// - Throws: ``CLIError/malformedFile(path:reason:)`` naming `source:line:column`.
  static func decodeLedger(_ data: Data, source: String) throws(CLIError) -> DPEvent {
    do {
      return try StrictJSON.decode(LedgerFile.self, from: data, source: source).ledger
    } catch let error as ModelError {
      guard case .malformedJSON(let file, let line, let column, let reason) = error else {
        throw .malformedFile(path: source, reason: error.description)
      }
      throw .malformedFile(
        path: line > 0 ? "\(file):\(line):\(column)" : file,
        reason: "not a DPEvent ledger: \(reason).")
    } catch {
      throw .malformedFile(
        path: source, reason: "not a DPEvent ledger: \(MessageText.truncated("\(error)")).")
    }
  }

  /// Every requested accountant's result, or its error, in order.
  func evaluate() -> [(method: AccountantKind, result: Result<AccountResult, CLIError>)] {
    let schedule = AccountResult.Schedule(ledger: ledger)
    return AccountingMethod.findings(
      of: ledger, target: target, methods: methods, conversion: conversion
    ).map { method, finding in
      (
        method,
        finding.map {
          AccountResult(finding: $0, target: target, schedule: schedule, ledger: ledger)
        }.mapError { .accounting($0) }
      )
    }
  }

  private static func read(_ path: String) throws(CLIError) -> Data {
    if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .unreadableFile(path: path, reason: "no such file, or not readable.")
    }
    return data
  }
}

extension AccountQuery.Target {
  /// `--delta D` (to get ε) or `--epsilon E` (to get δ), exactly one of them.
  init(_ raw: RawQuery) throws(CLIError) {
    switch (raw.delta, raw.epsilon) {
    case (let delta?, nil): self = .delta(try Validate.delta(delta, .delta))
    case (nil, let epsilon?): self = .epsilon(try Validate.nonNegative(epsilon, .epsilon))
    case (nil, nil): throw .missing(.delta, hint: "give --delta to get ε, or --epsilon to get δ.")
    case (.some, .some):
      throw .conflict(.delta, .epsilon, reason: "give --delta to get ε, or --epsilon to get δ.")
    }
  }
}

/// What a ledger file holds: one event (a run's `ledger.json`), or a JSON array of events (a
/// Flower node's own books, `node-ledger-partition-I.json`), which compose.
private struct LedgerFile: Decodable {
  var ledger: DPEvent

  init(from decoder: any Decoder) throws {
    if (try? decoder.unkeyedContainer()) != nil {
      ledger = .composed(try [DPEvent](from: decoder))
    } else {
      ledger = try DPEvent(from: decoder)
    }
  }
}
