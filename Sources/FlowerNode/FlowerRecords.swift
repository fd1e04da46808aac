/// Values by name, in the order they were first set: Flower's records are Python
/// dictionaries, and the order of their keys is part of the bytes (and so of the ids) of
/// the objects that carry them.
public struct NamedValues<Value: Equatable & Sendable>: Equatable, Sendable,
  ExpressibleByDictionaryLiteral
{
  /// The names, in order.
  public private(set) var names: [String] = []
  /// The values, in the order of `names`.
  public private(set) var values: [Value] = []

  public init() {}

  public init(dictionaryLiteral elements: (String, Value)...) {
    for (name, value) in elements { self[name] = value }
  }

  /// The value named `name`; setting a new name appends it, setting an existing one
  /// replaces its value in place.
  public subscript(name: String) -> Value? {
    get { names.firstIndex(of: name).map { values[$0] } }
    set {
      if let index = names.firstIndex(of: name) {
        if let newValue {
          values[index] = newValue
        } else {
          names.remove(at: index)
          values.remove(at: index)
        }
      } else if let newValue {
        names.append(name)
        values.append(newValue)
      }
    }
  }

  /// The (name, value) pairs, in order.
  public var entries: Zip2Sequence<[String], [Value]> { zip(names, values) }
}

/// A value of a Flower `ConfigRecord` or `MetricRecord` (metrics take only the numeric cases).
public enum FlowerValue: Equatable, Sendable {
  case double(Double)
  case int(Int64)
  case uint(UInt64)
  case bool(Bool)
  case string(String)
  case bytes([UInt8])
  case doubles([Double])
  case ints([Int64])
  case uints([UInt64])
  case bools([Bool])
  case strings([String])
  case byteStrings([[UInt8]])

  /// The value as a `Double`, if it is one number.
  public var number: Double? {
    switch self {
    case .double(let value): value
    case .int(let value): Double(value)
    case .uint(let value): Double(value)
    default: nil
    }
  }

  /// Whether a `MetricRecord` may hold it.
  public var isMetric: Bool {
    switch self {
    case .double, .int, .uint, .doubles, .ints, .uints: true
    default: false
    }
  }
}

/// One record of a ``FlowerRecordDict``.
public enum FlowerRecord: Equatable, Sendable {
  /// An `ArrayRecord`: named arrays (a model's parameters, by name).
  case arrays(NamedValues<NumpyArray>)
  /// A `ConfigRecord`: named settings (the round, its learning rate, …).
  case config(NamedValues<FlowerValue>)
  /// A `MetricRecord`: named numbers (`num-examples`, a loss, …).
  case metrics(NamedValues<FlowerValue>)
}

/// The content of a Flower message: named records.
public typealias FlowerRecordDict = NamedValues<FlowerRecord>
