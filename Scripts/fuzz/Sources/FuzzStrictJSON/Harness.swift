import FuzzSupport

@testable import DPModel

/// StrictJSON, with every option on and off; the locator of decoding errors; and positions.
@_cdecl("FuzzStrictJSON_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { raw in
    let bytes = Array(raw)
    let strict = StrictJSON.Options(
      maximumDepth: StrictJSON.maximumFileDepth, rejectsDuplicateKeys: true,
      rejectsOutOfRangeNumbers: true)
    do throws(StrictJSON.SyntaxError) {
      let value = try StrictJSON.parse(bytes, options: strict)
      _ = value.summary
      _ = StrictJSON.offset(of: [.key("event"), .index(0), .key("count")], in: bytes)
    } catch {
      precondition(error.offset >= 0 && error.offset <= bytes.count, "offset outside the input")
      let (line, column) = StrictJSON.lineAndColumn(of: error.offset, in: bytes)
      precondition(line >= 1 && column >= 1, "bad position")
    }
    if let value = try? StrictJSON.parse(bytes) {
      _ = value.integer
      _ = value.value(at: [.index(0)])
    }
  }
}
