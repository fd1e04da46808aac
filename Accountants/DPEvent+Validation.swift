/// Why an accountant cannot compose an event: the innermost offending sub-event and
/// a sentence saying what is wrong with it.
public struct CompositionFailure: Hashable, Sendable, CustomStringConvertible {
  /// The innermost sub-event that caused the failure.
  public var event: DPEvent
  /// What is wrong, in the form "<what> must <requirement>; got <value>." or
  /// "<accountant> does not support <event>: <why>."
  public var reason: String

  /// Creates a failure for `event` with the given reason.
  public init(event: DPEvent, reason: String) {
    self.event = event
    self.reason = reason
  }

  /// The reason followed by the offending sub-event.
  public var description: String { "\(reason) (in event \(event.summary))" }
}

extension DPEvent {
  /// Checks every parameter of the event tree against its documented range, whichever
  /// accountant is used.
  ///
  /// - Returns: `nil` when every parameter is valid, otherwise the first invalid
  ///   sub-event in depth-first order, with the rule it breaks. An event nested deeper than
  ///   ``maximumNestingDepth`` fails as a whole (every accountant walks events recursively).
  public func parameterFailure() -> CompositionFailure? {
    let depth = nestingDepth
    guard depth <= Self.maximumNestingDepth else {
      return fail(
        "events must nest at most \(Self.maximumNestingDepth) levels deep; got \(depth).")
    }
    return parameterFailureWithinDepth()
  }

  /// The deepest nesting an event may have, 1000: far beyond any real ledger (which nests a
  /// few levels), and far within the stack of any thread that walks it recursively.
  public static let maximumNestingDepth = 1000

  /// The number of levels of the event tree (1 for a leaf), found without recursion so that
  /// even a hostile depth cannot overflow the stack.
  var nestingDepth: Int {
    var deepest = 0
    var pending: [(DPEvent, Int)] = [(self, 1)]
    while let (event, depth) = pending.popLast() {
      deepest = max(deepest, depth)
      // Beyond the limit the exact depth does not matter.
      if deepest > Self.maximumNestingDepth { return deepest }
      switch event {
      case .noOp, .nonPrivate, .gaussian, .discreteGaussian, .laplace, .momentumGaussian:
        continue
      case .poissonSampled(_, let inner), .sampledWithoutReplacement(_, _, let inner),
        .relativeEntropyCoded(_, let inner), .participationSampled(_, let inner),
        .tuned(_, let inner), .selfComposed(let inner, _):
        pending.append((inner, depth + 1))
      case .composed(let events):
        for inner in events { pending.append((inner, depth + 1)) }
      }
    }
    return deepest
  }

  private func parameterFailureWithinDepth() -> CompositionFailure? {
    switch self {
    case .noOp, .nonPrivate:
      return nil
    case .gaussian(let noiseMultiplier), .discreteGaussian(let noiseMultiplier),
      .laplace(let noiseMultiplier):
      guard noiseMultiplier.isFinite, noiseMultiplier >= 0 else {
        return fail("noise multiplier must be finite and ≥ 0; got \(noiseMultiplier).")
      }
      return nil
    case .poissonSampled(let probability, let event):
      guard probability >= 0, probability <= 1 else {
        return fail("sampling probability must be in [0, 1]; got \(probability).")
      }
      return event.parameterFailureWithinDepth()
    case .sampledWithoutReplacement(let sourceSize, let sampleSize, let event):
      guard sourceSize >= 1 else {
        return fail("source size must be ≥ 1; got \(sourceSize).")
      }
      guard sampleSize >= 0, sampleSize <= sourceSize else {
        return fail(
          "sample size must be in [0, \(sourceSize)] (the source size); got \(sampleSize).")
      }
      return event.parameterFailureWithinDepth()
    case .relativeEntropyCoded(let coder, let event):
      if let reason = coder.failure() { return fail(reason) }
      return event.parameterFailureWithinDepth()
    case .participationSampled(let probability, let event):
      guard probability >= 0, probability <= 1 else {
        return fail("participation probability must be in [0, 1]; got \(probability).")
      }
      return event.parameterFailureWithinDepth()
    case .tuned(let runs, let event):
      if let reason = runs.failure() { return fail(reason) }
      return event.parameterFailureWithinDepth()
    case .selfComposed(let event, let count):
      guard count >= 0 else { return fail("count must be ≥ 0; got \(count).") }
      return event.parameterFailureWithinDepth()
    case .momentumGaussian(let release):
      return momentumFailure(release)
    case .composed(let events):
      for event in events {
        if let failure = event.parameterFailureWithinDepth() { return failure }
      }
      return nil
    }
  }

  private func momentumFailure(_ release: MomentumGaussian) -> CompositionFailure? {
    guard release.noiseMultiplier.isFinite, release.noiseMultiplier >= 0 else {
      return fail("noise multiplier must be finite and ≥ 0; got \(release.noiseMultiplier).")
    }
    guard release.momentum >= 0, release.momentum < 1 else {
      return fail("momentum must be in [0, 1); got \(release.momentum).")
    }
    guard release.recordProbability > 0, release.recordProbability <= 1 else {
      return fail("sampling probability must be in (0, 1]; got \(release.recordProbability).")
    }
    guard release.participationProbability >= 0, release.participationProbability <= 1 else {
      return fail(
        "participation probability must be in [0, 1]; got \(release.participationProbability).")
    }
    guard release.rounds >= 0, release.rounds <= MomentumGaussian.maximumRounds else {
      return fail(
        "rounds must be in [0, \(MomentumGaussian.maximumRounds)]; got \(release.rounds).")
    }
    return nil
  }

  private func fail(_ reason: String) -> CompositionFailure {
    CompositionFailure(event: self, reason: reason)
  }
}
