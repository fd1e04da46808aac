/// A warm start for calibrating PLD accountants with automatic discretisation.
///
/// The automatic accountant refines its interval h from 1e-4 until two successive ε agree,
/// so each of its evaluations costs at least two fine compositions. The search first solves
/// on one coarse grid (h = ``coarseInterval``, one composition ten times smaller), then runs
/// the ordinary search with the automatic accountant starting there, with a bracket that
/// grows from 2 %. The answer is what the automatic search gives (the same boundary to the
/// same tolerance); only the number of fine evaluations drops.
extension Calibration.Search {
  /// The interval of the warm start's grid.
  static let coarseInterval = 1e-3

  func startingFromCoarseGrid(
    template: PLDAccountant, event: (Double) -> DPEvent
  ) throws(AccountingError) -> Double? {
    guard case .automatic = template.discretization else { return nil }
    let coarse = PLDAccountant(discretization: .fixed(Self.coarseInterval))
    return try warmStarted(coarse: coarse, fine: template, event: event)
  }
}
