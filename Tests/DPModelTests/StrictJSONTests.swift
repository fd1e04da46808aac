import Testing

@testable import DPModel

@Suite("StrictJSON")
struct StrictJSONTests {
  static func parse(_ text: String) throws(StrictJSON.SyntaxError) -> StrictJSON.Value {
    try StrictJSON.parse(Array(text.utf8))
  }

  @Test("objects keep their members in order, repeats included")
  func orderedMembers() throws {
    let value = try Self.parse(#" {"b": 1, "a": [true, false, null], "b": "x"} "#)
    guard case .object(let members) = value else {
      Issue.record("not an object: \(value)")
      return
    }
    #expect(members.map(\.key) == ["b", "a", "b"])
    #expect(members[1].value == .array([.bool(true), .bool(false), .null]))
    #expect(members[2].value == .string("x"))
  }

  @Test("string escapes decode, surrogate pairs included")
  func escapes() throws {
    #expect(try Self.parse(#""a\"b\\c\/d\n\t\r\b\f""#) == .string("a\"b\\c/d\n\t\r\u{8}\u{C}"))
    #expect(try Self.parse(#""\u00e9\u4E2D\ud83d\ude00""#) == .string("é中😀"))
    #expect(try Self.parse("\"é😀\"") == .string("é😀"))
  }

  @Test("numbers are kept as text; only integer literals convert to Int")
  func numbers() throws {
    #expect(try Self.parse("-12").integer == -12)
    #expect(try Self.parse("0").integer == 0)
    #expect(try Self.parse("2.0").integer == nil)
    #expect(try Self.parse("1e3") == .number("1e3"))
    #expect(try Self.parse("99999999999999999999").integer == nil)
  }

  @Test(
    "malformed documents are refused with the byte offset",
    arguments: [
      "", "{", "[1,]", "{\"a\" 1}", "{\"a\":1,}", "01", "1.", "-", "1e", "tru", "\"abc",
      "\"\\x\"", "\"\\u12G4\"", "\"\\ud83d\"", "\"\\ude00\"", "\"a\u{01}b\"", "{} {}", "{1:2}",
    ])
  func refusesMalformed(_ text: String) {
    #expect(throws: StrictJSON.SyntaxError.self) { try Self.parse(text) }
  }

  @Test("invalid UTF-8 inside a string is refused")
  func invalidUTF8() {
    #expect(throws: StrictJSON.SyntaxError.self) { try StrictJSON.parse([0x22, 0xC3, 0x28, 0x22]) }
  }

  @Test("nesting is bounded")
  func depth() throws {
    let levels = StrictJSON.maximumDepth
    let allowed = String(repeating: "[", count: levels) + String(repeating: "]", count: levels)
    let deep = "[" + allowed + "]"
    #expect(throws: StrictJSON.SyntaxError.self) { try Self.parse(deep) }
    _ = try Self.parse(allowed)
  }
}
