import Accountants
import DPModel
import DPTestSupport
import Foundation
import Testing

@testable import DPFederated

/// FLoRA's invariants (spec `brem-flora.md` §2.7) on digits' perceptron: fresh adapters and
/// merging leave the function unchanged, a client's update is its rank's s·B·A, the server's
/// aggregate is the stack's product whatever the order, FedIT's averaged factors are not,
/// and what a client sends.
@Suite("FLoRA")
struct FLoRATests {
  typealias Perceptron = MultilayerPerceptron<Float>

  static func configuration(ranks: String = "4,2,1") -> FederatedConfiguration {
    var configuration = FederatedTrainerTests.configuration(.flora)
    configuration.clientRanks = ranks
    configuration.rank = 4
    configuration.alpha = 8
    return configuration
  }

  static func trainer(_ configuration: FederatedConfiguration) throws
    -> FederatedTrainer<Perceptron, [Float]>
  {
    var configuration = configuration
    try configuration.validate()
    let base = Perceptron(inputs: 64, hidden: [16, 12], classes: 10, seed: 4)
    return try FederatedTrainer(
      configuration: configuration, model: base, dataset: FederatedTrainerTests.dataset,
      makeBatch: TrainingRun.features)
  }

  static func random(rows: Int, columns: Int, seed: UInt64) -> Matrix<Float> {
    var generator = Xoshiro256StarStar(seed: seed)
    return Matrix(
      rows: rows, columns: columns,
      values: (0..<rows * columns).map { _ in Float(generator.nextStandardNormal()) })
  }

  static func maximumDifference(_ a: Matrix<Float>, _ b: Matrix<Float>) -> Float {
    zip(a.values, b.values).map { abs($0 - $1) }.max() ?? 0
  }

  /// The numerical rank of `matrix` (Gaussian elimination with partial pivoting; pivots
  /// below 1e-4 of the largest entry count as zero).
  static func rank(_ matrix: Matrix<Float>) -> Int {
    var rows = (0..<matrix.rows).map { row in
      (0..<matrix.columns).map { Double(matrix[row, $0]) }
    }
    let tolerance = 1e-4 * (rows.flatMap { $0 }.map(abs).max() ?? 0)
    var rank = 0
    for column in 0..<matrix.columns where rank < rows.count {
      let pivot = (rank..<rows.count).max { abs(rows[$0][column]) < abs(rows[$1][column]) }!
      guard abs(rows[pivot][column]) > tolerance else { continue }
      rows.swapAt(rank, pivot)
      for row in (rank + 1)..<rows.count {
        let factor = rows[row][column] / rows[rank][column]
        for index in column..<matrix.columns { rows[row][index] -= factor * rows[rank][index] }
      }
      rank += 1
    }
    return rank
  }

  /// Gives every adapter's B random entries (seed 3), as training would make them non-zero.
  static func randomizingUp<Model: ClassificationModel>(_ model: inout Model)
  where Model.Scalar == Float {
    let trained = model.trainableParameters
    model.updateTrainables(
      ParameterSet(
        zip(trained.names, trained.matrices).map { name, value in
          (
            name,
            name.hasSuffix("lora_B")
              ? random(rows: value.rows, columns: value.columns, seed: 3)
              : value
          )
        }))
  }

  /// `base` with `deltas` added to the trainable weights they name.
  static func merging<Model: ClassificationModel>(_ deltas: ParameterSet<Float>, into base: Model)
    -> Model where Model.Scalar == Float
  {
    var merged = base
    let weights = base.trainableParameters
    merged.updateTrainables(
      ParameterSet(
        zip(weights.names, weights.matrices).map { name, value in
          (name, deltas[name].map { value + $0 } ?? value)
        }))
    return merged
  }

  @Test(
    "a fresh adapter leaves the logits unchanged (B = 0), and adding a trained one's s·B·A to the weights keeps them"
  )
  func freshAndMergedLogits() throws {
    let base = Perceptron(inputs: 64, hidden: [16, 12], classes: 10, seed: 4)
    let batch = TrainingRun.features(
      Array(FederatedTrainerTests.dataset.clients[0].examples.prefix(5)))
    var fresh = try #require(
      base.withFreshAdapters(AdapterConfiguration(kind: .lora, rank: 3, seed: 9)))
    #expect(
      fresh.logits(batch, activeRank: nil).values == base.logits(batch, activeRank: nil).values)
    Self.randomizingUp(&fresh)
    // The dense model plus the deltas computes what the adapted one does.
    let deltas = try #require(fresh.adapterWeightDeltas())
    #expect(deltas.names == ["layers.0.weight", "layers.1.weight"])
    let merged = Self.merging(deltas, into: base)
    #expect(
      Self.maximumDifference(
        merged.logits(batch, activeRank: nil), fresh.logits(batch, activeRank: nil)) < 1e-4)
  }

  @Test("a client's update on each hidden layer has its own rank r_k; the head's change is dense")
  func clientUpdateHasClientRank() throws {
    let trainer = try Self.trainer(Self.configuration())
    let algorithm = try #require(trainer.algorithm as? FLoRA<Perceptron, [Float]>)
    let context = trainer.context(round: 0)
    for client in context.cohort.prefix(4) {
      let update = FederatedTrainerTests.update(trainer, client: client, context: context)
      let rank = algorithm.rank(ofClient: client)
      #expect(rank == [4, 2, 1][client % 3])
      for layer in 0..<2 {
        let delta = try #require(update["layers.\(layer).weight"])
        #expect(Self.rank(delta) == rank, "client \(client), layer \(layer)")
        #expect(update["layers.\(layer).bias"]!.values.allSatisfy { $0 == 0 })
      }
      #expect(Self.rank(update["classifier.weight"]!) > 4)
    }
  }

  @Test(
    "the stack [B_1 … B_K]·[A_1/m; …; A_K/m] is Σ s·B_k·A_k/m exactly, for any order; FedIT's averaged factors are not"
  )
  func stackIsWeightedSumOfProducts() {
    let ranks = [4, 2, 1, 3]
    let (outputs, inputs, scale) = (7, 5, Float(2))
    let factors = ranks.enumerated().map { index, rank in
      (
        down: Self.random(rows: rank, columns: inputs, seed: UInt64(10 + index)),
        up: Self.random(rows: outputs, columns: rank, seed: UInt64(20 + index))
      )
    }
    let m = Float(ranks.count)
    var sum = Matrix<Float>(rows: outputs, columns: inputs)
    for (down, up) in factors { sum = sum + BLAS.matmul(up, down, scale: scale / m) }
    func stacked(_ order: [Int]) -> Matrix<Float> {
      let total = order.reduce(0) { $0 + ranks[$1] }
      var down = Matrix<Float>(rows: total, columns: inputs)
      var up = Matrix<Float>(rows: outputs, columns: total)
      var offset = 0
      for index in order {
        let (a, b) = factors[index]
        for row in 0..<a.rows {
          for column in 0..<inputs { down[offset + row, column] = scale * a[row, column] / m }
          for output in 0..<outputs { up[output, offset + row] = b[output, row] }
        }
        offset += a.rows
      }
      return BLAS.matmul(up, down)
    }
    #expect(Self.maximumDifference(stacked([0, 1, 2, 3]), sum) < 1e-5)
    #expect(Self.maximumDifference(stacked([2, 0, 3, 1]), sum) < 1e-5)
    // FedIT (zero-padded to the largest rank): the product of the averaged factors.
    var meanDown = Matrix<Float>(rows: 4, columns: inputs)
    var meanUp = Matrix<Float>(rows: outputs, columns: 4)
    for (down, up) in factors {
      for row in 0..<down.rows {
        for column in 0..<inputs { meanDown[row, column] += down[row, column] / m }
        for output in 0..<outputs { meanUp[output, row] += up[output, row] / m }
      }
    }
    let fedIT = BLAS.matmul(meanUp, meanDown, scale: scale)
    let error = zip(fedIT.values, sum.values).map { Double(($0 - $1) * ($0 - $1)) }.reduce(0, +)
    let norm = sum.values.map { Double($0 * $0) }.reduce(0, +)
    #expect((error / norm).squareRoot() > 0.3)
  }

  @Test(
    "FedIT (DP-LoRA's averaged factors) after one round on digits: the product of the means is about 31 % off the mean of the products that FLoRA merges"
  )
  func fedITAggregationError() throws {
    var configuration = FederatedTrainerTests.configuration(.dpLoRA)
    configuration.privacy = false
    configuration.epsilon = nil
    configuration.localEpochs = 5
    configuration.localLearningRate = 0.1
    var validated = configuration
    try validated.validate()
    let trainer = try FederatedTrainerTests.trainer(validated)
    let context = trainer.context(round: 0)
    let global = trainer.model.trainableParameters
    let clients = context.cohort.map { client -> ParameterSet<Float> in
      var trained = global
      trained.add(FederatedTrainerTests.update(trainer, client: client, context: context))
      return trained
    }
    let m = Float(clients.count)
    let scale = Float(configuration.alpha / Double(configuration.rank))
    var errors: [Double] = []
    for layer in 0..<1 {  // the test perceptron's one hidden layer
      let (down, up) = ("layers.\(layer).lora_A", "layers.\(layer).lora_B")
      var meanDown = 0 * global[down]!
      var meanUp = 0 * global[up]!
      var meanProduct = Matrix<Float>(rows: global[up]!.rows, columns: global[down]!.columns)
      for client in clients {
        meanDown = meanDown + (1 / m) * client[down]!
        meanUp = meanUp + (1 / m) * client[up]!
        meanProduct = meanProduct + BLAS.matmul(client[up]!, client[down]!, scale: scale / m)
      }
      let averaged = BLAS.matmul(meanUp, meanDown, scale: scale)
      let error = zip(averaged.values, meanProduct.values).map { Double(($0 - $1) * ($0 - $1)) }
        .reduce(0, +)
      errors.append((error / meanProduct.values.map { Double($0 * $0) }.reduce(0, +)).squareRoot())
    }
    // 0.309 on this machine (seeded); FLoRA's merge has no such error (stackIsWeightedSum…).
    #expect(errors.allSatisfy { $0 > 0.25 && $0 < 0.4 }, "\(errors)")
  }

  /// Poisson cohorts of 6 on average, and a fixed cohort of one client (spec §2.7, invariant
  /// 8): then the round is that client's local LoRA merged into the weights, which is also
  /// FedIT's, since the mean of one client's factors is its factors.
  @Test(
    "one round without privacy: the weights move by the mean of the clients' s·B_k·A_k (rank ≤ Σ r_k), also with one client",
    arguments: [(SamplingScheme.poisson, 6), (.fixedSize, 1)])
  func roundMergesMeanUpdate(sampling: SamplingScheme, cohortSize: Int) throws {
    var configuration = Self.configuration()
    configuration.privacy = false
    configuration.epsilon = nil
    configuration.sampling = sampling
    configuration.cohortSize = cohortSize
    var trainer = try Self.trainer(configuration)
    let before = trainer.model.trainableParameters
    let context = trainer.context(round: 0)
    if sampling == .fixedSize { #expect(context.cohort.count == 1) }
    let updates = context.cohort.map {
      FederatedTrainerTests.update(trainer, client: $0, context: context)
    }
    guard case .completed(let metrics) = try trainer.runRound(record: { _ in }) else {
      Issue.record("round refused")
      return
    }
    let moved = trainer.model.trainableParameters
    let algorithm = try #require(trainer.algorithm as? FLoRA<Perceptron, [Float]>)
    let stackedRank = context.cohort.reduce(0) { $0 + algorithm.rank(ofClient: $1) }
    for layer in 0..<2 {
      let name = "layers.\(layer).weight"
      var mean = Matrix<Float>(rows: before[name]!.rows, columns: before[name]!.columns)
      for update in updates {
        mean = mean + (1 / Float(configuration.clientsPerRound)) * update[name]!
      }
      let change = moved[name]! - before[name]!
      #expect(Self.maximumDifference(change, mean) < 1e-5)
      #expect(Self.rank(change) <= min(stackedRank, change.rows, change.columns))
    }
    // Each client sends its factors and the head: 32·(Σ r_k(in + out) + head) bits.
    let sent = context.cohort.map { client -> Int in
      let r = algorithm.rank(ofClient: client)
      return 32 * (r * (64 + 16) + r * (16 + 12) + 12 * 10 + 10)
    }
    #expect(metrics.bytesPerClient == (sent.reduce(0, +) / sent.count + 7) / 8)
  }

  @Test("at user level FLoRA clips the dense update and costs DP-FedAvg's event")
  func privateRoundIsDPFedAvg() throws {
    var trainer = try Self.trainer(Self.configuration())
    try Self.expectDPFedAvg(&trainer, clients: FederatedTrainerTests.dataset.clients)
  }

  /// Every message of round 0's cohort is within C, and two rounds cost DP-FedAvg's event.
  static func expectDPFedAvg<Model: ClassificationModel, Example: Sendable>(
    _ trainer: inout FederatedTrainer<Model, Example>, clients: [ClientData<Example>]
  ) throws where Model.Scalar == Float {
    let context = trainer.context(round: 0)
    for client in context.cohort {
      let update = trainer.algorithm.trainClient(
        clients[client], index: client, global: trainer.model, context: context,
        steps: trainer.mechanism.localSteps, noiseSource: trainer.configuration.randomness
      ).update
      let message = trainer.mechanism.message(for: update, client: client, context: context)
      guard case .update(let sent) = message.payload else { continue }
      #expect(Double(sent.l2Norm) <= trainer.configuration.effectiveClippingBound * (1 + 1e-5))
    }
    for _ in 0..<2 { _ = try trainer.runRound(record: { _ in }) }
    #expect(
      trainer.ledger.events
        == .selfComposed(trainer.sampler.event(noiseMultiplier: trainer.noiseMultiplier), count: 2))
  }

  @Test("--client-ranks: flora only, integers in 1...64")
  func clientRanksProblems() {
    for bad in ["4,0", "4,x", "", "65"] {
      var configuration = Self.configuration(ranks: bad)
      #expect(configuration.problems.contains { "\($0)".hasPrefix("--client-ranks") }, "\(bad)")
      configuration.clientRanks = "8, 4"
      #expect(configuration.problems.isEmpty)
      #expect(configuration.clientRankList == [8, 4])
    }
    var other = FederatedTrainerTests.configuration(.dpLoRA)
    other.clientRanks = "4"
    #expect(other.problems.contains { "\($0)".hasPrefix("--client-ranks") })
  }
}
