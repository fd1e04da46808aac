import DPTestSupport
import Testing

@testable import DPModel

/// The classifier's public embedding centre: what it subtracts, and its export.
@Suite("TextClassifier embedding centre")
struct TextClassifierTests {
  static let batch = PerExampleGradientTests.batch

  @Test("the mean unit embedding is the mean of the rows of the normalised embeddings")
  func meanUnitEmbedding() throws {
    let model = try PerExampleGradientTests.textClassifier(.lora)
    let embeddings = model.embeddings(Self.batch)
    let halves = [
      TokenBatch(encodings: [[2, 17, 33, 5, 3]], paddingID: 0),
      TokenBatch(encodings: [[2, 60, 3], [2, 9, 9, 41, 12, 3]], paddingID: 0),
    ]
    let mean = model.meanUnitEmbedding(halves)
    for column in 0..<embeddings.columns {
      var expected = 0.0
      for row in 0..<embeddings.rows {
        let norm = (0..<embeddings.columns).reduce(0.0) {
          $0 + embeddings[row, $1] * embeddings[row, $1]
        }.squareRoot()
        expected += embeddings[row, column] / norm / Double(embeddings.rows)
      }
      expectClose(mean[column], expected, relative: 1e-12)
    }
  }

  @Test("the centre shifts the head's input by √width·c, and the exported head folds it in")
  func exportedHeadFoldsTheCentre() throws {
    var model = try PerExampleGradientTests.textClassifier(.lora)
    let uncentred = model.logits(Self.batch, activeRank: nil)
    model.embeddingCenter = model.meanUnitEmbedding([Self.batch])
    let centred = model.logits(Self.batch, activeRank: nil)
    let normalized = RowNormalization.forward(model.embeddings(Self.batch), scale: model.headScale)
      .0
    let exported = model.exportedHead(normalized)
    let head = model.head.base
    var largestShift = 0.0
    for row in 0..<centred.rows {
      for output in 0..<centred.columns {
        expectClose(exported[row, output], centred[row, output], relative: 1e-12, absolute: 1e-12)
        // The shift is −√width·W·c, the same for every example.
        let shift = -(0..<head.inputCount).reduce(0.0) {
          $0 + model.headScale * head.weight[output, $1] * model.embeddingCenter![$1]
        }
        expectClose(centred[row, output] - uncentred[row, output], shift, relative: 1e-9)
        largestShift = max(largestShift, abs(shift))
      }
    }
    #expect(
      largestShift > 1e-3, "the centre must change the logits (largest shift \(largestShift))")
  }
}
