import Foundation

/// Decodable forms of the golden files in `Fixtures/`, written by
/// `Scripts/crosscheck/run` from dp-accounting 0.6.0 and Opacus 1.6.0 (see
/// `Fixtures/README.md`); read with ``Golden/load(_:_:in:)``.

/// `rdp_poisson.json` and `rdp_fixed_size.json`.
struct RDPFixture: Decodable, Sendable {
  /// |dpfl − fixture| allowed for a value of `item`: the case's own `rtol` where the file
  /// gives one (dp_accounting's measured error and the float64 rounding budget of log A_α;
  /// see `Fixtures/README.md`), else the file's, and never below `atol`.
  func tolerance(_ item: Case, value: Double) -> Double {
    max(atol, (item.rtol ?? rtol) * abs(value))
  }

  /// |dpfl − fixture| allowed for a δ of `item`. log δ = (α−1)(T·R(α) − ε) + … multiplies
  /// the rounding of each step's log A_α (≲ 1e-13 in float64, in either library) by T, so
  /// δ is compared to 1e-7 relative plus T·1e-13, or the case's own `rtol` if larger (δ is
  /// an exponent: 1e-7 of it is immaterial).
  func deltaTolerance(_ item: Case, value: Double) -> Double {
    max(abs(value) * max(item.rtol ?? rtol, 1e-7 + Double(item.steps) * 1e-13), 1e-300)
  }

  /// |dpfl − fixture| allowed for per-step value `index` of a per-order entry.
  func tolerance(_ entry: PerOrder, index: Int, value: Double) -> Double {
    max(atol, (entry.rtolPerOrder?[index] ?? rtol) * abs(value))
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
    /// Overrides the file's `rtol` for this case.
    var rtol: Double?
    /// Optimal-order keys whose order is not determined (another order is within tolerance).
    var orderTies: [String]?
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
    /// Overrides the file's `rtol` order by order.
    var rtolPerOrder: [Double]?
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

/// `rdp_poisson_exact.json`: the ε and δ of every `rdp_poisson.json` case on the integer
/// grid, evaluated in 50-digit arithmetic and rounded to nearest
/// (`Scripts/crosscheck/golden_poisson_exact.py`).
struct ExactPoissonFixture: Decodable, Sendable {
  struct Case: Decodable, Sendable {
    var name: String
    /// ε at the case's δ.
    var epsilonInteger: Double
    /// δ at the case's target ε (0 where it is below the Double range).
    var deltaInteger: Double
  }

  var grid: [Double]
  var cases: [Case]
}

/// `pld.json`: dp_accounting's PLD accountant at a fine discretisation, prv_accountant's
/// bounds and, where one exists, the exact ε (see `Fixtures/README.md`).
struct PLDFixture: Decodable, Sendable {
  struct Case: Decodable, Sendable {
    struct DPAccounting: Decodable, Sendable {
      var epsilon: Double
      var discretization: Double
      var converged: Bool
      var delta: Double
    }

    /// prv_accountant's bounds, or its error message where it failed.
    struct PRV: Decodable, Sendable {
      var lower: Double?
      var estimate: Double?
      var upper: Double?
      var error: String?
    }

    struct Exact: Decodable, Sendable {
      var epsilon: Double
    }

    var name: String
    var samplingRate: Double
    var noiseMultiplier: Double
    var steps: Int
    var delta: Double
    var targetEpsilon: Double
    var dpAccounting: DPAccounting
    var prvAccountant: PRV
    var exact: Exact?
    var rdpEpsilon: Double
  }

  var cases: [Case]
}
