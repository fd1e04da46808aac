import DPModel

/// Everything that determines a federated run, as it is written to the run folder's
/// `config.json`. Defaults are those of `dpfl train` with no arguments.
public struct FederatedConfiguration: Codable, Equatable, Sendable {
  /// The trainable parameters and how they are chosen.
  public enum Method: String, Codable, CaseIterable, Sendable {
    /// LoRA on the adapted layers, plus the head.
    case dpLoRA = "dp-lora"
    /// DyLoRA: the server draws one active rank per round for the whole cohort.
    case dpDyLoRA = "dp-dylora"
    /// FFA-LoRA: A frozen from a public seed, B and the head train.
    case ffaLoRA = "ffa-lora"
    /// Fed-SB: B and A frozen (public random factors), the r×r core and the head train.
    case fedSB = "fed-sb"
    /// DP-REC: adapters (LoRA unless ``FederatedConfiguration/codedAdapter`` says otherwise)
    /// whose clipped, noisy updates are sent as indices of an exact relative entropy coder
    /// (``RelativeEntropyCodec``); user level, fixed-size cohorts.
    case dpREC = "dp-rec"
    /// No adapters: only the head trains (a baseline).
    case headOnly = "head-only"
    /// No adapters: every linear weight trains (full fine-tuning, a baseline; layer norms
    /// and embeddings stay frozen).
    case full
  }

  /// The server's update rule, applied to the noisy mean (post-processing).
  public enum ServerOptimizer: String, Codable, CaseIterable, Sendable {
    case sgd, momentum, adam
  }

  /// What one unit of privacy protects.
  public enum PrivacyUnit: String, Codable, CaseIterable, Sendable {
    /// A whole client's data (DP-FedAvg: one clip per client, central noise).
    case user
    /// One example (DP-SGD inside each client: per-example clipping, local noise). Accounted
    /// as if every client took part in every round.
    case example
  }

  /// The accountant used for calibration and for the per-round budget check.
  public enum AccountantChoice: String, Codable, CaseIterable, Sendable {
    /// Privacy-loss distributions (tightest; the default).
    case pld
    /// Rényi DP (faster; a looser upper bound).
    case rdp
  }

  /// The task: `digits`, `shakespeare-genre`, `chitchat-topic`, or `jsonl` (the user's own
  /// data).
  public var task = "digits"
  /// `jsonl`: the training file (and optionally an evaluation file) of JSON Lines.
  public var dataPath: String?
  public var evaluationDataPath: String?
  /// `shakespeare-genre`: evaluate on held-out plays (`held-out-plays`, the default) or on
  /// each role's held-out last lines (`held-out-lines`).
  public var evaluationSplit = "held-out-plays"
  /// `shakespeare-genre`: consecutive speeches of a role per example.
  public var speechesPerExample = 1
  /// Text tasks: the MiniLM blocks kept (1…6) and the longest token sequence.
  public var encoderLayers = 2
  public var maxSequenceLength = 32
  public var method: Method = .dpDyLoRA
  /// DP-REC: the adapter whose update is coded, `dp-lora` (`nil`, the default), `ffa-lora`
  /// or `fed-sb`. DP-DyLoRA is not coded: its live coordinates change with each round's
  /// rank, and a run's coder is fixed.
  public var codedAdapter: Method?
  /// The adapters' method: ``codedAdapter`` (or DP-LoRA) for DP-REC, else ``method``.
  public var adapterMethod: Method { method == .dpREC ? codedAdapter ?? .dpLoRA : method }
  public var privacyUnit: PrivacyUnit = .user
  /// `false` runs the same loop without clipping or noise (the comparison row).
  public var privacy = true
  /// T, the number of rounds.
  public var rounds = 200
  /// How each round's cohort is drawn (and accounted).
  public var cohortSampling: CohortSampler.Kind = .poisson
  /// m_sim, the expected number of trained clients per round.
  public var cohortSize = 20
  /// N, the population the accounting assumes (`nil`: the task's clients).
  public var population: Int? = 1_000_000
  /// m_noise, the cohort the noise is calibrated for (`nil`: m_sim).
  public var noiseCohortSize: Int? = 1_000
  /// C (the initial C with adaptive clipping).
  public var clippingBound = 0.5
  /// Adaptive clipping of the bound (user level); `nil` keeps C fixed.
  public var adaptiveClipping: AdaptiveClipping?
  /// σ; `nil` means calibrate it from ``targetEpsilon``.
  public var noiseMultiplier: Double?
  /// The ε the run must not exceed (`nil`: no budget, σ must be given).
  public var targetEpsilon: Double? = 2
  /// δ.
  public var delta = 1e-6
  public var accountant: AccountantChoice = .pld
  public var noiseSource: NoiseSource = .seeded
  /// Local epochs per round on each client.
  public var localEpochs = 1
  public var localBatchSize = 8
  public var localLearningRate = 0.01
  public var serverOptimizer: ServerOptimizer = .sgd
  public var serverLearningRate = 1.0
  /// LoRA rank (DyLoRA: the maximum rank).
  public var rank = 8
  public var alpha = 16.0
  /// DyLoRA: train only component b at active rank b.
  public var frozen = false
  /// The public seed of everything random in the run.
  public var seed: UInt64 = 0

  /// The defaults.
  public init() {}

  /// The adapters the method puts on the model (`nil` for head-only).
  public var adapterConfiguration: AdapterConfiguration? {
    let kind: AdapterConfiguration.Kind
    switch adapterMethod {
    case .dpLoRA, .dpREC: kind = .lora
    case .dpDyLoRA: kind = .dyLoRA
    case .ffaLoRA: kind = .ffaLoRA
    case .fedSB: kind = .fedSB
    case .headOnly, .full: return nil
    }
    return AdapterConfiguration(
      kind: kind, rank: rank, alpha: alpha, frozen: frozen, seed: seed ^ 0x4144_4150)
  }

  /// Every problem with the values, one line each (empty when valid). The cohort and
  /// population checks need the task's client count and are skipped when it is `nil`.
  public func problems(clientCount: Int?) -> [FederatedError] {
    var found: [FederatedError] = []
    func check(_ ok: Bool, _ field: String, _ value: Any, _ allowed: String) {
      if !ok {
        found.append(.invalidConfiguration(field: field, value: "\(value)", allowed: allowed))
      }
    }
    check(
      ["digits", "shakespeare-genre", "chitchat-topic", "jsonl"].contains(task), "--task", task,
      "digits, shakespeare-genre, chitchat-topic or jsonl")
    check(speechesPerExample >= 1, "--speeches-per-example", speechesPerExample, "an integer ≥ 1")
    check(
      ["held-out-plays", "held-out-lines"].contains(evaluationSplit), "--evaluation-split",
      evaluationSplit, "held-out-plays or held-out-lines")
    check(
      task != "jsonl" || dataPath != nil, "--data", "none",
      "given with --task jsonl (a JSON Lines file)")
    check(
      encoderLayers >= 1 && encoderLayers <= 6, "--layers", encoderLayers,
      "in 1...6 (all-MiniLM-L6-v2's blocks)")
    check(
      maxSequenceLength >= 4 && maxSequenceLength <= 512, "--max-length", maxSequenceLength,
      "in 4...512")
    check(rounds >= 1, "--rounds", rounds, "an integer ≥ 1")
    check(cohortSize >= 1, "--cohort-size", cohortSize, "an integer ≥ 1")
    if let clientCount {
      check(
        cohortSize <= clientCount, "--cohort-size", cohortSize,
        "in 1...\(clientCount) (the task's clients)")
      let population = population ?? clientCount
      let noiseCohort = noiseCohortSize ?? cohortSize
      check(
        population >= clientCount, "--population", population,
        "≥ \(clientCount) (the task's clients)")
      check(
        noiseCohort >= cohortSize && noiseCohort <= population, "--noise-cohort-size", noiseCohort,
        "in \(cohortSize)...\(population) (≥ the cohort size, ≤ the population)")
    }
    check(
      clippingBound > 0 && clippingBound.isFinite, "--clipping-bound", clippingBound, "a number > 0"
    )
    check(delta > 0 && delta < 1, "--delta", delta, "in (0, 1)")
    if let noiseMultiplier {
      check(
        noiseMultiplier > 0 && noiseMultiplier.isFinite, "--noise-multiplier", noiseMultiplier,
        "a number > 0")
    }
    if let targetEpsilon {
      check(targetEpsilon > 0 && targetEpsilon.isFinite, "--epsilon", targetEpsilon, "a number > 0")
    }
    if privacy {
      check(
        targetEpsilon != nil || noiseMultiplier != nil, "--epsilon", "none",
        "given (or --noise-multiplier) for a private run")
    }
    if let adaptive = adaptiveClipping {
      check(
        privacyUnit == .user, "--adaptive-clipping", "with --privacy-unit example",
        "used with user-level privacy")
      check(
        adaptive.targetQuantile > 0 && adaptive.targetQuantile < 1, "--target-quantile",
        adaptive.targetQuantile, "in (0, 1)")
      check(
        adaptive.learningRate > 0, "--clip-learning-rate", adaptive.learningRate, "a number > 0")
      check(
        adaptive.indicatorNoiseFraction > 0, "--indicator-noise-fraction",
        adaptive.indicatorNoiseFraction, "a number > 0")
    }
    if cohortSampling == .fixedSize {
      check(
        accountant == .rdp, "--accountant", accountant.rawValue,
        "rdp with --cohort-sampling fixed-size (the PLD accountant has no sampling without replacement)"
      )
      check(
        privacyUnit == .user, "--cohort-sampling", "fixed-size with --privacy-unit example",
        "poisson at example level")
    }
    if let codedAdapter {
      check(
        method == .dpREC, "--rec-adapter", codedAdapter.rawValue,
        "omitted unless --method dp-rec")
      check(
        [.dpLoRA, .ffaLoRA, .fedSB].contains(codedAdapter), "--rec-adapter",
        codedAdapter.rawValue,
        "dp-lora, ffa-lora or fed-sb (a run's coder is fixed, and DyLoRA's live coordinates change with each round's rank)"
      )
    }
    if method == .dpREC {
      check(
        privacy, "--no-privacy", "with --method dp-rec", "omitted: DP-REC codes the privacy noise")
      check(
        privacyUnit == .user, "--privacy-unit", privacyUnit.rawValue, "user with --method dp-rec")
      check(
        cohortSampling == .fixedSize, "--cohort-sampling", cohortSampling.rawValue,
        "fixed-size with --method dp-rec (the clients' noise must add up to the calibrated noise, so the cohort size must be known)"
      )
      check(
        adaptiveClipping == nil, "--adaptive-clipping", "with --method dp-rec",
        "omitted: DP-REC codes with a fixed bound")
    }
    check(localEpochs >= 1, "--local-epochs", localEpochs, "an integer ≥ 1")
    check(localBatchSize >= 1, "--local-batch-size", localBatchSize, "an integer ≥ 1")
    check(localLearningRate > 0, "--local-learning-rate", localLearningRate, "a number > 0")
    check(serverLearningRate > 0, "--server-learning-rate", serverLearningRate, "a number > 0")
    check(rank >= 1 && rank <= 64, "--rank", rank, "an integer in 1...64")
    check(alpha > 0, "--alpha", alpha, "a number > 0")
    return found
  }
}
