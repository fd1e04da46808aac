import COpenBLAS
import Foundation

/// Which of OpenBLAS's CPU-specific kernels this process uses, and the fix for a CPU that
/// OpenBLAS does not recognise.
///
/// Debian's OpenBLAS (0.3.21) is built with `DYNAMIC_ARCH`: when it loads, it reads the
/// CPU's model number and picks kernels for it. A CPU newer than the library (an Intel
/// Xeon of family 6, model 207, on the project's machines) is not in its table, and
/// OpenBLAS falls back to its Prescott kernels (SSE3), without saying so. On MiniLM that
/// costs 4.6× on a whole LoRA training step (2 blocks, batch 16, sequence 32: 40 against
/// 184 examples per second). The choice is made before `main` runs, from the environment
/// variable `OPENBLAS_CORETYPE`, so an executable that finds the fallback on a CPU with
/// AVX-512 or AVX2 sets that variable and executes itself again
/// (``reexecuteWithMatchingKernel()``).
///
/// Kernels differ in their order of summation, so results are reproducible for a seed on
/// one kernel; run folders from different kernels agree in ε exactly and in accuracy only
/// statistically.
public enum OpenBLASKernel {
  /// The kernel set OpenBLAS chose, e.g. `Cooperlake` or `Prescott`.
  public static var coreName: String { String(cString: openblas_get_corename()) }

  /// The kernel set that an executable calling ``reexecuteWithMatchingKernel()`` uses on
  /// this machine, in this process's environment.
  public static var executableCoreName: String {
    replacementCoreType(
      chosen: coreName, environment: ProcessInfo.processInfo.environment,
      cpuFlags: cpuFlags()) ?? coreName
  }

  /// Sets how many threads OpenBLAS uses inside one call. An executable that runs
  /// independent work on threads of its own (dpfl's clients and evaluation batches) sets 1,
  /// so that OpenBLAS's threads and its own do not compete for the same cores.
  public static func setThreadsPerCall(_ count: Int) {
    openblas_set_num_threads(Int32(max(1, count)))
  }

  /// The most capable kernel set of OpenBLAS 0.3.21 that a CPU with these `/proc/cpuinfo`
  /// flags runs: Cooperlake (AVX-512 with BF16), SkylakeX (AVX-512), Haswell (AVX2 and FMA);
  /// nil for an older CPU.
  public static func matchingCoreType(cpuFlags: Set<Substring>) -> String? {
    let avx512: Set<Substring> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
    if avx512.isSubset(of: cpuFlags) {
      return cpuFlags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX"
    }
    if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
    return nil
  }

  /// The kernel set to ask for: the CPU's ``matchingCoreType(cpuFlags:)`` when OpenBLAS
  /// fell back to Prescott and `OPENBLAS_CORETYPE` is unset (a value the user set, even an
  /// empty one, is theirs); nil when nothing should change. The flags are read only when
  /// the fallback happened.
  public static func replacementCoreType(
    chosen: String, environment: [String: String], cpuFlags: @autoclosure () -> Set<Substring>
  ) -> String? {
    guard environment["OPENBLAS_CORETYPE"] == nil, chosen.lowercased() == "prescott" else {
      return nil
    }
    return matchingCoreType(cpuFlags: cpuFlags())
  }

  /// The value of `field` for the first processor in `/proc/cpuinfo` (e.g. `model name`,
  /// `flags`), without surrounding spaces; nil where there is none.
  public static func cpuInfo(_ field: String) -> String? {
    let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    for line in info.split(separator: "\n") {
      let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
      if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == field {
        return parts[1].trimmingCharacters(in: .whitespaces)
      }
    }
    return nil
  }

  /// The flags of the first processor in `/proc/cpuinfo` (empty where there is none).
  public static func cpuFlags() -> Set<Substring> {
    Set((cpuInfo("flags") ?? "").split(separator: " "))
  }

  /// When OpenBLAS fell back to its generic kernels on a CPU it did not recognise, sets
  /// `OPENBLAS_CORETYPE` to the CPU's kernel set and replaces the process with a fresh run
  /// of the same executable and arguments (`/proc/self/exe`), so the library loads again
  /// and picks it up. Returns (and the process goes on with the slower kernels) when there
  /// is nothing to change or the executable cannot be run again. Call it first thing in
  /// `main`, before any output or any other thread.
  public static func reexecuteWithMatchingKernel() {
    guard
      let coreType = replacementCoreType(
        chosen: coreName, environment: ProcessInfo.processInfo.environment,
        cpuFlags: cpuFlags())
    else { return }
    setenv("OPENBLAS_CORETYPE", coreType, 1)
    var arguments = CommandLine.arguments.map { strdup($0) } + [nil]
    execv("/proc/self/exe", &arguments)
    unsetenv("OPENBLAS_CORETYPE")  // execv returned: it failed; keep the environment as it was
    for argument in arguments { free(argument) }
  }
}
