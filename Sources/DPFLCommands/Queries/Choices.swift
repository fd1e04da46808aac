import Accountants
import ArgumentParser

/// What `dpfl plan` solves for.
enum PlanUnknown: String, CaseIterable, Sendable, ExpressibleByArgument {
  /// The smallest noise multiplier meeting the target.
  case noiseMultiplier = "noise-multiplier"
  /// The most rounds (steps) a given noise multiplier affords.
  case rounds
}

extension RDPConversion: ExpressibleByArgument {}
extension TuningDistribution.Family: ExpressibleByArgument {}

/// A federated method whose communication `dpfl plan` can describe.
enum PlannedMethod: String, CaseIterable, Sendable, ExpressibleByArgument {
  /// DP-REC: the exact relative entropy coder's bits per client.
  case dpREC = "dp-rec"
}
