import ArgumentParser
import Foundation

extension FederatedConfiguration {
  /// Checks every value and resolves the defaults that depend on others (the sampling
  /// scheme, the accountant, the target ε, adaptive clipping's parameters; a built-in
  /// task's rounds, cohort and max length), so that a written `config.json` states them.
  /// A JSON Lines run's rounds, cohort and max length stay unset until its data is read
  /// (``resolveDataDefaults(userCount:tokenLengths:)``). ArgumentParser runs it after
  /// parsing flags, a TOML file or `config.json`.
  /// - Throws: `ValidationError` listing every problem, one per line.
  public mutating func validate() throws {
    let found = problems
    guard found.isEmpty else {
      throw ValidationError(found.map(\.description).joined(separator: "\n"))
    }
    if task != .jsonl {
      rounds = plannedRounds
      cohortSize = clientsPerRound
      maxLength = tokenLimit
      resolveStepDefaults(isText: task != .digits)
    }
    sampling = samplingScheme
    accountant = accountantKind
    data = data.map(Self.absolutePath)
    evaluationData = evaluationData.map(Self.absolutePath)
    publicData = publicData.map(Self.absolutePath)
    if privacy { epsilon = targetEpsilon }
    if let adaptive {
      targetQuantile = adaptive.targetQuantile
      clipLearningRate = adaptive.learningRate
      indicatorNoiseFraction = adaptive.indicatorNoiseFraction
    }
  }

  /// Sets the rounds, cohort and max length not given from a JSON Lines run's data, by the
  /// rules of ``DataDefaults``; a given value is kept. Call it once the data is loaded and
  /// before anything is trained or recorded.
  /// - Parameters:
  ///   - userCount: the training users (the task's clients).
  ///   - lengthsArePublic: the token lengths are those of the public texts (`--public-data`),
  ///     so the max length costs no privacy.
  ///   - tokenLengths: the texts' token counts, `[CLS]` and `[SEP]` included, or `nil` when
  ///     the data is not text; called only when `--max-length` was not given.
  /// - Returns: what was derived, and from what.
  @discardableResult
  public mutating func resolveDataDefaults(
    userCount: Int, lengthsArePublic: Bool = false, tokenLengths: () -> [Int]?
  ) -> DataDefaults {
    var derived = DataDefaults(userCount: userCount)
    derived.lengthsArePublic = lengthsArePublic
    if maxLength == nil, let lengths = tokenLengths() {
      let length = DataDefaults.maxLength(tokenLengths: lengths)
      maxLength = length
      derived.maxLength = length
      derived.textCount = lengths.count
      derived.textsFitting = lengths.filter { $0 <= length }.count
    }
    if cohortSize == nil {
      let cohort = DataDefaults.cohortSize(userCount: userCount, noiseCohortSize: noiseCohortSize)
      cohortSize = cohort
      derived.cohortSize = cohort
    }
    if rounds == nil {
      derived.roundsCohortSize = clientsPerRound
      let planned = DataDefaults.rounds(userCount: userCount, cohortSize: clientsPerRound)
      rounds = planned
      derived.rounds = planned
    }
    return derived
  }

  /// `path` made absolute against the current folder, so that `config.json` names the file
  /// wherever a run is resumed from.
  static func absolutePath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
  }

  /// The user's data files the run trains and evaluates on.
  public var dataFiles: [URL] {
    task == .jsonl
      ? [data, evaluationData, publicData].compactMap { $0.map(URL.init(fileURLWithPath:)) } : []
  }

  /// Every problem with the values, one line each (empty when valid).
  public var problems: [FederatedError] {
    var found: [FederatedError] = []
    func check(_ ok: Bool, _ field: String, _ value: Any, _ allowed: String) {
      if !ok {
        found.append(.invalidConfiguration(field: field, value: "\(value)", allowed: allowed))
      }
    }
    func positive(_ value: Double, _ field: String) {
      check(value > 0 && value.isFinite, field, value, "a finite number > 0")
    }
    func atLeastOne(_ value: Int, _ field: String) {
      check(value >= 1, field, value, "an integer ≥ 1")
    }
    for (value, flag) in [
      (data, "--data"), (evaluationData, "--evaluation-data"), (publicData, "--public-data"),
    ] {
      check(value == nil || task == .jsonl, flag, value ?? "", "given with --task jsonl only")
    }
    atLeastOne(speechesPerExample, "--speeches-per-example")
    check(
      frozenPrecision != .bf16 || task != .digits, "--frozen-precision", "bf16",
      "float32 for digits (bf16 is for the text encoder)")
    check(layers >= 1 && layers <= 6, "--layers", layers, "in 1...6 (all-MiniLM-L6-v2's blocks)")
    if let maxLength {
      check(maxLength >= 4 && maxLength <= 512, "--max-length", maxLength, "in 4...512")
    }
    if let rounds { atLeastOne(rounds, "--rounds") }
    // A JSON Lines run's cohort, when not given, is derived within these bounds.
    let cohort = task == .jsonl ? cohortSize : clientsPerRound
    if let cohort {
      atLeastOne(cohort, "--cohort-size")
      check(population >= cohort, "--population", population, "≥ --cohort-size (\(cohort))")
    }
    if let partitions {
      check(
        partitions >= (cohort ?? 1), "--partitions", partitions,
        "≥ --cohort-size (\(cohort ?? 1)): the partitions are the population")
    }
    check(
      noiseCohortSize >= (cohort ?? 1) && noiseCohortSize <= population, "--noise-cohort-size",
      noiseCohortSize, "in \(cohort ?? 1)...\(population) (≥ --cohort-size, ≤ --population)")
    if let clippingBound { positive(clippingBound, "--clipping-bound") }
    check(delta > 0 && delta < 1, "--delta", delta, "in (0, 1)")
    if let noiseMultiplier { positive(noiseMultiplier, "--noise-multiplier") }
    if let epsilon { positive(epsilon, "--epsilon") }
    if !privacy {
      check(epsilon == nil, "--epsilon", epsilon ?? 0, "omitted with --no-privacy")
      check(
        noiseMultiplier == nil, "--noise-multiplier", noiseMultiplier ?? 0,
        "omitted with --no-privacy")
    }
    adaptiveClippingProblems(check)
    samplingProblems(check)
    codingProblems(check)
    noiseDistributionProblems(check)
    exampleNoiseProblems(check)
    clientExamplesProblems(check)
    centeredClippingProblems(check)
    if let clientRanks {
      let entries = clientRanks.split(separator: ",", omittingEmptySubsequences: false)
      let ranks = entries.compactMap { Int($0.filter { !$0.isWhitespace }) }
      check(
        method == .flora && ranks.count == entries.count && ranks.allSatisfy((1...64).contains),
        "--client-ranks", clientRanks,
        "with --method flora, a comma-separated list of integers in 1...64 (e.g. 16,8,4)")
    }
    byzantineProblems(check)
    if let clientWeightCap {
      atLeastOne(clientWeightCap, "--client-weight-cap")
      // At example level DP-SGD's fixed denominator B already weighs a client by
      // min(n_k / B, 1); another weight that moves with one example would scale the
      // client's noisy update by something the local DP-SGD did not protect.
      check(
        privacyUnit == .user && method != .dpBREM && method != .flora, "--client-weight-cap",
        clientWeightCap, "used at user level, with a method other than dp-brem or flora")
    }
    if let tuneOnPublic {
      check((2...20).contains(tuneOnPublic), "--tune-on-public", tuneOnPublic, "in 2...20")
    }
    atLeastOne(localEpochs, "--local-epochs")
    if let localBatchSize { atLeastOne(localBatchSize, "--local-batch-size") }
    if let localLearningRate { positive(localLearningRate, "--local-learning-rate") }
    if let serverLearningRate { positive(serverLearningRate, "--server-learning-rate") }
    check(rank >= 1 && rank <= 64, "--rank", rank, "an integer in 1...64")
    positive(alpha, "--alpha")
    return found
  }

  /// The checks that need the task's number of clients (run once the task is loaded).
  /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)``.
  public func check(clientCount: Int) throws {
    guard clientsPerRound <= clientCount else {
      throw FederatedError.invalidConfiguration(
        field: "--cohort-size", value: "\(clientsPerRound)",
        allowed: "in 1...\(clientCount) (the task's clients)")
    }
    guard population >= clientCount else {
      throw FederatedError.invalidConfiguration(
        field: "--population", value: "\(population)",
        allowed: "≥ \(clientCount) (the task's clients)")
    }
  }

  private typealias Check = (Bool, String, Any, String) -> Void

  private func adaptiveClippingProblems(_ check: Check) {
    guard adaptiveClipping else {
      for (value, flag) in [
        (targetQuantile, "--target-quantile"), (clipLearningRate, "--clip-learning-rate"),
        (indicatorNoiseFraction, "--indicator-noise-fraction"),
      ] {
        check(value == nil, flag, value ?? 0, "used with --adaptive-clipping")
      }
      return
    }
    check(
      privacyUnit == .user, "--adaptive-clipping", "with --privacy-unit example",
      "used with user-level privacy")
    let adaptive = adaptive ?? AdaptiveClipping()
    check(
      adaptive.targetQuantile > 0 && adaptive.targetQuantile < 1, "--target-quantile",
      adaptive.targetQuantile, "in (0, 1)")
    check(
      adaptive.learningRate > 0 && adaptive.learningRate <= 10, "--clip-learning-rate",
      adaptive.learningRate, "in (0, 10]")
    check(
      adaptive.indicatorNoiseFraction > 0 && adaptive.indicatorNoiseFraction.isFinite,
      "--indicator-noise-fraction", adaptive.indicatorNoiseFraction, "a finite number > 0")
  }

  private func samplingProblems(_ check: Check) {
    guard samplingScheme == .fixedSize else { return }
    check(
      accountantKind == .rdp, "--accountant", accountantKind.rawValue,
      "rdp with --sampling fixed-size (the other accountants analyse Poisson sampling only)")
    check(
      privacyUnit == .user, "--sampling", "fixed-size with --privacy-unit example",
      "poisson at example level")
  }

  private func noiseDistributionProblems(_ check: Check) {
    guard noise == .discrete else { return }
    let allowed = "omitted with --noise-distribution discrete"
    check(
      [.rdp, .moments].contains(accountantKind), "--accountant", accountantKind.rawValue,
      "rdp or moments with --noise-distribution discrete (the pld and certified accountants have no sound bound for the Poisson-sampled discrete Gaussian)"
    )
    check(privacy, "--no-privacy", "with --noise-distribution discrete", allowed)
    check(
      privacyUnit == .user, "--privacy-unit", privacyUnit.rawValue,
      "user with --noise-distribution discrete")
    check(
      method != .dpREC, "--method", method.rawValue,
      "a method other than dp-rec with --noise-distribution discrete (DP-REC codes continuous noise)"
    )
    check(
      samplingScheme == .poisson, "--sampling", samplingScheme.rawValue,
      "poisson with --noise-distribution discrete")
    check(!adaptiveClipping, "--adaptive-clipping", "with --noise-distribution discrete", allowed)
  }

  private func clientExamplesProblems(_ check: Check) {
    guard let clientExamples else { return }
    let flag = "--client-examples"
    guard let bounds = clientExampleBounds else {
      check(false, flag, clientExamples, "MIN...MAX, integers with 1 ≤ MIN ≤ MAX (e.g. 20...5000)")
      return
    }
    check(
      privacy && privacyUnit == .example, flag, clientExamples,
      "omitted unless --privacy-unit example with privacy (it sets which client sizes σ protects)")
    // One candidate size per local batch count in the range (NoiseCalibration.declaredSizes).
    let batch = steps.localBatchSize
    let candidates =
      batchCount(exampleCount: bounds.upperBound, batchSize: batch)
      - batchCount(exampleCount: bounds.lowerBound, batchSize: batch)
    check(
      candidates <= 10_000, flag, clientExamples,
      "a range of at most 10,000 local batches of \(batch) (each is a size σ is checked against)")
  }

  private func exampleNoiseProblems(_ check: Check) {
    guard let exampleNoise else { return }
    let flag = "--example-noise"
    check(
      privacy && privacyUnit == .example && method != .dpBREM, flag, exampleNoise.rawValue,
      "omitted unless --privacy-unit example, with privacy and a method other than dp-brem (whose noise is the server's already)"
    )
    guard exampleNoise == .server else { return }
    // The client's update must be linear in its clipped gradients for one example to move
    // it by at most ηC/B: one step, no product of trained factors.
    check(
      localEpochs == 1, "--local-epochs", localEpochs,
      "1 with --example-noise server (one clipped step per client and round bounds an example's effect on the update by ηC/B)"
    )
    check(
      method != .flora, "--method", method.rawValue,
      "a method other than flora with --example-noise server (FLoRA sends a product of trained factors, which one step does not bound)"
    )
  }

  private func centeredClippingProblems(_ check: Check) {
    guard method == .dpBREM else {
      check(momentum == nil, "--momentum", momentum ?? 0, "omitted unless --method dp-brem")
      check(
        robustnessRadius == nil, "--robustness-radius", robustnessRadius ?? 0,
        "omitted unless --method dp-brem")
      return
    }
    if let momentum {
      check(momentum >= 0 && momentum < 1, "--momentum", momentum, "in [0, 1)")
    }
    if let robustnessRadius {
      check(
        robustnessRadius > 0 && robustnessRadius.isFinite, "--robustness-radius", robustnessRadius,
        "a finite number > 0")
    }
    check(
      privacyUnit == .example, "--privacy-unit", privacyUnit.rawValue,
      "example with --method dp-brem (it protects records: per-record clipping, noise on the clients' momentum sum)"
    )
    check(
      localEpochs == 1, "--local-epochs", localEpochs,
      "1 with --method dp-brem (one clipped gradient per client per round)")
  }

  private func byzantineProblems(_ check: Check) {
    check(
      byzantineFraction >= 0 && byzantineFraction < 0.5, "--byzantine-fraction", byzantineFraction,
      "in [0, 0.5)")
    check(
      (byzantineFraction > 0) == (attack != nil), "--attack", attack?.rawValue ?? "none",
      "given exactly when --byzantine-fraction is > 0")
  }

  private func codingProblems(_ check: Check) {
    if let recAdapter {
      check(
        method == .dpREC, "--rec-adapter", recAdapter.rawValue, "omitted unless --method dp-rec")
      check(
        [.dpLoRA, .ffaLoRA, .fedSB].contains(recAdapter), "--rec-adapter", recAdapter.rawValue,
        "dp-lora, ffa-lora or fed-sb (a run's coder is fixed, and DyLoRA's live coordinates change with each round's rank)"
      )
    }
    guard method == .dpREC else { return }
    check(
      privacy, "--no-privacy", "with --method dp-rec", "omitted: DP-REC codes the privacy noise")
    check(privacyUnit == .user, "--privacy-unit", privacyUnit.rawValue, "user with --method dp-rec")
    check(
      samplingScheme == .fixedSize, "--sampling", samplingScheme.rawValue,
      "fixed-size with --method dp-rec (the clients' noise must add up to the calibrated noise, so the cohort size must be known)"
    )
    check(
      !adaptiveClipping, "--adaptive-clipping", "with --method dp-rec",
      "omitted: DP-REC codes with a fixed bound")
  }
}
