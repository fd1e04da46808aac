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

  /// The inner event run `count` ≥ 0 times (each run on fresh randomness).
  case selfComposed(DPEvent, count: Int)

  /// The events run one after the other, each on fresh randomness.
  case composed([DPEvent])
}
