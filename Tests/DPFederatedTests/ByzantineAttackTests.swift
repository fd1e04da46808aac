import DPModel
import DPTestSupport
import Testing

@testable import DPFederated

/// The simulation's Byzantine clients (spec `brem-flora.md` §1.6): what each attack forges
/// from the attackers' clean updates, and the backend that sends it.
@Suite("Byzantine attacks")
struct ByzantineAttackTests {
  static let clean: [[Float]] = [[1, 2, 0], [3, 2, 1], [2, 5, -1], [0, 3, 0]]

  static func mean(_ vectors: [[Float]]) -> [Double] {
    (0..<vectors[0].count).map { index in
      vectors.reduce(0.0) { $0 + Double($1[index]) } / Double(vectors.count)
    }
  }

  @Test("IPM sends −μ, every attacker the same")
  func innerProductManipulation() {
    let forged = ByzantineAttack.ipm.forged(clean: Self.clean, cohortSize: 20)
    #expect(forged.count == 4)
    for vector in forged { #expect(vector == Self.mean(Self.clean).map { Float(-$0) }) }
  }

  @Test("ALIE sends μ − 4z·s with z = Φ⁻¹((n − m − s)/(n − m)) (n = 100, m = 20: Φ⁻¹(0.6125))")
  func aLittleIsEnough() {
    // Python: statistics.NormalDist().inv_cdf(0.6125), inv_cdf(0.975).
    expectClose(
      ByzantineAttack.alieScale(cohortSize: 100, attackers: 20), 0.2858408748811658, relative: 0,
      absolute: 1e-9)
    expectClose(
      ByzantineAttack.standardNormalQuantile(0.975), 1.9599639845400536, relative: 0, absolute: 1e-9
    )
    let z = ByzantineAttack.alieScale(cohortSize: 100, attackers: 4)
    let forged = ByzantineAttack.alie.forged(clean: Self.clean, cohortSize: 100)[0]
    let mean = Self.mean(Self.clean)
    for index in mean.indices {
      let variance =
        Self.clean.reduce(0.0) {
          $0 + (Double($1[index]) - mean[index]) * (Double($1[index]) - mean[index])
        }
        / 4
      expectClose(
        Double(forged[index]), mean[index] - 4 * z * variance.squareRoot(), relative: 0,
        absolute: 1e-5)
    }
  }

  @Test("min-max: μ − γ·s stays within the attackers' largest spread, and a larger γ would not")
  func minMax() {
    let mean = Self.mean(Self.clean)
    let deviation = mean.indices.map { index in
      (Self.clean.reduce(0.0) {
        $0 + (Double($1[index]) - mean[index]) * (Double($1[index]) - mean[index])
      } / 4)
      .squareRoot()
    }
    func farthest(_ gamma: Double) -> Double {
      let vector = zip(mean, deviation).map { $0 - gamma * $1 }
      return Self.clean.map { clean in
        zip(vector, clean).reduce(0.0) { $0 + ($1.0 - Double($1.1)) * ($1.0 - Double($1.1)) }
          .squareRoot()
      }.max()!
    }
    var spread = 0.0
    for a in Self.clean {
      for b in Self.clean {
        spread = max(
          spread, zip(a, b).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot())
      }
    }
    let gamma = ByzantineAttack.minMaxScale(mean: mean, deviation: deviation, clean: Self.clean)
    #expect(gamma > 0.1 && gamma < 20)
    #expect(farthest(gamma) <= spread * (1 + 1e-9))
    #expect(farthest(gamma + 1e-3) > spread)
    let forged = ByzantineAttack.minMax.forged(clean: Self.clean, cohortSize: 20)[0]
    for index in mean.indices {
      expectClose(
        Double(forged[index]), mean[index] - gamma * deviation[index], relative: 0, absolute: 1e-5)
    }
  }

  @Test("label flipping forges nothing: its attackers train on k − 1 − y")
  func labelFlipForgesNothing() {
    #expect(ByzantineAttack.labelFlip.forged(clean: Self.clean, cohortSize: 20) == Self.clean)
  }

  @Test(
    "in a run, honest clients send what they would without attackers; attackers' messages pass the same clip",
    arguments: ByzantineAttack.allCases)
  func backendReplacesAttackersOnly(attack: ByzantineAttack) throws {
    var configuration = DPBREMTests.configuration()
    configuration.robustnessRadius = 0.05
    configuration.byzantineFraction = 0.2
    configuration.attack = attack
    let attacked = try DPBREMTests.trainer(configuration)
    var honestConfiguration = configuration
    honestConfiguration.byzantineFraction = 0
    honestConfiguration.attack = nil
    var honest = try DPBREMTests.trainer(honestConfiguration)
    let attackers = configuration.byzantineClients(
      clientCount: FederatedTrainerTests.dataset.clients.count)
    #expect(attackers == 6)
    let context = attacked.context(round: 0)
    guard case .granted(let authorization) = try honest.ledger.authorize(record: { _ in }) else {
      Issue.record("round refused")
      return
    }
    let sent = try attacked.backend.runClients(
      context, global: attacked.model, authorization: authorization)
    let expected = try honest.backend.runClients(
      context, global: honest.model, authorization: authorization)
    for (result, reference) in zip(sent, expected) {
      guard case .update(let update) = result.message.payload,
        case .update(let honestUpdate) = reference.message.payload
      else { continue }
      #expect(Double(update.l2Norm) <= 0.05 * (1 + 1e-5))
      if result.message.client >= attackers {
        #expect(update.flattened() == honestUpdate.flattened())
      } else {
        #expect(update.flattened() != honestUpdate.flattened())
      }
    }
  }
}
