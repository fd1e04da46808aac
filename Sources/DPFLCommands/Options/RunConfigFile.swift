import DPFederated
import DPModel
import Foundation

/// A TOML run config (`--config run.toml`): the settings of ``FederatedConfiguration`` by
/// their keys (the flag names in snake_case), every key optional. `dpfl train` expands
/// `--config FILE` in place into the flags it stands for, so flags after it override it and
/// one parser and one validation serve both; `dpfl plan --config` reads the same file, so a
/// plan and a run of one file agree.
///
/// ```toml
/// method = "dp-dylora"
/// epsilon = 2.0
/// rounds = 200
/// population = 1_000_000
/// noise_cohort_size = 1_000
/// ```
enum RunConfigFile {
  /// The file's settings (``FlatTOML``), each checked against the kind of value its setting
  /// takes.
  /// - Throws: ``CLIError/unreadableFile(path:reason:)``, or
  ///   ``CLIError/malformedFile(path:reason:)`` with the path as `path:line` for a syntax
  ///   error, an unknown key or a value of the wrong kind.
  static func settings(_ path: String) throws(CLIError) -> [String: SettingValue] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .unreadableFile(path: path, reason: "no such file, or not readable.")
    }
    guard let text = String(validating: data, as: UTF8.self) else {
      throw .unreadableFile(path: path, reason: "the file is not UTF-8 text.")
    }
    return try settings(text: text, path: path)
  }

  /// ``settings(_:)`` of text already read; `path` names it in errors.
  static func settings(text: String, path: String) throws(CLIError) -> [String: SettingValue] {
    let entries: [FlatTOML.Entry]
    do { entries = try FlatTOML.parse(text) } catch {
      throw .malformedFile(path: "\(path):\(error.line)", reason: error.message + ".")
    }
    let kinds = FederatedConfiguration.settingKinds
    var settings: [String: SettingValue] = [:]
    for entry in entries {
      guard let kind = kinds[entry.key] else {
        throw .malformedFile(
          path: "\(path):\(entry.line)",
          reason:
            "unknown key \(MessageText.quoted(entry.key)); allowed keys are \(FederatedConfiguration.settingKeys.sorted().joined(separator: ", ")).")
      }
      guard let value = value(entry.value, as: kind) else {
        throw .malformedFile(
          path: "\(path):\(entry.line)",
          reason: "\(entry.key) must be \(describe(kind)); got \(entry.value.summary).")
      }
      settings[entry.key] = value
    }
    return settings
  }

  /// The setting a file's value gives, if it is of the kind the setting takes (an integer
  /// is a fine number; a float is never an integer).
  static func value(_ value: FlatTOML.Value, as kind: SettingKind) -> SettingValue? {
    switch (kind, value) {
    case (.boolean, .boolean(let flag)): return .boolean(flag)
    case (.integer, .integer(let integer)): return .integer(Int(integer))
    case (.unsigned, .integer(let integer)) where integer >= 0: return .unsigned(UInt64(integer))
    case (.number, .integer(let integer)): return .number(Double(integer))
    case (.number, .float(let number)): return .number(number)
    case (.text, .string(let text)): return .text(text)
    case (.choice(let names), .string(let text)) where names.contains(text): return .text(text)
    default: return nil
    }
  }

  /// What a kind of setting must be, for messages.
  static func describe(_ kind: SettingKind) -> String {
    switch kind {
    case .boolean: "true or false"
    case .integer: "an integer"
    case .unsigned: "an integer ≥ 0"
    case .number: "a number"
    case .text: "a string"
    case .choice(let names): "one of \(names.joined(separator: ", "))"
    }
  }

  /// The configuration a file gives, flags in `overrides` taking precedence.
  static func configuration(_ path: String, overriddenBy overrides: [String] = []) throws(CLIError)
    -> FederatedConfiguration
  {
    let settings = try settings(path)
    do { return try FederatedConfiguration(settings: settings, overriddenBy: overrides) } catch {
      throw .malformedFile(path: path, reason: "\(error)")
    }
  }

  /// `arguments` with each `--config FILE` of a `train` command replaced by the flags the
  /// file's settings stand for.
  static func expand(_ arguments: [String]) throws(CLIError) -> [String] {
    guard arguments.first == "train" else { return arguments }
    var expanded: [String] = []
    var index = arguments.startIndex
    while index < arguments.endIndex {
      let argument = arguments[index]
      var path: String?
      if argument == "--config", index + 1 < arguments.endIndex {
        path = arguments[index + 1]
        index += 2
      } else if argument.hasPrefix("--config=") {
        path = String(argument.dropFirst("--config=".count))
        index += 1
      } else {
        expanded.append(argument)
        index += 1
      }
      if let path {
        for (key, value) in try settings(path).sorted(by: { $0.key < $1.key }) {
          expanded += FederatedConfiguration.arguments(key: key, value: value)
        }
      }
    }
    return expanded
  }
}
