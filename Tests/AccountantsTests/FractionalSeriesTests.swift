import DPTestSupport
import Testing

@testable import Accountants

/// The fractional-order series of the sampled Gaussian's RDP (``SubsampledGaussianRDP``):
/// what makes it fast must not change what it returns.
@Suite("Fractional-order series")
struct FractionalSeriesTests {
  @Test(
    "stopping a fractional-order series early at +∞ gives exactly what summing 1,000 terms gives"
  )
  func divergenceCertificate() {
    var excluded = 0
    var finite = 0
    for q in [1e-4, 1e-2, 0.1, 0.3, 0.5, 0.9] {
      for sigma in [0.6, 1, 2, 4, 8, 20] {
        for alpha in [1.1, 1.5, 1.9, 2.5, 5.3, 10.9] {
          let fast = SubsampledGaussianRDP.logAFractional(q: q, sigma: sigma, alpha: alpha)
          let full = SubsampledGaussianRDP.logAFractional(
            q: q, sigma: sigma, alpha: alpha, certifiesDivergence: false)
          #expect(fast == full, "q = \(q), σ = \(sigma), α = \(alpha)")
          if full == .infinity { excluded += 1 } else { finite += 1 }
        }
      }
    }
    // Both outcomes occur often enough for the comparison to mean something.
    #expect(excluded >= 20)
    #expect(finite >= 100)
  }

  @Test("the cached generalised binomials equal log|C(α, k)| from log Γ")
  func generalisedBinomials() {
    for alpha in [1.1, 2.5, 7.3, 10.9] {
      let table = GeneralisedBinomialLogs.table(order: alpha)
      #expect(table.count == SubsampledGaussianRDP.maximumSeriesTerms)
      #expect(GeneralisedBinomialLogs.table(order: alpha) == table)
      for k in [0, 1, 2, 5, 11, 100, 999] {
        expectClose(
          table[k], LogSpace.binomialMagnitude(alpha, Double(k)), relative: 1e-12,
          absolute: 1e-11, "α = \(alpha), k = \(k)")
      }
    }
  }
}
