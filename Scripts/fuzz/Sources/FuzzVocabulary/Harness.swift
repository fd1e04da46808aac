import DPModel
import Foundation
import FuzzSupport

/// A `vocab.txt`: parse it; if it is a vocabulary, check it against a model size and
/// tokenise text with it (the input itself, and a fixed sentence).
@_cdecl("FuzzVocabulary_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { bytes in
    guard let tokenizer = try? WordPieceTokenizer(vocabularyData: Data(bytes), source: "vocab.txt")
    else { return }
    _ = try? tokenizer.checkFits(modelVocabularySize: 30_522)
    let text = String(decoding: bytes.prefix(512), as: UTF8.self)
    for sentence in [text, "Héllo, [CLS] wörld! unaffable 中文 [MASK]"] {
      let ids = tokenizer.encode(sentence, maxLength: 32)
      precondition(
        ids.allSatisfy { tokenizer.vocabulary.indices.contains($0) }, "id outside vocabulary")
    }
  }
}
