import DPTestSupport
import Testing

@testable import DPModel

/// LoRA-family adapters on one linear layer: identities, fusing, and per-example
/// gradients against finite differences of each example's loss.
@Suite("Adapters")
struct AdapterTests {
  static let inputs = 6
  static let outputs = 5
  static let examples = 3
  static let tokens = 2

  /// One adapter of each kind (rank 3), B and R random so every factor matters.
  static func adapters() -> [(String, any Adapter<Double>)] {
    var generator = SeededGenerator(seed: 30)
    let up = Matrix<Double>.uniform(rows: outputs, columns: 3, in: -1...1, using: &generator)
    let core = Matrix<Double>.uniform(rows: 3, columns: 3, in: -1...1, using: &generator)
    var lora = LoRAAdapter<Double>(
      inputs: inputs, outputs: outputs, rank: 3, alpha: 6, using: &generator)
    lora.factors.up = up
    let down = lora.factors.down
    return [
      ("LoRA", lora),
      (
        "DyLoRA frozen",
        DyLoRAAdapter(
          factors: LowRankFactors(down: down, up: up, core: nil), alpha: 6, frozen: true)
      ),
      (
        "DyLoRA non-frozen",
        DyLoRAAdapter(
          factors: LowRankFactors(down: down, up: up, core: nil), alpha: 6, frozen: false)
      ),
      (
        "FFA-LoRA", FFALoRAAdapter(factors: LowRankFactors(down: down, up: up, core: nil), alpha: 6)
      ),
      ("Fed-SB", FedSBAdapter(factors: LowRankFactors(down: down, up: up, core: core))),
    ]
  }

  static let base = Linear(
    weight: randomMatrix(outputs, inputs, seed: 31), bias: randomMatrix(1, outputs, seed: 32).values
  )

  @Test(
    "a fresh LoRA (B = 0) leaves the layer's output unchanged",
    arguments: [AdapterConfiguration.Kind.lora, .dyLoRA, .ffaLoRA, .fedSB])
  func freshAdapterIsIdentity(kind: AdapterConfiguration.Kind) {
    let adapter: any Adapter<Double> = AdapterConfiguration(kind: kind, rank: 3).makeAdapter(
      inputs: Self.inputs, outputs: Self.outputs, layerIndex: 0)
    let x = randomMatrix(4, Self.inputs, seed: 33)
    let layer = AdaptedLinear(Self.base, adapter: adapter)
    #expect(layer.forward(x).0 == Self.base(x))
    #expect(adapter.weightDelta().frobeniusNorm == 0)
  }

  @Test("fused(into:) equals base + adapter at every rank")
  func fusedEqualsForward() {
    let x = randomMatrix(4, Self.inputs, seed: 34)
    for (name, adapter) in Self.adapters() {
      let ranks = adapter is DyLoRAAdapter<Double> ? Array(1...3) : [3]
      for rank in ranks {
        let forward = AdaptedLinear(Self.base, adapter: adapter).forward(x, activeRank: rank).0
        let fused = adapter.fused(into: Self.base, activeRank: rank)(x)
        #expect(relativeError(forward.values, fused.values) < 1e-13, "\(name) at rank \(rank)")
      }
    }
  }

  @Test("DyLoRA at the maximum rank equals LoRA with the same factors")
  func dyLoRAAtMaximumRankIsLoRA() {
    let all = Self.adapters()
    let lora = all[0].1
    let x = randomMatrix(4, Self.inputs, seed: 35)
    for (_, adapter) in all[1...2] {
      #expect(adapter.forward(x, activeRank: 3).0 == lora.forward(x).0)
    }
    // At b < r only the first b components and the scale α/b enter.
    let dy = all[1].1
    let truncated = LoRAAdapter(
      factors: LowRankFactors(
        down: lora.factors.down.rows(0..<2), up: lora.factors.up.columns(0..<2), core: nil),
      alpha: 6)
    #expect(
      relativeError(dy.forward(x, activeRank: 2).0.values, truncated.forward(x).0.values) < 1e-14)
  }

  @Test("per-example gradients match finite differences of each example's loss")
  func perExampleGradientsMatchFiniteDifferences() {
    let x = randomMatrix(Self.examples * Self.tokens, Self.inputs, seed: 36)
    let r = randomMatrix(Self.examples * Self.tokens, Self.outputs, seed: 37)
    for (name, adapter) in Self.adapters() {
      let rank = adapter is DyLoRAAdapter<Double> ? 2 : 3
      let layer = AdaptedLinear(Self.base, adapter: adapter)
      let (_, cache) = layer.forward(x, activeRank: rank)
      let (inputGradient, perExample) = layer.backward(
        cache, outputGradient: r, examples: Self.examples)
      #expect(perExample.names == adapter.trainableNames, "\(name)")
      // ∂L/∂x over the whole batch.
      let numericInput = finiteDifferenceGradient(at: x.values) { values in
        projectedLoss(
          layer.forward(Matrix(rows: x.rows, columns: x.columns, values: values), activeRank: rank)
            .0, r)
      }
      #expect(relativeError(inputGradient!.values, numericInput) < 1e-6, "\(name) input")
      for example in 0..<Self.examples {
        let rows = (example * Self.tokens)..<((example + 1) * Self.tokens)
        let xi = x.rows(rows)
        let ri = r.rows(rows)
        let analytic = perExample.gradient(ofExample: example)
        for parameter in adapter.trainableNames {
          let start = adapter.parameters[parameter]!
          var numeric = finiteDifferenceGradient(at: start.values) { values in
            var changed = adapter
            changed.factors.update(
              from: ParameterSet([
                (parameter, Matrix(rows: start.rows, columns: start.columns, values: values))
              ]))
            return projectedLoss(
              AdaptedLinear(Self.base, adapter: changed).forward(xi, activeRank: rank).0, ri)
          }
          // Components outside those that train get no gradient (detached), whatever
          // finite differences say.
          let trained = adapter.trainable(activeRank: rank).components
          for index in numeric.indices {
            let component = parameter == "lora_B" ? index % start.columns : index / start.columns
            if parameter != "lora_R" && !trained.contains(component) { numeric[index] = 0 }
          }
          let error = relativeError(analytic[parameter]!.values, numeric)
          #expect(error < 1e-6, "\(name) \(parameter) example \(example): \(error)")
        }
      }
    }
  }

  @Test("DyLoRA frozen mode trains only component b; non-frozen trains 1…b")
  func dyLoRATrainableComponents() {
    let all = Self.adapters()
    let x = randomMatrix(Self.examples * Self.tokens, Self.inputs, seed: 38)
    let r = randomMatrix(Self.examples * Self.tokens, Self.outputs, seed: 39)
    for (index, expected) in [(1, [1]), (2, [0, 1])] {
      let adapter = all[index].1
      let (_, cache) = adapter.forward(x, activeRank: 2)
      let gradient = adapter.backward(cache, outputGradient: r, examples: Self.examples).perExample
        .sum()
      let a = gradient["lora_A"]!
      for component in 0..<3 {
        let norm = (0..<Self.inputs).map { a[component, $0] * a[component, $0] }.reduce(0, +)
        #expect(
          (norm > 0) == expected.contains(component), "\(all[index].0) component \(component)")
      }
    }
  }

  @Test("FFA-LoRA draws the same frozen A from the same public seed")
  func ffaLoRAPublicSeed() {
    let first = FFALoRAAdapter<Float>(inputs: 8, outputs: 4, rank: 2, alpha: 4, publicSeed: 7)
    let second = FFALoRAAdapter<Float>(inputs: 8, outputs: 4, rank: 2, alpha: 4, publicSeed: 7)
    #expect(first.factors == second.factors)
    #expect(first.factors.down.values.allSatisfy { abs($0) <= 1 / Float(8).squareRoot() })
    #expect(first.trainableNames == ["lora_B"])
  }
}
