import Accountants
import ArgumentParser
import DPModel

/// Everything that determines a federated run: the one schema of `dpfl train`'s options.
///
/// Each setting is declared once, here, with its default and its help. Its name gives the
/// command-line flag (`cohortSize` → `--cohort-size`), the key of a TOML run config and of
/// the run folder's `config.json` (`cohort_size`); ``validate()`` checks every value (all
/// problems at once) whichever of the three it came from. See
/// `FederatedConfiguration+Settings.swift` for the TOML and JSON bridge.
///
/// Make one with ``defaults`` or ``parse(_:)`` (flags), ``init(settings:)`` (a TOML or JSON
/// object); an unparsed `FederatedConfiguration()` holds no values. After changing a value
/// in code, call ``validate()`` again.
public struct FederatedConfiguration: ParsableArguments, Equatable, Sendable {
  // MARK: Task

  @Option(
    help:
      "digits, shakespeare-genre or chitchat-topic (these two need Scripts/fetch-assets), or jsonl (--data FILE)."
  )
  public var task: TaskKind = .digits
  @Option(help: "--task jsonl: JSON Lines with user_id, label and text or features.")
  public var data: String?
  @Option(help: "--task jsonl: an evaluation file (default: hold out 20 % of the users).")
  public var evaluationData: String?
  @Option(
    help:
      "--task jsonl: public examples (same format; never a client's) for the head's centre (text) or pre-training (features); they cost no privacy."
  )
  public var publicData: String?
  @Option(
    help:
      "shakespeare-genre: held-out-plays (unseen plays) or held-out-lines (unseen lines of seen roles)."
  )
  public var evaluationSplit: EvaluationSplit = .heldOutPlays
  @Option(help: "shakespeare-genre: consecutive speeches of a role joined into one example.")
  public var speechesPerExample = 1
  @Option(help: "Text tasks: all-MiniLM-L6-v2 blocks to keep, 1…6.")
  public var layers = 2
  @Option(
    help:
      "Text tasks: the longest token sequence, [CLS] and [SEP] included (default \(Self.builtInMaxLength); --task jsonl: the smallest multiple of \(DataDefaults.lengthStep) that holds \(DataDefaults.textPercentage) % of the training texts, or of the public texts with --public-data, in \(DataDefaults.lengthRange.lowerBound)…\(DataDefaults.lengthRange.upperBound))."
  )
  public var maxLength: Int?
  @Option(
    help:
      "Text tasks: bf16 runs the frozen encoder's matrix products on bfloat16 weights and inputs with Float32 sums (oneDNN; needs AVX-512), float32 on Float32 throughout (default: bf16 where the CPU has AVX512-BF16 or AMX, else float32; config.json records which). Adapters and head stay Float32; ε does not depend on it."
  )
  public var frozenPrecision: FrozenPrecision?

  // MARK: Method

  @Option(
    help:
      "dp-lora, dp-dylora, ffa-lora, fed-sb, dp-rec (adapter updates sent by an exact relative entropy coder; fixed-size cohorts, RDP), dp-brem (client momentum and centered clipping against Byzantine clients; --privacy-unit example), flora (fresh LoRA of each client's rank every round, merged into the weights), head-only or full (every linear weight)."
  )
  public var method: FederatedMethod = .dpDyLoRA
  @Option(
    help:
      "--method dp-rec: the adapter whose update is coded: dp-lora (the default), ffa-lora or fed-sb."
  )
  public var recAdapter: FederatedMethod?
  @Option(help: "LoRA rank r (DyLoRA: the maximum rank).")
  public var rank = 8
  @Option(
    help:
      "--method flora: the clients' LoRA ranks, comma-separated, each in 1...64, dealt to the clients in turn (client k gets entry k mod n; default: --rank for every client)."
  )
  public var clientRanks: String?
  @Option(parsing: .unconditional, help: "LoRA α.")
  public var alpha = 16.0
  @Flag(
    inversion: .prefixedNo, help: "DyLoRA: train only component b at active rank b (frozen mode).")
  public var frozen = false

  @Option(
    parsing: .unconditional,
    help:
      "--method dp-brem: the clients' momentum β in [0, 1) (default \(Self.defaultMomentum); 0: no momentum, FedSGD)."
  )
  public var momentum: Double?
  @Option(
    parsing: .unconditional,
    help:
      "--method dp-brem: the radius τ of the server's centered clipping of each client's momentum, > 0 (default: half of --clipping-bound, or twice the norm of one round's noise on the server's momentum if larger). It bounds one client's pull; the noise does not depend on it."
  )
  public var robustnessRadius: Double?

  // MARK: Byzantine clients (simulation)

  @Option(
    parsing: .unconditional,
    help:
      "The fraction of the task's clients that are Byzantine, in [0, 0.5) (the first ⌊F·K⌉ clients; they attack with --attack)."
  )
  public var byzantineFraction = 0.0
  @Option(
    help:
      "What Byzantine clients send: alie (a little is enough), ipm (inner-product manipulation), label-flip or min-max."
  )
  public var attack: ByzantineAttack?

  // MARK: Privacy

  @Option(
    help:
      "user (DP-FedAvg: one clip per client, central noise) or example (DP-SGD inside each client)."
  )
  public var privacyUnit: PrivacyUnit = .user
  @Option(
    help:
      "Example level: client (each client's DP-SGD adds its own noise; the server sees only noised updates; the default) or server (one clipped step per client and round, the noise added once to the cohort's sum as at user level: √(noise cohort) times less noise on the mean at the same ε, if the server or a secure aggregation is trusted with the clipped updates)."
  )
  public var exampleNoise: ExampleNoise?
  @Option(
    help:
      "Example level: MIN...MAX, the numbers of examples a client may hold. σ is calibrated for the least protected size in that range instead of the clients at hand, and a client outside it is refused. A Flower server on --task jsonl needs it: it sees no node's data."
  )
  public var clientExamples: String?
  @Flag(
    inversion: .prefixedNo,
    help: "--no-privacy trains the same loop without clipping or noise (the comparison row; ε = ∞)."
  )
  public var privacy = true
  @Option(
    parsing: .unconditional,
    help:
      "Target ε > 0 (default \(Self.defaultTargetEpsilon) for a private run): σ is calibrated to meet it, and a round that would exceed it is refused."
  )
  public var epsilon: Double?
  @Option(parsing: .unconditional, help: "δ in (0, 1).")
  public var delta = 1e-6
  @Option(
    parsing: .unconditional,
    help:
      "σ = noise std ÷ clipping bound; skips calibration (the --epsilon budget is still enforced)."
  )
  public var noiseMultiplier: Double?
  @Option(
    help:
      "pld, rdp, moments or certified: calibration and the per-round budget check (default: pld with Poisson sampling, rdp with fixed-size)."
  )
  public var accountant: AccountantKind?
  @Option(
    help:
      "seeded (reproducible: the noise follows from the seed; the default for a simulation) or secure (the OS CSPRNG; the default when the run is not a simulation)."
  )
  public var noiseSource: NoiseSource?
  @Option(
    help:
      "continuous or discrete (user level: updates rounded to a grid, exact discrete Gaussian noise that resists floating-point attacks; accounted by rdp or moments). Default: continuous."
  )
  public var noiseDistribution: NoiseDistribution?
  @Option(
    parsing: .unconditional,
    help:
      "Clipping bound C > 0 on each client's update (or example). Default: 4 per example for text at example level, 0.5 otherwise."
  )
  public var clippingBound: Double?
  @Flag(
    inversion: .prefixedNo,
    help:
      "Adapt the clipping bound to a quantile of the client update norms (Andrew et al. 2021); --clipping-bound is the start."
  )
  public var adaptiveClipping = false
  @Option(
    parsing: .unconditional,
    help:
      "Adaptive clipping: the quantile γ in (0, 1) to track (default \(AdaptiveClipping().targetQuantile))."
  )
  public var targetQuantile: Double?
  @Option(
    parsing: .unconditional,
    help:
      "Adaptive clipping: η of C ← C·exp(−η(b̂ − γ)), in (0, 10] (default \(AdaptiveClipping().learningRate))."
  )
  public var clipLearningRate: Double?
  @Option(
    parsing: .unconditional,
    help:
      "Adaptive clipping: σ_b of the unclipped count as a fraction of the noise cohort (default \(AdaptiveClipping().indicatorNoiseFraction))."
  )
  public var indicatorNoiseFraction: Double?

  // MARK: Rounds and cohorts

  @Option(
    help:
      "Rounds T (default \(Self.builtInRounds); --task jsonl: \(DataDefaults.passes) expected passes over the training users, ⌈\(DataDefaults.passes) × users ÷ cohort⌉, in \(DataDefaults.roundRange.lowerBound)…\(DataDefaults.roundRange.upperBound))."
  )
  public var rounds: Int?
  @Option(
    help:
      "poisson (q = noise cohort ÷ population) or fixed-size (sampling without replacement, replace-one neighbours; the default for dp-rec)."
  )
  public var sampling: SamplingScheme?
  @Option(
    help:
      "Clients trained per round, expected; also the fixed denominator of the mean (default \(Self.builtInCohortSize); --task jsonl: ⌊training users ÷ \(DataDefaults.usersPerCohortMember)⌋ in \(DataDefaults.cohortRange.lowerBound)…\(DataDefaults.cohortRange.upperBound), at most the users and --noise-cohort-size)."
  )
  public var cohortSize: Int?
  @Option(help: "Population N the accounting assumes (simulated when larger than the task's).")
  public var population = 1_000_000
  @Option(
    help:
      "Clients per round the noise is calibrated for (simulated when larger than --cohort-size).")
  public var noiseCohortSize = 1_000
  @Option(
    help:
      "Regroup the task's clients into N users, client c into user c mod N: in this process, the run a Flower federation of N nodes trains (dpfl flower-app --nodes N). The population is then N and the noise cohort the cohort, with nothing simulated."
  )
  public var partitions: Int?

  // MARK: Local and server optimisation

  @Option(
    help:
      "User level: weight client k's update by min(n_k / W, 1), n_k its examples (McMahan et al. 2018's capped weights), before the clip; default: every client counts the same."
  )
  public var clientWeightCap: Int?
  @Option(help: "Local epochs per round.")
  public var localEpochs = 1
  @Option(
    help:
      "Local mini-batch size (default 8; text: 64, one step for a client of up to 64 examples)."
  )
  public var localBatchSize: Int?
  @Option(
    parsing: .unconditional,
    help:
      "Local SGD learning rate (default 0.01; text: 0.125, so the update is the client's mean gradient over 8)."
  )
  public var localLearningRate: Double?
  @Option(
    help:
      "Server optimiser on the noisy mean: sgd, momentum or adam (default sgd; text: adam)."
  )
  public var serverOptimizer: ServerOptimizerKind?
  @Option(
    parsing: .unconditional,
    help:
      "Server learning rate (default 1, FedAvg with sgd; 0.003 with adam, the default for text)."
  )
  public var serverLearningRate: Double?
  @Option(
    help:
      "The server learning rate over the rounds: constant, or cosine (from the rate down towards 0 in the last planned round; no privacy cost)."
  )
  public var serverSchedule: ServerSchedule = .constant
  @Option(
    help:
      "Choose the server learning rate among K values from a tenth to ten times its own, each trained without privacy on the task's public split (no privacy cost; 2...20)."
  )
  public var tuneOnPublic: Int?
  @Option(help: "The public seed of every random choice.")
  public var seed: UInt64 = 0

  /// An unparsed configuration (ArgumentParser's requirement); it holds no values.
  @available(*, deprecated, message: "use FederatedConfiguration.defaults or .parse(_:)")
  public init() {}

  /// `dpfl train`'s defaults.
  public static var defaults: FederatedConfiguration {
    do { return try parse([]) } catch {
      preconditionFailure("the default configuration is invalid: \(error)")
    }
  }

  /// DP-BREM's client momentum β when `--momentum` is not given (the value the authors'
  /// learning-from-history analysis uses).
  public static let defaultMomentum = 0.9

  /// The target ε of a private run when `--epsilon` is not given.
  public static let defaultTargetEpsilon = 2.0

  /// The rounds of a built-in task's run when `--rounds` is not given (a JSON Lines run
  /// takes them from its data, ``DataDefaults``).
  public static let builtInRounds = 200
  /// The cohort of a built-in task's run when `--cohort-size` is not given.
  public static let builtInCohortSize = 20
  /// The longest token sequence of a built-in text task when `--max-length` is not given.
  public static let builtInMaxLength = 32

  public static func == (lhs: Self, rhs: Self) -> Bool { lhs.settings == rhs.settings }
}

extension FederatedConfiguration {
  /// The ε the run must not exceed (`nil` without privacy).
  public var targetEpsilon: Double? { privacy ? epsilon ?? Self.defaultTargetEpsilon : nil }

  /// Where the noise comes from: as given, else secure (a run resolves the default once it
  /// knows whether it is a simulation, ``resolvingNoiseSource(isSimulation:)``).
  public var randomness: NoiseSource { noiseSource ?? .secure }

  /// This configuration with the default noise source resolved: seeded noise for a
  /// simulation (reproducible runs of a deployment that is not real), the OS CSPRNG for
  /// anything else.
  public func resolvingNoiseSource(isSimulation: Bool) -> FederatedConfiguration {
    var resolved = self
    resolved.noiseSource = noiseSource ?? (isSimulation ? .seeded : .secure)
    return resolved
  }

  /// The rounds T the run plans: ``rounds``, as given or resolved (by ``validate()`` for
  /// the built-in tasks, from the data for a JSON Lines run, ``resolveDataDefaults(userCount:tokenLengths:)``),
  /// else ``builtInRounds``.
  public var plannedRounds: Int { rounds ?? Self.builtInRounds }

  /// The clients trained per round (m_sim): ``cohortSize``, as given or resolved as
  /// ``plannedRounds`` is, else ``builtInCohortSize``.
  public var clientsPerRound: Int { cohortSize ?? Self.builtInCohortSize }

  /// The longest token sequence of a text example: ``maxLength``, as given or resolved as
  /// ``plannedRounds`` is, else ``builtInMaxLength``.
  public var tokenLimit: Int { maxLength ?? Self.builtInMaxLength }

  /// The sampling scheme: as given, else fixed-size for DP-REC and Poisson otherwise.
  public var samplingScheme: SamplingScheme {
    sampling ?? (method == .dpREC ? .fixedSize : .poisson)
  }

  /// Where example-level noise is added: as given, else by each client.
  public var exampleNoisePlacement: ExampleNoise { exampleNoise ?? .client }

  /// The central noise's distribution: as given, else continuous.
  public var noise: NoiseDistribution { noiseDistribution ?? .continuous }

  /// The accountant: as given, else PLD for Poisson sampling with continuous noise and RDP
  /// otherwise (PLD has no sampling without replacement and no discrete Gaussian).
  public var accountantKind: AccountantKind {
    accountant ?? (samplingScheme == .poisson && noise == .continuous ? .pld : .rdp)
  }

  /// Adaptive clipping's parameters (`nil` with a fixed bound).
  public var adaptive: AdaptiveClipping? {
    guard adaptiveClipping else { return nil }
    var adaptive = AdaptiveClipping()
    if let targetQuantile { adaptive.targetQuantile = targetQuantile }
    if let clipLearningRate { adaptive.learningRate = clipLearningRate }
    if let indicatorNoiseFraction { adaptive.indicatorNoiseFraction = indicatorNoiseFraction }
    return adaptive
  }

  /// DP-BREM's settings (`nil` for other methods), τ as given or
  /// ``CenteredClipping/defaultRadius(clippingBound:noiseNorm:)``.
  /// - Parameter noiseNorm: the norm of the noise one round adds to the server's momentum.
  public func centeredClipping(noiseNorm: Double = 0) -> CenteredClipping? {
    guard method == .dpBREM else { return nil }
    return CenteredClipping(
      momentum: momentum ?? Self.defaultMomentum,
      radius: robustnessRadius
        ?? CenteredClipping.defaultRadius(
          clippingBound: effectiveClippingBound, noiseNorm: noiseNorm),
      rounds: plannedRounds)
  }

  /// FLoRA's client ranks: ``clientRanks`` parsed, else ``rank`` alone (entries that do not
  /// parse are dropped; ``problems`` reports them).
  public var clientRankList: [Int] {
    guard let clientRanks else { return [rank] }
    return clientRanks.split(separator: ",").compactMap {
      Int($0.filter { !$0.isWhitespace })
    }
  }

  /// ``clientExamples`` parsed (`nil` when absent or not of the form `MIN...MAX`).
  public var clientExampleBounds: ClosedRange<Int>? {
    let parts = clientExamples?.components(separatedBy: "...") ?? []
    guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), 1 <= low,
      low <= high
    else { return nil }
    return low...high
  }

  /// The method whose adapters the model carries: ``recAdapter`` (or DP-LoRA) for DP-REC,
  /// else ``method``.
  public var adapterMethod: FederatedMethod { method == .dpREC ? recAdapter ?? .dpLoRA : method }

  /// The adapters the method puts on the model (`nil` for head-only and full).
  public var adapterConfiguration: AdapterConfiguration? {
    adapterMethod.adapterKind.map {
      AdapterConfiguration(
        kind: $0, rank: rank, alpha: alpha, frozen: frozen, seed: seed ^ 0x4144_4150)
    }
  }
}
