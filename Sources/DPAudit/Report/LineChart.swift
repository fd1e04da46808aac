import Foundation

/// A line chart as inline SVG (no scripts, no external resources): axes with round ticks
/// (powers of ten on a logarithmic x axis), one polyline with point markers per series,
/// optional horizontal reference lines, and a legend. Written by hand because no Swift
/// plotting library that emits SVG is among the project's dependencies; it draws only
/// what `dpfl report` needs.
public struct LineChart: Sendable {
  /// One line of the chart.
  public struct Series: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    /// Dashed (for bounds and estimates beside measured values).
    public var dashed: Bool
    public init(_ name: String, _ points: [(x: Double, y: Double)], dashed: Bool = false) {
      self.name = name
      self.points = points.filter { $0.x.isFinite && $0.y.isFinite }
      self.dashed = dashed
    }
  }

  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var series: [Series]
  /// Horizontal lines across the plot (a target, a baseline), with their labels.
  public var rules: [(y: Double, label: String)]
  /// A logarithmic x axis (every x must be positive).
  public var logarithmicX: Bool

  public init(
    title: String, xLabel: String, yLabel: String, series: [Series],
    rules: [(y: Double, label: String)] = [], logarithmicX: Bool = false
  ) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
    self.rules = rules.filter { $0.y.isFinite }
    self.logarithmicX = logarithmicX
  }

  /// The colours of the series, in order (repeating).
  static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]

  /// Whether any series has a point to draw.
  public var isEmpty: Bool { series.allSatisfy(\.points.isEmpty) }

  /// The chart as an `<svg>` element of the given size in pixels.
  public func svg(width: Double = 640, height: Double = 300) -> String {
    let plot = (left: 64.0, right: width - 16, top: 48.0, bottom: height - 48)
    let xs = series.flatMap { $0.points.map { logarithmicX ? log10($0.x) : $0.x } }
    let ys = series.flatMap { $0.points.map(\.y) } + rules.map(\.y)
    let xRange = Self.range(xs)
    let yTicks = Self.ticks(Self.range(ys, includingZero: true))
    let yRange = (yTicks.first ?? 0)...(yTicks.last ?? 1)
    func px(_ x: Double) -> Double {
      let value = logarithmicX ? log10(x) : x
      return plot.left + (value - xRange.lowerBound) / Self.span(xRange) * (plot.right - plot.left)
    }
    func py(_ y: Double) -> Double {
      plot.bottom - (y - yRange.lowerBound) / Self.span(yRange) * (plot.bottom - plot.top)
    }
    var parts = [
      ##"<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="\##(Self.f(width))" height="\##(Self.f(height))" viewBox="0 0 \##(Self.f(width)) \##(Self.f(height))" role="img" aria-label="\##(Self.escaped(title))">"##,
      ##"<text x="\##(Self.f(plot.left))" y="20" font-size="14" font-weight="bold">\##(Self.escaped(title))</text>"##,
      ##"<rect x="\##(Self.f(plot.left))" y="\##(Self.f(plot.top))" width="\##(Self.f(plot.right - plot.left))" height="\##(Self.f(plot.bottom - plot.top))" fill="none" stroke="#999"/>"##,
    ]
    for tick in yTicks {
      parts.append(
        ##"<line x1="\##(Self.f(plot.left))" x2="\##(Self.f(plot.right))" y1="\##(Self.f(py(tick)))" y2="\##(Self.f(py(tick)))" stroke="#eee"/><text x="\##(Self.f(plot.left - 6))" y="\##(Self.f(py(tick) + 4))" font-size="11" text-anchor="end">\##(Self.label(tick))</text>"##
      )
    }
    let xTicks =
      logarithmicX
      ? Array(Int(xRange.lowerBound.rounded(.up))...Int(xRange.upperBound.rounded(.down))).map {
        Double($0)
      }
      : Self.ticks(xRange).filter { xRange.contains($0) }
    for tick in xTicks {
      let x = logarithmicX ? pow(10, tick) : tick
      let text = logarithmicX ? "1e\(Int(tick))" : Self.label(tick)
      parts.append(
        ##"<text x="\##(Self.f(px(x)))" y="\##(Self.f(plot.bottom + 16))" font-size="11" text-anchor="middle">\##(text)</text>"##
      )
    }
    parts.append(
      ##"<text x="\##(Self.f((plot.left + plot.right) / 2))" y="\##(Self.f(height - 10))" font-size="12" text-anchor="middle">\##(Self.escaped(xLabel))</text>"##
    )
    parts.append(
      ##"<text transform="translate(14 \##(Self.f((plot.top + plot.bottom) / 2))) rotate(-90)" font-size="12" text-anchor="middle">\##(Self.escaped(yLabel))</text>"##
    )
    for rule in rules {
      parts.append(
        ##"<line x1="\##(Self.f(plot.left))" x2="\##(Self.f(plot.right))" y1="\##(Self.f(py(rule.y)))" y2="\##(Self.f(py(rule.y)))" stroke="#555" stroke-dasharray="2 3"/><text x="\##(Self.f(plot.right - 4))" y="\##(Self.f(py(rule.y) - 4))" font-size="11" text-anchor="end">\##(Self.escaped(rule.label))</text>"##
      )
    }
    for (index, line) in series.enumerated() where !line.points.isEmpty {
      let colour = Self.palette[index % Self.palette.count]
      let points = line.points.map { "\(Self.f(px($0.x))),\(Self.f(py($0.y)))" }
      let dash = line.dashed ? ##" stroke-dasharray="6 4""## : ""
      parts.append(
        ##"<polyline class="series" points="\##(points.joined(separator: " "))" fill="none" stroke="\##(colour)" stroke-width="2"\##(dash)/>"##
      )
      if line.points.count <= 60 {
        parts += points.map {
          let xy = $0.split(separator: ",")
          return ##"<circle cx="\##(xy[0])" cy="\##(xy[1])" r="2.5" fill="\##(colour)"/>"##
        }
      }
      // The legend: one row above the plot, entries side by side.
      let legendX =
        plot.left
        + series.prefix(index).reduce(0.0) { $0 + 40 + 6.5 * Double($1.name.count) }
      parts.append(
        ##"<line x1="\##(Self.f(legendX))" x2="\##(Self.f(legendX + 20))" y1="38" y2="38" stroke="\##(colour)" stroke-width="2"\##(dash)/><text x="\##(Self.f(legendX + 24))" y="42" font-size="11">\##(Self.escaped(line.name))</text>"##
      )
    }
    parts.append("</svg>")
    return parts.joined(separator: "\n")
  }

  /// The smallest and largest of `values` (widened when equal; [0, 1] when empty).
  static func range(_ values: [Double], includingZero: Bool = false) -> ClosedRange<Double> {
    guard var low = values.min(), var high = values.max() else { return 0...1 }
    if includingZero { (low, high) = (min(low, 0), max(high, 0)) }
    if low == high { (low, high) = (low - 0.5, high + 0.5) }
    return low...high
  }

  static func span(_ range: ClosedRange<Double>) -> Double { range.upperBound - range.lowerBound }

  /// Round ticks (steps of 1, 2 or 5 times a power of ten) covering `range`, about five.
  static func ticks(_ range: ClosedRange<Double>) -> [Double] {
    let rough = span(range) / 5
    let power = pow(10, (log10(rough)).rounded(.down))
    let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
    let first = (range.lowerBound / step).rounded(.down)
    let last = (range.upperBound / step).rounded(.up)
    return stride(from: first, through: last, by: 1).map { $0 * step }
  }

  /// A tick label: up to 4 significant digits.
  static func label(_ value: Double) -> String {
    abs(value) < 1e-12 ? "0" : String(format: "%.4g", value)
  }

  /// A coordinate with two decimals.
  static func f(_ value: Double) -> String { String(format: "%.2f", value) }

  /// `text` with XML's special characters escaped.
  public static func escaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }
}
