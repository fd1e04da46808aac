import ArgumentParser
import DPModel

/// The precision of a text model's frozen matrix products (`--frozen-precision`).
public enum FrozenPrecision: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// Float32 throughout (OpenBLAS).
  case float32
  /// The frozen encoder weights and the inputs of their products rounded to bfloat16, the
  /// sums in Float32 (oneDNN, on AMX or AVX512-BF16); adapters, head, layer norms and
  /// attention stay Float32. See `DPModel.BFloat16Weight`.
  case bf16
}

extension FrozenPrecision {
  /// A text run's precision when `--frozen-precision` is not given: bf16 where the CPU has
  /// bfloat16 units (``BFloat16Weight/hasNativeUnits``; it cost 0.1 points of accuracy or
  /// less on the built-in text tasks, README), float32 elsewhere.
  public static var defaultForText: FrozenPrecision {
    BFloat16Weight.hasNativeUnits ? .bf16 : .float32
  }
}
