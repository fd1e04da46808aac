import DPAudit
import Foundation

extension Rendering {
  /// `dpfl audit`'s text: the accountant's ε beside the estimate and the lower bound.
  static func text(_ result: AuditResult, runDir: String) -> String {
    let accountant =
      result.accountantEpsilon.isFinite ? number(result.accountantEpsilon) : "∞"
    let confidence = String(format: "%g %%", result.confidence * 100)
    func column(_ text: String) -> String {
      text.padding(toLength: 10, withPad: " ", startingAt: 0)
    }
    return [
      "audit of \(runDir): \(count(result.canaries)) canaries, \(count(result.insertedCanaries)) inserted (each joined \(String(format: "%.2f", result.meanParticipations)) \(result.privacyUnit == "example" ? "DP-SGD steps" : "rounds") on average), \(count(result.dimension)) trained coordinates",
      "threat model: \(result.threatModel == .finalModel ? "the final model only" : "the server, which sees each client's updates"); δ = \(number(result.delta)), privacy unit: \(result.privacyUnit)",
      "  accountant ε   \(column(accountant)) upper bound",
      "  estimate ε     \(column(number(result.estimate.epsilon))) Andrew et al. one-shot (shift \(String(format: "%.3f", result.estimate.sensitivity)) null standard deviations; no confidence statement)",
      "  lower bound ε  \(column(number(result.lowerBound))) Steinke et al. one run, \(confidence) confidence (\(result.correctGuesses) of \(result.guesses) guesses right)",
      "audit.json holds the details; this run's model carries the canaries and is not for deployment",
    ].joined(separator: "\n")
  }
}
