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
