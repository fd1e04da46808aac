import Foundation
import Testing

@testable import DPFLCommands

/// dpfl's JSON output is a contract: the fast encoder must write exactly what Foundation's
/// `JSONEncoder` wrote before it.
@Suite("Compact JSON encoder")
struct CompactJSONEncoderTests {
  private static func foundationText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }

  private struct Mixed: Encodable {
    var numbers: [Double] = [
      1, -0.0, 0.1, 1e-7, 1e15, 1e16, 9_007_199_254_740_994, 1e300, .leastNonzeroMagnitude,
      .infinity,
      -.infinity, .nan, 2034.2811329811552,
    ]
    var floats: [Float] = [0.1, 16_777_218, 1e10, .infinity]
    var integers: [Int] = [0, -3, .max]
    var small: UInt8 = 7
    var flags = [true, false]
    var text = "q\"\\/\u{01}\u{1f}\n\t\r\u{08}\u{0c}\u{7f} σé 😀"
    var missing: Double? = nil
    var present: Double? = 2.5
    var nested = ["b": [1.5], "a": [], "B": [2], "é": [3], "z_z": [4]]
    var empty: [String: Int] = [:]
    var enumeration = AccountResult.Unknown.epsilon
  }

  @Test("numbers, strings, escapes, optionals, nesting and key order match Foundation")
  func matchesFoundation() throws {
    #expect(try CompactJSONEncoder.encode(Mixed()) == Self.foundationText(Mixed()))
  }

  @Test(
    "account and plan results (with the budget curve) match Foundation",
    arguments: [
      [
        "account", "--noise-multiplier", "1.1", "--sampling-rate", "0.01", "--steps", "1000",
        "--delta", "1e-5",
      ],
      [
        "account", "--noise-multiplier", "1.1", "--sampling-rate", "0.01", "--steps", "1000",
        "--delta", "1e-5", "--accountant", "pld",
      ],
      [
        "account", "--noise-multiplier", "0.8", "--population", "1000", "--cohort-size", "10",
        "--steps", "50", "--epsilon", "1",
      ],
      ["plan", "--epsilon", "2", "--sampling-rate", "0.001", "--steps", "200", "--delta", "1e-6"],
    ])
  func resultsMatchFoundation(arguments: [String]) throws {
    let command = try DPFL.parseAsRoot(arguments)
    if let account = command as? AccountCommand {
      let result = try AccountQuery(account.rawQuery).evaluate()
      #expect(try CompactJSONEncoder.encode(result) == Self.foundationText(result))
    } else {
      let plan = try #require(command as? PlanCommand)
      let query = try PlanQuery(plan.rawQuery())
      var result = try query.solve()
      result.budgetCurve = try query.budgetCurve(result)
      #expect(try CompactJSONEncoder.encode(result) == Self.foundationText(result))
    }
  }
}
