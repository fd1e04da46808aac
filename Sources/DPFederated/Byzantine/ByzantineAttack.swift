import ArgumentParser

/// What the simulation's Byzantine clients send (`--attack`), as DP-BREM's authors' code
/// builds it (spec `brem-flora.md` §1.6). Every attack is non-omniscient: its statistics come
/// from the attackers' own clean updates in the round, never from honest clients'.
public enum ByzantineAttack: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// "A little is enough" (Baruch et al. 2019): μ − 4·z·s coordinate-wise, with μ and s the
  /// attackers' mean and standard deviation and z from the cohort and attacker counts.
  case alie
  /// Inner-product manipulation (Xie et al. 2020): −μ, so the aggregate turns against the
  /// attackers' own descent direction.
  case ipm
  /// Label flipping: the attackers train honestly on labels y ↦ k − 1 − y.
  case labelFlip = "label-flip"
  /// Min-max (Shejwalkar & Houmansadr, NDSS 2021): μ − γ·s with the largest γ (bisected
  /// from 10) whose distance to every attacker's clean update is at most the largest
  /// distance between two of them.
  case minMax = "min-max"
}
