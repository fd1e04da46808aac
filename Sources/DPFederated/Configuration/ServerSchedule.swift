import ArgumentParser
import Foundation

/// How the server's learning rate changes over the planned rounds (`--server-schedule`).
/// It acts on the released noisy mean only, so it is post-processing and costs no privacy.
public enum ServerSchedule: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// η in every round.
  case constant
  /// Cosine annealing without restarts (Loshchilov & Hutter, ICLR 2017): η·(1 + cos(π·t/T))/2
  /// in round t of T (from 0), from η in the first round down towards 0 in the last. It damps
  /// the swings of the last rounds' models that a cohort's noise (or its label mix) causes.
  case cosine

  /// The factor on η in round `round` (from 0) of `rounds` planned.
  public func factor(round: Int, rounds: Int) -> Double {
    switch self {
    case .constant: 1
    case .cosine: (1 + cos(Double.pi * Double(round) / Double(max(rounds, 1)))) / 2
    }
  }
}
