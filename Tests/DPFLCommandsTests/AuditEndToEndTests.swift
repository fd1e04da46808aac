import Foundation
import Testing

/// `dpfl audit`, `dpfl report` and `dpfl plan --report` as a user runs them.
@Suite("dpfl audit and reports end to end", .serialized)
struct AuditEndToEndTests {
  @Test(
    "audit → report: audit.json beside the run, the accountant's ε in both, a page with every figure"
  )
  func auditThenReport() throws {
    let folder = TrainEndToEndTests.temporaryFolder("audit")
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let audit = try BinaryRunner.run([
      "audit", "--rounds", "10", "--canaries", "100", "--noise-source", "seeded", "--run-dir",
      folder, "--format", "json",
    ])
    #expect(audit.status == 0, "\(audit.stderr)")
    let output = try BinaryRunner.json(audit)
    let summary = try #require(output["summary"] as? [String: Any])
    let result = try #require(output["audit"] as? [String: Any])
    #expect(result["accountant_epsilon"] as? Double == summary["epsilon"] as? Double)
    #expect(result["canaries"] as? Int == 100)
    let assumptions = try #require(summary["assumptions"] as? [String])
    #expect(assumptions.contains { $0.hasPrefix("audit run:") })
    #expect(FileManager.default.fileExists(atPath: folder + "/audit.json"))

    let report = try BinaryRunner.run(["report", folder])
    #expect(report.status == 0, "\(report.stderr)")
    #expect(report.stdout.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("/report.html"))
    let page = try String(contentsOfFile: folder + "/report.html", encoding: .utf8)
    // Privacy profile, ε over rounds, accuracy, loss, accuracy by rank, clipping, noise, bytes.
    #expect(page.components(separatedBy: "<svg ").count - 1 == 8)
    #expect(page.contains("<h2>Audit</h2>") && !page.contains("src=\"http"))
  }

  @Test(
    "plan --report: the budget curve and σ against rounds on one page, σ growing with the rounds")
  func planReport() throws {
    let file = TrainEndToEndTests.temporaryFolder("plan") + ".html"
    defer { try? FileManager.default.removeItem(atPath: file) }
    let plan = try BinaryRunner.run([
      "plan", "--epsilon", "2", "--population", "100000", "--cohort-size", "100", "--rounds", "40",
      "--report", file,
    ])
    #expect(plan.status == 0, "\(plan.stderr)")
    let page = try String(contentsOfFile: file, encoding: .utf8)
    #expect(page.components(separatedBy: "<svg ").count - 1 == 2)
    // The σ chart's points, in order of rounds (10, 20, 40, 80, 160): σ must grow.
    let chart = try #require(page.components(separatedBy: "<svg ").last)
    let line = try #require(chart.components(separatedBy: "class=\"series\" points=\"").last)
    let heights = line.prefix { $0 != "\"" }.split(separator: " ").map {
      Double($0.split(separator: ",")[1])!
    }
    #expect(heights.count == 5 && zip(heights, heights.dropFirst()).allSatisfy { $0 > $1 })
    let unwritable = try BinaryRunner.run([
      "plan", "--epsilon", "2", "--report", "/nonexistent/dir/plan.html",
    ])
    #expect(unwritable.status == 1 && unwritable.stderr.contains("cannot write /nonexistent"))
  }

  @Test(
    "bad input: one line naming the value, exit 64 for flags, 1 for a folder that is not a run",
    arguments: [
      (["audit", "--canaries", "5"], Int32(64), "--canaries 5"),
      (["audit", "--privacy-unit", "example"], 64, "for an example-level audit (no simulation)"),
      (["audit", "--confidence", "1"], 64, "--confidence 1.0"),
      (["report", "/nonexistent/run"], 1, "not a dpfl run folder"),
    ])
  func badInput(arguments: [String], status: Int32, message: String) throws {
    let output = try BinaryRunner.run(arguments)
    #expect(output.status == status, "\(output.stderr)")
    #expect(output.stderr.contains(message), "\(output.stderr)")
  }
}
