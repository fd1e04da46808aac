import DPModel
import FlowerNode
import Testing

@testable import DPFederated

/// The records a Flower round carries each way.
@Suite("Flower round content")
struct FlowerRoundContentTests {
  static let template = ParameterSet<Float>([
    ("layers.0.lora_A", Matrix(rows: 2, columns: 3, values: [1, 2, 3, 4, 5, 6])),
    ("classifier.bias", Matrix(rows: 1, columns: 2, values: [0.5, -0.5])),
  ])

  @Test(
    "an instruction reads back as written: configuration, client, round, rank, live set, parameters"
  )
  func instructionRoundTrip() throws {
    let context = RoundContext(
      round: 4, seed: UInt64.max - 3, cohort: [1, 5, 9], activeRank: 3,
      live: LiveCoordinates(components: 0..<3), clippingBound: 1, cohortKey: nil,
      centeredClip: nil)
    // As the ServerApp puts them together: the round's arrays and the client's config.
    let content: FlowerRecordDict = [
      "arrays": .arrays(FlowerRoundContent.arrays(Self.template)),
      "config": .config(
        FlowerRoundContent.config(
          configurationJSON: #"{"task":"digits"}"#, client: 5, context: context)),
    ]
    let read = try FlowerRoundContent.instruction(content)
    #expect(read.configurationJSON == #"{"task":"digits"}"#)
    #expect(read.client == 5)
    #expect(read.global == Self.template)
    var expected = context
    expected.cohort = []  // never sent: who else takes part stays secret
    #expect(read.context == expected)
  }

  @Test(
    "DP-BREM's v travels among the arrays and τ in the config, and both read back into the context; v = 0 is not sent",
    arguments: [[Float](), [0.25, -1, 2, 0, 3, 4, 5, 6]])
  func centeredClipRoundTrip(center: [Float]) throws {
    let context = RoundContext(
      round: 2, seed: 11, cohort: [0, 3], activeRank: nil, live: .all, clippingBound: 1,
      cohortKey: nil, centeredClip: CenteredClip(center: center, radius: 0.75))
    let arrays = FlowerRoundContent.arrays(Self.template, context: context)
    #expect(arrays.names.count == (center.isEmpty ? 2 : 3))
    let read = try FlowerRoundContent.instruction([
      "arrays": .arrays(arrays),
      "config": .config(
        FlowerRoundContent.config(configurationJSON: "{}", client: 3, context: context)),
    ])
    #expect(read.global == Self.template)
    #expect(read.context.centeredClip == context.centeredClip)
  }

  @Test("an instruction missing a field is refused, naming it")
  func malformedInstruction() {
    var config = FlowerRoundContent.config(
      configurationJSON: "{}", client: 0,
      context: RoundContext(
        round: 0, seed: 1, cohort: [0], activeRank: nil, live: .all, clippingBound: 0.5,
        cohortKey: nil, centeredClip: nil))
    config["clipping-bound"] = nil
    #expect(
      throws: FederatedError.malformedData(
        file: "Flower message", line: 0, reason: "no positive clipping-bound")
    ) {
      try FlowerRoundContent.instruction([
        "arrays": .arrays(FlowerRoundContent.arrays(Self.template)), "config": .config(config),
      ])
    }
  }

  static func reply(_ update: ParameterSet<Float>, withinBound: Bool = true) -> FlowerRecordDict {
    [
      "arrays": .arrays(FlowerRoundContent.arrays(update)),
      "metrics": .metrics([
        "client": .int(2), "num-examples": .int(7), "loss": .double(3.5),
        "clipped-examples": .int(0), "local-epochs": .int(1),
        "within-bound": .int(withinBound ? 1 : 0),
      ]),
    ]
  }

  @Test("the server clips a reply again: an update longer than the bound arrives at the bound")
  func serverClipsAgain() throws {
    let long = Self.template  // norm √(91 + 0.5) ≈ 9.57
    let result = try FlowerRoundContent.result(
      Self.reply(long), client: 2, template: Self.template
    ) {
      .clipped($0, to: 1, client: 2)
    }
    guard case .update(let update) = result.message.payload else {
      Issue.record("a plain update")
      return
    }
    #expect(abs(Double(update.l2Norm) - 1) < 1e-6)
    #expect(!result.message.withinBound)
    #expect(result.exampleCount == 7 && result.loss == 3.5)
    let short = Self.template.with(flattened: Self.template.flattened().map { $0 / 100 })
    let kept = try FlowerRoundContent.result(
      Self.reply(short), client: 2, template: Self.template
    ) {
      .clipped($0, to: 1, client: 2)
    }
    #expect(kept.message.payload == .update(short) && kept.message.withinBound)
  }

  @Test("without a user-level clip (no privacy, example level) a long reply arrives as sent")
  func noClipWithoutUserLevel() throws {
    for mechanism in [
      NonPrivateMechanism(clippingBound: 1) as any PrivacyMechanism,
      CentralDPSGDMechanism(
        noiseMultiplier: 1, clippingBound: 1, batchSize: 8, learningRate: 0.1,
        plan: PrivacyPlan(
          sampler: CohortSampler(clientCount: 3, cohortSize: 2, population: 3, noiseCohortSize: 2),
          delta: 1e-6, accountant: .rdp),
        noiseSource: .seeded),
    ] {
      let context = RoundContext(
        round: 0, seed: 1, cohort: [2], activeRank: nil, live: .all, clippingBound: 1,
        cohortKey: nil, centeredClip: nil)
      let result = try FlowerRoundContent.result(
        Self.reply(Self.template), client: 2, template: Self.template
      ) { mechanism.message(for: $0, client: 2, context: context) }
      #expect(result.message.payload == .update(Self.template) && result.message.withinBound)
    }
  }

  @Test("a reply that does not fit the model is refused")
  func replyShape() {
    let wrong = ParameterSet<Float>([
      ("layers.0.lora_A", Matrix(rows: 3, columns: 2, values: [1, 2, 3, 4, 5, 6])),
      ("classifier.bias", Matrix(rows: 1, columns: 2, values: [0.5, -0.5])),
    ])
    #expect(throws: FederatedError.self) {
      try FlowerRoundContent.result(
        Self.reply(wrong), client: 2, template: Self.template
      ) {
        .clipped($0, to: 1, client: 2)
      }
    }
    let missing = ParameterSet<Float>([
      ("classifier.bias", Matrix(rows: 1, columns: 2, values: [0, 0]))
    ])
    #expect(throws: FederatedError.self) {
      try FlowerRoundContent.result(
        Self.reply(missing), client: 2, template: Self.template
      ) {
        .clipped($0, to: 1, client: 2)
      }
    }
  }
}
