/// A batch of tokenised texts padded to one length: what an encoder consumes.
/// Rows follow one another: example i owns positions i·L ..< (i+1)·L.
public struct TokenBatch: Equatable, Sendable {
  /// Token ids, `examples × sequenceLength`, padding included.
  public let ids: [Int]
  /// Segment (token type) ids, one per position.
  public let typeIDs: [Int]
  /// `true` for real tokens, `false` for padding.
  public let mask: [Bool]
  /// L, the padded length.
  public let sequenceLength: Int

  /// The number of examples.
  public var examples: Int { ids.count / sequenceLength }

  /// Pads (with `paddingID`) or keeps each encoding to the longest one's length; every
  /// encoding must already fit the model (the tokenizer truncates).
  /// - Precondition: at least one non-empty encoding.
  public init(encodings: [[Int]], paddingID: Int, typeIDs: [[Int]]? = nil) {
    let length = encodings.map(\.count).max() ?? 0
    precondition(
      length > 0 && encodings.allSatisfy { !$0.isEmpty }, "a batch needs non-empty encodings")
    var ids: [Int] = []
    var types: [Int] = []
    var mask: [Bool] = []
    for (index, encoding) in encodings.enumerated() {
      let padding = length - encoding.count
      ids += encoding + Array(repeating: paddingID, count: padding)
      types +=
        (typeIDs?[index] ?? Array(repeating: 0, count: encoding.count))
        + Array(repeating: 0, count: padding)
      mask +=
        Array(repeating: true, count: encoding.count) + Array(repeating: false, count: padding)
    }
    self.init(ids: ids, typeIDs: types, mask: mask, sequenceLength: length)
  }

  /// A batch from its flat parts.
  /// - Precondition: all parts have one length, a multiple of `sequenceLength`.
  public init(ids: [Int], typeIDs: [Int], mask: [Bool], sequenceLength: Int) {
    precondition(
      sequenceLength > 0 && ids.count % sequenceLength == 0 && typeIDs.count == ids.count
        && mask.count == ids.count,
      "token batch: \(ids.count) ids, \(typeIDs.count) type ids, \(mask.count) mask entries, length \(sequenceLength)"
    )
    self.ids = ids
    self.typeIDs = typeIDs
    self.mask = mask
    self.sequenceLength = sequenceLength
  }
}

extension TokenBatch {
  /// Examples `range` of the batch, padded only as far as the longest of them needs: the
  /// trailing positions that are padding in every one of them are dropped. A real token
  /// never attends to padding and pooling skips it, so each example's output is the same.
  /// - Precondition: `range` lies within the batch.
  public func examples(_ range: Range<Int>) -> TokenBatch {
    precondition(
      range.lowerBound >= 0 && range.upperBound <= examples,
      "examples \(range) of a batch of \(examples)")
    let length = sequenceLength
    let needed =
      range.map { example in
        let row = mask[(example * length)..<((example + 1) * length)]
        return (row.lastIndex(of: true).map { $0 - example * length + 1 }) ?? 1
      }.max() ?? length
    func rows<T>(_ values: [T]) -> [T] {
      range.flatMap { values[($0 * length)..<($0 * length + needed)] }
    }
    return TokenBatch(
      ids: rows(ids), typeIDs: rows(typeIDs), mask: rows(mask), sequenceLength: needed)
  }

  /// A tokenizer's padded batch, segment ids all 0.
  public init(_ batch: WordPieceTokenizer.Batch) {
    self.init(
      ids: batch.ids.flatMap { $0 },
      typeIDs: Array(repeating: 0, count: batch.ids.count * batch.length),
      mask: batch.attentionMask.flatMap { $0 }.map { $0 == 1 }, sequenceLength: batch.length)
  }
}
