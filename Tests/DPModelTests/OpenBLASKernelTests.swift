import DPModel
import Testing

/// The choice of OpenBLAS kernels when the library does not recognise the CPU.
@Suite("OpenBLAS kernel choice")
struct OpenBLASKernelTests {
  static let avx512: Set<Substring> = [
    "fma", "avx2", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl",
  ]

  @Test("the CPU's flags name the most capable kernel set it runs")
  func matching() {
    #expect(
      OpenBLASKernel.matchingCoreType(cpuFlags: Self.avx512.union(["avx512_bf16"])) == "Cooperlake")
    #expect(OpenBLASKernel.matchingCoreType(cpuFlags: Self.avx512) == "SkylakeX")
    #expect(
      OpenBLASKernel.matchingCoreType(cpuFlags: Self.avx512.subtracting(["avx512vl"])) == "Haswell")
    #expect(OpenBLASKernel.matchingCoreType(cpuFlags: ["avx2", "fma", "sse3"]) == "Haswell")
    #expect(OpenBLASKernel.matchingCoreType(cpuFlags: ["avx2", "sse3"]) == nil)
    #expect(OpenBLASKernel.matchingCoreType(cpuFlags: []) == nil)
  }

  @Test("only the silent Prescott fallback is replaced, and never a kernel the user chose")
  func replacement() {
    let flags = Self.avx512.union(["avx512_bf16"])
    #expect(
      OpenBLASKernel.replacementCoreType(chosen: "Prescott", environment: [:], cpuFlags: flags)
        == "Cooperlake")
    #expect(
      OpenBLASKernel.replacementCoreType(chosen: "Zen", environment: [:], cpuFlags: flags) == nil)
    #expect(
      OpenBLASKernel.replacementCoreType(
        chosen: "Prescott", environment: ["OPENBLAS_CORETYPE": "Prescott"], cpuFlags: flags) == nil)
    #expect(
      OpenBLASKernel.replacementCoreType(
        chosen: "Prescott", environment: ["OPENBLAS_CORETYPE": ""], cpuFlags: flags) == nil)
    #expect(
      OpenBLASKernel.replacementCoreType(chosen: "Prescott", environment: [:], cpuFlags: ["sse3"])
        == nil)
  }
}
