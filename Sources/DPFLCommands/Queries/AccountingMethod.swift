import Accountants

/// The accountant, conversion and order grid that answer a query.
struct AccountingMethod: Equatable, Sendable {
  var choice: AccountantKind
  var conversion: RDPConversion
  var neighboringRelation: NeighboringRelation

  /// Reads `--accountant` and `--conversion`; the moments accountant implies the classic
  /// conversion, the certified one the improved conversion, and both Poisson sampling.
  init(_ raw: RawQuery, sampling: Sampling) throws(CLIError) {
    choice = raw.accountant ?? .rdp
    neighboringRelation = sampling.neighboringRelation
    switch choice {
    case .rdp:
      conversion = raw.conversion ?? .improved
    case .moments:
      if raw.conversion == .improved {
        throw .conflict(
          .accountant, .conversion, reason: "the moments accountant uses the classic conversion.")
      }
      if sampling.scheme == .fixedSize {
        throw .conflict(
          .accountant, .sampling, reason: "the moments accountant analyses Poisson sampling only.")
      }
      conversion = .classic
    case .certified:
      if raw.conversion == .classic {
        throw .conflict(
          .accountant, .conversion, reason: "the certified accountant uses the improved conversion."
        )
      }
      if sampling.scheme == .fixedSize {
        throw .conflict(
          .accountant, .sampling, reason: "the certified accountant analyses Poisson sampling only."
        )
      }
      conversion = .improved
    case .pld:
      if let given = raw.conversion {
        throw .conflict(
          .accountant, .conversion,
          reason: "the PLD accountant has no RDP conversion (got \(given.rawValue)).")
      }
      if sampling.scheme == .fixedSize {
        throw .conflict(
          .accountant, .sampling, reason: "the PLD accountant analyses Poisson sampling only.")
      }
      conversion = .improved
    }
  }

  /// The order grid the accountant minimises over (`nil` for PLD).
  var orders: RDPOrders? {
    choice.gridAccountant(conversion: conversion, neighboringRelation: neighboringRelation)?.orders
  }

  /// The accountant's finding for `event` at the fixed ε or δ of `target`.
  func finding(of event: DPEvent, target: AccountQuery.Target) throws(CLIError) -> LedgerAccounting.Finding {
    try Self.single(
      Self.findings(of: event, target: target, methods: [choice], conversion: conversion))
  }

  /// ε at δ for `event`, with its optimal order.
  func epsilon(of event: DPEvent, delta: Double) throws(CLIError) -> PrivacyBound {
    try finding(of: event, target: .delta(delta)).bound
  }

  /// Every method's finding for `event` at the fixed ε or δ of `target`.
  static func findings(
    of event: DPEvent, target: AccountQuery.Target, methods: [AccountantKind],
    conversion: RDPConversion
  ) -> [(method: AccountantKind, finding: Result<LedgerAccounting.Finding, AccountingError>)] {
    switch target {
    case .delta(let delta):
      return LedgerAccounting.epsilon(ledger: event, delta: delta, methods: methods, conversion: conversion)
    case .epsilon(let epsilon):
      return LedgerAccounting.delta(ledger: event, epsilon: epsilon, methods: methods, conversion: conversion)
    }
  }

  private static func single(
    _ findings: [(method: AccountantKind, finding: Result<LedgerAccounting.Finding, AccountingError>)]
  ) throws(CLIError) -> LedgerAccounting.Finding {
    switch findings[0].finding {
    case .success(let finding): return finding
    case .failure(let error): throw .accounting(error)
    }
  }
}
