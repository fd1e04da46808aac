import DPModel
import FlowerNode
import Foundation

/// What a dpfl server sends a Flower node for one client of one round, and what the node
/// sends back, as Flower records. The same code writes and reads both sides.
///
/// A `train` message holds `arrays` (the global model's trainable parameters, by name, as
/// 2-D float32 arrays) and `config`: the run's configuration (`dpfl-configuration`, the
/// settings of `config.json` as JSON), the client's index in the population (`client`), and
/// the round's public choices (`round`, `seed`, `clipping-bound`, and `active-rank` and
/// `live-components` for DP-DyLoRA, `centered-clip-radius` for DP-BREM); on `--task jsonl`
/// also `dpfl-data`, the data schema the nodes' files must fit (``JSONLDataset/Schema``).
/// DP-BREM's server momentum v, once it is not zero, travels in `arrays` as the 1 × D array
/// ``serverMomentumName``. The cohort is not sent: who else takes part must stay secret for
/// sampling to amplify privacy.
///
/// The reply holds `arrays` (the client's message: its update after the mechanism's clip,
/// live coordinates only being non-zero) and `metrics` (`client`, `num-examples`, `loss`,
/// `clipped-examples`, `local-epochs`, `within-bound`).
public enum FlowerRoundContent {
  /// The `config` record of client `client`'s instruction (its `arrays` record,
  /// ``arrays(_:)`` of the global parameters, is the same for every client of the round; the
  /// ServerApp puts the two together).
  public static func config(
    configurationJSON: String, dataJSON: String? = nil, client: Int, context: RoundContext
  )
    -> NamedValues<FlowerValue>
  {
    var config: NamedValues<FlowerValue> = [
      "dpfl-configuration": .string(configurationJSON), "client": .int(Int64(client)),
      "round": .int(Int64(context.round)), "seed": .uint(context.seed),
      "clipping-bound": .double(context.clippingBound),
    ]
    if let dataJSON { config["dpfl-data"] = .string(dataJSON) }
    if let rank = context.activeRank { config["active-rank"] = .int(Int64(rank)) }
    if let live = context.live.components {
      config["live-components"] = .ints([Int64(live.lowerBound), Int64(live.upperBound)])
    }
    if let centeredClip = context.centeredClip {
      config["centered-clip-radius"] = .double(centeredClip.radius)
    }
    return config
  }

  /// The name of DP-BREM's server momentum among an instruction's arrays (no parameter's
  /// name: those are `encoder.…`, `layers.…` or `classifier.…`).
  public static let serverMomentumName = "dpfl-server-momentum"

  /// The `arrays` record of every instruction of a round: the global model's trainable
  /// parameters, and DP-BREM's server momentum v once it is not zero.
  public static func arrays(_ global: ParameterSet<Float>, context: RoundContext)
    -> NamedValues<NumpyArray>
  {
    var record = arrays(global)
    if let center = context.centeredClip?.center, !center.isEmpty {
      record[serverMomentumName] = NumpyArray(float32: center, shape: [1, center.count])
    }
    return record
  }

  /// An instruction read back: its configuration, client, round and global parameters.
  public struct Instruction: Sendable {
    public var configurationJSON: String
    /// A JSON Lines run's data schema (``JSONLDataset/Schema``), as JSON.
    public var dataJSON: String?
    public var client: Int
    public var context: RoundContext
    public var global: ParameterSet<Float>
  }

  /// Reads an instruction.
  /// - Throws: ``FederatedError/malformedData(file:line:reason:)`` naming what is missing.
  public static func instruction(_ content: FlowerRecordDict) throws -> Instruction {
    guard case .config(let config)? = content["config"] else { throw malformed("no config record") }
    guard case .string(let configurationJSON)? = config["dpfl-configuration"] else {
      throw malformed("no dpfl-configuration")
    }
    func integer(_ key: String) throws -> Int {
      switch config[key] {
      case .int(let value)?: return Int(value)
      case .uint(let value)? where value <= UInt64(Int.max): return Int(value)
      default: throw malformed("no integer \(key)")
      }
    }
    let seed: UInt64
    switch config["seed"] {
    case .uint(let value)?: seed = value
    case .int(let value)? where value >= 0: seed = UInt64(value)
    default: throw malformed("no seed")
    }
    // A JSON hop may turn 1.0 into 1: any number is read as one.
    guard let bound = config["clipping-bound"]?.number, bound > 0 else {
      throw malformed("no positive clipping-bound")
    }
    var live = LiveCoordinates.all
    if case .ints(let range)? = config["live-components"] {
      guard range.count == 2, range[0] <= range[1] else { throw malformed("bad live-components") }
      live = LiveCoordinates(components: Int(range[0])..<Int(range[1]))
    }
    let activeRank = config["active-rank"] == nil ? nil : try integer("active-rank")
    guard case .arrays(var arrays)? = content["arrays"] else { throw malformed("no arrays record") }
    var centeredClip: CenteredClip?
    if let entry = config["centered-clip-radius"] {
      guard let radius = entry.number, radius > 0 else {
        throw malformed("no positive centered-clip-radius")
      }
      // v = 0 (before the first release) is not sent.
      let center = try arrays[serverMomentumName].map { try parameters([serverMomentumName: $0]) }
      arrays[serverMomentumName] = nil
      centeredClip = CenteredClip(center: center?.flattened() ?? [], radius: radius)
    }
    var dataJSON: String?
    if let entry = config["dpfl-data"] {
      guard case .string(let json) = entry else { throw malformed("dpfl-data is not a string") }
      dataJSON = json
    }
    return Instruction(
      configurationJSON: configurationJSON, dataJSON: dataJSON, client: try integer("client"),
      context: RoundContext(
        round: try integer("round"), seed: seed, cohort: [], activeRank: activeRank,
        live: live, clippingBound: bound, cohortKey: nil, centeredClip: centeredClip),
      global: try parameters(arrays))
  }

  /// A client's reply.
  public static func reply(_ result: ClientResult) -> FlowerRecordDict {
    guard case .update(let update) = result.message.payload else {
      preconditionFailure("a coded message cannot travel over Flower yet")
    }
    let metrics: NamedValues<FlowerValue> = [
      "client": .int(Int64(result.message.client)),
      "num-examples": .int(Int64(result.exampleCount)), "loss": .double(result.loss),
      "clipped-examples": .int(Int64(result.clippedExamples)),
      "local-epochs": .int(Int64(result.localEpochs)),
      "within-bound": .int(result.message.withinBound ? 1 : 0),
    ]
    return ["arrays": .arrays(arrays(update)), "metrics": .metrics(metrics)]
  }

  /// Reads a reply from client `client`, checking it against the model's trainable
  /// parameters (`template`: every name, every shape) and putting the update through
  /// `constraint`, the mechanism's client-side constraint (``PrivacyMechanism/received(_:client:context:)``):
  /// an update longer than a user-level clip is clipped again here, so the sensitivity the noise is calibrated for holds
  /// whatever a node sends (an honest node's update passes unchanged).
  /// - Throws: ``FederatedError/malformedData(file:line:reason:)`` for a reply that does
  ///   not fit, or holds a value that is not finite.
  public static func result(
    _ content: FlowerRecordDict, client: Int, template: ParameterSet<Float>,
    constraint: (ParameterSet<Float>) -> ClientMessage
  ) throws -> ClientResult {
    guard case .metrics(let metrics)? = content["metrics"],
      case .arrays(let arrays)? = content["arrays"]
    else { throw malformed("client \(client)'s reply has no metrics or arrays") }
    guard Set(arrays.names) == Set(template.names) else {
      throw malformed("client \(client)'s update does not name the model's parameters")
    }
    var update = ParameterSet<Float>()
    for (name, expected) in zip(template.names, template.matrices) {
      let matrix = try parameters([name: arrays[name]!]).matrices[0]
      guard matrix.rows == expected.rows, matrix.columns == expected.columns else {
        throw malformed(
          "client \(client)'s \(name) is \(matrix.rows)×\(matrix.columns), not \(expected.rows)×\(expected.columns)"
        )
      }
      update.append(name, matrix)
    }
    guard update.flattened().allSatisfy(\.isFinite) else {
      throw malformed("client \(client)'s update is not finite")
    }
    func number(_ key: String) -> Double { metrics[key]?.number ?? 0 }
    // The node applied the constraint already; applying it again changes nothing when it
    // did (but rounding), and bounds the sensitivity when it did not. The node's
    // within-bound bit stands unless the server had to cut more than rounding.
    var message = constraint(update)
    var cut = update
    if case .update(let kept) = message.payload { cut.add(kept, scaledBy: -1) }
    let honest = Double(cut.l2Norm) <= 1e-5 * Double(update.l2Norm)
    message.withinBound = honest && number("within-bound") == 1
    return ClientResult(
      message: message, loss: number("loss"), exampleCount: Int(number("num-examples")),
      clippedExamples: Int(number("clipped-examples")), localEpochs: Int(number("local-epochs")))
  }

  /// Parameters as 2-D float32 arrays, by name.
  public static func arrays(_ parameters: ParameterSet<Float>) -> NamedValues<NumpyArray> {
    var arrays = NamedValues<NumpyArray>()
    for (name, matrix) in zip(parameters.names, parameters.matrices) {
      arrays[name] = NumpyArray(float32: matrix.values, shape: [matrix.rows, matrix.columns])
    }
    return arrays
  }

  static func parameters(_ arrays: NamedValues<NumpyArray>) throws -> ParameterSet<Float> {
    var parameters = ParameterSet<Float>()
    for (name, array) in arrays.entries {
      guard array.shape.count == 2, let values = array.floatValues() else {
        throw malformed("array \(name) is not a 2-D float array")
      }
      parameters.append(name, Matrix(rows: array.shape[0], columns: array.shape[1], values: values))
    }
    return parameters
  }

  private static func malformed(_ reason: String) -> FederatedError {
    .malformedData(file: "Flower message", line: 0, reason: reason)
  }
}
