import DPFederated
import DPTestSupport
import Foundation
import Testing

@testable import DPAudit

@Suite("RunReport", .serialized)
struct RunReportTests {
  @Test("a digits run's report: every figure, PLD at or below RDP, PLD at the run's δ equals its ε")
  func digitsRun() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dpfl-report-\(UUID())")
    defer { try? FileManager.default.removeItem(at: url) }
    var configuration = FederatedConfiguration.defaults
    configuration.rounds = 6
    configuration.noiseSource = .seeded
    let summary = try TrainingRun.run(
      configuration: configuration,
      assets: TrainingRun.Assets(root: URL(fileURLWithPath: "/nonexistent")),
      folder: try RunFolder(creating: url), resume: false)
    let report = try RunReport(folder: try RunFolder(existing: url))
    #expect(report.audit == nil && report.metrics.count == 6)
    #expect(report.figures.count == 8)
    let profile = report.privacyProfile.series
    let (pld, rdp) = (profile[0].points, profile[1].points)
    #expect(pld.count == RunReport.profileDeltas.count && rdp.count == pld.count)
    #expect(zip(pld, rdp).allSatisfy { $0.y <= $1.y })
    let atRunDelta = try #require(pld.first { abs($0.x - summary.delta) < 1e-12 * summary.delta })
    expectClose(atRunDelta.y, summary.epsilon, relative: 1e-3)
    let html = report.html
    #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<h2>What the ε assumes</h2>"))
  }
}
