import DPModel

/// User-level DP-FedAvg's release on a grid (`--noise-distribution discrete`): each client
/// clips its update and rounds it to integers of grid steps γ with L2 norm ≤ C/γ *exactly*
/// (checked in integers), the server sums the integers and adds exact discrete Gaussian
/// noise N_ℤ(0, (σC/γ)²) per live coordinate (``DiscreteGaussian``, Canonne, Kamath &
/// Steinke 2020).
///
/// **What is accounted.** The integer sum Σ k_i has L2 sensitivity Δ = C/γ under add/remove
/// one client, and its noise parameter is σ·C/γ = σ·Δ (at least that: the sampler rounds the
/// variance up), so one round is `.poissonSampled(q, .discreteGaussian(noiseMultiplier: σ))`
/// with the σ of the continuous mechanism. The rounding is paid for in the clip, not in σ:
/// a client clips to C − γ√d/2 (d its live coordinates), so rounding to nearest (which moves
/// the update by at most γ√d/2) keeps it within C; γ is the coarsest power of two for which
/// that gives up at most ``roundingShare`` of C over all D trainable coordinates.
///
/// **What floating point still does.** Only post-processing of the exact release: the
/// noisy integer k = Σk_i + Z is turned into the float k·γ (exact for |k| < 2²⁴ in Float,
/// and a fixed function of k beyond), then divided by the fixed cohort size and fed to the
/// server optimiser. Nothing downstream sees the noise's low-order bits apart from k. The
/// clients' own clipping runs in floating point on their own data, which is not released.
public struct DiscreteGrid: Equatable, Sendable {
  /// γ, a power of two: the released sum is a multiple of it.
  public let granularity: Double

  /// The share of C that clients give up to rounding: 1 % (γ√D/2 ≤ 0.01·C).
  public static let roundingShare = 0.01

  /// The grid for updates of `coordinates` D trainable values clipped to `clippingBound` C.
  /// - Precondition: C > 0 and finite, D ≥ 1.
  public init(clippingBound: Double, coordinates: Int) {
    precondition(
      clippingBound > 0 && clippingBound.isFinite && coordinates >= 1,
      "need finite C > 0 and D ≥ 1; got C = \(clippingBound), D = \(coordinates)")
    granularity = DiscreteGaussian.granularity(
      clippingBound: clippingBound, dimension: coordinates, inflation: Self.roundingShare)
    precondition(
      clippingBound / granularity < 0x1p24, "C/γ must stay below 2^24; got D = \(coordinates)")
  }

  /// C/γ, the L2 bound on one client's grid vector (the sensitivity Δ in grid steps).
  public func gridBound(clippingBound: Double) -> Double { clippingBound / granularity }

  /// Client side: `update` clipped to C − γ√d/2 and rounded to the grid, as integers of grid
  /// steps with Σk² ≤ (C/γ)² (d = the live coordinates; dead ones are zero), and whether
  /// the update exceeded the clip.
  public func steps(_ update: ParameterSet<Float>, clippingBound: Double, live: LiveCoordinates)
    -> (steps: [Int64], clipped: Bool)
  {
    let values = update.flattened()
    let dimension = live.indices(in: update).count
    let bound = DiscreteGaussian.clippingBoundBeforeRounding(
      clippingBound: clippingBound, granularity: granularity, dimension: max(1, dimension))
    guard let bound else {
      preconditionFailure(
        "grid \(granularity) too coarse for C = \(clippingBound), d = \(dimension)")
    }
    let norm = values.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    let factor = norm > bound ? bound / norm : 1
    var steps = values.map { (Double($0) * factor / granularity).rounded(.toNearestOrAwayFromZero) }
      .map { Int64($0) }
    // Rounding to nearest keeps ‖k‖ ≤ C/γ up to Double's last bits; enforce it exactly.
    let limit = gridBound(clippingBound: clippingBound)
    while Double(Self.squaredNorm(steps)) > limit * limit {
      let largest = steps.indices.max { abs(steps[$0]) < abs(steps[$1]) }!
      steps[largest] -= steps[largest].signum()
    }
    return (steps, norm > bound)
  }

  /// Whether `update` is already a grid message within the bound: every value exactly k·γ
  /// and Σk² ≤ (C/γ)², as ``message(_:like:)`` sends (a message that arrived over a network:
  /// it is summed as sent, and anything else is clipped and rounded again).
  public func holdsMessage(_ update: ParameterSet<Float>, clippingBound: Double) -> Bool {
    let limit = gridBound(clippingBound: clippingBound)
    var steps: [Int64] = []
    for value in update.flattened() {
      let step = Double(value) / granularity
      guard step.isFinite, step == step.rounded(), abs(step) <= limit else { return false }
      steps.append(Int64(step))
    }
    return Double(Self.squaredNorm(steps)) <= limit * limit
  }

  /// Σk² exactly (each |k| ≤ C/γ + 1 < 2²⁵, so the sum fits in `UInt64` for any model).
  static func squaredNorm(_ steps: [Int64]) -> UInt64 {
    steps.reduce(UInt64(0)) { $0 &+ $1.magnitude * $1.magnitude }
  }

  /// The update a client sends: its grid steps as the floats k·γ (exact: |k| ≤ C/γ < 2²⁴).
  public func message(_ steps: [Int64], like update: ParameterSet<Float>) -> ParameterSet<Float> {
    update.with(flattened: steps.map { Float(Double($0) * granularity) })
  }

  /// Server side: the cohort's grid sum plus N_ℤ(0, (deviation/γ)²) on every live coordinate,
  /// as floats k·γ; dead coordinates stay exactly zero.
  /// - Parameter deviation: the noise standard deviation in update units (scale·σ·C).
  /// - Throws: ``DiscreteGaussian/ParameterError`` when deviation/γ is out of the sampler's range.
  public func release<G: RandomNumberGenerator>(
    _ updates: [ParameterSet<Float>], template: ParameterSet<Float>, live: LiveCoordinates,
    deviation: Double, using generator: inout G
  ) throws(DiscreteGaussian.ParameterError) -> ParameterSet<Float> {
    var sum = [Int64](repeating: 0, count: template.scalarCount)
    for update in updates {
      // Each sent value is exactly k·γ, so snapping recovers k.
      for (index, steps) in DiscreteGaussian.snap(update.flattened(), granularity: granularity)
        .enumerated()
      {
        sum[index] += steps
      }
    }
    let liveIndices = live.indices(in: template)
    var released = sum.map { Double($0) * granularity }
    let noisy = try DiscreteGaussian.release(
      gridSum: liveIndices.map { sum[$0] }, standardDeviation: deviation,
      granularity: granularity, using: &generator)
    for (index, value) in zip(liveIndices, noisy) { released[index] = value }
    return template.with(flattened: released.map(Float.init))
  }
}
