/// Which pairs of datasets a privacy guarantee compares.
///
/// Every ε and δ that dpfl reports is relative to one of these relations, and the
/// noise multiplier of a ``DPEvent/gaussian(noiseMultiplier:)`` is defined relative to
/// the L2 sensitivity *under that relation*:
///
/// - ``addOrRemoveOne``: datasets differ by one record (or one user) present in one
///   and absent from the other. A sum of updates clipped to L2 norm C changes by at
///   most C, so a Gaussian with standard deviation σ·C has noise multiplier σ.
///   Poisson subsampling is analysed under this relation.
/// - ``replaceOne``: datasets of the same, public size differ in the content of one
///   record. A clipped sum changes by up to 2C (remove x, add x′), so noise with
///   standard deviation σ·C has noise multiplier σ/2 under this relation. Fixed-size
///   sampling without replacement is analysed under this relation.
///
/// ε values of different relations are not comparable one to one.
public enum NeighboringRelation: String, Codable, Sendable, CaseIterable {
  /// One record (or user) added to or removed from the dataset.
  case addOrRemoveOne = "add_or_remove_one"
  /// One record (or user) replaced by another; the dataset size is public.
  case replaceOne = "replace_one"
}

/// The parameters that are necessary and sufficient to account for a mechanism.
///
/// A `DPEvent` describes *what was released*, not how to account for it: an
/// accountant turns a (composition of) events into ε and δ. Events are values, so a
/// training run's ledger can be written to JSON (see `DPEvent+Codable.swift`) and
/// re-accounted later by any accountant.
///
/// Each case documents its mechanism in full. The noise multipliers are always
/// relative to the L2 (Gaussian) or L1 (Laplace) sensitivity of the released query
/// under the accountant's ``NeighboringRelation``; see that type for how a clipping
/// bound C translates into a sensitivity.
///
/// Mathematical properties (each has a test):
/// - `selfComposed(e, count: n)` accounts exactly like composing `e` n times.
/// - `composed([a, b])` accounts exactly like composing `a`, then `b`.
/// - `poissonSampled(probability: 1, e)` accounts like `e`, and probability 0 like `noOp`.
/// - `participationSampled(probability: 1, e)` accounts like `e`, and probability 0 like `noOp`.
/// - `noOp` costs nothing (ε = 0); `nonPrivate` costs everything (ε = ∞), even nested.
public indirect enum DPEvent: Hashable, Sendable {
  /// Nothing was released, or only data-independent information.
  case noOp

  /// A release with no privacy guarantee (ε = ∞ for every δ < 1).
  case nonPrivate

  /// The Gaussian mechanism: a query of L2 sensitivity Δ released with additive noise
  /// N(0, (noiseMultiplier·Δ)²) on every coordinate.
  ///
  /// - `noiseMultiplier` ≥ 0 is the ratio σ of the noise standard deviation to Δ;
  ///   σ = 0 means no noise (ε = ∞).
  case gaussian(noiseMultiplier: Double)

  /// The discrete Gaussian mechanism (Canonne, Kamath & Steinke 2020, "The Discrete Gaussian
  /// for Differential Privacy", arXiv:2004.00010v5): an *integer-valued* query (for example a
  /// sum of client updates rounded to a grid γℤ^d and counted in grid steps) of L2
  /// sensitivity Δ, released with independent noise N_ℤ(0, (noiseMultiplier·Δ)²) on every
  /// coordinate, where N_ℤ(0, s²)(z) ∝ exp(−z²/(2s²)) on the integers.
  ///
  /// - `noiseMultiplier` ≥ 0 is the ratio σ of the noise parameter s to Δ, both in grid
  ///   steps; σ = 0 means no noise (ε = ∞). Δ must bound the query's change *after*
  ///   rounding (rounding to nearest adds up to √d/2 steps; see `DiscreteGaussian` in
  ///   DPFederated).
  ///
  /// Its Rényi divergence is at most that of the continuous Gaussian, α/(2σ²), at every order
  /// α > 1 (CKS Theorem 4, and Theorem 14 for independent coordinates: completing the square,
  /// Σ_z P^α Q^{1−α} = e^{α(α−1)Δ²/(2σ²)}·Σ_z e^{−(z−c)²/(2s²)}/Σ_z e^{−z²/(2s²)} with
  /// c = αμ + (1−α)ν, and the last ratio is ≤ 1, with equality at integer α), but its
  /// privacy-loss distribution is not, and under Poisson sampling the continuous sampled
  /// Gaussian's formulas (Mironov, Talwar & Zhang 2019) do not apply. Accounted by
  /// ``RDPAccountant`` (and ``MomentsAccountant``) only: alone as α/(2σ²), Poisson-sampled by
  /// Zhu & Wang's general bound (`RDP/PoissonSampledRDPBound.swift`); the PLD and certified
  /// accountants refuse it.
  ///
  /// Mathematical properties (each has a test): unsampled, it accounts exactly like
  /// `gaussian` with the same σ; Poisson-sampled, its ε is never below the sampled continuous
  /// Gaussian's, and never below the divergences of the sampled discrete mixture computed by
  /// direct summation.
  case discreteGaussian(noiseMultiplier: Double)

  /// The Laplace mechanism: a query of L1 sensitivity Δ released with additive
  /// Laplace(0, noiseMultiplier·Δ) noise on every coordinate; it is
  /// (1/noiseMultiplier, 0)-DP. `noiseMultiplier` = 0 means no noise (ε = ∞).
  case laplace(noiseMultiplier: Double)

  /// Poisson subsampling: every record is included independently with `probability`
  /// q ∈ [0, 1], then the inner event runs on the sample. Analysed under
  /// ``NeighboringRelation/addOrRemoveOne``.
  case poissonSampled(probability: Double, DPEvent)

  /// Fixed-size sampling: `sampleSize` records are drawn uniformly without
  /// replacement from a dataset of public size `sourceSize`, then the inner event runs
  /// on the sample. Analysed under ``NeighboringRelation/replaceOne`` (the inner
  /// event's noise multiplier is relative to the replace-one sensitivity).
  case sampledWithoutReplacement(sourceSize: Int, sampleSize: Int, DPEvent)

  /// DP-REC: the inner event's Gaussian release, with each client's noisy contribution sent
  /// as indices of an exact relative entropy coder (see ``RelativeEntropyCoder``). Its
  /// decoded sum has exactly the inner event's law, so it accounts as the inner event once
  /// the coder passes ``RelativeEntropyCoder/failure()``; a coder that fails is rejected by
  /// every accountant.
  case relativeEntropyCoded(RelativeEntropyCoder, DPEvent)

  /// Participation sampling: the *holder* of the protected record (a client of a
  /// federated round) takes part independently with `probability` q ∈ [0, 1], and only
  /// then runs the inner event on its data; otherwise it releases nothing that depends on
  /// the data. Its neighbouring relation is the inner event's (e.g. add/remove one example
  /// of the client).
  ///
  /// What is released: with probability q the inner event's output A(D) (for example a
  /// client's k locally noised DP-SGD steps), with probability 1 − q nothing, and whether
  /// the holder took part may be public (the server sees who sent an update). The
  /// participation draw is independent of the data and fresh in each use.
  ///
  /// This is *not* ``poissonSampled(probability:_:)``, which samples the record itself
  /// (pair (qA + (1−q)B, B)): here the whole inner mechanism is skipped or run, so for
  /// neighbours D, D′ the outputs are M(D) = q·A(D) + (1−q)·⊥ and
  /// M(D′) = q·A(D′) + (1−q)·⊥, with ⊥ a point outside the support of A. The integral
  /// H_γ = ∫(dM(D) − γ·dM(D′))₊ splits over the two disjoint parts, so for every γ ≥ 0
  ///
  ///     H_γ(M(D) ‖ M(D′)) = q·H_γ(A(D) ‖ A(D′)) + (1 − q)·(1 − γ)₊,
  ///
  /// the equality case of the joint convexity of hockey-stick divergences (Balle, Barthe &
  /// Gaboardi 2018, "Privacy Amplification by Subsampling", arXiv:1807.01647, §3). Hence a
  /// dominating pair (P, Q) of the inner event (Zhu, Dong & Wang 2022, "Optimal Accounting of
  /// Differential Privacy via Characteristic Function", arXiv:2106.08567: H_γ(A(D)‖A(D′)) ≤
  /// H_γ(P‖Q) for all γ ≥ 0 and neighbours) gives the dominating pair
  /// (qP + (1−q)⊥, qQ + (1−q)⊥) of this one, dominating pairs compose adaptively (same paper),
  /// its privacy-loss distribution is (1 − q)·δ₀ + q·PLD(P‖Q), and, since
  /// E_{M(D′)}[(dM(D)/dM(D′))^α] = (1 − q) + q·E_{A(D′)}[(dA(D)/dA(D′))^α], its Rényi
  /// divergence is exactly
  ///
  ///     ε(α) = log(1 + q·(e^{(α−1)·ε_inner(α)} − 1)) / (α − 1).
  ///
  /// A fixed-size cohort (m of N clients without replacement) gives the same pair with
  /// q = m/N: conditionally on the holder's participation the rest of the round is
  /// independent of its data. A view that does not reveal participation (secure
  /// aggregation, dummy updates) is a post-processing of this one and costs no more.
  ///
  /// Mathematical properties (each has a test): q = 1 accounts like the inner event; q = 0
  /// like `noOp`; ε is non-decreasing in q; T uses cost no less than (1 − (1−q)^T) times
  /// one use's δ(ε) and no more than that times the T-fold inner composition's δ(ε).
  case participationSampled(probability: Double, DPEvent)

  /// Hyper-parameter tuning by random search (Papernot & Steinke 2022, "Hyperparameter
  /// Tuning with Rényi Differential Privacy", arXiv:2110.03620v2): the number of runs K is
  /// drawn from `runs`, the inner event (one whole training run, each with a candidate
  /// drawn independently and uniformly from a fixed set) is run K times on fresh
  /// randomness, and only the best run (by a totally ordered score) is released, or nothing
  /// when K = 0. Accounted by ``RDPAccountant`` only (see ``TuningDistribution`` for the
  /// bounds); the neighbouring relation is the inner event's.
  ///
  /// Mathematical properties (each has a test): a noOp inner event costs nothing; the
  /// bound grows with E[K] at a fixed shape; as γ → 1 the negative-binomial bound tends to
  /// the inner event's own RDP (K ≡ 1).
  case tuned(runs: TuningDistribution, DPEvent)

  /// A client's momentum released round after round under Gaussian noise, the whole run at
  /// once (DP-BREM); see ``MomentumGaussian`` for the mechanism and the bound. Analysed under
  /// ``NeighboringRelation/addOrRemoveOne``.
  ///
  /// Mathematical properties (each has a test): never above `participationSampled(q,
  /// gaussian(σ))` composed T times, and equal to it at β = 0 with every record in every
  /// round; with every record in every round, never below one inclusion's Gaussian through
  /// the momentum; never below the mixture computed by enumerating every inclusion pattern.
  case momentumGaussian(MomentumGaussian)

  /// The inner event run `count` ≥ 0 times (each run on fresh randomness).
  case selfComposed(DPEvent, count: Int)

  /// The events run one after the other, each on fresh randomness.
  case composed([DPEvent])
}
