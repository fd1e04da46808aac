import Accountants
import DPTestSupport
import Testing

/// Values quoted in the design notes (`shared/STYLE.md` §2.6), computed there with
/// dp-accounting 0.6.0 and Opacus 1.6.0; a quick smoke test before the golden files.
@Suite("Known values")
struct KnownValuesTests {
  private static let sampled = DPEvent.poissonSampled(
    probability: 0.04, .gaussian(noiseMultiplier: 1.5))

  @Test(
    "q=0.04, σ=1.5, 2250 steps, δ=1e-5 on integer orders 2…63 gives ε = 7.329876773834 at α = 4")
  func integerOrders() throws {
    var accountant = RDPAccountant(orders: try RDPOrders((2...63).map(Double.init)))
    try accountant.compose(Self.sampled, count: 2250)
    let bound = try accountant.epsilonBound(delta: 1e-5)
    expectClose(bound.value, 7.329876773834, relative: 1e-12)
    #expect(bound.optimalOrder == 4)
  }

  @Test("the same event on dp_accounting's default grid gives ε = 7.329335")
  func defaultGrid() throws {
    var accountant = RDPAccountant()
    try accountant.compose(Self.sampled, count: 2250)
    expectClose(try accountant.epsilon(delta: 1e-5), 7.329335, relative: 1e-6)
  }

  @Test("q=0.01, σ=1.1, 10 000 steps, δ=1e-5 gives ε = 5.632011")
  func dpsgdExample() throws {
    var accountant = RDPAccountant()
    try accountant.compose(
      .poissonSampled(probability: 0.01, .gaussian(noiseMultiplier: 1.1)), count: 10_000)
    expectClose(try accountant.epsilon(delta: 1e-5), 5.632011, relative: 1e-6)
  }
}

@Suite("Known values from papers")
struct PaperValuesTests {
  @Test(
    "the moments accountant reproduces Abadi et al. 2016's MNIST ε ≈ 1.26 (σ = 4, q = 0.01, 10 000 steps, δ = 1e-5)"
  )
  func abadiMNIST() throws {
    // Abadi et al., "Deep Learning with Differential Privacy" (arXiv:1607.00133v2), §5.2:
    // large noise (σ = 4) with lot size 600 of 60 000 for 100 epochs spends ε ≈ 1.26 at δ = 1e-5
    // (also TF-Privacy issue #85).
    var accountant = MomentsAccountant()
    try accountant.compose(
      .poissonSampled(probability: 0.01, .gaussian(noiseMultiplier: 4)), count: 10_000)
    expectClose(try accountant.epsilon(delta: 1e-5), 1.26, relative: 0, absolute: 0.005)
  }
}
