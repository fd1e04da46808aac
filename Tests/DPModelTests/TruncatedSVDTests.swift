import DPTestSupport
import Testing

@testable import DPModel

@Suite("TruncatedSVD")
struct TruncatedSVDTests {
  @Test("recovers the singular values and the rank-r part of a matrix with a spectral gap")
  func recoversLeadingTriplets() {
    // M = Σ sᵢ uᵢ vᵢᵀ with known orthonormal factors and singular values.
    let u = TruncatedSVD.orthonormalized(randomMatrix(12, 5, seed: 70))
    let v = TruncatedSVD.orthonormalized(randomMatrix(9, 5, seed: 71))
    let values = [9.0, 5, 3, 0.1, 0.05]
    var scaled = u
    for i in 0..<12 { for j in 0..<5 { scaled[i, j] *= values[j] } }
    let matrix = BLAS.matmul(scaled, v, transposeB: true)
    let (left, singular, right) = TruncatedSVD.leading(matrix, rank: 3)
    for (found, expected) in zip(singular, values.prefix(3)) {
      expectClose(found, expected, relative: 1e-10)
    }
    // Orthonormal columns.
    let gram = BLAS.matmul(left, left, transposeA: true)
    for i in 0..<3 {
      for j in 0..<3 { expectClose(gram[i, j], i == j ? 1 : 0, relative: 0, absolute: 1e-12) }
    }
    // U·S·Vᵀ is the best rank-3 approximation: the residual is the rest of the spectrum.
    var reconstruction = left
    for i in 0..<12 { for j in 0..<3 { reconstruction[i, j] *= singular[j] } }
    let residual = matrix - BLAS.matmul(reconstruction, right, transposeB: true)
    expectClose(residual.frobeniusNorm, (0.1 * 0.1 + 0.05 * 0.05).squareRoot(), relative: 1e-8)
  }
}
