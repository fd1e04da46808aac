import Accountants
import DPModel

/// The Gaussian mechanism of DP-FedAvg (McMahan et al., ICLR 2018; spec §1): each client's
/// whole update is clipped to L2 norm C (one clip over everything it sends), and one
/// Gaussian draw N(0, (σC)²) per live coordinate is added to the cohort's sum.
///
/// Its event, `.gaussian(noiseMultiplier: σ)`, is one release with L2 sensitivity C under
/// add/remove-one-client; the cohort sampler wraps it in the sampling event.
public struct GaussianMechanism: Equatable, Sendable {
  /// C, the L2 bound on one client's contribution.
  public let clippingBound: Double
  /// σ, relative to C.
  public let noiseMultiplier: Double

  /// A mechanism with bound C and noise multiplier σ.
  /// - Precondition: C > 0 and σ ≥ 0.
  public init(clippingBound: Double, noiseMultiplier: Double) {
    precondition(
      clippingBound > 0 && noiseMultiplier >= 0,
      "need C > 0 and σ ≥ 0; got C = \(clippingBound), σ = \(noiseMultiplier)")
    self.clippingBound = clippingBound
    self.noiseMultiplier = noiseMultiplier
  }

  /// σC, the standard deviation of the noise on the sum.
  public var noiseStandardDeviation: Double { noiseMultiplier * clippingBound }

  /// The event of one release.
  public var event: DPEvent { .gaussian(noiseMultiplier: noiseMultiplier) }

  /// Scales `update` by min(1, C/‖update‖) (norm over every parameter, in Double), and
  /// returns the norm before clipping and whether it was clipped. No constant is added
  /// to the norm: a clipped update has norm C up to Float rounding.
  public func clip(_ update: inout ParameterSet<Float>) -> (norm: Double, clipped: Bool) {
    Self.clip(&update, to: clippingBound)
  }

  /// ``clip(_:)`` with an explicit bound.
  public static func clip(_ update: inout ParameterSet<Float>, to bound: Double) -> (
    norm: Double, clipped: Bool
  ) {
    let norm = update.flattened().reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    guard norm > bound else { return (norm, false) }
    update = update.with(flattened: update.flattened().map { Float(Double($0) * bound / norm) })
    return (norm, true)
  }

  /// Adds N(0, (scale·σC)²) to every live coordinate of `sum`; dead coordinates (which no
  /// client could change this round) stay exactly zero.
  /// - Parameter scale: m_sim/m_noise when simulating a larger cohort's noise, else 1.
  public func addNoise<G: RandomNumberGenerator>(
    to sum: inout ParameterSet<Float>, live: LiveCoordinates, scale: Double,
    using generator: inout G
  ) {
    let deviation = scale * noiseStandardDeviation
    guard deviation > 0 else { return }
    var values = sum.flattened()
    for index in live.indices(in: sum) {
      values[index] += Float(deviation * generator.nextStandardNormal())
    }
    sum = sum.with(flattened: values)
  }
}
