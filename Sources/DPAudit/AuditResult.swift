import DPFederated

/// What `dpfl audit` found (the run folder's `audit.json`; keys are stable): the
/// accountant's ε beside an empirical estimate and an empirical lower bound, both for the
/// final-model threat model (the adversary sees θ₀ and θ_T, not the rounds between).
public struct AuditResult: Codable, Equatable, Sendable {
  /// The accountant's ε for the run (an upper bound) at ``delta``.
  public var accountantEpsilon: Double
  public var delta: Double
  public var privacyUnit: String
  /// m, the canaries; about half were inserted.
  public var canaries: Int
  public var insertedCanaries: Int
  /// d, the trained coordinates the canaries live in.
  public var dimension: Int
  /// The mean number of rounds an inserted canary joined.
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

  /// The audit of a finished run from its canaries' cosines with θ_T − θ₀.
  public init(
    canaries: CanaryDirections, cosines: [Double], participations: [Int: Int],
    summary: TrainingSummary, confidence: Double
  ) {
    let inserted = canaries.inserted
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
      insertedCosines: inserted.map { cosines[$0] },
      heldOutCosines: cosines.indices.filter { !canaries.isInserted[$0] }.map { cosines[$0] },
      dimension: canaries.dimension, delta: summary.delta)
    let best = OneRunLowerBound.best(
      scores: cosines, isInserted: canaries.isInserted, delta: summary.delta,
      confidence: confidence)
    lowerBound = best.epsilon
    self.confidence = confidence
    guesses = best.bound.guesses
    correctGuesses = best.bound.correct
    notes = [
      "threat model: the final model only (θ₀ and θ_T); an adversary who sees every round's model may learn more",
      "estimate: Andrew et al. (ICLR 2024), the inserted canaries' mean cosine against the null N(0, 1/d) read as a Gaussian mechanism; an estimate with no confidence statement (two_gaussian_epsilon also fits their spread, and is noisier)",
      "lower bound: Steinke, Nasr & Jagielski (NeurIPS 2023), guessing the canaries of highest cosine; the true ε is at least this with confidence \(confidence) (guess counts fixed in advance, Bonferroni-corrected)",
    ]
  }

  enum CodingKeys: String, CodingKey {
    case accountantEpsilon = "accountant_epsilon", delta, privacyUnit = "privacy_unit"
    case canaries, insertedCanaries = "inserted_canaries", dimension
    case meanParticipations = "mean_participations", estimate, lowerBound = "lower_bound"
    case confidence, guesses, correctGuesses = "correct_guesses", notes
  }
}
