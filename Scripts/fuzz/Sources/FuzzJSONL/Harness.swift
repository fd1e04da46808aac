import DPFederated
import Foundation
import FuzzSupport

/// Users' JSON Lines data as `dpfl train --task jsonl` loads it: the input is the training
/// file, or, with a NUL byte, the training file and then the evaluation file. Each is
/// written to a private temporary file, since the loader streams from disk.
@_cdecl("FuzzJSONL_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
    "dpfl-fuzz-jsonl-\(getpid())")
  try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  let training = folder.appendingPathComponent("train.jsonl")
  let evaluation = folder.appendingPathComponent("evaluation.jsonl")
  defer { try? FileManager.default.removeItem(at: folder) }
  return runFuzzer(argc, argv) { bytes in
    let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    try? Data(parts[0]).write(to: training)
    if parts.count > 1 { try? Data(parts[1]).write(to: evaluation) }
    do {
      let loaded = try JSONLDataset.load(
        training: training, evaluation: parts.count > 1 ? evaluation : nil, seed: 1)
      switch loaded.examples {
      case .text(let dataset):
        precondition(dataset.classCount <= JSONLDataset.maximumClassCount, "too many classes")
      case .features(let dataset):
        precondition(dataset.classCount <= JSONLDataset.maximumClassCount, "too many classes")
      }
    } catch let error as FederatedError {
      let message = error.description
      precondition(!message.isEmpty && message.utf8.count < 64 << 10, "message too long")
    } catch {
      preconditionFailure("unexpected error type \(type(of: error))")
    }
  }
}
