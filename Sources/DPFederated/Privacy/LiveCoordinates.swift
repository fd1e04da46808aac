import DPModel

/// The coordinates of the trainable parameters that a client can change in a round. Only
/// these are noised and sent: DP-DyLoRA's rank components outside the round's active set
/// are identically zero for every client, so releasing them exactly leaks nothing
/// (spec §5.2), and they cost no bytes.
public struct LiveCoordinates: Equatable, Sendable {
  /// The live rank components of every LoRA factor (`nil`: every coordinate is live).
  public let components: Range<Int>?

  /// Every coordinate live.
  public static let all = LiveCoordinates(components: nil)

  /// The live set of a round: for DyLoRA at rank b, component b alone (frozen) or 1…b.
  public init(adapter: AdapterConfiguration?, activeRank: Int?) {
    guard let adapter, adapter.kind == .dyLoRA, let b = activeRank else {
      self.init(components: nil)
      return
    }
    self.init(components: adapter.frozen ? (b - 1)..<b : 0..<b)
  }

  init(components: Range<Int>?) { self.components = components }

  /// The flat indices (as ``ParameterSet/flattened()`` orders them) of the live coordinates.
  public func indices<Scalar>(in parameters: ParameterSet<Scalar>) -> [Int] {
    var result: [Int] = []
    var offset = 0
    for (name, matrix) in zip(parameters.names, parameters.matrices) {
      for row in 0..<matrix.rows {
        for column in 0..<matrix.columns where isLive(name: name, row: row, column: column) {
          result.append(offset + row * matrix.columns + column)
        }
      }
      offset += matrix.count
    }
    return result
  }

  /// Whether entry (row, column) of the parameter `name` is live.
  func isLive(name: String, row: Int, column: Int) -> Bool {
    guard let components else { return true }
    if name.hasSuffix("lora_A") { return components.contains(row) }
    if name.hasSuffix("lora_B") { return components.contains(column) }
    return true
  }
}
