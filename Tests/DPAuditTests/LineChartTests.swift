import Foundation
import Testing

@testable import DPAudit

@Suite("LineChart")
struct LineChartTests {
  @Test(
    "ticks are round steps (1, 2 or 5 × 10^k) that cover the range",
    arguments: [(0.0, 1.0), (0.0013, 0.0871), (-3.0, 250.0), (91.0, 94.5)])
  func ticks(low: Double, high: Double) {
    let ticks = LineChart.ticks(low...high)
    #expect(ticks.first! <= low && ticks.last! >= high)
    #expect(ticks.count >= 3 && ticks.count <= 8)
    let step = ticks[1] - ticks[0]
    let mantissa = step / pow(10, log10(step).rounded(.down))
    #expect([1.0, 2, 5, 10].contains { abs($0 - mantissa) < 1e-9 }, "step \(step)")
  }

  @Test("text is escaped, non-finite points are dropped, and each series is one polyline")
  func svg() {
    let chart = LineChart(
      title: "a < b & \"c\"", xLabel: "x", yLabel: "y",
      series: [
        .init("one", [(1, 2), (2, .infinity), (3, 4)]), .init("two", [(1e-6, 1)], dashed: true),
      ], rules: [(3, "target")], logarithmicX: true)
    let svg = chart.svg()
    #expect(svg.contains("a &lt; b &amp; &quot;c&quot;") && !svg.contains("a < b"))
    #expect(svg.components(separatedBy: "<polyline").count - 1 == 2)
    #expect(chart.series[0].points.count == 2)
    #expect(svg.contains(">1e-6<") && svg.contains(">1e0<"))
    #expect(LineChart(title: "", xLabel: "", yLabel: "", series: [.init("none", [])]).isEmpty)
  }
}
