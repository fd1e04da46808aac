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

  /// The live set of a round: for DyLoRA at rank b, the components that train at b
  /// (``DyLoRAAdapter/trainedComponents(activeRank:frozen:)``); every coordinate otherwise.
  public init(adapter: AdapterConfiguration?, activeRank: Int?) {
    guard let adapter, adapter.kind == .dyLoRA, let b = activeRank else {
      self.init(components: nil)
      return
    }
    self.init(
      components: DyLoRAAdapter<Float>.trainedComponents(activeRank: b, frozen: adapter.frozen))
  }

  init(components: Range<Int>?) { self.components = components }

  /// The flat indices (as ``ParameterSet/flattened()`` orders them) of the live coordinates.
  public func indices<Scalar>(in parameters: ParameterSet<Scalar>) -> [Int] {
    var result: [Int] = []
    var offset = 0
    for (name, matrix) in zip(parameters.names, parameters.matrices) {
      let axis = LowRankFactors<Float>.componentAxis(ofParameterNamed: name)
      for row in 0..<matrix.rows {
        for column in 0..<matrix.columns where isLive(axis, row: row, column: column) {
          result.append(offset + row * matrix.columns + column)
        }
      }
      offset += matrix.count
    }
    return result
  }

  /// Whether entry (row, column) of a parameter whose components lie along `axis` is live.
  func isLive(_ axis: LowRankFactors<Float>.ComponentAxis?, row: Int, column: Int) -> Bool {
    guard let components, let axis else { return true }
    switch axis {
    case .rows: return components.contains(row)
    case .columns: return components.contains(column)
    }
  }
}
