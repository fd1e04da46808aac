/// The outcome of `dpfl train`, printed as JSON with `--format json` and written to the run
/// folder's `summary.json`. Keys are stable.
public struct TrainingSummary: Codable, Equatable, Sendable {
  public var task: String
  public var method: String
  /// "user": ε protects a whole client's data.
  public var privacyUnit: String
  /// ε spent (at ``delta``), by the run's accountant; ∞ without privacy.
  public var epsilon: Double
  /// The same ledger by RDP, for comparison (an upper bound too, usually looser).
  public var rdpEpsilon: Double?
  public var targetEpsilon: Double?
  public var delta: Double
  public var accountant: String
  public var noiseMultiplier: Double
  /// C (the initial C with adaptive clipping).
  public var clippingBound: Double
  /// With adaptive clipping, C after the last round; `nil` when C was fixed.
  public var finalClippingBound: Double?
  /// Rounds completed.
  public var rounds: Int
  public var plannedRounds: Int
  public var accuracyBefore: Double
  public var accuracyAfter: Double
  /// The accuracy of always predicting the evaluation split's most common label: the floor
  /// a useful model must beat.
  public var majorityAccuracy: Double
  /// DP-DyLoRA: accuracy at every rank 1…r after training (post-processing, free).
  public var accuracyByRank: [Double]?
  /// Mean over rounds of the bytes one client sent (live float32 coordinates).
  public var bytesPerClientPerRound: Int
  /// Bytes a client would send if it sent every trainable float32.
  public var bytesFullUpdate: Int
  /// DP-REC: the coder and its bits per parameter (`nil` for other methods).
  public var coding: CodingReport?
  public var runDir: String
  /// N the accounting assumes.
  public var simulatedPopulation: Int
  /// m_noise, the cohort the noise corresponds to.
  public var noiseCohortSize: Int
  /// m_sim, clients actually trained per round (expected).
  public var cohortSize: Int
  /// Text tasks: the longest token sequence, `[CLS]` and `[SEP]` included (`nil` for
  /// feature vectors).
  public var maxLength: Int?
  /// Whether N and m_noise describe a simulated deployment larger than what was trained.
  public var simulation: Bool
  public var noiseSource: String
  /// Byzantine clients in the simulation (`nil` without): how many and what they sent.
  public var byzantine: ByzantineReport?
  /// What the ε assumes, in words (e.g. the participation assumed at example level).
  public var assumptions: [String]
  /// What the user should know about the result (e.g. a model no better than the majority
  /// label), each with a hint.
  public var warnings: [String]
  /// Why the run ended early (`nil` when all planned rounds ran).
  public var stopReason: String?
  public var wallSeconds: Double

  enum CodingKeys: String, CodingKey {
    case task, method, privacyUnit = "privacy_unit", epsilon, rdpEpsilon = "rdp_epsilon"
    case targetEpsilon = "target_epsilon", delta, accountant, noiseMultiplier = "noise_multiplier"
    case clippingBound = "clipping_bound", finalClippingBound = "final_clipping_bound", rounds,
      plannedRounds = "planned_rounds"
    case accuracyBefore = "accuracy_before", accuracyAfter = "accuracy_after"
    case majorityAccuracy = "majority_accuracy", warnings
    case accuracyByRank = "accuracy_by_rank", bytesPerClientPerRound = "bytes_per_client_per_round"
    case bytesFullUpdate = "bytes_full_update", coding, runDir = "run_dir"
    case simulatedPopulation = "simulated_population", noiseCohortSize = "noise_cohort_size"
    case cohortSize = "cohort_size", maxLength = "max_length", simulation
    case noiseSource = "noise_source", byzantine
    case assumptions, stopReason = "stop_reason", wallSeconds = "wall_seconds"
  }
}

/// The Byzantine clients of a simulated run.
public struct ByzantineReport: Codable, Equatable, Sendable {
  /// The first `clients` of the task's clients attacked.
  public var clients: Int
  /// Of the task's clients.
  public var of: Int
  /// What they sent (``ByzantineAttack``).
  public var attack: String
}
