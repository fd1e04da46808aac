import ArgumentParser

/// The precision of a text model's frozen matrix products (`--frozen-precision`).
public enum FrozenPrecision: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// Float32 throughout (OpenBLAS).
  case float32
  /// The frozen encoder weights and the inputs of their products rounded to bfloat16, the
  /// sums in Float32 (oneDNN, on AMX or AVX512-BF16); adapters, head, layer norms and
  /// attention stay Float32. See `DPModel.BFloat16Weight`.
  case bf16
}
