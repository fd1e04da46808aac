import Foundation

/// Committed fixtures shared across test targets, found from this file's path
/// (Tests/DPTestSupport/ is beside the other test folders).
public enum TestFixtures {
  /// The committed tiny random BERT (2 blocks, hidden 32, vocabulary 64):
  /// Tests/DPModelTests/Fixtures/tiny_bert.
  public static let tinyBert = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("DPModelTests/Fixtures/tiny_bert")

  /// all-MiniLM-L6-v2's WordPiece vocabulary (bert-base-uncased's, 30 522 tokens):
  /// Tests/DPModelTests/Fixtures/vocab.txt.
  public static let vocabulary = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("DPModelTests/Fixtures/vocab.txt")
}
