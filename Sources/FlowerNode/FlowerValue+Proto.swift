import Foundation
import SwiftProtobuf

/// The protobuf form of ``FlowerValue``, as Flower's `serde_utils` maps Python values.
enum FlowerValueProto {
  static func config(_ value: FlowerValue) -> Flwr_Proto_ConfigRecordValue.OneOf_Value {
    switch value {
    case .double(let value): .double(value)
    case .int(let value): .sint64(value)
    case .uint(let value): .uint64(value)
    case .bool(let value): .bool(value)
    case .string(let value): .string(value)
    case .bytes(let value): .bytes(Data(value))
    case .doubles(let values): .doubleList(.with { $0.vals = values })
    case .ints(let values): .sintList(.with { $0.vals = values })
    case .uints(let values): .uintList(.with { $0.vals = values })
    case .bools(let values): .boolList(.with { $0.vals = values })
    case .strings(let values): .stringList(.with { $0.vals = values })
    case .byteStrings(let values): .bytesList(.with { $0.vals = values.map { Data($0) } })
    }
  }

  static func config(_ value: Flwr_Proto_ConfigRecordValue.OneOf_Value) -> FlowerValue {
    switch value {
    case .double(let value): .double(value)
    case .sint64(let value): .int(value)
    case .uint64(let value): .uint(value)
    case .bool(let value): .bool(value)
    case .string(let value): .string(value)
    case .bytes(let value): .bytes(Array(value))
    case .doubleList(let list): .doubles(list.vals)
    case .sintList(let list): .ints(list.vals)
    case .uintList(let list): .uints(list.vals)
    case .boolList(let list): .bools(list.vals)
    case .stringList(let list): .strings(list.vals)
    case .bytesList(let list): .byteStrings(list.vals.map { Array($0) })
    }
  }

  /// A metric's protobuf value; `value.isMetric` must hold.
  static func metric(_ value: FlowerValue) -> Flwr_Proto_MetricRecordValue.OneOf_Value {
    switch value {
    case .double(let value): .double(value)
    case .int(let value): .sint64(value)
    case .uint(let value): .uint64(value)
    case .doubles(let values): .doubleList(.with { $0.vals = values })
    case .ints(let values): .sintList(.with { $0.vals = values })
    case .uints(let values): .uintList(.with { $0.vals = values })
    case .bool, .string, .bytes, .bools, .strings, .byteStrings:
      preconditionFailure("\(value) is not a metric")
    }
  }

  static func metric(_ value: Flwr_Proto_MetricRecordValue.OneOf_Value) -> FlowerValue {
    switch value {
    case .double(let value): .double(value)
    case .sint64(let value): .int(value)
    case .uint64(let value): .uint(value)
    case .doubleList(let list): .doubles(list.vals)
    case .sintList(let list): .ints(list.vals)
    case .uintList(let list): .uints(list.vals)
    }
  }
}

/// A `ConfigRecord` or `MetricRecord` protobuf, read as (key, value) pairs.
protocol FlowerValueRecord: SwiftProtobuf.Message {
  var keyedValues: [(String, FlowerValue?)] { get }
}

extension Flwr_Proto_ConfigRecord: FlowerValueRecord {
  var keyedValues: [(String, FlowerValue?)] {
    items.map { ($0.key, $0.value.value.map(FlowerValueProto.config)) }
  }
}

extension Flwr_Proto_MetricRecord: FlowerValueRecord {
  var keyedValues: [(String, FlowerValue?)] {
    items.map { ($0.key, $0.value.value.map(FlowerValueProto.metric)) }
  }
}
