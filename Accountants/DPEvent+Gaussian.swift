extension DPEvent {
  /// The first sub-event, depth first, that is neither a Gaussian nor a (self-)composition
  /// of Gaussians; `nil` when the whole event is one. The Gaussian-based accountants accept
  /// only such events inside a sampled event (they reduce them to one Gaussian).
  var firstNonGaussianSubEvent: DPEvent? { firstSubEvent(outsideGaussians: false) }

  /// The first sub-event, depth first, that is not a Gaussian, a discrete Gaussian (when
  /// `allowingDiscrete`) or a (self-)composition of them; `nil` when there is none.
  func firstSubEvent(outsideGaussians allowingDiscrete: Bool) -> DPEvent? {
    switch self {
    case .gaussian:
      return nil
    case .discreteGaussian:
      return allowingDiscrete ? nil : self
    case .selfComposed(let inner, _):
      return inner.firstSubEvent(outsideGaussians: allowingDiscrete)
    case .relativeEntropyCoded:
      return self
    case .composed(let events):
      return events.lazy.compactMap { $0.firstSubEvent(outsideGaussians: allowingDiscrete) }.first
    case .noOp, .nonPrivate, .laplace, .poissonSampled, .sampledWithoutReplacement,
      .participationSampled, .tuned, .momentumGaussian:
      return self
    }
  }

  /// The one-line refusal of a discrete Gaussian by an accountant other than RDP/moments.
  func discreteGaussianRefusal(by accountant: String) -> CompositionFailure {
    CompositionFailure(
      event: self,
      reason: "the \(accountant) accountant cannot account for DiscreteGaussian (no sound bound "
        + "of its own for it, sampled or not); use the rdp or moments accountant, which bound it "
        + "by its Rényi curve (Poisson-sampled: Zhu & Wang 2019, Theorem 6).")
  }
}

/// Why an accountant of Poisson-sampled Gaussians (certified RDP, PLD) cannot take an event.
enum SampledGaussianObstacle {
  /// A Laplace, sampling-without-replacement or tuning event, which these accountants lack
  /// (or a momentum Gaussian, for the one that lacks it).
  case mechanism(DPEvent)
  /// A discrete Gaussian, anywhere: these accountants have no sound bound for it.
  case discreteGaussian(DPEvent)
  /// A sub-event of a Poisson-sampled event that is not a (composition of) Gaussian(s).
  case insideSampling(DPEvent)
}

extension DPEvent {
  /// The first obstacle, depth first, for the accountants of Poisson-sampled Gaussians;
  /// `nil` when the event is made of no-ops, non-private releases, Gaussians,
  /// Poisson-sampled Gaussians, momentum Gaussians (when `allowingMomentum`) and
  /// participation sampling of such events only.
  func sampledGaussianObstacle(allowingMomentum: Bool) -> SampledGaussianObstacle? {
    switch self {
    case .noOp, .nonPrivate, .gaussian:
      return nil
    case .momentumGaussian:
      return allowingMomentum ? nil : .mechanism(self)
    case .laplace, .sampledWithoutReplacement, .tuned:
      return .mechanism(self)
    case .discreteGaussian:
      return .discreteGaussian(self)
    case .poissonSampled(_, let inner):
      return inner.firstNonGaussianSubEvent.map {
        if case .discreteGaussian = $0 { return .discreteGaussian($0) }
        return .insideSampling($0)
      }
    case .selfComposed(let inner, _), .relativeEntropyCoded(_, let inner),
      .participationSampled(_, let inner):
      return inner.sampledGaussianObstacle(allowingMomentum: allowingMomentum)
    case .composed(let events):
      return events.lazy.compactMap {
        $0.sampledGaussianObstacle(allowingMomentum: allowingMomentum)
      }.first
    }
  }
}

extension PrivacyAccountant {
  /// The checks every ``compose(_:count:)`` starts with: `count` ≥ 1 and ``check(_:)``
  /// passes, so that a failed compose changes nothing.
  func validateComposition(of event: DPEvent, count: Int) throws(AccountingError) {
    guard count >= 1 else {
      throw .invalidArgument(name: "count", value: Double(count), requirement: "be ≥ 1")
    }
    if let failure = check(event) { throw .cannotCompose(failure) }
  }
}
