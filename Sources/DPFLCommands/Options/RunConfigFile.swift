import DPFederated
import Foundation
import TOMLKit

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
  /// The file's settings.
  /// - Throws: ``CLIError/unreadableFile(path:reason:)`` or
  ///   ``CLIError/malformedFile(path:reason:)`` naming the line, an unknown key (with the
  ///   allowed ones) or a value that is not a string, number or boolean.
  static func settings(_ path: String) throws(CLIError) -> [String: SettingValue] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
      throw .unreadableFile(path: path, reason: "no such file, or not UTF-8 text")
    }
    let table: TOMLTable
    do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
      throw .malformedFile(path: path, reason: "line \(error.source.begin.line): \(error.description)")
    } catch {
      throw .malformedFile(path: path, reason: "\(error)")
    }
    let allowed = FederatedConfiguration.settingKeys
    var settings: [String: SettingValue] = [:]
    for (key, value) in table {
      guard allowed.contains(key) else {
        throw .malformedFile(
          path: path, reason: "unknown key \(key); allowed: \(allowed.joined(separator: ", "))")
      }
      if let bool = value.bool {
        settings[key] = .boolean(bool)
      } else if let int = value.int {
        settings[key] = .integer(int)
      } else if let double = value.double {
        settings[key] = .number(double)
      } else if let string = value.string {
        settings[key] = .text(string)
      } else {
        throw .malformedFile(path: path, reason: "\(key) must be a string, number or boolean")
      }
    }
    return settings
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
