import Accountants
import DPModel
import DPTestSupport
import Foundation
import Testing

@testable import DPFederated

/// `--noise-distribution discrete`: clients' updates on a grid, exact discrete Gaussian
/// noise on the integer sum, accounted by RDP with Zhu & Wang's general Poisson bound.
@Suite("DiscreteGrid", .serialized)
struct DiscreteGridTests {
  static func configuration() -> FederatedConfiguration {
    var configuration = TrainingRunTests.configuration()
    configuration.noiseDistribution = .discrete
    return configuration
  }

  @Test("a discrete run trains; its ledger holds the discrete event and re-accounts to its ε")
  func run() throws {
    let folder = try TrainingRunTests.folder("discrete")
    defer { try? FileManager.default.removeItem(at: folder.url) }
    let summary = try TrainingRunTests.digits(
      configuration: Self.configuration(), folder: folder, resume: false)
    #expect(summary.rounds == 8 && summary.stopReason == nil)
    #expect(summary.epsilon <= 2 && summary.epsilon > 1.5)
    #expect(summary.accuracyAfter >= summary.accuracyBefore - 0.01)
    let ledger = try #require(try folder.read(DPEvent.self, from: .ledger))
    #expect(
      ledger
        == .selfComposed(
          .poissonSampled(
            probability: 1e-3, .discreteGaussian(noiseMultiplier: summary.noiseMultiplier)),
          count: 8))
    let findings = LedgerAccounting.epsilon(ledger: ledger, delta: 1e-6)
    for (method, finding) in findings {
      switch method {
      case .rdp: expectClose(try finding.get().bound.value, summary.epsilon, relative: 1e-12)
      case .moments: #expect(try finding.get().bound.value >= summary.epsilon)
      case .pld, .certified: #expect(throws: AccountingError.self) { try finding.get() }
      }
    }
    // The same target costs more noise than with the continuous sampler's exact bound.
    var continuous = TrainingRunTests.configuration()
    continuous.noiseDistribution = .continuous
    let plain = try PrivacyMechanismTests.trainer(continuous)
    #expect(summary.noiseMultiplier > plain.noiseMultiplier)
  }

  @Test("a discrete run stopped after 3 rounds and resumed writes the uninterrupted run's files")
  func resume() throws {
    let whole = try TrainingRunTests.folder("discrete-whole")
    let stopped = try TrainingRunTests.folder("discrete-stopped")
    defer {
      for folder in [whole, stopped] { try? FileManager.default.removeItem(at: folder.url) }
    }
    let configuration = Self.configuration()
    let reference = try TrainingRunTests.digits(
      configuration: configuration, folder: whole, resume: false)
    struct Stop: Error {}
    #expect(throws: Stop.self) {
      try TrainingRunTests.digits(configuration: configuration, folder: stopped, resume: false) {
        if $0.round == 3 { throw Stop() }
      }
    }
    let resumed = try TrainingRunTests.digits(
      configuration: configuration, folder: stopped, resume: true)
    #expect(resumed.accuracyAfter == reference.accuracyAfter)
    #expect(resumed.epsilon == reference.epsilon)
    for file in ["ledger.json", "adapter.safetensors", "metrics.jsonl", "checkpoint.json"] {
      let read = { (folder: RunFolder) in
        FileManager.default.contents(atPath: folder.url.appendingPathComponent(file).path)
      }
      #expect(read(stopped) != nil && read(stopped) == read(whole), "\(file)")
    }
  }

  /// 250,000 coordinates of noise at 2.5 grid steps: the sample variance's standard error is
  /// √((μ₄ − v²)/n) ≈ 0.018 steps² (0.3 %), and the bound is 6 of them, with v and μ₄ the
  /// exact moments of N_ℤ(0, s²) from its pmf (v is 3·10⁻¹² below s² here).
  @Test("the grid noise on a zero update has the discrete Gaussian's variance, on the grid")
  func zeroUpdateVariance() throws {
    let grid = DiscreteGrid(clippingBound: 1, coordinates: 250_000)
    let template = ParameterSet<Float>([("w", Matrix(rows: 500, columns: 500))])
    let zero = template.with(flattened: [Float](repeating: 0, count: template.scalarCount))
    let scale = 2.5
    var generator = Xoshiro256StarStar(seed: 11)
    let released = try grid.release(
      [zero, zero], template: template, live: .all, deviation: scale * grid.granularity,
      using: &generator)
    let steps = released.flattened().map { Double($0) / grid.granularity }
    #expect(steps.allSatisfy { $0 == $0.rounded() })
    let distribution = try DiscreteGaussian(gridStandardDeviation: scale)
    let support = Int64(-60)...Int64(60)
    let pmf = distribution.probabilities(support)
    let variance = zip(support, pmf).reduce(0.0) { $0 + Double($1.0 * $1.0) * $1.1 }
    let fourth = zip(support, pmf).reduce(0.0) { $0 + pow(Double($1.0), 4) * $1.1 }
    let n = Double(steps.count)
    let mean = steps.reduce(0, +) / n
    let sampleVariance = steps.reduce(0) { $0 + $1 * $1 } / n - mean * mean
    #expect(abs(mean) < 6 * (variance / n).squareRoot())
    #expect(abs(sampleVariance - variance) < 6 * ((fourth - variance * variance) / n).squareRoot())
    #expect(abs(variance / distribution.gridVariance - 1) < 1e-9)
  }

  @Test("a client's grid update has ‖k‖ ≤ C/γ exactly; a small one is only rounded")
  func clientSteps() throws {
    let grid = DiscreteGrid(clippingBound: 0.5, coordinates: 4_000)
    var generator = SeededGenerator(seed: 5)
    let limit = grid.gridBound(clippingBound: 0.5)
    for trial in 0..<50 {
      let size = trial % 2 == 0 ? 10.0 : 1e-3
      let values = (0..<4_000).map { _ in Float(Double.random(in: -size...size, using: &generator))
      }
      let update = ParameterSet<Float>([("w", Matrix(rows: 40, columns: 100, values: values))])
      let (steps, clipped) = grid.steps(update, clippingBound: 0.5, live: .all)
      #expect(Double(DiscreteGrid.squaredNorm(steps)) <= limit * limit)
      #expect(clipped == (trial % 2 == 0))
      let sent = grid.message(steps, like: update).flattened()
      #expect(zip(sent, steps).allSatisfy { Double($0) == Double($1) * grid.granularity })
      if !clipped {
        #expect(
          zip(values, sent).allSatisfy { abs(Double($0) - Double($1)) <= grid.granularity / 2 })
      }
    }
  }

  @Test(
    "a message already on the grid within C/γ is held as sent; off the grid, over the bound or not finite it is not"
  )
  func receivedMessages() throws {
    let grid = DiscreteGrid(clippingBound: 0.5, coordinates: 400)
    let limit = grid.gridBound(clippingBound: 0.5)
    var generator = SeededGenerator(seed: 9)
    let values = (0..<400).map { _ in Float(Double.random(in: -1...1, using: &generator)) }
    let update = ParameterSet<Float>([("w", Matrix(rows: 20, columns: 20, values: values))])
    let (steps, _) = grid.steps(update, clippingBound: 0.5, live: .all)
    let sent = grid.message(steps, like: update)
    #expect(grid.holdsMessage(sent, clippingBound: 0.5))
    #expect(!grid.holdsMessage(update, clippingBound: 0.5))
    // Twice the honest steps: on the grid, but past C/γ.
    var doubled = steps.map { 2 * $0 }
    #expect(Double(DiscreteGrid.squaredNorm(doubled)) > limit * limit)
    #expect(!grid.holdsMessage(grid.message(doubled, like: update), clippingBound: 0.5))
    doubled = steps
    doubled[0] = Int64(limit) + 1
    #expect(!grid.holdsMessage(grid.message(doubled, like: update), clippingBound: 0.5))
    var nan = sent.flattened()
    nan[3] = .nan
    #expect(!grid.holdsMessage(sent.with(flattened: nan), clippingBound: 0.5))
    var offGrid = sent.flattened()
    offGrid[5] += Float(grid.granularity / 2)
    #expect(!grid.holdsMessage(sent.with(flattened: offGrid), clippingBound: 0.5))
  }

  @Test("it needs rdp or moments, user level, Poisson cohorts and a fixed bound (one line each)")
  func problems() throws {
    var configuration = Self.configuration()
    configuration.accountant = nil
    #expect(configuration.accountantKind == .rdp)
    for accountant in [AccountantKind.pld, .certified] {
      configuration.accountant = accountant
      let problems = configuration.problems.map(\.description)
      #expect(problems.count == 1)
      #expect(
        problems.first?.hasPrefix(
          "--accountant must be rdp or moments with --noise-distribution discrete") == true)
      #expect(problems.first?.contains("\n") == false)
    }
    configuration.accountant = .moments
    #expect(configuration.problems.isEmpty)
    var example = Self.configuration()
    example.privacyUnit = .example
    #expect(example.problems.contains { $0.description.hasPrefix("--privacy-unit must be user") })
    var adaptive = Self.configuration()
    adaptive.adaptiveClipping = true
    #expect(adaptive.problems.contains { $0.description.hasPrefix("--adaptive-clipping") })
    var coded = Self.configuration()
    coded.method = .dpREC
    #expect(
      coded.problems.contains {
        $0.description.hasPrefix("--method must be a method other than dp-rec")
      })
  }
}
