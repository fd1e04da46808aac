import Accountants
import DPTestSupport
import Foundation
import Testing

/// Runs the built binary: stdout, stderr and exit codes as a user sees them.
@Suite("dpfl end to end")
struct EndToEndTests {
  @Test("plan --epsilon 2 plans the built-in run and says which defaults it assumed")
  func planDefault() throws {
    let output = try BinaryRunner.run(["plan", "--epsilon", "2"])
    #expect(output.status == 0, "\(output.stderr)")
    #expect(output.stdout.hasPrefix("noise multiplier σ = "))
    #expect(
      output.stdout.contains(
        "assumed     population 1,000,000, cohort 1,000 per round, 2,000 rounds, δ = 1/population"))
    #expect(output.stdout.contains("budget curve"))
  }

  @Test("plan --format json prints one object with the contract's keys, ε ≤ target")
  func planJSON() throws {
    let output = try BinaryRunner.run([
      "plan", "--epsilon", "2", "--clipping-bound", "1", "--format", "json",
    ])
    #expect(output.status == 0, "\(output.stderr)")
    let json = try BinaryRunner.json(output)
    for key in [
      "noise_multiplier", "epsilon", "target_epsilon", "delta", "accountant", "sampling_rate",
      "steps",
      "noise_std_on_sum", "noise_std_on_mean", "budget_curve", "bound",
    ] {
      #expect(json[key] != nil, "missing key \(key)")
    }
    let epsilon = try #require(json["epsilon"] as? Double)
    let sigma = try #require(json["noise_multiplier"] as? Double)
    #expect(epsilon <= 2)
    let mean = try #require(json["noise_std_on_mean"] as? Double)
    #expect(abs(mean - sigma / 1000) <= 1e-15 * sigma)
  }

  @Test("plan --method dp-rec shows the coder's bits at the planned σ; fewer bits for more work")
  func planDPREC() throws {
    let output = try BinaryRunner.run([
      "plan", "--epsilon", "2", "--method", "dp-rec", "--sampling", "fixed-size", "--population",
      "1000000", "--cohort-size", "1000", "--rounds", "200", "--delta", "1e-6", "--format", "json",
    ])
    #expect(output.status == 0)
    let json = try BinaryRunner.json(output)
    let sigma = try #require(json["noise_multiplier"] as? Double)
    let coding = try #require(json["coding"] as? [String: Any])
    let divergence = try #require(coding["divergence"] as? Double)
    #expect(abs(divergence - 1000 / (2 * sigma * sigma)) < 1e-9 * divergence)
    let rows = try #require(coding["rows"] as? [[String: Any]])
    let bits = rows.compactMap { $0["bits_per_parameter"] as? Double }
    #expect(bits.count == 8)
    #expect(zip(bits, bits.dropFirst()).allSatisfy { $0 >= $1 })
    #expect(bits.last! < 1 && bits.first! < 32)
    let failures = rows.compactMap { $0["block_failure_probability"] as? Double }
    #expect(failures.allSatisfy { $0 <= 1e-3 })
    let missingCohort = try BinaryRunner.run([
      "plan", "--epsilon", "2", "--delta", "1e-6", "--method", "dp-rec", "--sampling-rate", "0.01",
      "--steps", "10",
    ])
    #expect(missingCohort.status != 0)
    #expect(missingCohort.stderr.contains("--cohort-size"))
  }

  @Test("plan → account reproduces ε ≤ target from the planned σ")
  func planThenAccount() throws {
    let plan = try BinaryRunner.json(
      BinaryRunner.run(["plan", "--epsilon", "1.5", "--format", "json"]))
    let sigma = try #require(plan["noise_multiplier"] as? Double)
    let account = try BinaryRunner.run([
      "account", "--noise-multiplier", "\(sigma)", "--population", "1000000", "--cohort-size",
      "1000",
      "--rounds", "2000", "--delta", "1e-6", "--format", "json",
    ])
    #expect(account.status == 0, "\(account.stderr)")
    let json = try BinaryRunner.json(account)
    let epsilon = try #require(json["epsilon"] as? Double)
    #expect(epsilon <= 1.5)
    #expect(epsilon > 1.5 * (1 - 1e-5))
    for key in [
      "epsilon", "delta", "accountant", "conversion", "sampling", "sampling_rate", "steps",
      "noise_multiplier",
      "optimal_order", "order_at_grid_edge", "bound",
    ] {
      #expect(json[key] != nil, "missing key \(key)")
    }
    #expect(json["bound"] as? String == "upper")
  }

  @Test("bad input exits 64 with one error line, then the usage line, on stderr; nothing on stdout")
  func badInput() throws {
    let output = try BinaryRunner.run([
      "account", "--noise-multiplier", "1", "--sampling-rate", "2", "--steps", "10", "--delta",
      "1e-5",
    ])
    #expect(output.status == 64)
    #expect(output.stdout.isEmpty)
    #expect(
      output.stderr.hasPrefix(
        "Error: --sampling-rate must be in (0, 1]; got 2.0.\nUsage: dpfl account "))
    #expect(output.stderr.hasSuffix("\n  See 'dpfl account --help' for more information.\n"))
    let negative = try BinaryRunner.run([
      "account", "--noise-multiplier", "1", "--sampling-rate", "0.1", "--steps", "-3", "--delta",
      "1e-5",
    ])
    #expect(negative.status == 64)
    #expect(negative.stderr.hasPrefix("Error: --steps must be ≥ 1; got -3.\nUsage: dpfl account "))
  }

  @Test("node: an authority file that cannot be read exits 64 naming it, before any connection")
  func nodeWithoutAuthorityFile() throws {
    let output = try BinaryRunner.run([
      "node", "--superlink", "127.0.0.1:1", "--root-certificates", "/nonexistent/ca.pem",
      "--partition", "0", "--partitions", "1",
    ])
    #expect(output.status == 64)
    #expect(
      output.stderr.hasPrefix(
        "Error: --root-certificates /nonexistent/ca.pem: no readable file (a PEM file of certificate authorities).\n"
      ))
  }

  @Test(
    "node: --data once per hosted node, without --partition; a missing file or a built-in share without --partitions exits 64 naming it"
  )
  func nodeDataChoices() throws {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-node-\(UUID()).jsonl")
    try "{}\n".write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    let cases: [([String], String)] = [
      (["--data", file.path, "--nodes", "2"], "Error: --data is given 1 time(s) for --nodes 2"),
      (["--data", "/nonexistent/a.jsonl"], "Error: /nonexistent/a.jsonl: no readable file"),
      (
        ["--data", file.path, "--partitions", "4"],
        "Error: --partition and --partitions choose a built-in task's share"
      ),
      (["--partition", "1"], "Error: --partitions none must be at least 1"),
      (
        ["--partitions", "2", "--public-data", file.path],
        "Error: --public-data \(file.path) goes with --data"
      ),
    ]
    for (arguments, message) in cases {
      let output = try BinaryRunner.run(["node", "--superlink", "127.0.0.1:1"] + arguments)
      #expect(output.status == 64, "\(arguments)")
      #expect(output.stderr.hasPrefix(message), "\(arguments): \(output.stderr)")
    }
  }

  @Test("a batch answers every good line in order and reports bad lines by number")
  func batch() throws {
    let input = """
      {"noise_multiplier": 1.1, "sampling_rate": 0.01, "steps": 10000, "delta": 1e-5}
      {"noise_multiplier": 1.1, "sampling_rate": 2, "steps": 10, "delta": 1e-5}

      not json
      {"noise_multiplier": 4, "population": 60000, "cohort_size": 600, "rounds": 1000, "epsilon": 1, "accountant": "moments"}
      """
    let output = try BinaryRunner.run(["account", "--batch", "-", "--timings"], stdin: input)
    #expect(output.status == 65)
    let lines = output.stdout.split(separator: "\n").map {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    try #require(lines.count == 4)
    #expect(abs((lines[0]?["epsilon"] as? Double ?? 0) - 5.632010670) < 1e-6)
    #expect(lines[0]?["seconds"] is Double)
    #expect(lines[1]?["error"] as? String == "sampling_rate must be in (0, 1]; got 2.0.")
    #expect(lines[1]?["line"] as? Int == 2)
    #expect(lines[2]?["line"] as? Int == 4)
    #expect(lines[3]?["accountant"] as? String == "moments")
    #expect(lines[3]?["conversion"] as? String == "classic")
  }

  @Test("plan batches take the same keys and skip the budget curve")
  func planBatch() throws {
    let output = try BinaryRunner.run(
      ["plan", "--batch", "-"],
      stdin: #"{"epsilon": 2, "delta": 1e-6, "sampling_rate": 0.001, "steps": 2000}"# + "\n")
    #expect(output.status == 0, "\(output.stderr)")
    let json = try BinaryRunner.json(output)
    #expect((json["epsilon"] as? Double ?? 3) <= 2)
    #expect(json["budget_curve"] == nil)
  }

  @Test("the root help lists the commands")
  func rootHelp() throws {
    let output = try BinaryRunner.run(["--help"])
    #expect(output.status == 0)
    #expect(output.stdout.contains("plan"))
    #expect(output.stdout.contains("account"))
  }
}

/// `dpfl account --ledger`: re-accounting the JSON ledgers that runs write.
@Suite("dpfl account --ledger")
struct LedgerEndToEndTests {
  private static let ledger =
    #"{"type":"SelfComposed","count":2000,"event":{"type":"PoissonSampled","sampling_probability":0.001,"event":{"type":"Gaussian","noise_multiplier":0.9}}}"#

  @Test("a ledger prints the same JSON as the flags that describe the same run")
  func sameAsFlags() throws {
    let fromLedger = try BinaryRunner.run(
      ["account", "--ledger", "-", "--delta", "1e-6", "--format", "json"], stdin: Self.ledger)
    #expect(fromLedger.status == 0, "\(fromLedger.stderr)")
    let fromFlags = try BinaryRunner.run([
      "account", "--noise-multiplier", "0.9", "--sampling-rate", "0.001", "--steps", "2000",
      "--delta", "1e-6", "--format", "json",
    ])
    #expect(fromLedger.stdout == fromFlags.stdout)
  }

  @Test("--compare answers with every accountant")
  func compare() throws {
    let output = try BinaryRunner.run(
      ["account", "--ledger", "-", "--delta", "1e-6", "--compare", "--format", "json"],
      stdin: Self.ledger)
    #expect(output.status == 0, "\(output.stderr)")
    let results = try #require(BinaryRunner.json(output)["results"] as? [[String: Any]])
    #expect(results.map { $0["accountant"] as? String } == ["rdp", "moments", "certified", "pld"])
    let rdp = try #require(results[0]["epsilon"] as? Double)
    let moments = try #require(results[1]["epsilon"] as? Double)
    let certified = try #require(results[2]["epsilon"] as? Double)
    #expect(rdp < moments)
    // The certified grid has integer orders only, so its bound is at least the RDP one.
    #expect(certified >= rdp)
    #expect(results[2]["certified"] as? Bool == true)
    #expect(results[2]["precision_bits"] as? Int == 128)
    // PLD is tight: below RDP, with both directions and its discretisation reported.
    let pld = try #require(results[3]["epsilon"] as? Double)
    #expect(pld < rdp)
    #expect(results[3]["eps_remove"] as? Double == pld)
    #expect(results[3]["discretization"] is Double)
  }

  @Test("plan --accountant certified returns a σ whose certified ε meets the target")
  func certifiedPlan() throws {
    let plan = try BinaryRunner.json(
      BinaryRunner.run(["plan", "--epsilon", "2", "--accountant", "certified", "--format", "json"]))
    let sigma = try #require(plan["noise_multiplier"] as? Double)
    #expect(plan["certified"] as? Bool == true)
    let account = try BinaryRunner.json(
      BinaryRunner.run([
        "account", "--noise-multiplier", "\(sigma)", "--population", "1000000", "--cohort-size",
        "1000", "--rounds", "2000",
        "--delta", "1e-6", "--accountant", "certified", "--format", "json",
      ]))
    #expect(try #require(account["epsilon"] as? Double) <= 2)
  }

  @Test(
    "a Flower node's books (a JSON array of events) re-account as their composition; a bad element is named by its index"
  )
  func nodeBooks() throws {
    let books =
      #"[{"type": "MomentumGaussian", "noise_multiplier": 0.714, "momentum": 0.9, "sampling_probability": 1, "participation_probability": 1, "rounds": 2}, {"type": "Gaussian", "noise_multiplier": 2}]"#
    let output = try BinaryRunner.run(
      ["account", "--ledger", "-", "--delta", "1e-6", "--accountant", "pld", "--format", "json"],
      stdin: books)
    #expect(output.status == 0, "\(output.stderr)")
    var accountant = PLDAccountant()
    try accountant.compose(
      .composed([
        .momentumGaussian(
          MomentumGaussian(
            noiseMultiplier: 0.714, momentum: 0.9, recordProbability: 1,
            participationProbability: 1, rounds: 2)),
        .gaussian(noiseMultiplier: 2),
      ]))
    expectClose(
      try #require(try BinaryRunner.json(output)["epsilon"] as? Double),
      try accountant.epsilon(delta: 1e-6), relative: 1e-9)
    let bad = try BinaryRunner.run(
      ["account", "--ledger", "-", "--delta", "1e-6"],
      stdin: #"[{"type": "Gaussian", "noise_multiplier": 2}, {"type": "Gaussian"}]"#)
    #expect(bad.status == 65)
    #expect(
      bad.stderr
        == "Error: stdin:1:47: not a DPEvent ledger: [1] must have the key \"noise_multiplier\"; got none.\n"
    )
  }

  @Test("a file that is not a ledger exits 65 with one line naming what is missing")
  func malformed() throws {
    let output = try BinaryRunner.run(
      ["account", "--ledger", "-", "--delta", "1e-6"], stdin: #"{"type":"Gaussian"}"#)
    #expect(output.status == 65)
    #expect(
      output.stderr
        == "Error: stdin:1:1: not a DPEvent ledger: the top-level object must have the key \"noise_multiplier\"; got none.\n"
    )
    let conflicting = try BinaryRunner.run(
      ["account", "--ledger", "-", "--delta", "1e-6", "--steps", "3"], stdin: Self.ledger)
    #expect(conflicting.status == 64)
    #expect(
      conflicting.stderr.hasPrefix(
        "Error: --ledger and --steps cannot be combined: the ledger says what was released.\nUsage: "
      ))
  }

  @Test("account --batch with --ledger is a usage error (exit 64), not a silently ignored flag")
  func batchWithLedger() throws {
    let output = try BinaryRunner.run(
      ["account", "--batch", "-", "--ledger", "ledger.json", "--delta", "1e-6"], stdin: "")
    #expect(output.status == 64)
    #expect(output.stderr.hasPrefix("Error: --batch and --ledger cannot be combined"))
    #expect(output.stderr.contains("Usage: dpfl account"))
  }

  @Test("every command's help lists the exit codes")
  func exitCodesInHelp() throws {
    for command in [[], ["plan"], ["account"], ["train"]] {
      let output = try BinaryRunner.run(command + ["--help"])
      #expect(output.stdout.contains("Exit codes: 0 success; 1 runtime failure"), "\(command)")
      #expect(output.stdout.contains("3 budget exhausted"), "\(command)")
    }
  }

  @Test(
    "plan --tuning-runs: the cheaper of a random search (Papernot & Steinke) and ⌈K⌉ runs composed, each re-accounting to ε ≤ target"
  )
  func planTuning() throws {
    // The federated default: composing 10 runs of 2,000 rounds is cheaper.
    let composed = try BinaryRunner.json(
      try BinaryRunner.run([
        "plan", "--epsilon", "2", "--accountant", "rdp", "--tuning-runs", "10", "--format", "json",
      ]))
    let longer = try BinaryRunner.json(
      try BinaryRunner.run([
        "plan", "--epsilon", "2", "--accountant", "rdp", "--rounds", "20000", "--population",
        "1000000", "--cohort-size", "1000", "--delta", "1e-6", "--format", "json",
      ]))
    let tuning = try #require(composed["tuning"] as? [String: Any])
    #expect(tuning["accounted_as"] as? String == "composition")
    #expect(composed["noise_multiplier"] as? Double == longer["noise_multiplier"] as? Double)
    // Ten steps at q = 0.1, ε = 8: the random search is cheaper.
    let output = try BinaryRunner.run([
      "plan", "--epsilon", "8", "--delta", "1e-5", "--sampling-rate", "0.1", "--steps", "10",
      "--tuning-runs", "10", "--format", "json",
    ])
    #expect(output.status == 0, "\(output.stderr)")
    let tuned = try BinaryRunner.json(output)
    let search = try #require(tuned["tuning"] as? [String: Any])
    #expect(search["accounted_as"] as? String == "random-search")
    #expect(search["distribution"] as? String == "logarithmic")
    let sigma = try #require(tuned["noise_multiplier"] as? Double)
    let gamma = try #require(search["parameter"] as? Double)
    var accountant = RDPAccountant()
    try accountant.compose(
      .tuned(
        runs: .logarithmic(successProbability: gamma),
        .selfComposed(
          .poissonSampled(probability: 0.1, .gaussian(noiseMultiplier: sigma)), count: 10)))
    let epsilon = try accountant.epsilon(delta: 1e-5)
    #expect(epsilon <= 8)
    expectClose(epsilon, try #require(tuned["epsilon"] as? Double), relative: 1e-12)
    var composition = RDPAccountant()
    try composition.compose(
      .poissonSampled(probability: 0.1, .gaussian(noiseMultiplier: sigma)), count: 100)
    #expect(try composition.epsilon(delta: 1e-5) > 8)
    let orphan = try BinaryRunner.run([
      "plan", "--epsilon", "2", "--tuning-distribution", "poisson",
    ])
    #expect(orphan.status == 64 && orphan.stderr.hasPrefix("Error: --tuning-runs is required"))
  }

  @Test(
    "plan and account --momentum: the rounds are one MomentumGaussian release; σ re-accounts to the target, where the per-round charge would spend more than twice it; bad values are refused with exit 64"
  )
  func momentumRelease() throws {
    let schedule = [
      "--population", "1000000", "--cohort-size", "1000", "--rounds", "30", "--delta", "1e-6",
    ]
    let planned = try BinaryRunner.run(
      ["plan", "--epsilon", "4", "--momentum", "0.9", "--format", "json"] + schedule)
    #expect(planned.status == 0, "\(planned.stderr)")
    let plan = try BinaryRunner.json(planned)
    let sigma = try #require(plan["noise_multiplier"] as? Double)
    #expect(plan["momentum"] as? Double == 0.9 && plan["record_rate"] as? Double == 1)
    let release = DPEvent.momentumGaussian(
      MomentumGaussian(
        noiseMultiplier: sigma, momentum: 0.9, recordProbability: 1,
        participationProbability: 1e-3, rounds: 30))
    var rdp = RDPAccountant()
    try rdp.compose(release)
    let epsilon = try rdp.epsilon(delta: 1e-6)
    #expect(epsilon <= 4 && epsilon > 3.9, "ε \(epsilon) at the planned σ \(sigma)")
    // The per-round charge it replaces (each round taken part in at the full sensitivity)
    // would spend more than the target at this σ.
    var perRound = RDPAccountant()
    try perRound.compose(
      .participationSampled(probability: 1e-3, .gaussian(noiseMultiplier: sigma)), count: 30)
    #expect(try perRound.epsilon(delta: 1e-6) > 8)
    // account at the planned σ, with the record sampling: the same event.
    let accounted = try BinaryRunner.json(
      try BinaryRunner.run(
        [
          "account", "--noise-multiplier", "\(sigma)", "--momentum", "0.9", "--record-rate", "1",
          "--format", "json",
        ] + schedule))
    expectClose(try #require(accounted["epsilon"] as? Double), epsilon, relative: 1e-9)
    #expect((accounted["ledger"] as? String)?.hasPrefix("MomentumGaussian(") == true)
    for (flags, message) in [
      (["--momentum", "1"], "Error: --momentum must be in (0, 1)"),
      (["--momentum", "0"], "Error: --momentum must be in (0, 1)"),
      (["--record-rate", "0.5"], "Error: --momentum is required"),
      (["--momentum", "0.9", "--record-rate", "1.5"], "Error: --record-rate must be in (0, 1]"),
      (["--momentum", "0.9", "--sampling", "fixed-size"], "Error: --momentum and --sampling"),
    ] {
      let refused = try BinaryRunner.run(["plan", "--epsilon", "4"] + schedule + flags)
      #expect(
        refused.status == 64 && refused.stderr.hasPrefix(message), "\(flags): \(refused.stderr)")
    }
  }

}
