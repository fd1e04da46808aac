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
  /// DP-BREM (Gu, Li & Xiong): client momentum over per-record clipped gradients, centered
  /// clipping of each client's momentum at the server, Gaussian noise on the sum (record
  /// level; robust to Byzantine clients). Trains LoRA and the head.
  case dpBREM = "dp-brem"
  /// FLoRA (Wang et al., NeurIPS 2024): each round every client trains a fresh LoRA of its own
  /// rank (`--client-ranks`), and the server merges the sum of their products s·B·A into the
  /// base weights (stacking's exact aggregate). Feature-vector tasks.
  case flora
  /// No adapters: only the head trains (a baseline).
  case headOnly = "head-only"
  /// No adapters: every linear weight trains (a baseline; layer norms and embeddings
  /// stay frozen).
  case full

  /// The LoRA-family adapter this method puts on the model (`nil` for the baselines and
  /// for DP-REC, whose adapter is ``FederatedConfiguration/recAdapter``).
  public var adapterKind: AdapterConfiguration.Kind? {
    switch self {
    case .dpLoRA, .dpBREM: .lora
    case .dpDyLoRA: .dyLoRA
    case .ffaLoRA: .ffaLoRA
    case .fedSB: .fedSB
    case .dpREC, .flora, .headOnly, .full: nil
    }
  }
}
