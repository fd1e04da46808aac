import DPAudit

/// `dpfl plan --report FILE`'s page: the plan's budget curve (ε against rounds at its σ)
/// and, when σ was solved for, σ against the rounds it would take for the same target.
struct PlanReport {
  var result: PlanResult
  /// ε after each number of steps at the plan's σ.
  var curve: [PlanResult.CurvePoint]
  /// σ for the same target at other round counts (empty when rounds were solved for).
  var sigmas: [(rounds: Int, sigma: Double)]

  var figures: [LineChart] {
    let target = result.query.target
    let budget = LineChart(
      title: "Budget curve at σ = \(Rendering.roundedUp(result.noiseMultiplier))",
      xLabel: "rounds (steps)", yLabel: "ε at δ = \(Rendering.number(target.delta))",
      series: [.init("ε spent", curve.map { (Double($0.steps), $0.epsilon) })],
      rules: [(target.epsilon, "target ε = \(Rendering.number(target.epsilon))")])
    let noise = LineChart(
      title: "σ that meets ε = \(Rendering.number(target.epsilon)) against the rounds",
      xLabel: "rounds (steps)", yLabel: "σ",
      series: [.init("σ", sigmas.map { (Double($0.rounds), $0.sigma) })])
    return [budget, noise].filter { !$0.isEmpty }
  }

  var html: String {
    HTMLPage.render(
      title: "dpfl plan",
      body: [
        "<h1>dpfl plan</h1>",
        "<pre>\(LineChart.escaped(Rendering.text(result)))</pre>",
      ] + figures.map { "<figure>\($0.svg())</figure>" })
  }
}
