import RealModule
import Synchronization

/// log|C(α, k)| for k = 0 … ``SubsampledGaussianRDP/maximumSeriesTerms`` − 1, the
/// generalised binomial coefficients of the fractional-order series, kept per order for the
/// life of the process. They depend on α alone, and forming them costs a log per term, a
/// fifth of a term's time, in every query of a batch.
enum GeneralisedBinomialLogs {
  /// Orders kept at most (8 kB each); a table for any further order is formed per call.
  static let maximumOrdersKept = 1024

  private static let tables = Mutex<[Double: [Double]]>([:])

  /// The table for order α, formed on first use.
  static func table(order alpha: Double) -> [Double] {
    if let table = tables.withLock({ $0[alpha] }) { return table }
    let table = formed(order: alpha)
    tables.withLock { kept in
      if kept.count < maximumOrdersKept { kept[alpha] = table }
    }
    return table
  }

  /// log Γ(α + 1) − log k! − log|Γ(α − k + 1)|, with log|Γ(α − k + 1)| stepped down by
  /// log|Γ(x − 1)| = log|Γ(x)| − log|x − 1|.
  private static func formed(order alpha: Double) -> [Double] {
    let logGammaAlphaPlusOne = LogSpace.logFactorial(alpha)
    let logFactorials = LogSpace.logFactorials
    var logGammaJPlusOne = logGammaAlphaPlusOne
    return (0..<SubsampledGaussianRDP.maximumSeriesTerms).map { k in
      let i = Double(k)
      if k > 0 { logGammaJPlusOne -= Double.log(abs(alpha - i + 1)) }
      let logFactorialK = k < logFactorials.count ? logFactorials[k] : LogSpace.logFactorial(i)
      return logGammaAlphaPlusOne - logFactorialK - logGammaJPlusOne
    }
  }
}
