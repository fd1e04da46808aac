import Accountants
import DPFederated
import Foundation

/// `dpfl report`'s page for a run folder: one self-contained HTML file (inline SVG and CSS,
/// nothing fetched, readable offline) with the run's privacy and training curves, its
/// configuration and assumptions, and the audit's empirical ε when `audit.json` is there.
public struct RunReport: Sendable {
  public var summary: TrainingSummary
  public var metrics: [RoundMetrics]
  public var ledger: DPEvent
  public var settings: [(key: String, value: String)]
  public var audit: AuditResult?

  /// The report of the run in `folder` (verified against its manifest when opened).
  /// - Throws: ``FederatedError/runFolder(path:reason:)`` when a file the report needs is
  ///   missing or malformed (a run that has not finished has no summary yet).
  public init(folder: RunFolder) throws {
    guard let summary = try folder.read(TrainingSummary.self, from: .summary),
      let ledger = try folder.read(DPEvent.self, from: .ledger),
      let settings = try folder.read([String: SettingValue].self, from: .configuration)
    else {
      throw FederatedError.runFolder(
        path: folder.url.path,
        reason: "no summary.json, ledger.json or config.json (a finished run has all three)")
    }
    self.summary = summary
    self.ledger = ledger
    metrics = try folder.readMetrics()
    self.settings = settings.sorted { $0.key < $1.key }.map { ($0.key, $0.value.argument) }
    audit = try folder.read(AuditResult.self, from: .audit)
  }

  /// The δ values of the privacy profile.
  static let profileDeltas = stride(from: -12.0, through: -2, by: 0.5).map { pow(10, $0) }

  /// The figures, in page order (empty ones left out).
  public var figures: [LineChart] {
    var charts = [privacyProfile, epsilonOverRounds, accuracyOverRounds, lossOverRounds]
    if let byRank = summary.accuracyByRank {
      charts.append(
        LineChart(
          title: "DP-DyLoRA: accuracy by rank after training", xLabel: "rank",
          yLabel: "accuracy (%)",
          series: [.init("evaluation", byRank.enumerated().map { (Double($0 + 1), 100 * $1) })]))
    }
    charts += [clipFraction, noiseToClip, bytesPerClient]
    return charts.filter { !$0.isEmpty }
  }

  /// ε(δ) of the ledger by PLD and RDP, with the run's point and the audit's.
  var privacyProfile: LineChart {
    func curve(_ method: AccountantKind) -> [(x: Double, y: Double)] {
      let epsilons = try? LedgerAccounting.epsilons(
        ledger: ledger, deltas: Self.profileDeltas, method: method)
      return Array(zip(Self.profileDeltas, epsilons ?? []))
    }
    var series: [LineChart.Series] = [
      .init("PLD", curve(.pld)), .init("RDP", curve(.rdp), dashed: true),
    ]
    if let audit {
      series.append(.init("audit: estimate", [(audit.delta, audit.estimate.epsilon)]))
      series.append(
        .init("audit: lower bound (\(audit.confidence))", [(audit.delta, audit.lowerBound)]))
    }
    return LineChart(
      title: "Privacy profile of the ledger: ε(δ)", xLabel: "δ", yLabel: "ε", series: series,
      logarithmicX: true)
  }

  var epsilonOverRounds: LineChart {
    LineChart(
      title: summary.accountant == "pld"
        ? "ε spent at δ = \(summary.delta) (upper bound; exact PLD every 20th of the run)"
        : "ε spent at δ = \(summary.delta) (\(summary.accountant))",
      xLabel: "round",
      yLabel: "ε",
      series: [.init("ε spent", metrics.map { (Double($0.round + 1), $0.epsilon) })],
      rules: summary.targetEpsilon.map { [($0, "target ε = \($0)")] } ?? [])
  }

  var accuracyOverRounds: LineChart {
    let measured = metrics.compactMap { m in m.accuracy.map { (Double(m.round + 1), 100 * $0) } }
    return LineChart(
      title: "Evaluation accuracy", xLabel: "round", yLabel: "accuracy (%)",
      series: [.init("accuracy", [(0, 100 * summary.accuracyBefore)] + measured)],
      rules: [(100 * summary.majorityAccuracy, "most common label")])
  }

  var lossOverRounds: LineChart {
    LineChart(
      title: "Training loss (the cohort's mean per example; un-noised, outside ε)",
      xLabel: "round", yLabel: "loss",
      series: [.init("loss", metrics.map { (Double($0.round + 1), $0.loss) })])
  }

  var clipFraction: LineChart {
    LineChart(
      title: summary.privacyUnit == "user"
        ? "Fraction of clients whose update was clipped (un-noised, outside ε)"
        : "Fraction of per-example gradients clipped (un-noised, outside ε)",
      xLabel: "round", yLabel: "fraction",
      series: [.init("clipped", metrics.map { (Double($0.round + 1), $0.clipFraction) })])
  }

  /// ‖noise‖ on the mean update over C: σ·√(live coordinates)/m_noise, the ratio of the
  /// noise's norm to the largest norm the cohort's mean can have (user level, float
  /// updates only).
  var noiseToClip: LineChart {
    guard summary.privacyUnit == "user", summary.coding == nil, summary.epsilon.isFinite else {
      return LineChart(title: "", xLabel: "", yLabel: "", series: [])
    }
    return LineChart(
      title: "Noise on the mean update ÷ its largest signal C (σ·√d_live ÷ m_noise)",
      xLabel: "round", yLabel: "ratio",
      series: [
        .init(
          "noise ÷ C",
          metrics.map {
            (
              Double($0.round + 1),
              summary.noiseMultiplier * (Double($0.bytesPerClient) / 4).squareRoot()
                / Double(summary.noiseCohortSize)
            )
          })
      ])
  }

  var bytesPerClient: LineChart {
    LineChart(
      title: "Bytes one client sent", xLabel: "round", yLabel: "bytes",
      series: [.init("sent", metrics.map { (Double($0.round + 1), Double($0.bytesPerClient)) })],
      rules: [(Double(summary.bytesFullUpdate), "every trainable float32")])
  }

  /// The page.
  public var html: String {
    let e = LineChart.escaped
    let headline = [
      ("task", summary.task), ("method", summary.method), ("privacy unit", summary.privacyUnit),
      (
        "ε spent",
        summary.epsilon.isFinite
          ? "\(Self.number(summary.epsilon)) at δ = \(Self.number(summary.delta)) (\(summary.accountant), an upper bound)"
          : "∞ (no privacy)"
      ),
      ("target ε", summary.targetEpsilon.map(Self.number) ?? "none"),
      ("σ, C", "\(Self.number(summary.noiseMultiplier)), \(Self.number(summary.clippingBound))"),
      ("rounds", "\(summary.rounds) of \(summary.plannedRounds)"),
      (
        "accuracy",
        String(
          format: "%.1f %% before → %.1f %% after (most common label: %.1f %%)",
          100 * summary.accuracyBefore, 100 * summary.accuracyAfter, 100 * summary.majorityAccuracy)
      ),
      (
        "population",
        summary.simulation
          ? "simulated: \(summary.noiseCohortSize) of \(summary.simulatedPopulation) per round, \(summary.cohortSize) trained"
          : "\(summary.cohortSize) of \(summary.simulatedPopulation) clients per round"
      ),
      ("noise source", summary.noiseSource),
    ]
    var body = ["<h1>dpfl run: \(e(summary.task)), \(e(summary.method))</h1>", "<table>"]
    body += headline.map { "<tr><th>\(e($0.0))</th><td>\(e($0.1))</td></tr>" }
    body.append("</table>")
    if let audit {
      body.append("<h2>Audit</h2><table>")
      body.append(
        "<tr><th>accountant ε</th><td>\(Self.number(audit.accountantEpsilon))</td><td>upper bound</td></tr>"
      )
      body.append(
        "<tr><th>estimate ε</th><td>\(Self.number(audit.estimate.epsilon))</td><td>Andrew et al. one-shot; no confidence statement</td></tr>"
      )
      body.append(
        "<tr><th>lower bound ε</th><td>\(Self.number(audit.lowerBound))</td><td>Steinke et al. one run, confidence \(audit.confidence) (\(audit.correctGuesses) of \(audit.guesses) guesses right)</td></tr>"
      )
      body.append("</table><ul>" + audit.notes.map { "<li>\(e($0))</li>" }.joined() + "</ul>")
    }
    body.append("<h2>Curves</h2>")
    body += figures.map { "<figure>\($0.svg())</figure>" }
    body.append("<h2>What the ε assumes</h2><ul>")
    body += summary.assumptions.map { "<li>\(e($0))</li>" }
    body.append("</ul>")
    if !summary.warnings.isEmpty {
      body.append(
        "<h2>Warnings</h2><ul>" + summary.warnings.map { "<li>\(e($0))</li>" }.joined() + "</ul>")
    }
    body.append("<h2>Configuration (config.json)</h2><table>")
    body += settings.map { "<tr><th>\(e($0.key))</th><td>\(e($0.value))</td></tr>" }
    body.append("</table>")
    return HTMLPage.render(
      title: "dpfl run report: \(summary.task), \(summary.method)", body: body)
  }

  /// A number with 4 significant digits ("∞" for infinity).
  static func number(_ value: Double) -> String {
    value.isFinite ? String(format: "%.4g", value) : "∞"
  }
}
