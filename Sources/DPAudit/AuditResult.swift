import DPFederated

/// What `dpfl audit` found (the run folder's `audit.json`; keys are stable): the
/// accountant's ε beside an empirical estimate and an empirical lower bound, for the
/// ``ThreatModel`` the canaries were scored under.
public struct AuditResult: Codable, Equatable, Sendable {
  /// What the adversary the scores stand for sees.
  public enum ThreatModel: String, Codable, Sendable {
    /// θ₀ and θ_T only (user level): a canary's score is its cosine with θ_T − θ₀.
    case finalModel = "final_model"
    /// Every update its host client sends (example level: the server's view, which local
    /// DP-SGD is meant to protect against): a canary's score is the sum over its host's
    /// rounds of its cosine with the host's update (against the update's direction), times
    /// √(d / rounds), so that a held-out canary's score is about N(0, 1).
    case clientUpdates = "client_updates"
  }

  /// The threat model of the scores.
  public var threatModel: ThreatModel
  /// The accountant's ε for the run (an upper bound) at ``delta``.
  public var accountantEpsilon: Double
  public var delta: Double
  public var privacyUnit: String
  /// m, the canaries; about half were inserted.
  public var canaries: Int
  public var insertedCanaries: Int
  /// d, the trained coordinates the canaries live in.
  public var dimension: Int
  /// The mean number of times an inserted canary joined: rounds at user level, local DP-SGD
  /// steps at example level.
  public var meanParticipations: Double
  /// Andrew et al.'s one-shot estimate (not a bound).
  public var estimate: OneShotEstimate
  /// Steinke et al.'s one-run lower bound: the true ε is at least this, with
  /// ``confidence``.
  public var lowerBound: Double
  public var confidence: Double
  /// The guesses the lower bound made and how many were right.
  public var guesses: Int
  public var correctGuesses: Int
  /// What the numbers mean, in words.
  public var notes: [String]

  /// The audit of a finished run from its canaries' `scores` under `threatModel`.
  public init(
    canaries: CanaryDirections, scores: [Double], threatModel: ThreatModel,
    participations: [Int: Int], summary: TrainingSummary, confidence: Double
  ) {
    let inserted = canaries.inserted
    self.threatModel = threatModel
    accountantEpsilon = summary.epsilon
    delta = summary.delta
    privacyUnit = summary.privacyUnit
    self.canaries = canaries.count
    insertedCanaries = inserted.count
    dimension = canaries.dimension
    meanParticipations =
      Double(inserted.reduce(0) { $0 + participations[$1, default: 0] })
      / Double(max(1, inserted.count))
    estimate = OneShotEstimate(
      inserted: inserted.map { scores[$0] },
      heldOut: scores.indices.filter { !canaries.isInserted[$0] }.map { scores[$0] },
      dimension: threatModel == .finalModel ? canaries.dimension : nil, delta: summary.delta)
    let best = OneRunLowerBound.best(
      scores: scores, isInserted: canaries.isInserted, delta: summary.delta,
      confidence: confidence)
    lowerBound = best.epsilon
    self.confidence = confidence
    guesses = best.bound.guesses
    correctGuesses = best.bound.correct
    notes = [
      threatModel == .finalModel
        ? "threat model: the final model only (θ₀ and θ_T); an adversary who sees every round's model may learn more"
        : "threat model: the server, which sees every update of a canary's host client (what local DP-SGD protects against)",
      "estimate: Andrew et al. (ICLR 2024), the inserted canaries' mean score against the null (\(estimate.null)) read as a Gaussian mechanism; an estimate with no confidence statement (two_gaussian_epsilon also fits their spread, and is noisier)",
      "lower bound: Steinke, Nasr & Jagielski (NeurIPS 2023), guessing the canaries of highest score; the true ε is at least this with confidence \(confidence) (guess counts fixed in advance, Bonferroni-corrected)",
    ]
  }

  enum CodingKeys: String, CodingKey {
    case threatModel = "threat_model"
    case accountantEpsilon = "accountant_epsilon", delta, privacyUnit = "privacy_unit"
    case canaries, insertedCanaries = "inserted_canaries", dimension
    case meanParticipations = "mean_participations", estimate, lowerBound = "lower_bound"
    case confidence, guesses, correctGuesses = "correct_guesses", notes
  }
}
