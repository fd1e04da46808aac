import Accountants
import Testing

@testable import DPFLCommands

@Suite("Query validation")
struct QueryValidationTests {
  private static let schedule = ["--sampling-rate", "0.01", "--steps", "1000"]

  private static func accountError(_ arguments: [String]) throws -> CLIError? {
    let command = try #require(try DPFL.parseAsRoot(["account"] + arguments) as? AccountCommand)
    do {
      _ = try AccountQuery(command.rawQuery).evaluate()
      return nil
    } catch {
      return error
    }
  }

  @Test(
    "bad account flags give one line naming the flag, the value and what is allowed",
    arguments: [
      (
        ["--noise-multiplier", "-1"] + schedule + ["--delta", "1e-5"],
        "--noise-multiplier must be finite and ≥ 0; got -1.0."
      ),
      (
        ["--noise-multiplier", "nan"] + schedule + ["--delta", "1e-5"],
        "--noise-multiplier must be finite and ≥ 0; got nan."
      ),
      (
        ["--noise-multiplier", "inf"] + schedule + ["--delta", "1e-5"],
        "--noise-multiplier must be finite and ≥ 0; got inf."
      ),
      (
        ["--noise-multiplier", "1", "--sampling-rate", "1.5", "--steps", "10", "--delta", "1e-5"],
        "--sampling-rate must be in (0, 1]; got 1.5."
      ),
      (
        ["--noise-multiplier", "1", "--sampling-rate", "0", "--steps", "10", "--delta", "1e-5"],
        "--sampling-rate must be in (0, 1]; got 0.0."
      ),
      (
        ["--noise-multiplier", "1", "--sampling-rate", "0.1", "--steps", "0", "--delta", "1e-5"],
        "--steps must be ≥ 1; got 0."
      ),
      (
        ["--noise-multiplier", "1"] + schedule + ["--delta", "1"],
        "--delta must be in (0, 1); got 1.0."
      ),
      (
        ["--noise-multiplier", "1"] + schedule + ["--epsilon", "-2"],
        "--epsilon must be finite and ≥ 0; got -2.0."
      ),
      (
        ["--noise-multiplier", "1"] + schedule + ["--delta", "1e-5", "--epsilon", "1"],
        "--delta and --epsilon cannot be combined: give --delta to get ε, or --epsilon to get δ."
      ),
      (
        ["--noise-multiplier", "1"] + schedule,
        "--delta is required; give --delta to get ε, or --epsilon to get δ."
      ),
      (
        schedule + ["--delta", "1e-5"],
        "--noise-multiplier is required; the noise std divided by the clipping bound C."
      ),
      (
        [
          "--noise-multiplier", "1", "--population", "100", "--cohort-size", "200", "--rounds", "5",
          "--delta", "1e-5",
        ],
        "--cohort-size must be in [1, 100] (the population); got 200."
      ),
      (
        ["--noise-multiplier", "1", "--population", "100", "--rounds", "5", "--delta", "1e-5"],
        "--cohort-size is required; --population needs --cohort-size (clients per round)."
      ),
      (
        [
          "--noise-multiplier", "1", "--sampling-rate", "0.1", "--cohort-size", "5", "--steps", "5",
          "--delta", "1e-5",
        ],
        "--sampling-rate and --cohort-size cannot be combined: give one of the two."
      ),
      (
        [
          "--noise-multiplier", "1", "--sampling-rate", "0.1", "--steps", "5", "--rounds", "5",
          "--delta", "1e-5",
        ],
        "--steps and --rounds cannot be combined: they are synonyms; give one."
      ),
      (
        [
          "--noise-multiplier", "1", "--sampling-rate", "0.1", "--steps", "5", "--delta", "1e-5",
          "--sampling", "fixed-size",
        ],
        "--population is required; fixed-size sampling needs --population and --cohort-size."
      ),
      (
        ["--noise-multiplier", "1"] + schedule + [
          "--delta", "1e-5", "--accountant", "moments", "--conversion", "improved",
        ],
        "--accountant and --conversion cannot be combined: the moments accountant uses the classic conversion."
      ),
    ])
  func accountErrors(arguments: [String], message: String) throws {
    let error = try #require(try Self.accountError(arguments))
    #expect(error.message(.flag) == message)
    #expect(error.exitCode == 64)
  }

  @Test("batch keys are spelled in snake_case in messages, and unknown keys are rejected")
  func batchSpelling() throws {
    let raw = try RawQuery(json: ["noise_multiplier": .number(-1)], allowed: AccountQuery.fields)
    #expect(
      throws: CLIError.invalidValue(
        .noiseMultiplier, value: "-1.0", requirement: "be finite and ≥ 0")
    ) {
      try AccountQuery(raw)
    }
    #expect(
      CLIError.invalidValue(.noiseMultiplier, value: "-1.0", requirement: "be finite and ≥ 0")
        .message(.jsonKey)
        == "noise_multiplier must be finite and ≥ 0; got -1.0.")
    #expect(throws: CLIError.self) {
      try RawQuery(json: ["sigma": .number(1)], allowed: AccountQuery.fields)
    }
    #expect(
      throws: CLIError.malformedField(key: "steps", reason: "expected a whole number; got 2.5.")
    ) {
      try RawQuery(json: ["steps": .number(2.5)], allowed: AccountQuery.fields)
    }
    #expect(
      throws: CLIError.malformedField(
        key: "accountant", reason: "expected one of rdp, moments, certified, pld; got \"prv\".")
    ) {
      try RawQuery(json: ["accountant": .string("prv")], allowed: AccountQuery.fields)
    }
  }

  @Test("batch lines override the flags given with --batch")
  func overriding() throws {
    let line = try RawQuery(json: ["steps": .number(10)], allowed: AccountQuery.fields)
    let flags = RawQuery(noiseMultiplier: 1, samplingRate: 0.1, steps: 5, delta: 1e-5)
    let merged = line.overriding(flags)
    #expect(merged.steps == 10)
    #expect(merged.noiseMultiplier == 1)
  }

  @Test("fixed-size cohorts are accounted under replace-one with noise multiplier σ/2")
  func fixedSizeSensitivity() throws {
    let command = try #require(
      try DPFL.parseAsRoot([
        "account", "--noise-multiplier", "2", "--population", "60000", "--cohort-size", "256",
        "--rounds", "100",
        "--delta", "1e-5", "--sampling", "fixed-size",
      ]) as? AccountCommand)
    let result = try AccountQuery(command.rawQuery).evaluate()
    var library = RDPAccountant(neighboringRelation: .replaceOne)
    try library.compose(
      .sampledWithoutReplacement(sourceSize: 60000, sampleSize: 256, .gaussian(noiseMultiplier: 1)),
      count: 100)
    #expect(result.epsilon == (try library.epsilon(delta: 1e-5)))
    #expect(result.finding.neighboringRelation == .replaceOne)
  }

  @Test("plan fills in the built-in run's defaults only when no schedule is given")
  func planDefaults() throws {
    let command = try #require(try DPFL.parseAsRoot(["plan", "--epsilon", "2"]) as? PlanCommand)
    let query = try PlanQuery(command.rawQuery())
    #expect(query.sampling.population == 1_000_000)
    #expect(query.sampling.cohortSize == 1_000)
    #expect(query.steps == 2_000)
    #expect(query.target.delta == 1e-6)
    #expect(
      query.assumedDefaults == [
        "population 1,000,000", "cohort 1,000 per round", "2,000 rounds", "δ = 1/population",
      ])
    let partial = try #require(
      try DPFL.parseAsRoot(["plan", "--epsilon", "2", "--sampling-rate", "0.01"]) as? PlanCommand)
    #expect(
      throws: CLIError.missing(
        .delta, hint: "δ defaults to 1/population only when --population is given.")
    ) {
      try PlanQuery(partial.rawQuery())
    }
  }

  @Test("plan's answer meets the target, and the rounds solve is exact")
  func planSolves() throws {
    let sigmaCommand = try #require(
      try DPFL.parseAsRoot([
        "plan", "--epsilon", "3", "--delta", "1e-5", "--sampling-rate", "0.004", "--steps", "5000",
        "--clipping-bound", "0.5",
      ])
        as? PlanCommand)
    let result = try PlanQuery(sigmaCommand.rawQuery()).solve()
    #expect(result.achieved.value <= 3)
    #expect(result.noiseStdOnSum == result.noiseMultiplier * 0.5)
    #expect(result.noiseStdOnMean == nil)  // no cohort size with --sampling-rate
    let roundsCommand = try #require(
      try DPFL.parseAsRoot([
        "plan", "--epsilon", "3", "--delta", "1e-5", "--sampling-rate", "0.004", "--solve",
        "rounds", "--noise-multiplier", "\(result.noiseMultiplier)",
      ])
        as? PlanCommand)
    let roundsQuery = try PlanQuery(roundsCommand.rawQuery())
    let rounds = try roundsQuery.solve()
    #expect(rounds.steps >= 5000)
    let curve = try roundsQuery.budgetCurve(rounds)
    #expect(curve.last?.steps == rounds.steps + 1)
    #expect((curve.last?.epsilon ?? 0) > 3)
  }
}
