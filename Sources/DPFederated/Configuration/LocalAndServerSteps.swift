/// How clients and the server step: the four settings `--local-batch-size`,
/// `--local-learning-rate`, `--server-optimizer` and `--server-learning-rate`, with defaults
/// that depend on the kind of task (docs/federated-learning-diagnosis.md measures why).
///
/// - **Feature vectors:** FedAvg, local SGD on batches of 8 at 0.01 and the server adding the
///   mean update (SGD at 1).
/// - **Text:** FedSGD with a server Adam. A client of up to 64 examples takes
///   one local step at learning rate 1/8, so its update is its mean gradient scaled by 1/8
///   (then clipped to C), and the server runs Adam at 3e-3 on the cohort's noisy mean.
///   Adam does not see the scale, so the 1/8 only sets where the clip bites: at the default
///   C = 0.5 it clips the clients whose mean gradient exceeds 4, about one in ten on
///   `shakespeare-genre`. At learning rate 1 it clipped every client, which weighs a client
///   that the model already fits as much as one it gets wrong and cost 4.6 of the 5.9 points
///   that ε = 2 cost there (docs/federated-learning-diagnosis.md §7.4). On text the encoder's
///   adapters hardly move under FedAvg's small local steps, and larger local steps make
///   clients whose examples share a label drift apart; this loop trains them
///   (`chitchat-topic`: 72.7 % without privacy and 72.4 % at ε = 2, against 68 % for FedAvg).
///   At example level the client's one step is a DP-SGD step over all its examples (local
///   sampling rate 1), with each example's gradient clipped to C = 4 by default: at ε = 8
///   every adapter method ends about 1 point below no privacy on `shakespeare-genre` (FedAvg's
///   rows lost 5.4–6.2), and DP-LoRA 4.1 below on `chitchat-topic`, whose clients hold about
///   7 examples (docs/federated-learning-diagnosis.md §7.5–7.6).
///
/// A value given on the command line, in a `--config` file or in `config.json` is kept; the
/// defaults fill the others, and a run writes all four to `config.json`.
public struct LocalAndServerSteps: Equatable, Sendable {
  /// Local mini-batch size.
  public var localBatchSize: Int
  /// Local SGD learning rate.
  public var localLearningRate: Double
  /// The server's optimiser.
  public var serverOptimizer: ServerOptimizerKind
  /// The server's learning rate.
  public var serverLearningRate: Double

  /// FedAvg: the defaults for feature vectors.
  public static let federatedAveraging = LocalAndServerSteps(
    localBatchSize: 8, localLearningRate: 0.01, serverOptimizer: .sgd, serverLearningRate: 1)
  /// FedSGD with a server Adam: the defaults for text.
  public static let federatedSGDWithAdam = LocalAndServerSteps(
    localBatchSize: 64, localLearningRate: 0.125, serverOptimizer: .adam, serverLearningRate: 0.003)

  /// The server learning rate when only the optimiser is given: 1 for SGD (FedAvg) and
  /// momentum (FedAvgM), 3e-3 for Adam.
  public static func defaultServerLearningRate(_ optimizer: ServerOptimizerKind) -> Double {
    optimizer == .adam ? federatedSGDWithAdam.serverLearningRate : 1
  }
}

extension FederatedConfiguration {
  /// The clipping bound when none is given: 0.5 on a client's update, and on an example's
  /// gradient for feature vectors; 4 on an example's gradient for text, whose mean gradients
  /// are longer (docs/federated-learning-diagnosis.md §7.5).
  public static func defaultClippingBound(isText: Bool, privacyUnit: PrivacyUnit) -> Double {
    isText && privacyUnit == .example ? 4 : 0.5
  }

  /// The defaults of this run's kind of task: FedSGD with Adam for text, FedAvg otherwise
  /// (a JSON Lines file counts as text once it is read, ``resolveStepDefaults(isText:)``).
  func stepDefaults(isText: Bool) -> LocalAndServerSteps {
    isText ? .federatedSGDWithAdam : .federatedAveraging
  }

  /// Fills the step settings and the clipping bound not given with the defaults of the
  /// task's kind (see ``LocalAndServerSteps``). The server learning rate follows the server
  /// optimiser when only the optimiser was given.
  public mutating func resolveStepDefaults(isText: Bool) {
    clippingBound =
      clippingBound ?? Self.defaultClippingBound(isText: isText, privacyUnit: privacyUnit)
    let defaults = stepDefaults(isText: isText)
    localBatchSize = localBatchSize ?? defaults.localBatchSize
    localLearningRate = localLearningRate ?? defaults.localLearningRate
    let optimizer = serverOptimizer ?? defaults.serverOptimizer
    serverOptimizer = optimizer
    serverLearningRate =
      serverLearningRate
      ?? (optimizer == defaults.serverOptimizer
        ? defaults.serverLearningRate : LocalAndServerSteps.defaultServerLearningRate(optimizer))
  }

  /// The step settings the run uses: each as given or resolved, else FedAvg's.
  public var steps: LocalAndServerSteps {
    var resolved = self
    resolved.resolveStepDefaults(isText: false)
    return LocalAndServerSteps(
      localBatchSize: resolved.localBatchSize!, localLearningRate: resolved.localLearningRate!,
      serverOptimizer: resolved.serverOptimizer!, serverLearningRate: resolved.serverLearningRate!)
  }

  /// The clipping bound the run uses: as given or resolved, else the default for feature
  /// vectors.
  public var effectiveClippingBound: Double {
    clippingBound ?? Self.defaultClippingBound(isText: false, privacyUnit: privacyUnit)
  }
}
