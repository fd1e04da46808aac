import DPFederated
import Foundation
import Testing

@testable import DPFLCommands

/// The settings-file reader that replaced TOMLKit (whose toml++ aborts on `[` + newline):
/// flat TOML, every error one line naming file:line and the key.
@Suite("FlatTOML")
struct FlatTOMLTests {
  /// The one-line message `text` is refused with, read as a settings file called `run.toml`.
  static func refusal(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String?
  {
    do {
      _ = try RunConfigFile.settings(text: text, path: "run.toml")
      Issue.record("accepted: \(text)", sourceLocation: sourceLocation)
      return nil
    } catch {
      #expect(error.exitCode == 65, sourceLocation: sourceLocation)
      return error.message(.flag)
    }
  }

  static func settings(_ text: String) throws -> [String: SettingValue] {
    try RunConfigFile.settings(text: text, path: "run.toml")
  }

  @Test(
    "table headers that crashed toml++ are refused with the line",
    arguments: ["[", "[\n", "[#\n", "[=", "[ \n", "[[", "[a", "epsilon = 2\n[\n"])
  func tableHeaders(_ text: String) {
    let line = text.hasPrefix("epsilon") ? 2 : 1
    #expect(
      Self.refusal(text)
        == "run.toml:\(line): tables ([section]) are not used in dpfl settings; write every key at the top level."
    )
  }

  @Test("an integer is a fine value for a float setting; a float is not an integer")
  func numbers() throws {
    let settings = try Self.settings("epsilon = 2\ndelta = 1e-6\nrounds = 1_000\nalpha = +16\n")
    #expect(settings["epsilon"] == .number(2))
    #expect(settings["delta"] == .number(1e-6))
    #expect(settings["rounds"] == .integer(1000))
    #expect(settings["alpha"] == .number(16))
    #expect(
      Self.refusal("rounds = 2.5") == "run.toml:1: rounds must be an integer; got the float 2.5.")
    #expect(
      Self.refusal("epsilon = \"2\"")
        == "run.toml:1: epsilon must be a number; got the string \"2\".")
  }

  @Test("TOML's literal forms: strings with escapes, hex, infinities, comments, CRLF, a BOM")
  func forms() throws {
    let text =
      "\u{FEFF}# a run\r\ntask = \"jsonl\"  # the task\r\ndata = 'C:\\data\\x.jsonl'\r\n"
      + "evaluation_data = \"a\\tb\\u00e9\"\r\nseed = 0xff\r\nlocal_learning_rate = inf\r\n"
      + "\"rank\" = 4\r\nfrozen = true\r\n"
    let settings = try Self.settings(text)
    #expect(settings["task"] == .text("jsonl"))
    #expect(settings["data"] == .text("C:\\data\\x.jsonl"))
    #expect(settings["evaluation_data"] == .text("a\tbé"))
    #expect(settings["seed"] == .unsigned(255))
    #expect(settings["local_learning_rate"] == .number(.infinity))
    #expect(settings["rank"] == .integer(4))
    #expect(settings["frozen"] == .boolean(true))
  }

  @Test(
    "what flat settings do not use is refused by name",
    arguments: [
      ("rank = [1, 2]", "run.toml:1: rank: arrays are not used in dpfl settings; give one value."),
      (
        "a.b = 1",
        "run.toml:1: dotted keys are not used in dpfl settings (they make tables); write a = … at the top level."
      ),
      ("seed = 1979-05-27", "run.toml:1: seed: dates and times are not used in dpfl settings."),
      (
        "task = \"\"\"x\"\"\"",
        "run.toml:1: task: multi-line strings are not used in dpfl settings."
      ),
      (
        "epsilon = 1e400",
        "run.toml:1: epsilon: the number 1e400 is out of range (a float holds magnitudes up to 1.8e308)."
      ),
      (
        "seed = 99999999999999999999",
        "run.toml:1: seed must be an integer from -9223372036854775808 to 9223372036854775807; got 99999999999999999999."
      ),
      (
        "epsilon = 2\nepsilon = 3",
        "run.toml:2: epsilon must be given once; got it again (first on line 1)."
      ),
      ("epsilon 2", "run.toml:1: epsilon must be followed by '='; got '2'."),
      ("epsilon = ", "run.toml:1: epsilon must have a value; got none."),
      (
        "epsilon = 2 3",
        "run.toml:1: the value of epsilon must be followed by the end of the line or a comment; got '3'."
      ),
      ("task = \"abc", "run.toml:1: a string must end with \" on the same line."),
      ("epsilon = 2\r", "run.toml:1: a line must end with LF or CRLF; got a lone carriage return."),
      (
        "method = \"dp-lorra\"",
        "run.toml:1: method must be one of dp-lora, dp-dylora, ffa-lora, fed-sb, dp-rec, dp-brem, flora, head-only, full; got the string \"dp-lorra\"."
      ),
    ])
  func refusals(_ text: String, _ message: String) {
    #expect(Self.refusal(text) == message)
  }

  @Test("an unknown key names the line and lists the allowed keys; a 1 MB key is cut")
  func unknownKeys() throws {
    let message = try #require(Self.refusal("epsilon = 2\nepsilom = 3\n"))
    #expect(message.hasPrefix("run.toml:2: unknown key \"epsilom\"; allowed keys are accountant, "))
    let long = String(repeating: "k", count: 1 << 20)
    let cut = try #require(Self.refusal("\(long) = 1"))
    #expect(cut.utf8.count < 1000)
    #expect(cut.contains("(1048576 bytes)"))
  }

  @Test("a setting whose value holds a newline is reported on one line (found by the toml harness)")
  func newlineInValue() throws {
    let message = try #require(Self.refusal("task = \"jsod\\nl\"\nepsilon = 0.0\n"))
    #expect(!message.contains("\n"))
    #expect(message.hasSuffix("got the string \"jsod\\nl\"."))
    let settings = try Self.settings("task = \"jsonl\"\ndata = \"a\\nb\"\nepsilon = 0.0\n")
    #expect {
      try FederatedConfiguration(settings: settings)
    } throws: { error in
      let text = "\(error)"
      return !text.contains("\n") && text.contains("--epsilon must be a finite number > 0")
    }
  }
}
