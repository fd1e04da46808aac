/// One-call re-accounting of a ledger: the ``DPEvent`` JSON that a training run writes (and
/// that ``DPEventBuilder`` builds), accounted by one or several accountants side by side.
///
/// ```swift
/// let ledger = try JSONDecoder().decode(DPEvent.self, from: Data(contentsOf: ledgerURL))
/// for (method, finding) in LedgerAccounting.epsilon(ledger: ledger, delta: 1e-6) {
///   print(method, (try? finding.get())?.bound.value ?? .infinity)
/// }
/// ```
///
/// The neighbouring relation is read off the ledger: replace-one if it samples without
/// replacement anywhere (also inside participation sampling or tuning), add/remove
/// otherwise. An accountant that cannot account for the ledger reports its error in place of
/// a finding; the others still answer (tuning events, for instance, have RDP bounds only:
/// PLD and the certified accountant report why).
public enum LedgerAccounting {
  /// One accountant's answer for a ledger.
  public struct Finding: Equatable, Sendable {
    /// The accountant that answered.
    public var method: AccountantKind
    /// Its conversion (RDP-based methods).
    public var conversion: RDPConversion?
    /// Its order grid (RDP-based methods).
    public var orders: RDPOrders?
    /// The neighbouring relation of the answer.
    public var neighboringRelation: NeighboringRelation
    /// ε (from ``LedgerAccounting/epsilon(ledger:delta:methods:conversion:)``) or δ (from
    /// ``LedgerAccounting/delta(ledger:epsilon:methods:conversion:)``), an upper bound, with the
    /// optimal order (RDP-based methods).
    public var bound: PrivacyBound
    /// The PLD's answer with each direction's value and its discretisation (``AccountantKind/pld``).
    public var pld: PLDAccountant.Bound?
  }

  /// The relation a ledger is accounted under: replace-one if it contains a
  /// `sampledWithoutReplacement` event, add/remove otherwise.
  public static func neighboringRelation(of ledger: DPEvent) -> NeighboringRelation {
    switch ledger {
    case .sampledWithoutReplacement:
      return .replaceOne
    case .noOp, .nonPrivate, .gaussian, .discreteGaussian, .laplace, .momentumGaussian:
      return .addOrRemoveOne
    case .poissonSampled(_, let inner), .selfComposed(let inner, _),
      .relativeEntropyCoded(_, let inner), .participationSampled(_, let inner),
      .tuned(_, let inner):
      return neighboringRelation(of: inner)
    case .composed(let events):
      return events.contains { neighboringRelation(of: $0) == .replaceOne }
        ? .replaceOne : .addOrRemoveOne
    }
  }

  /// ε(δ) of `ledger` under each of `methods`, in the order given.
  /// - Complexity: one accountant per method; each composes the whole ledger once.
  public static func epsilon(
    ledger: DPEvent, delta: Double, methods: [AccountantKind] = AccountantKind.allCases,
    conversion: RDPConversion = .improved
  ) -> [(method: AccountantKind, finding: Result<Finding, AccountingError>)] {
    methods.map { method in
      (
        method,
        finding(method, ledger: ledger, conversion: conversion, query: .epsilon(delta: delta))
      )
    }
  }

  /// δ(ε) of `ledger` under each of `methods`, in the order given.
  public static func delta(
    ledger: DPEvent, epsilon: Double, methods: [AccountantKind] = AccountantKind.allCases,
    conversion: RDPConversion = .improved
  ) -> [(method: AccountantKind, finding: Result<Finding, AccountingError>)] {
    methods.map { method in
      (
        method,
        finding(method, ledger: ledger, conversion: conversion, query: .delta(epsilon: epsilon))
      )
    }
  }

  /// ε at each of `deltas` under `method` (a privacy profile), the ledger composed once:
  /// the values ``epsilon(ledger:delta:methods:conversion:)`` gives one δ at a time.
  /// - Throws: ``AccountingError`` when `method` cannot account for the ledger or a δ is
  ///   out of range.
  public static func epsilons(
    ledger: DPEvent, deltas: [Double], method: AccountantKind,
    conversion: RDPConversion = .improved
  ) throws(AccountingError) -> [Double] {
    var accountant: any PrivacyAccountant =
      method.gridAccountant(
        conversion: conversion, neighboringRelation: neighboringRelation(of: ledger))
      ?? PLDAccountant()
    try accountant.compose(ledger)
    return try deltas.map { (delta) throws(AccountingError) in
      try accountant.epsilon(delta: delta)
    }
  }

  private enum Query {
    case epsilon(delta: Double)
    case delta(epsilon: Double)
  }

  private static func finding(
    _ method: AccountantKind, ledger: DPEvent, conversion: RDPConversion, query: Query
  ) -> Result<Finding, AccountingError> {
    let relation = neighboringRelation(of: ledger)
    do {
      guard
        var accountant = method.gridAccountant(
          conversion: conversion, neighboringRelation: relation)
      else {
        var pld = PLDAccountant()
        try pld.compose(ledger)
        let bound: PLDAccountant.Bound
        switch query {
        case .epsilon(let delta): bound = try pld.epsilonBound(delta: delta)
        case .delta(let epsilon): bound = try pld.deltaBound(epsilon: epsilon)
        }
        return .success(
          Finding(
            method: method, conversion: nil, orders: nil,
            neighboringRelation: pld.neighboringRelation,
            bound: PrivacyBound(value: bound.value, optimalOrder: nil, orderAtGridEdge: false),
            pld: bound))
      }
      try accountant.compose(ledger)
      let bound: PrivacyBound
      switch query {
      case .epsilon(let delta): bound = try accountant.epsilonBound(delta: delta)
      case .delta(let epsilon): bound = try accountant.deltaBound(epsilon: epsilon)
      }
      return .success(
        Finding(
          method: method, conversion: accountant.conversion, orders: accountant.orders,
          neighboringRelation: accountant.neighboringRelation, bound: bound, pld: nil))
    } catch {
      return .failure(error)
    }
  }
}
