import Accountants

/// The accountant, conversion and order grid that answer a query.
struct AccountingMethod: Equatable, Sendable {
  var choice: AccountantChoice
  var conversion: RDPConversion
  var neighboringRelation: NeighboringRelation

  /// Reads `--accountant` and `--conversion`; the moments accountant implies the
  /// classic conversion and Poisson sampling.
  init(_ raw: RawQuery, sampling: Sampling) throws(CLIError) {
    choice = raw.accountant ?? .rdp
    neighboringRelation = sampling.neighboringRelation
    switch choice {
    case .rdp:
      conversion = raw.conversion ?? .improved
    case .moments:
      if raw.conversion == .improved {
        throw .conflict(.accountant, .conversion, reason: "the moments accountant uses the classic conversion.")
      }
      if sampling.scheme == .fixedSize {
        throw .conflict(.accountant, .sampling, reason: "the moments accountant analyses Poisson sampling only.")
      }
      conversion = .classic
    }
  }

  /// The order grid: dp_accounting's 156 orders for RDP, 2…33 for moments.
  var orders: RDPOrders {
    switch choice {
    case .rdp: return .dpAccountingDefault
    case .moments: return .moments
    }
  }

  /// A fresh, empty accountant. The moments accountant is RDP on its orders with the
  /// classic conversion (see ``MomentsAccountant``).
  func makeAccountant() -> RDPAccountant {
    RDPAccountant(orders: orders, conversion: conversion, neighboringRelation: neighboringRelation)
  }

  /// ε at δ for `event`, with its optimal order.
  func epsilon(of event: DPEvent, delta: Double) throws(CLIError) -> RDPBound {
    do {
      var accountant = makeAccountant()
      try accountant.compose(event)
      return try accountant.epsilonBound(delta: delta)
    } catch {
      throw .accounting(error)
    }
  }

  /// δ at ε for `event`, with its optimal order.
  func delta(of event: DPEvent, epsilon: Double) throws(CLIError) -> RDPBound {
    do {
      var accountant = makeAccountant()
      try accountant.compose(event)
      return try accountant.deltaBound(epsilon: epsilon)
    } catch {
      throw .accounting(error)
    }
  }
}
