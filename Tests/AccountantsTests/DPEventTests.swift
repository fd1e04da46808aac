import Accountants
import DPTestSupport
import Foundation
import PropertyBased
import Testing

@Suite("DPEvent")
struct DPEventTests {
  private static let example = DPEvent.selfComposed(
    .poissonSampled(probability: 0.001, .gaussian(noiseMultiplier: 1.1)), count: 2000)

  @Test("JSON form is stable and mirrors dp_accounting's names")
  func stableJSON() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let json = String(decoding: try encoder.encode(Self.example), as: UTF8.self)
    #expect(
      json
        == #"{"count":2000,"event":{"event":{"noise_multiplier":1.1,"type":"Gaussian"},"sampling_probability":0.001,"type":"PoissonSampled"},"type":"SelfComposed"}"#
    )
    let wor = DPEvent.sampledWithoutReplacement(
      sourceSize: 60000, sampleSize: 256, .laplace(noiseMultiplier: 2))
    let worJSON = String(
      decoding: try encoder.encode(DPEvent.composed([wor, .noOp, .nonPrivate])), as: UTF8.self)
    #expect(
      worJSON
        == #"{"events":[{"event":{"noise_multiplier":2,"type":"Laplace"},"sample_size":256,"source_dataset_size":60000,"type":"SampledWithoutReplacement"},{"type":"NoOp"},{"type":"NonPrivate"}],"type":"Composed"}"#
    )
  }

  @Test("participation sampling and tuning have stable JSON forms and summaries")
  func dpflEventsJSON() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let participation = DPEvent.participationSampled(
      probability: 0.001,
      .selfComposed(.poissonSampled(probability: 0.2, .gaussian(noiseMultiplier: 1.5)), count: 5))
    #expect(
      String(decoding: try encoder.encode(participation), as: UTF8.self)
        == #"{"event":{"count":5,"event":{"event":{"noise_multiplier":1.5,"type":"Gaussian"},"sampling_probability":0.2,"type":"PoissonSampled"},"type":"SelfComposed"},"participation_probability":0.001,"type":"ParticipationSampled"}"#
    )
    let tuned = DPEvent.composed([
      .tuned(runs: .geometric(successProbability: 0.1), .gaussian(noiseMultiplier: 2)),
      .tuned(runs: .poisson(mean: 10), .noOp),
    ])
    #expect(
      String(decoding: try encoder.encode(tuned), as: UTF8.self)
        == #"{"events":[{"event":{"noise_multiplier":2,"type":"Gaussian"},"runs":{"shape":1,"success_probability":0.1,"type":"TruncatedNegativeBinomial"},"type":"Tuned"},{"event":{"type":"NoOp"},"runs":{"mean":10,"type":"Poisson"},"type":"Tuned"}],"type":"Composed"}"#
    )
    #expect(
      participation.summary
        == "ParticipationSampled(q=0.001, SelfComposed(PoissonSampled(q=0.2, Gaussian(σ=1.5)), count=5))"
    )
    #expect(
      tuned.summary
        == "Composed([Tuned(TruncatedNegativeBinomial(η=1.0, γ=0.1), Gaussian(σ=2.0)), Tuned(Poisson(μ=10.0), NoOp)])"
    )
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode(
        DPEvent.self,
        from: Data(#"{"type":"Tuned","runs":{"type":"Binomial"},"event":{"type":"NoOp"}}"#.utf8))
    }
  }

  @Test("every event survives a JSON round trip")
  func codableRoundTrip() async {
    await propertyCheck(count: 300, input: Gen.uint64(in: 0...UInt64.max)) { seed in
      let event = RandomEvents.any(seed: seed)
      let decoded = try JSONDecoder().decode(DPEvent.self, from: JSONEncoder().encode(event))
      #expect(decoded == event, "seed \(seed)")
    }
  }

  @Test("an unknown type is a decoding error")
  func unknownType() {
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode(
        DPEvent.self, from: Data(#"{"type":"Exponential","noise_multiplier":1}"#.utf8))
    }
  }

  @Test(
    "invalid parameters name the offending sub-event",
    arguments: [
      (DPEvent.gaussian(noiseMultiplier: -1), "noise multiplier must be finite and ≥ 0; got -1.0."),
      (.laplace(noiseMultiplier: .nan), "noise multiplier must be finite and ≥ 0; got nan."),
      (
        .poissonSampled(probability: 1.5, .gaussian(noiseMultiplier: 1)),
        "sampling probability must be in [0, 1]; got 1.5."
      ),
      (
        .sampledWithoutReplacement(sourceSize: 0, sampleSize: 0, .noOp),
        "source size must be ≥ 1; got 0."
      ),
      (
        .sampledWithoutReplacement(sourceSize: 10, sampleSize: 11, .noOp),
        "sample size must be in [0, 10] (the source size); got 11."
      ),
      (.selfComposed(.noOp, count: -2), "count must be ≥ 0; got -2."),
      (
        .participationSampled(probability: .nan, .noOp),
        "participation probability must be in [0, 1]; got nan."
      ),
      (
        .participationSampled(probability: -0.1, .noOp),
        "participation probability must be in [0, 1]; got -0.1."
      ),
      (
        .tuned(runs: .truncatedNegativeBinomial(shape: -1, successProbability: 0.5), .noOp),
        "negative binomial shape η must be finite and > −1; got -1.0."
      ),
      (
        .tuned(runs: .truncatedNegativeBinomial(shape: .infinity, successProbability: 0.5), .noOp),
        "negative binomial shape η must be finite and > −1; got inf."
      ),
      (
        .tuned(runs: .geometric(successProbability: 1), .noOp),
        "negative binomial success probability γ must be in (0, 1); got 1.0."
      ),
      (
        .tuned(runs: .logarithmic(successProbability: .nan), .noOp),
        "negative binomial success probability γ must be in (0, 1); got nan."
      ),
      (
        .tuned(runs: .poisson(mean: 0), .noOp),
        "Poisson mean number of runs μ must be finite and > 0; got 0.0."
      ),
      (
        .tuned(runs: .poisson(mean: .infinity), .noOp),
        "Poisson mean number of runs μ must be finite and > 0; got inf."
      ),
    ])
  func invalidParameters(event: DPEvent, reason: String) {
    let nested = DPEvent.composed([.noOp, .selfComposed(event, count: 2)])
    let failure = nested.parameterFailure()
    #expect(failure?.event.summary == event.summary)  // summaries, since NaN ≠ NaN
    #expect(failure?.reason == reason)
  }

  @Test("valid events have no parameter failure")
  func validEvents() async {
    await propertyCheck(count: 200, input: Gen.uint64(in: 0...UInt64.max)) { seed in
      #expect(RandomEvents.any(seed: seed).parameterFailure() == nil, "seed \(seed)")
    }
  }

  @Test("summary is one readable line")
  func summary() {
    #expect(
      Self.example.summary == "SelfComposed(PoissonSampled(q=0.001, Gaussian(σ=1.1)), count=2000)")
  }
}
