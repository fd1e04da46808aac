import DPModel
import Foundation
import FuzzSupport

/// Safetensors files: the reader, then every tensor's values in every view a model takes
/// (floats, doubles, integers, a matrix of its shape), as loading a model does.
@_cdecl("FuzzSafetensors_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { bytes in
    guard let contents = try? Safetensors.read(from: Data(bytes), source: "fuzz.safetensors")
    else { return }
    for tensor in contents.tensors where tensor.bytes.count <= 1 << 20 {
      if tensor.dtype.isFloatingPoint {
        _ = tensor.floatValues()
        _ = tensor.doubleValues()
        let rows = tensor.shape.count == 2 ? tensor.shape[0] : 1
        let columns = tensor.shape.count == 2 ? tensor.shape[1] : tensor.shape.reduce(1, *)
        _ = try? contents.matrix(tensor.name, rows: rows, columns: columns, as: Float.self)
      } else {
        _ = try? tensor.integerValues()
      }
    }
    // A round trip of what was read must give bytes that read back the same.
    let again = try? Safetensors.read(
      from: Safetensors.encode(contents.tensors, metadata: contents.metadata), source: "again")
    precondition(again?.tensors.count == contents.tensors.count, "round trip lost tensors")
  }
}
