import DPModel

/// The Gaussian mechanism's two steps on parameter sets (McMahan et al., ICLR 2018;
/// spec §1): clip a contribution to L2 norm C (one clip over everything it holds), and add
/// N(0, (σC)²) to every live coordinate of a sum. The mechanisms use it for client updates
/// (user level) and per-step gradient sums (DP-SGD).
public struct GaussianNoise: Equatable, Sendable {
  /// C, the L2 bound on one contribution.
  public let clippingBound: Double
  /// σ, relative to C.
  public let noiseMultiplier: Double

  /// Noise σC for contributions clipped to C.
  /// - Precondition: C > 0 and σ ≥ 0, both finite.
  public init(clippingBound: Double, noiseMultiplier: Double) {
    precondition(
      clippingBound > 0 && clippingBound.isFinite && noiseMultiplier >= 0
        && noiseMultiplier.isFinite,
      "need finite C > 0 and σ ≥ 0; got C = \(clippingBound), σ = \(noiseMultiplier)")
    self.clippingBound = clippingBound
    self.noiseMultiplier = noiseMultiplier
  }

  /// σC, the standard deviation of the noise on a sum.
  public var standardDeviation: Double { noiseMultiplier * clippingBound }

  /// Scales `update` by min(1, C/‖update‖) (the norm over every parameter, in Double) and
  /// returns the norm before clipping and whether it was clipped. No constant is added to
  /// the norm: a clipped update has norm C up to Float rounding.
  public static func clip(_ update: inout ParameterSet<Float>, to bound: Double) -> (
    norm: Double, clipped: Bool
  ) {
    let norm = update.flattened().reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    guard norm > bound else { return (norm, false) }
    update = update.with(flattened: update.flattened().map { Float(Double($0) * bound / norm) })
    return (norm, true)
  }

  /// ``clip(_:to:)`` at C.
  public func clip(_ update: inout ParameterSet<Float>) -> (norm: Double, clipped: Bool) {
    Self.clip(&update, to: clippingBound)
  }

  /// Adds N(0, (scale·σC)²) to every live coordinate of `sum` (``StandardNormalPairs``);
  /// dead coordinates (which no client could change this round) stay exactly zero.
  /// - Parameter scale: m_sim/m_noise when simulating a larger cohort's noise, else 1.
  public func add<G: RandomNumberGenerator>(
    to sum: inout ParameterSet<Float>, live: LiveCoordinates, scale: Double,
    using generator: inout G
  ) {
    let deviation = scale * standardDeviation
    guard deviation > 0 else { return }
    var values = sum.flattened()
    var normals = StandardNormalPairs()
    for index in live.indices(in: sum) {
      values[index] += Float(deviation * normals.next(using: &generator))
    }
    sum = sum.with(flattened: values)
  }
}
