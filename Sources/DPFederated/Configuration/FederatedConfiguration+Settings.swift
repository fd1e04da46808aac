import ArgumentParser
import Foundation

/// One setting's value as a TOML run config or `config.json` holds it.
public enum SettingValue: Equatable, Sendable, Codable {
  case boolean(Bool)
  case integer(Int)
  case unsigned(UInt64)
  case number(Double)
  case text(String)

  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let value = try? container.decode(Bool.self) {
      self = .boolean(value)
    } else if let value = try? container.decode(Int.self) {
      self = .integer(value)
    } else if let value = try? container.decode(UInt64.self) {
      self = .unsigned(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else {
      self = .text(try container.decode(String.self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .boolean(let value): try container.encode(value)
    case .integer(let value): try container.encode(value)
    case .unsigned(let value): try container.encode(value)
    case .number(let value): try container.encode(value)
    case .text(let value): try container.encode(value)
    }
  }

  /// The value as a command-line argument (numbers in their shortest exact form).
  public var argument: String {
    switch self {
    case .boolean(let value): "\(value)"
    case .integer(let value): "\(value)"
    case .unsigned(let value): "\(value)"
    case .number(let value): "\(value)"
    case .text(let value): value
    }
  }
}

/// What kind of value a setting takes (for checking a settings file line by line).
public enum SettingKind: Equatable, Sendable {
  case boolean
  case integer
  case unsigned
  case number
  case text
  /// One of these names.
  case choice([String])
}

/// The property wrappers a configuration's settings are stored in.
private protocol SettingStorage {
  var storedValue: Any { get }
  static var valueType: Any.Type { get }
}
extension Option: SettingStorage {
  fileprivate var storedValue: Any { wrappedValue }
  fileprivate static var valueType: Any.Type { Value.self }
}
extension Flag: SettingStorage {
  fileprivate var storedValue: Any { wrappedValue }
  fileprivate static var valueType: Any.Type { Value.self }
}

/// `Optional`, seen through its wrapped type.
private protocol OptionalType { static var wrapped: Any.Type { get } }
extension Optional: OptionalType { fileprivate static var wrapped: Any.Type { Wrapped.self } }

extension FederatedConfiguration {
  /// Every setting that has a value, by key (the property name in snake_case: the TOML and
  /// `config.json` key; the flag is the same name in kebab-case).
  public var settings: [String: SettingValue] {
    var result: [String: SettingValue] = [:]
    for child in Mirror(reflecting: self).children {
      guard let label = child.label, let storage = child.value as? SettingStorage else { continue }
      if let value = Self.settingValue(storage.storedValue) {
        result[Self.key(property: String(label.dropFirst()))] = value
      }
    }
    return result
  }

  /// The keys a TOML run config or `config.json` may hold, in declaration order.
  public static var settingKeys: [String] {
    Mirror(reflecting: defaults).children.compactMap { child in
      guard let label = child.label, child.value is SettingStorage else { return nil }
      return key(property: String(label.dropFirst()))
    }
  }

  /// The kind of value each setting takes, by key.
  public static var settingKinds: [String: SettingKind] {
    var kinds: [String: SettingKind] = [:]
    for child in Mirror(reflecting: defaults).children {
      guard let label = child.label, let storage = child.value as? SettingStorage else { continue }
      var type = Swift.type(of: storage).valueType
      if let optional = type as? OptionalType.Type { type = optional.wrapped }
      kinds[key(property: String(label.dropFirst()))] = kind(of: type)
    }
    return kinds
  }

  private static func kind(of type: Any.Type) -> SettingKind {
    switch type {
    case is Bool.Type: return .boolean
    case is Int.Type: return .integer
    case is UInt64.Type: return .unsigned
    case is Double.Type: return .number
    case is String.Type: return .text
    case let choices as any (CaseIterable & RawRepresentable<String>).Type:
      return .choice(choices.names)
    default: preconditionFailure("a setting of unsupported type \(type)")
    }
  }

  /// A configuration from a TOML run config's or `config.json`'s settings, then
  /// `arguments` (flags, which override them), validated once.
  /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)`` naming an
  ///   unknown key, or the first message of the parser or of ``validate()``.
  public init(settings: [String: SettingValue], overriddenBy arguments: [String] = []) throws {
    let known = Set(Self.settingKeys)
    var flags: [String] = []
    for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
      guard known.contains(key) else {
        throw FederatedError.invalidConfiguration(
          field: "key \(key)", value: "present",
          allowed: "one of \(Self.settingKeys.joined(separator: ", "))")
      }
      flags += Self.arguments(key: key, value: value)
    }
    self = try Self.parsed(flags + arguments)
  }

  /// The flags that set `key` to `value`: `--key value`, or `--key`/`--no-key` for switches.
  public static func arguments(key: String, value: SettingValue) -> [String] {
    let flag = "--" + key.replacingOccurrences(of: "_", with: "-")
    if case .boolean(let on) = value {
      return [on ? flag : "--no-" + flag.dropFirst(2)]
    }
    return [flag, value.argument]
  }

  /// ``parse(_:)`` with ArgumentParser's errors as one-line ``FederatedError``s.
  static func parsed(_ arguments: [String]) throws -> FederatedConfiguration {
    do { return try parse(arguments) } catch {
      throw FederatedError.invalidSettings(message(for: error))
    }
  }

  /// snake_case of a camelCase property name.
  static func key(property: String) -> String {
    var key = ""
    for character in property {
      if character.isUppercase {
        key += "_" + character.lowercased()
      } else {
        key.append(character)
      }
    }
    return key
  }

  /// A stored value as a setting (`nil` for an unset optional).
  private static func settingValue(_ value: Any) -> SettingValue? {
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .optional {
      return mirror.children.first.flatMap { settingValue($0.value) }
    }
    switch value {
    case let value as Bool: return .boolean(value)
    case let value as Int: return .integer(value)
    case let value as UInt64: return .unsigned(value)
    case let value as Double: return .number(value)
    case let value as String: return .text(value)
    case let value as any RawRepresentable<String>: return .text(value.rawValue)
    default: preconditionFailure("a setting of unsupported type \(type(of: value))")
    }
  }
}

extension CaseIterable where Self: RawRepresentable<String> {
  /// The names of the cases, in declaration order.
  fileprivate static var names: [String] { allCases.map(\.rawValue) }
}
