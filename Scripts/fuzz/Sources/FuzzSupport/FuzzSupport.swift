import CFuzzer

/// The harness body libFuzzer calls (a C callback cannot capture it, so it is global).
nonisolated(unsafe) private var body: ((UnsafeRawBufferPointer) -> Void)?

/// Runs libFuzzer's driver over `harness`: call it from a harness's `<Target>_main`.
/// A harness returns normally for every input; a trap (precondition, overflow, index out
/// of range, `fatalError`) or a sanitizer report is a crash that libFuzzer records.
public func runFuzzer(
  _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
  harness: @escaping (UnsafeRawBufferPointer) -> Void
) -> CInt {
  body = harness
  var argc = argc
  var argv = argv
  return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    body?(UnsafeRawBufferPointer(start: data, count: size))
    return 0
  }
}

/// The input split at NUL bytes (an argument vector).
public func splitAtNUL(_ bytes: UnsafeRawBufferPointer) -> [String] {
  bytes.split(separator: 0, omittingEmptySubsequences: false).map {
    String(decoding: $0, as: UTF8.self)
  }
}
