import DPTestSupport
import Testing

@testable import Accountants

/// The integer-order sum of the sampled Gaussian's RDP (``SubsampledGaussianRDP``) against
/// MPFR, where its shortcuts (products in place of exps, the tail bound) could go wrong.
@Suite("Integer-order sum")
struct IntegerOrderSumTests {
  /// MPFR's bound (``CertifiedSubsampledGaussian``, 128 bits, rounded up) is the exact
  /// value to far below a Double's precision. Small q is where A_α is close to 1: summing
  /// A_α itself there, as dp_accounting does, kept only ~1e-8 relative (measured up to
  /// 1.06e-8 on `Scripts/bench accountant`'s configurations). Small σ with α = 1024 has terms
  /// that fall by q^k first and then rise by e^{k²/2σ²}, so no tail may be cut there.
  @Test(
    "log A_α at integer orders is within 1e-12 of MPFR's value, also where A_α is close to 1",
    arguments: [1e-7, 1e-5, 1e-3, 0.05, 0.3, 0.9])
  func againstMPFR(q: Double) {
    for sigma in [0.5, 0.8, 1.5, 4, 12, 20, 300] {
      for alpha in [2, 3, 5, 11, 17, 33, 63, 64, 128, 256, 512, 1024] {
        let value = SubsampledGaussianRDP.logAInteger(q: q, sigma: sigma, alpha: alpha)
        let exact = CertifiedSubsampledGaussian.logAUpperBound(
          probability: q, noiseMultiplier: sigma, order: alpha)
        expectClose(value, exact, relative: 1e-12, "q = \(q), σ = \(sigma), α = \(alpha)")
      }
    }
  }

  /// The tail bound must not stop a sum whose terms rise again: at q = 1e-6, σ = 0.5 the
  /// terms of order 1024 fall by ~e^{−14} a step at first, then grow by e^{2k}.
  @Test("a sum whose terms fall and then rise is summed to its largest term")
  func fallThenRise() {
    let value = SubsampledGaussianRDP.logAInteger(q: 1e-6, sigma: 0.5, alpha: 1024)
    // The last term alone: 1024·log q + 1024·1023/(2·0.25).
    let lastTerm = 1024 * Double.log(1e-6) + 1024 * 1023 * 2.0
    #expect(value >= lastTerm)
    expectClose(value, lastTerm, relative: 1e-9)
  }
}
