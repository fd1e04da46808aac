import Accountants
import ArgumentParser

/// How cohorts (or batches) are sampled, which fixes the neighbouring relation.
enum SamplingScheme: String, CaseIterable, Sendable, ExpressibleByArgument {
  /// Each record or client joins independently with probability q (add/remove neighbours).
  case poisson
  /// Exactly M of N are drawn without replacement (replace-one neighbours).
  case fixedSize = "fixed-size"
}

/// What `dpfl plan` solves for.
enum PlanUnknown: String, CaseIterable, Sendable, ExpressibleByArgument {
  /// The smallest noise multiplier meeting the target.
  case noiseMultiplier = "noise-multiplier"
  /// The most rounds (steps) a given noise multiplier affords.
  case rounds
}

extension RDPConversion: ExpressibleByArgument {}
extension Audit.Method: ExpressibleByArgument {}

/// A federated method whose communication `dpfl plan` can describe.
enum PlannedMethod: String, CaseIterable, Sendable, ExpressibleByArgument {
  /// DP-REC: the exact relative entropy coder's bits per client.
  case dpREC = "dp-rec"
}
