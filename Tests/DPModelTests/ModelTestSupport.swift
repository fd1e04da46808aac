import DPTestSupport
import Foundation

@testable import DPModel

/// A matrix with entries uniform in [−1, 1] from a fixed seed.
func randomMatrix(_ rows: Int, _ columns: Int, seed: UInt64, scale: Double = 1) -> Matrix<Double> {
  var generator = SeededGenerator(seed: seed)
  return Matrix.uniform(rows: rows, columns: columns, in: -scale...scale, using: &generator)
}

/// L(x) = Σ f(x) ⊙ R for a fixed random R: a scalar loss whose output gradient is R.
func projectedLoss(_ output: Matrix<Double>, _ projection: Matrix<Double>) -> Double {
  BLAS.dot(output, projection)
}

/// The folder of the committed tiny random BERT (2 blocks, hidden 32, 4 heads).
let tinyBertFolder = Bundle.module.url(forResource: "Fixtures/tiny_bert", withExtension: nil)!

/// The tiny BERT in `Scalar`, with adapters if given.
func tinyBert<Scalar: BLASScalar>(
  _: Scalar.Type, layers: Int? = nil, adapters: AdapterConfiguration? = nil,
  targets: Set<BertProjection> = [.query, .value]
) throws -> BertEncoder<Scalar> {
  try BertEncoder(folder: tinyBertFolder, layers: layers, adapters: adapters, targets: targets)
}

/// Gives every adapter's B (and R) random non-zero entries, so gradients of A are
/// non-zero and B = 0 does not hide mistakes.
func randomizeAdapters(_ encoder: inout BertEncoder<Double>, seed: UInt64) {
  var generator = SeededGenerator(seed: seed)
  for layer in encoder.layers.indices {
    for name in BertProjection.allCases {
      guard var adapter = encoder.layers[layer].projections[name]!.adapter else { continue }
      let up = adapter.factors.up
      adapter.factors.up = .uniform(
        rows: up.rows, columns: up.columns, in: -0.5...0.5, using: &generator)
      if let core = adapter.factors.core {
        adapter.factors.core = .uniform(
          rows: core.rows, columns: core.columns, in: -0.5...0.5, using: &generator)
      }
      encoder.layers[layer].projections[name]!.adapter = adapter
    }
  }
}
