/// Values quoted in error messages, cut to a readable length.
///
/// A hostile or mistaken input can put megabytes into one value (a 10 MB "number", a key, a
/// token); an error message echoes at most ``limit`` characters of it, then says how long
/// the whole value was, so the message stays one line and the terminal stays usable.
public enum MessageText {
  /// Most characters of a value that a message shows.
  public static let limit = 64

  /// `text` if it has at most `limit` Unicode scalars; otherwise its first `limit`, then
  /// `…` and its length in bytes: `aaaa… (10485760 bytes)`. Control characters (a newline
  /// in a value would split the message) are shown as `\n`-style or `\u{…}` escapes.
  public static func truncated(_ text: some StringProtocol, limit: Int = limit) -> String {
    let (shown, cut) = prefix(text, limit: limit)
    return cut ? "\(shown)… (\(text.utf8.count) bytes)" : shown
  }

  /// ``truncated(_:limit:)`` in double quotes: `"abc"`, `"aaaa…" (10485760 bytes)`.
  public static func quoted(_ text: some StringProtocol, limit: Int = limit) -> String {
    let (shown, cut) = prefix(text, limit: limit)
    return cut ? "\"\(shown)…\" (\(text.utf8.count) bytes)" : "\"\(shown)\""
  }

  /// The first `limit` scalars, escaped, and whether anything was left out.
  static func prefix(_ text: some StringProtocol, limit: Int) -> (String, Bool) {
    var result = ""
    var count = 0
    for scalar in text.unicodeScalars {
      if count == limit { return (result, true) }
      result += escaped(scalar)
      count += 1
    }
    return (result, false)
  }

  static func escaped(_ scalar: Unicode.Scalar) -> String {
    switch scalar {
    case "\n": "\\n"
    case "\r": "\\r"
    case "\t": "\\t"
    case "\u{00}"..<"\u{20}", "\u{7F}": "\\u{\(String(scalar.value, radix: 16))}"
    default: String(scalar)
    }
  }
}
