import DPModel
import Foundation

extension JSONLDataset {
  struct Line: Decodable {
    enum Label { case id(Int), name(String) }
    enum Content { case text(String), features([Float]) }
    /// What the line holds, even when its values are bad: text, or features of this length.
    enum Shape { case text, features(Int) }
    enum Key: String, CodingKey { case userID = "user_id", label, text, features }

    var userID: String?
    var label: Label?
    var content: Content?
    var shape: Shape?
    var problems: [String] = []
    var hasNonFiniteFeatures = false

    init(from decoder: any Decoder) throws {
      guard let container = try? decoder.container(keyedBy: Key.self) else {
        problems.append("the line must be a JSON object (got \(Described.describe(decoder)))")
        return
      }
      if !container.contains(.userID) {
        problems.append("user_id is missing")
      } else if let id = try? container.decode(String.self, forKey: .userID) {
        userID = id
      } else if let id = try? container.decode(Int.self, forKey: .userID) {
        userID = String(id)
      } else {
        problems.append(
          "user_id must be a string or an integer (got \(Self.describe(container, .userID)))")
      }

      if !container.contains(.label) {
        problems.append("label is missing")
      } else if let id = try? container.decode(Int.self, forKey: .label) {
        if id < 0 {
          problems.append("label must be ≥ 0 (got \(id))")
        } else if id >= JSONLDataset.maximumClassCount {
          problems.append(
            "label must be a class id below \(JSONLDataset.maximumClassCount), dpfl's limit on "
              + "classes (got \(id))")
        } else {
          label = .id(id)
        }
      } else if let name = try? container.decode(String.self, forKey: .label) {
        if !name.isEmpty { label = .name(name) } else { problems.append("label must not be empty") }
      } else {
        problems.append(
          "label must be an integer class id ≥ 0 or a class name "
            + "(got \(Self.describe(container, .label)))")
      }

      switch (container.contains(.text), container.contains(.features)) {
      case (true, true):
        problems.append("the line must have exactly one of text and features (got both)")
      case (false, false):
        problems.append("the line must have exactly one of text and features (got neither)")
      case (true, false):
        shape = .text
        if let text = try? container.decode(String.self, forKey: .text) {
          content = .text(text)
        } else {
          problems.append("text must be a string (got \(Self.describe(container, .text)))")
        }
      case (false, true):
        decodeFeatures(container)
      }
    }

    /// The fast path reads doubles straight into Float32; only a line with a problem is
    /// read again, element by element, to say which element and what it is.
    mutating func decodeFeatures(_ container: KeyedDecodingContainer<Key>) {
      guard var array = try? container.nestedUnkeyedContainer(forKey: .features) else {
        problems.append(
          "features must be an array of numbers (got \(Self.describe(container, .features)))")
        return
      }
      var values: [Float] = []
      values.reserveCapacity(array.count ?? 0)
      var clean = true
      while !array.isAtEnd {
        guard let value = try? array.decode(Double.self) else {
          clean = false
          break
        }
        let single = Float(value)
        clean = clean && single.isFinite
        values.append(single)
      }
      if clean {
        if values.isEmpty {
          problems.append("features must not be empty")
        } else {
          content = .features(values)
          shape = .features(values.count)
        }
        return
      }
      guard var again = try? container.nestedUnkeyedContainer(forKey: .features) else { return }
      var first: String?
      var badCount = 0
      var index = 0
      while !again.isAtEnd, let element = try? again.decode(Element.self) {
        switch element {
        case .number(let value) where Float(value).isFinite:
          break
        case .number(let value):
          hasNonFiniteFeatures = true
          badCount += 1
          first =
            first ?? "features[\(index)] must be finite in Float32 (got \(Described.number(value)))"
        case .outOfRange:
          hasNonFiniteFeatures = true
          badCount += 1
          first =
            first ?? "features[\(index)] must be finite in Float32 (got \(Described.outOfRange))"
        case .other(let description):
          badCount += 1
          first = first ?? "features[\(index)] must be a number (got \(description))"
        }
        index += 1
      }
      shape = .features(index)
      if var first {
        if badCount > 1 { first += ", and \(badCount - 1) more features are not finite numbers" }
        problems.append(first)
      }
    }

    /// The JSON value at `key`, for a message.
    static func describe(_ container: KeyedDecodingContainer<Key>, _ key: Key) -> String {
      (try? container.decode(Described.self, forKey: key))?.text ?? "an unreadable value"
    }
  }

  /// One element of `features` on the slow path.
  enum Element: Decodable {
    case number(Double)
    case outOfRange
    case other(String)

    init(from decoder: any Decoder) throws {
      if let value = try? decoder.singleValueContainer().decode(Double.self) {
        self = .number(value)
      } else {
        let text = Described.describe(decoder)
        self = text == Described.outOfRange ? .outOfRange : .other(text)
      }
    }
  }

  /// A JSON value in a few words, for messages: `null`, `true`, `1.5`, `"cat"`, `an array`.
  struct Described: Decodable {
    static let outOfRange = "a number out of range"
    var text: String

    init(from decoder: any Decoder) throws { text = Self.describe(decoder) }

    static func describe(_ decoder: any Decoder) -> String {
      if let container = try? decoder.singleValueContainer() {
        if container.decodeNil() { return "null" }
        if let value = try? container.decode(Bool.self) { return String(value) }
        if let value = try? container.decode(Int.self) { return String(value) }
        if let value = try? container.decode(Double.self) { return number(value) }
        if let value = try? container.decode(String.self) { return quoted(value) }
      }
      if (try? decoder.unkeyedContainer()) != nil { return "an array" }
      if (try? decoder.container(keyedBy: Line.Key.self)) != nil { return "an object" }
      return outOfRange
    }

    /// NaN and ±Infinity as JSON5 spells them; other numbers as Swift prints them.
    static func number(_ value: Double) -> String {
      if value.isNaN { return "NaN" }
      if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
      return "\(value)"
    }

    /// A string in quotes, cut to 40 characters.
    static func quoted(_ text: String) -> String {
      text.count <= 40 ? "\"\(text)\"" : "\"\(text.prefix(40))…\""
    }
  }
}
