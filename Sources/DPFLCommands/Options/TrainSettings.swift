import DPFederated
import Foundation

/// The settings of a training run as a TOML file (`--config run.toml`) spells them: the
/// flag names in snake_case, every key optional. Flags override the file, the file
/// overrides the defaults of ``FederatedConfiguration``. `dpfl plan --config` reads the
/// same file, so a plan and a run of one file agree.
///
/// ```toml
/// method = "dp-dylora"
/// epsilon = 2.0
/// delta = 1e-6
/// rounds = 200
/// population = 1_000_000
/// noise_cohort_size = 1_000
/// cohort_size = 20
/// clipping_bound = 0.5
/// ```
struct TrainSettings: Codable, Equatable {
  var task: String?
  var data: String?
  var evaluationData: String?
  var evaluationSplit: String?
  var speechesPerExample: Int?
  var layers: Int?
  var maxLength: Int?
  var method: FederatedConfiguration.Method?
  var recAdapter: FederatedConfiguration.Method?
  var privacyUnit: FederatedConfiguration.PrivacyUnit?
  var privacy: Bool?
  var epsilon: Double?
  var delta: Double?
  var noiseMultiplier: Double?
  var rounds: Int?
  var cohortSampling: CohortSampler.Kind?
  var cohortSize: Int?
  var population: Int?
  var noiseCohortSize: Int?
  var clippingBound: Double?
  var adaptiveClipping: Bool?
  var targetQuantile: Double?
  var clipLearningRate: Double?
  var indicatorNoiseFraction: Double?
  var accountant: FederatedConfiguration.AccountantChoice?
  var noiseSource: NoiseSource?
  var localEpochs: Int?
  var localBatchSize: Int?
  var localLearningRate: Double?
  var serverOptimizer: FederatedConfiguration.ServerOptimizer?
  var serverLearningRate: Double?
  var rank: Int?
  var alpha: Double?
  var frozen: Bool?
  var seed: Int?

  enum CodingKeys: String, CodingKey, CaseIterable {
    case task, data, evaluationData = "evaluation_data", evaluationSplit = "evaluation_split"
    case speechesPerExample = "speeches_per_example"
    case layers, maxLength = "max_length"
    case method, recAdapter = "rec_adapter", privacyUnit = "privacy_unit", privacy, epsilon, delta
    case noiseMultiplier = "noise_multiplier", rounds, cohortSampling = "cohort_sampling"
    case cohortSize = "cohort_size", population
    case noiseCohortSize = "noise_cohort_size", clippingBound = "clipping_bound"
    case adaptiveClipping = "adaptive_clipping", targetQuantile = "target_quantile"
    case clipLearningRate = "clip_learning_rate", indicatorNoiseFraction =
      "indicator_noise_fraction"
    case accountant, noiseSource = "noise_source", localEpochs = "local_epochs"
    case localBatchSize = "local_batch_size", localLearningRate = "local_learning_rate"
    case serverOptimizer = "server_optimizer", serverLearningRate = "server_learning_rate"
    case rank, alpha, frozen, seed
  }

  /// Reads a TOML file (``FlatTOML``: flat `key = value` lines); syntax errors, unknown keys
  /// and mistyped values are errors naming the file, the line and the key. An integer is
  /// accepted for a float setting (`epsilon = 2`).
  static func read(_ path: String) throws(CLIError) -> TrainSettings {
    try FlatTOML.decode(
      TrainSettings.self, path: path, allowedKeys: CodingKeys.allCases.map(\.rawValue))
  }

  /// These settings with every value `other` sets taking precedence.
  func overridden(by other: TrainSettings) -> TrainSettings {
    var result = self
    func take<T>(_ path: WritableKeyPath<TrainSettings, T?>) {
      if let value = other[keyPath: path] { result[keyPath: path] = value }
    }
    take(\.task); take(\.data); take(\.evaluationData); take(\.evaluationSplit);
    take(\.speechesPerExample); take(\.layers);
    take(\.maxLength)
    take(\.method); take(\.recAdapter); take(\.privacyUnit); take(\.privacy); take(\.epsilon)
    take(\.delta); take(\.noiseMultiplier); take(\.rounds); take(\.cohortSampling);
    take(\.cohortSize); take(\.population)
    take(\.noiseCohortSize); take(\.clippingBound); take(\.adaptiveClipping); take(\.targetQuantile)
    take(\.clipLearningRate); take(\.indicatorNoiseFraction); take(\.accountant);
    take(\.noiseSource)
    take(\.localEpochs); take(\.localBatchSize); take(\.localLearningRate); take(\.serverOptimizer)
    take(\.serverLearningRate); take(\.rank); take(\.alpha); take(\.frozen); take(\.seed)
    return result
  }

  /// The defaults with these settings applied.
  var configuration: FederatedConfiguration {
    var configuration = FederatedConfiguration()
    if let task { configuration.task = task }
    if let data { configuration.dataPath = data }
    if let evaluationData { configuration.evaluationDataPath = evaluationData }
    if let evaluationSplit { configuration.evaluationSplit = evaluationSplit }
    if let speechesPerExample { configuration.speechesPerExample = speechesPerExample }
    if let layers { configuration.encoderLayers = layers }
    if let maxLength { configuration.maxSequenceLength = maxLength }
    if let method { configuration.method = method }
    if let recAdapter { configuration.codedAdapter = recAdapter }
    if method == .dpREC {
      // DP-REC needs a known cohort size: fixed-size cohorts, which only RDP accounts.
      configuration.cohortSampling = .fixedSize
      configuration.accountant = .rdp
    }
    if let privacyUnit { configuration.privacyUnit = privacyUnit }
    if privacy == false {
      configuration.privacy = false
      configuration.targetEpsilon = nil
    }
    if let epsilon { configuration.targetEpsilon = epsilon }
    if let delta { configuration.delta = delta }
    if let noiseMultiplier {
      configuration.noiseMultiplier = noiseMultiplier
      if epsilon == nil { configuration.targetEpsilon = nil }
    }
    if let rounds { configuration.rounds = rounds }
    if let cohortSampling { configuration.cohortSampling = cohortSampling }
    if let cohortSize { configuration.cohortSize = cohortSize }
    if let population { configuration.population = population }
    if let noiseCohortSize { configuration.noiseCohortSize = noiseCohortSize }
    if let clippingBound { configuration.clippingBound = clippingBound }
    if adaptiveClipping == true || targetQuantile != nil || clipLearningRate != nil
      || indicatorNoiseFraction != nil
    {
      var adaptive = AdaptiveClipping()
      if let targetQuantile { adaptive.targetQuantile = targetQuantile }
      if let clipLearningRate { adaptive.learningRate = clipLearningRate }
      if let indicatorNoiseFraction { adaptive.indicatorNoiseFraction = indicatorNoiseFraction }
      configuration.adaptiveClipping = adaptive
    }
    if let accountant { configuration.accountant = accountant }
    if let noiseSource { configuration.noiseSource = noiseSource }
    if let localEpochs { configuration.localEpochs = localEpochs }
    if let localBatchSize { configuration.localBatchSize = localBatchSize }
    if let localLearningRate { configuration.localLearningRate = localLearningRate }
    if let serverOptimizer { configuration.serverOptimizer = serverOptimizer }
    if let serverLearningRate { configuration.serverLearningRate = serverLearningRate }
    if let rank { configuration.rank = rank }
    if let alpha { configuration.alpha = alpha }
    if let frozen { configuration.frozen = frozen }
    if let seed { configuration.seed = UInt64(truncatingIfNeeded: seed) }
    return configuration
  }
}
