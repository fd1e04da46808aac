import RealModule

extension TuningDistribution {
  /// The laws a search's number of runs can be given by its mean (`dpfl plan --tuning-runs`).
  public enum Family: String, CaseIterable, Codable, Sendable {
    /// The truncated negative binomial with η = 0 (the paper's recommendation for small
    /// overhead).
    case logarithmic
    /// The geometric law (η = 1).
    case geometric
    /// The Poisson law (K = 0 releases nothing).
    case poisson
  }

  /// The law of `family` whose expected number of runs is `expectedRuns`.
  /// - Throws: ``AccountingError/invalidArgument(name:value:requirement:)`` unless E[K] is
  ///   finite and > 1 (> 0 for Poisson; a truncated law always runs at least once).
  public static func withExpectedRuns(_ expectedRuns: Double, family: Family)
    throws(AccountingError) -> TuningDistribution
  {
    let minimum = family == .poisson ? 0.0 : 1.0
    guard expectedRuns.isFinite, expectedRuns > minimum, expectedRuns <= 1e12 else {
      throw .invalidArgument(
        name: "expected number of runs", value: expectedRuns,
        requirement: "be finite, > \(Int(minimum)) and ≤ 1e12")
    }
    switch family {
    case .poisson:
      return .poisson(mean: expectedRuns)
    case .geometric:
      return .geometric(successProbability: 1 / expectedRuns)
    case .logarithmic:
      // E[K] = (1/γ − 1)/log(1/γ) decreases from ∞ to 1 on (0, 1): bisect in log γ.
      let target = Double.log(expectedRuns)
      var (low, high) = (-700.0, -1e-12)
      for _ in 0..<200 {
        let middle = (low + high) / 2
        let law = TuningDistribution.logarithmic(successProbability: Double.exp(middle))
        if law.logExpectedRuns > target { low = middle } else { high = middle }
      }
      return .logarithmic(successProbability: Double.exp(high))
    }
  }
}
