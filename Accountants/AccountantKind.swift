/// The accountants dpfl offers, by name (`--accountant` in every command), and the one place
/// an accountant of a kind is built: ledgers are re-accounted (``LedgerAccounting``) and
/// noise is calibrated (``noiseMultiplier(target:neighboringRelation:conversion:event:)``)
/// with the accountant these functions make.
public enum AccountantKind: String, CaseIterable, Codable, Sendable {
  /// ``RDPAccountant`` on dp_accounting's 156 orders.
  case rdp
  /// ``MomentsAccountant``: orders 2…33, classic conversion (add/remove neighbours only).
  case moments
  /// ``CertifiedRDPAccountant``: a proven upper bound at integer orders (Poisson-sampled
  /// Gaussians and participation sampling of them, under add/remove neighbours only).
  case certified
  /// ``PLDAccountant``: the privacy-loss distribution, tight (Poisson-sampled Gaussians,
  /// participation sampling of them and momentum Gaussians, under add/remove neighbours
  /// only).
  case pld

  /// A fresh accountant for an RDP-based kind (`nil` for ``pld``). `conversion` applies to
  /// ``rdp``; the moments accountant always uses the classic conversion, the certified one
  /// the improved one.
  public func gridAccountant(
    conversion: RDPConversion = .improved,
    neighboringRelation: NeighboringRelation = .addOrRemoveOne
  ) -> (any OrderGridAccountant)? {
    switch self {
    case .rdp:
      return RDPAccountant(conversion: conversion, neighboringRelation: neighboringRelation)
    case .moments:
      return MomentsAccountant()
    case .certified:
      return CertifiedRDPAccountant.standard
    case .pld:
      return nil
    }
  }

  /// The smallest noise multiplier whose event meets `target`, by a fresh accountant of
  /// this kind per trial (``Calibration/noiseMultiplier(target:accountant:relativeTolerance:event:)``).
  /// - Throws: what the calibration throws.
  public func noiseMultiplier(
    target: PrivacyBudget, neighboringRelation: NeighboringRelation = .addOrRemoveOne,
    conversion: RDPConversion = .improved, event: (Double) -> DPEvent
  ) throws(AccountingError) -> Double {
    switch self {
    case .rdp:
      return try Calibration.noiseMultiplier(
        target: target,
        accountant: {
          RDPAccountant(conversion: conversion, neighboringRelation: neighboringRelation)
        }, event: event)
    case .moments:
      return try Calibration.noiseMultiplier(
        target: target, accountant: { RDPAccountant.moments() }, event: event)
    case .certified:
      return try Calibration.noiseMultiplier(
        target: target, accountant: { CertifiedRDPAccountant.standard }, event: event)
    case .pld:
      return try Calibration.noiseMultiplier(
        target: target, accountant: { PLDAccountant() }, event: event)
    }
  }

  /// The largest count whose event meets `target`, by a fresh accountant of this kind per
  /// trial (``Calibration/count(target:accountant:limit:event:)``).
  /// - Throws: what the calibration throws.
  public func count(
    target: PrivacyBudget, neighboringRelation: NeighboringRelation = .addOrRemoveOne,
    conversion: RDPConversion = .improved, event: (Int) -> DPEvent
  ) throws(AccountingError) -> Int {
    switch self {
    case .rdp:
      return try Calibration.count(
        target: target,
        accountant: {
          RDPAccountant(conversion: conversion, neighboringRelation: neighboringRelation)
        }, event: event)
    case .moments:
      return try Calibration.count(
        target: target, accountant: { RDPAccountant.moments() }, event: event)
    case .certified:
      return try Calibration.count(
        target: target, accountant: { CertifiedRDPAccountant.standard }, event: event)
    case .pld:
      return try Calibration.count(target: target, accountant: { PLDAccountant() }, event: event)
    }
  }
}
