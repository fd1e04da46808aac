import ArgumentParser
import DPModel

/// What a run trains and how its updates travel (`--method`). Each method is an algorithm
/// (``FederatedAlgorithm``) over an adapter; how its contributions are made private is
/// the mechanism (``PrivacyMechanism``). Both are chosen in one place,
/// `FederatedMethod+Registration.swift`.
public enum FederatedMethod: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// LoRA on the adapted layers, plus the head.
  case dpLoRA = "dp-lora"
  /// DyLoRA: the server draws one active rank per round for the whole cohort.
  case dpDyLoRA = "dp-dylora"
  /// FFA-LoRA: A frozen from a public seed, B and the head train.
  case ffaLoRA = "ffa-lora"
  /// Fed-SB: B and A frozen (public factors), the r×r core and the head train.
  case fedSB = "fed-sb"
  /// DP-REC: the adapter update (LoRA unless `--rec-adapter` says otherwise) is sent as
  /// the indices of an exact relative entropy coder (user level, fixed-size cohorts).
  case dpREC = "dp-rec"
  /// No adapters: only the head trains (a baseline).
  case headOnly = "head-only"
  /// No adapters: every linear weight trains (a baseline; layer norms and embeddings
  /// stay frozen).
  case full

  /// The LoRA-family adapter this method puts on the model (`nil` for the baselines and
  /// for DP-REC, whose adapter is ``FederatedConfiguration/recAdapter``).
  public var adapterKind: AdapterConfiguration.Kind? {
    switch self {
    case .dpLoRA: .lora
    case .dpDyLoRA: .dyLoRA
    case .ffaLoRA: .ffaLoRA
    case .fedSB: .fedSB
    case .dpREC, .headOnly, .full: nil
    }
  }
}
