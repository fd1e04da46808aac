import ArgumentParser
import DPModel

/// The server's update rule on the noisy mean update (`--server-optimizer`;
/// post-processing, so it costs no privacy).
public enum ServerOptimizerKind: String, Codable, CaseIterable, Sendable, ExpressibleByArgument {
  /// θ ← θ + η·Δ̄ (FedAvg at η = 1).
  case sgd
  /// FedAvgM: heavy-ball momentum 0.9.
  case momentum
  /// FedAdam: Adam with PyTorch's defaults.
  case adam

  /// A fresh optimiser of this kind at learning rate η.
  public func optimizer(learningRate: Double) -> Optimizer<Float> {
    switch self {
    case .sgd: Optimizer(.sgd(learningRate: learningRate))
    case .momentum: Optimizer(.momentum(learningRate: learningRate, momentum: 0.9))
    case .adam: .adam(learningRate: learningRate)
    }
  }
}
