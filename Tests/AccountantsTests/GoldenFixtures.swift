import Foundation

/// Decodable forms of the golden files in `Fixtures/`, written by
/// `Scripts/crosscheck/run` from dp-accounting 0.6.0 and Opacus 1.6.0 (see
/// `Fixtures/README.md`); read with ``Golden/load(_:_:in:)``.

/// `rdp_poisson.json` and `rdp_fixed_size.json`.
struct RDPFixture: Decodable, Sendable {
  /// The floating-point agreement two float64 implementations of log A_α can reach: the
  /// sum is ≈ 1 + (a tiny number) and its log is formed from terms whose log-binomials
  /// come from different log-gamma implementations (glibc's and SciPy's), so each per-step
  /// log A carries an absolute rounding error of order 1e-15 in both libraries.
  static let logAAbsoluteTolerance = 1e-13

  /// |dpfl − peer| allowed for an ε or per-order value: `rtol` relative, plus the
  /// rounding of log A accumulated over `steps` steps at the optimal order.
  func tolerance(value: Double, steps: Int, order: Double) -> Double {
    max(atol, rtol * abs(value)) + Double(steps) * Self.logAAbsoluteTolerance / (order - 1)
  }

  /// |dpfl − peer| allowed for a δ: log δ = (α−1)(T·R(α) − ε + …) multiplies the rounding
  /// of each per-step R(α) by (α−1)·T, so δ is compared to 1e-7 relative plus the log A
  /// rounding accumulated over the steps (δ is an exponent: 1e-7 of it is immaterial).
  func deltaTolerance(value: Double, steps: Int) -> Double {
    abs(value) * (1e-7 + Double(steps) * Self.logAAbsoluteTolerance)
  }

  struct DPAccountingResult: Decodable, Sendable {
    var epsilon: Double
    var optimalOrder: Double
    var epsilonInteger: Double
    var optimalOrderInteger: Double
    var epsilonClassic: Double?
    var optimalOrderClassic: Double?
    var delta: Double
    var optimalOrderDelta: Double
  }

  struct OpacusResult: Decodable, Sendable {
    var epsilon: Double
    var optimalOrder: Double
  }

  struct Case: Decodable, Sendable {
    var name: String
    var samplingRate: Double?
    var sourceSize: Int?
    var sampleSize: Int?
    var noiseMultiplier: Double
    var steps: Int
    var delta: Double
    var targetEpsilon: Double
    var dpAccounting: DPAccountingResult
    /// Absent for fixed-size sampling (Opacus has none); a string where Opacus raised an error.
    var opacus: PeerResult<OpacusResult>?
  }

  struct PerOrder: Decodable, Sendable {
    var samplingRate: Double?
    var sourceSize: Int?
    var sampleSize: Int?
    var noiseMultiplier: Double
    var grid: String
    var rdp: [Double]
  }

  var rtol: Double
  var atol: Double
  var grids: [String: [Double]]
  var cases: [Case]
  var perOrder: [PerOrder]
}

/// `calibration.json`.
struct CalibrationFixture: Decodable, Sendable {
  struct Case: Decodable, Sendable {
    struct Opacus: Decodable, Sendable { var noiseMultiplier: Double }

    struct DPAccounting: Decodable, Sendable {
      var noiseMultiplier: Double
      var epsilon: Double
    }

    var name: String
    var samplingRate: Double
    var steps: Int
    var delta: Double
    var targetEpsilon: Double
    /// A string where Opacus raised an error.
    var opacus: PeerResult<Opacus>
    var dpAccounting: DPAccounting
  }

  struct MaxSteps: Decodable, Sendable {
    struct DPAccounting: Decodable, Sendable { var steps: Int }
    var name: String
    var samplingRate: Double
    var noiseMultiplier: Double
    var delta: Double
    var targetEpsilon: Double
    var dpAccounting: DPAccounting
  }

  var rtol: Double
  var atol: Double
  var cases: [Case]
  var opacusBelowDpAccounting: [String]
  var maxSteps: [MaxSteps]
}

/// A peer library's result, or the error message it raised (stored as a string).
enum PeerResult<Value: Decodable & Sendable>: Decodable, Sendable {
  case value(Value)
  case error(String)

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let message = try? container.decode(String.self) {
      self = .error(message)
    } else {
      self = .value(try container.decode(Value.self))
    }
  }

  /// The result, or `nil` where the library raised an error.
  var value: Value? {
    if case .value(let value) = self { return value }
    return nil
  }
}

/// `rdp_fixed_size_exact.json`: dp_accounting's fixed-size bound evaluated exactly
/// (mpmath, exact integer coefficients), for the cases of `rdp_fixed_size.json`.
struct ExactFixedSizeFixture: Decodable, Sendable {
  struct Case: Decodable, Sendable {
    var name: String
    var epsilon: Double
    var optimalOrder: Double?
    var epsilonInteger: Double
    var optimalOrderInteger: Double?
    var delta: Double
  }

  var rtol: Double
  var atol: Double
  var cases: [Case]
  var perOrder: [RDPFixture.PerOrder]
}
