import Foundation
import Testing

@testable import DPFederated

/// Where the plays are: the committed excerpts (Fixtures/shakespeare: Hamlet, A Midsummer
/// Night's Dream, Richard II), and the folder `Scripts/fetch-assets` fills,
/// `<repository>/.cache/assets/shakespeare/` (Tests/DPFederatedTests/ is two levels below
/// the root).
enum ShakespearePlays {
  static let fixtures = Bundle.module.url(forResource: "Fixtures/shakespeare", withExtension: nil)!

  static let fetched = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".cache/assets/shakespeare")

  static var fetchedAvailable: Bool {
    ShakespeareTask.genres.keys.allSatisfy {
      FileManager.default.fileExists(
        atPath: fetched.appendingPathComponent($0 + ShakespeareTask.fileSuffix).path)
    }
  }

  static let skipReason: Comment =
    "the plays are not in .cache/assets/shakespeare (run Scripts/fetch-assets to enable these tests)"

  static func speeches(_ play: String, in folder: URL = fixtures) throws -> [GutenbergPlay.Speech]
  {
    try GutenbergPlay.parse(folder.appendingPathComponent(play + ShakespeareTask.fileSuffix))
  }

  /// A scratch folder holding `files` (name → contents).
  static func folder(_ files: [String: Data]) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-shakespeare-\(UUID())")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    for (name, contents) in files { try contents.write(to: url.appendingPathComponent(name)) }
    return url
  }
}

@Suite("ShakespeareTask")
struct ShakespeareTaskTests {
  typealias Speech = GutenbergPlay.Speech

  @Test(
    "speaker tags such as `Ber.` open speeches; stage directions and the front matter are dropped")
  func abbreviatedTags() throws {
    let speeches = try ShakespearePlays.speeches("hamlet")
    #expect(
      speeches.prefix(3) == [
        Speech(role: "BER", text: "Who's there?", line: 26),
        Speech(role: "FRAN", text: "Nay, answer me: stand, and unfold yourself.", line: 29),
        Speech(role: "BER", text: "Long live the king!", line: 32),
      ])
    let counts = Dictionary(grouping: speeches, by: \.role).mapValues(\.count)
    #expect(counts == ["BER": 8, "FRAN": 8, "HOR": 3, "MAR": 4, "FORT": 2])
    // The play's last speech ends before "[A dead march.]" and the two-line "[Exeunt, …]".
    #expect(
      speeches.last?.text.hasPrefix("Let four captains Bear Hamlet like a soldier to the stage;")
        == true)
    #expect(speeches.last?.text.hasSuffix("Go, bid the soldiers shoot.") == true)
    for speech in speeches {
      #expect(
        !speech.text.contains("[") && !speech.text.contains("]") && !speech.text.contains("Exit"))
      #expect(!speech.text.contains("  ") && !speech.text.contains("\n"))
    }
  }

  @Test("tags in capitals without a full stop; a speech cut by a stage direction goes on")
  func capitalTagsAndContinuation() throws {
    let speeches = try ShakespearePlays.speeches("midsummer_nights_dream")
    try #require(speeches.count == 6)
    #expect(
      speeches.map(\.role) == ["THESEUS", "HIPPOLYTA", "THESEUS", "EGEUS", "THESEUS", "EGEUS"])
    // THESEUS: "Go, Philostrate, …" [Exit PHILOSTRATE.] "Hippolyta, I woo'd thee …": one speech.
    #expect(
      speeches[2].text == """
        Go, Philostrate, Stir up the Athenian youth to merriments; Awake the pert and nimble spirit \
        of mirth; Turn melancholy forth to funerals-- The pale companion is not for our pomp. -- \
        Hippolyta, I woo'd thee with my sword, And won thy love doing thee injuries; But I will wed \
        thee in another key, With pomp, with triumph, and with revelling.
        """)
    #expect(
      speeches[3] == Speech(role: "EGEUS", text: "Happy be Theseus, our renowned duke!", line: 54))
  }

  @Test("a tag with its stage direction on the line, a tag with its speech, and heading lines")
  func inlineTags() throws {
    let speeches = try ShakespearePlays.speeches("richard_ii")
    try #require(speeches.count == 11)
    #expect(
      speeches.map(\.role) == [
        "KING RICHARD", "GAUNT", "KING RICHARD", "GAUNT", "MARSHAL", "BOLINGBROKE", "MARSHAL",
        "KING RICHARD", "BUSHY", "KING RICHARD", "ALL",
      ])
    // "KING RICHARD. [Descends from his throne.]"
    #expect(
      speeches[7].text.hasPrefix("We will descend and fold him in our arms. Cousin of Hereford,"))
    #expect(speeches[8] == Speech(role: "BUSHY", text: "At Ely House.", line: 80))
    #expect(speeches[10] == Speech(role: "ALL", text: "Amen.", line: 91))
    // "SCENE III. Open Space, near Coventry. Lists set out, and a / Throne. / Heralds, &c.,
    // attending." is one heading: "Throne." is no role, and no text of it is in a speech.
    #expect(!speeches.contains { $0.text.contains("Throne") || $0.text.contains("Heralds") })
  }

  @Test(
    "roles with enough speeches become clients `<play>:<ROLE>`, labelled with their play's genre")
  func rolesBecomeClients() throws {
    let dataset = try ShakespeareTask.load(
      .init(minimumSpeeches: 2, evaluation: .heldOutPlays(["richard_ii"])),
      folder: ShakespearePlays.fixtures)
    #expect(dataset.name == "shakespeare-genre" && dataset.classCount == 3)
    #expect(
      dataset.clients.map(\.id) == [
        "hamlet:BER", "hamlet:FORT", "hamlet:FRAN", "hamlet:HOR", "hamlet:MAR",
        "midsummer_nights_dream:EGEUS", "midsummer_nights_dream:THESEUS",
      ])
    #expect(dataset.clients.map(\.examples.count) == [8, 2, 8, 3, 4, 2, 3])
    for client in dataset.clients {
      let genre: ShakespeareTask.Genre = client.id.hasPrefix("hamlet:") ? .tragedy : .comedy
      #expect(
        client.labels == Array(repeating: genre.rawValue, count: client.examples.count),
        "\(client.id)")
    }
    let hamlet = try ShakespearePlays.speeches("hamlet")
    #expect(dataset.clients[0].examples == hamlet.filter { $0.role == "BER" }.map(\.text))
    // Richard II: KING RICHARD 4, GAUNT 2, MARSHAL 2 speeches (BOLINGBROKE, BUSHY, ALL: 1 each).
    #expect(dataset.evaluation.examples.count == 8)
    #expect(
      dataset.evaluation.labels
        == Array(repeating: ShakespeareTask.Genre.history.rawValue, count: 8))
    #expect(dataset.publicSplit.examples.isEmpty && dataset.publicSplit.id == "public")
  }

  @Test("public plays' roles form the public split: neither clients nor evaluation")
  func publicPlays() throws {
    let dataset = try ShakespeareTask.load(
      .init(
        minimumSpeeches: 2, evaluation: .heldOutPlays(["richard_ii"]),
        publicPlays: ["midsummer_nights_dream"]),
      folder: ShakespearePlays.fixtures)
    #expect(dataset.clients.map(\.id).allSatisfy { $0.hasPrefix("hamlet:") })
    #expect(dataset.clients.count == 5)
    let dream = try ShakespearePlays.speeches("midsummer_nights_dream")
    let roles = ["EGEUS", "THESEUS"]
    let expected = roles.flatMap { role in dream.filter { $0.role == role }.map(\.text) }
    #expect(dataset.publicSplit.examples == expected)
    #expect(
      dataset.publicSplit.labels
        == Array(repeating: ShakespeareTask.Genre.comedy.rawValue, count: expected.count))
    #expect(dataset.evaluation.examples.count == 8)
    #expect(throws: FederatedError.self) {
      try ShakespeareTask.load(
        .init(evaluation: .heldOutPlays(["richard_ii"]), publicPlays: ["richard_ii"]),
        folder: ShakespearePlays.fixtures)
    }
    #expect(
      ShakespeareTask.Configuration(publicPlays: ["hamlet", "no_such_play"]).problems().map {
        "\($0)"
      }.contains { $0.contains("no_such_play") })
  }

  @Test(
    "the genre table is the First Folio's: 15 comedies (with Pericles), 10 histories, 12 tragedies")
  func genreTable() {
    let counts = Dictionary(grouping: ShakespeareTask.genres.values, by: { $0 }).mapValues(\.count)
    #expect(counts == [.comedy: 15, .history: 10, .tragedy: 12])
    #expect(
      ShakespeareTask.genres["tempest"] == .comedy
        && ShakespeareTask.genres["winters_tale"] == .comedy)
    #expect(
      ShakespeareTask.genres["cymbeline"] == .tragedy
        && ShakespeareTask.genres["troilus_and_cressida"] == .tragedy)
    #expect(
      ShakespeareTask.genres["richard_ii"] == .history
        && ShakespeareTask.genres["pericles"] == .comedy)
    let heldOut = ShakespeareTask.defaultHeldOutPlays.compactMap { ShakespeareTask.genres[$0] }
    #expect(
      heldOut.count == 6
        && ShakespeareTask.Genre.allCases.allSatisfy { genre in
          heldOut.filter { $0 == genre }.count == 2
        })
  }

  @Test(
    "held-out plays never appear among the clients, and all their qualifying roles are evaluated")
  func heldOutPlays() throws {
    let dataset = try ShakespeareTask.load(
      .init(minimumSpeeches: 1), folder: ShakespearePlays.fixtures)
    #expect(ShakespeareTask.defaultHeldOutPlays.contains("richard_ii"))
    #expect(!dataset.clients.contains { $0.id.hasPrefix("richard_ii:") })
    #expect(dataset.clients.count == 8)  // hamlet 5 roles, midsummer_nights_dream 3
    let richard = try ShakespearePlays.speeches("richard_ii").map(\.text)
    #expect(dataset.evaluation.examples.sorted() == richard.sorted())
    let trained = Set(dataset.clients.flatMap(\.examples))
    #expect(!dataset.evaluation.examples.contains { trained.contains($0) })
  }

  @Test(
    "heldOutLines: each role's last ⌊n/5⌋ speeches are evaluated, the rest train; maximumSpeeches caps both"
  )
  func heldOutLines() throws {
    let configuration = ShakespeareTask.Configuration(
      minimumSpeeches: 4, maximumSpeeches: 6, evaluation: .heldOutLines)
    let dataset = try ShakespeareTask.load(configuration, folder: ShakespearePlays.fixtures)
    #expect(
      dataset.clients.map(\.id) == [
        "hamlet:BER", "hamlet:FRAN", "hamlet:MAR", "richard_ii:KING RICHARD",
      ])
    var expectedEvaluation: [String] = []
    for client in dataset.clients {
      let (play, role) = (
        String(client.id.split(separator: ":")[0]), String(client.id.split(separator: ":")[1])
      )
      let texts = try ShakespearePlays.speeches(play).filter { $0.role == role }.map(\.text)
      let kept = texts.count - texts.count / 5
      #expect(client.examples == Array(texts[..<kept].prefix(6)), "\(client.id)")
      expectedEvaluation += texts[kept...].prefix(6)
    }
    // BER 8 → 6 of 7 train, 1 evaluated; FRAN the same; MAR 4 → 4 train; KING RICHARD 4 → 4 train.
    #expect(dataset.clients.map(\.examples.count) == [6, 6, 4, 4])
    #expect(dataset.evaluation.examples.sorted() == expectedEvaluation.sorted())
    #expect(dataset.evaluation.examples.count == 2)
  }

  @Test(
    "the same files and configuration give the same dataset; the seed only orders the evaluation")
  func deterministic() throws {
    func load(seed: UInt64) throws -> FederatedDataset<String> {
      try ShakespeareTask.load(
        .init(minimumSpeeches: 1, evaluation: .heldOutLines, seed: seed),
        folder: ShakespearePlays.fixtures)
    }
    let (first, again, reseeded) = (try load(seed: 3), try load(seed: 3), try load(seed: 4))
    for other in [again, reseeded] {
      #expect(first.clients.map(\.id) == other.clients.map(\.id))
      #expect(first.clients.map(\.examples) == other.clients.map(\.examples))
      #expect(first.clients.map(\.labels) == other.clients.map(\.labels))
    }
    #expect(
      first.evaluation.examples == again.evaluation.examples
        && first.evaluation.labels == again.evaluation.labels)
    #expect(first.evaluation.examples.sorted() == reseeded.evaluation.examples.sorted())
    #expect(first.evaluation.examples != reseeded.evaluation.examples)
  }

  @Test("a stage direction that is never closed is malformed, at the line of its bracket")
  func unclosedDirection() throws {
    var text = try String(
      contentsOf: ShakespearePlays.fixtures.appendingPathComponent("hamlet_gut.txt"),
      encoding: .utf8)
    let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
    text += "\n\n[Enter Ghost, and the rest of the text is lost\n"
    let folder = try ShakespearePlays.folder(["hamlet_gut.txt": Data(text.utf8)])
    defer { try? FileManager.default.removeItem(at: folder) }
    let error = try #require(throws: FederatedError.self) {
      try ShakespeareTask.load(.init(minimumSpeeches: 1, evaluation: .heldOutLines), folder: folder)
    }
    guard case .malformedData(let file, let line, let reason) = error else {
      Issue.record("\(error)"); return
    }
    #expect(file == "hamlet_gut.txt" && line == lineCount + 2)
    #expect(reason.contains("never closed"))
    #expect(error.description.hasPrefix("hamlet_gut.txt:\(lineCount + 2): "))
  }

  @Test(
    "files that are not plays in the expected format are malformed (file:0)",
    arguments: [
      ("hamlet_gut.txt", Data("HAMLET\n\nHam.\nTo be, or not to be.\n".utf8), "no act heading"),
      ("hamlet_gut.txt", Data("HAMLET\n\nACT I.\n\n[Enter Hamlet.]\n".utf8), "no speech"),
      ("hamlet_gut.txt", Data([0x41, 0x43, 0x54, 0x20, 0xFF, 0xFE, 0x0A]), "UTF-8"),
      ("sonnets_gut.txt", Data("THE SONNETS\n".utf8), "genre table"),
    ])
  func malformedFiles(name: String, contents: Data, reason: String) throws {
    let folder = try ShakespearePlays.folder([name: contents])
    defer { try? FileManager.default.removeItem(at: folder) }
    let error = try #require(throws: FederatedError.self) {
      try ShakespeareTask.load(folder: folder)
    }
    guard case .malformedData(let file, let line, let found) = error else {
      Issue.record("\(error)"); return
    }
    #expect(file == name && line == 0)
    #expect(found.contains(reason), "\(found)")
  }

  @Test("an empty or missing folder says to run Scripts/fetch-assets")
  func missingFolder() throws {
    let empty = try ShakespearePlays.folder(["README.md": Data("not a play".utf8)])
    defer { try? FileManager.default.removeItem(at: empty) }
    for folder in [empty, empty.appendingPathComponent("absent")] {
      let error = try #require(throws: FederatedError.self) {
        try ShakespeareTask.load(folder: folder)
      }
      #expect(error.description.contains("Scripts/fetch-assets"), "\(error)")
    }
  }

  @Test("every configuration problem is listed; filters that leave nothing are refused")
  func invalidConfiguration() throws {
    let bad = ShakespeareTask.Configuration(
      minimumSpeeches: 0, maximumSpeeches: 0, evaluation: .heldOutPlays(["hamlet", "sonnets"]))
    #expect(
      bad.problems().map { error -> String in
        guard case .invalidConfiguration(let field, let value, _) = error else { return "\(error)" }
        return "\(field)=\(value)"
      } == ["minimumSpeeches=0", "maximumSpeeches=0", "evaluation=sonnets"])
    #expect(ShakespeareTask.Configuration().problems().isEmpty)
    #expect(throws: FederatedError.self) {
      try ShakespeareTask.load(bad, folder: ShakespearePlays.fixtures)
    }

    let tooStrict = ShakespeareTask.Configuration(minimumSpeeches: 9, evaluation: .heldOutLines)
    let error = try #require(throws: FederatedError.self) {
      try ShakespeareTask.load(tooStrict, folder: ShakespearePlays.fixtures)
    }
    guard case .invalidConfiguration(let field, _, _) = error else {
      Issue.record("\(error)"); return
    }
    #expect(field == "minimumSpeeches")
    // Holding out only a play the folder lacks leaves nothing to evaluate.
    let absent = ShakespeareTask.Configuration(
      minimumSpeeches: 1, evaluation: .heldOutPlays(["othello"]))
    let noEvaluation = try #require(throws: FederatedError.self) {
      try ShakespeareTask.load(absent, folder: ShakespearePlays.fixtures)
    }
    guard case .invalidConfiguration(let field, _, _) = noEvaluation else {
      Issue.record("\(noEvaluation)"); return
    }
    #expect(field == "evaluation")
  }

  @Test("the configuration survives a JSON round trip")
  func codable() throws {
    for configuration in [
      ShakespeareTask.Configuration(),
      ShakespeareTask.Configuration(
        minimumSpeeches: 3, maximumSpeeches: 9, evaluation: .heldOutLines, seed: 7),
    ] {
      let data = try JSONEncoder().encode(configuration)
      #expect(
        try JSONDecoder().decode(ShakespeareTask.Configuration.self, from: data) == configuration)
    }
  }

  @Test("speeches per example: consecutive speeches of a role are joined, labels kept")
  func grouping() throws {
    #expect(ShakespeareTask.group(["a", "b", "c", "d", "e"], by: 2) == ["a b", "c d", "e"])
    #expect(ShakespeareTask.group(["a", "b"], by: 1) == ["a", "b"])
    var configuration = ShakespeareTask.Configuration()
    configuration.speechesPerExample = 0
    #expect(
      configuration.problems().contains {
        $0.description.hasPrefix("speechesPerExample must be an integer ≥ 1")
      })
  }
}

/// The task on the 37 plays that `Scripts/fetch-assets` extracts. The cache is not
/// committed, so these tests are skipped (not failed) when it is absent. The counts are
/// those of the parser as documented at ``ShakespeareTask``; a change to them is a change of
/// the task's data.
@Suite(
  "ShakespeareTask on the fetched plays",
  .enabled(if: ShakespearePlays.fetchedAvailable, ShakespearePlays.skipReason))
struct ShakespeareFetchedPlaysTests {
  @Test("the 37 plays give 30,698 speeches by 1,381 roles")
  func speeches() throws {
    var speechCount = 0
    var roles: [String: Int] = [:]
    for play in ShakespeareTask.genres.keys.sorted() {
      let speeches = try ShakespearePlays.speeches(play, in: ShakespearePlays.fetched)
      #expect(speeches.count >= 400, "\(play): \(speeches.count) speeches")
      speechCount += speeches.count
      for speech in speeches {
        roles["\(play):\(speech.role)", default: 0] += 1
        #expect(
          !speech.text.isEmpty && !speech.text.contains("[") && !speech.text.contains("]"),
          "\(play): \(speech.text)")
      }
    }
    #expect(speechCount == 30_698)
    #expect(roles.count == 1_381)
    #expect(roles.values.filter { $0 >= 16 }.count == 473)
    #expect(
      roles["hamlet:HAM"] == 358 && roles["othello:IAGO"] == 272
        && roles["midsummer_nights_dream:BOTTOM"] == 46)
  }

  @Test(
    "the default task: clients from 28 plays, every genre, six plays held out, three public")
  func defaultTask() throws {
    let dataset = try ShakespeareTask.load(folder: ShakespearePlays.fetched)
    let heldOut = Set(ShakespeareTask.defaultHeldOutPlays)
    let publicPlays = Set(ShakespeareTask.defaultPublicPlays)
    let plays = Set(dataset.clients.map { String($0.id.split(separator: ":")[0]) })
    #expect(plays.count == 28 && plays.isDisjoint(with: heldOut.union(publicPlays)))
    #expect(dataset.clients.count == 370)
    #expect(dataset.privateExampleCount == 15_749)
    #expect(dataset.clients.allSatisfy { (16...64).contains($0.examples.count) })
    let clientsByGenre = Dictionary(grouping: dataset.clients, by: { $0.labels[0] }).mapValues(
      \.count)
    #expect(clientsByGenre == [0: 149, 1: 105, 2: 116])
    // The public split: the three public plays' 35 qualifying roles, one play of each genre.
    let publicByGenre = Dictionary(grouping: dataset.publicSplit.labels, by: { $0 }).mapValues(
      \.count)
    #expect(publicByGenre == [0: 464, 1: 496, 2: 403])
    let evaluationByGenre = Dictionary(grouping: dataset.evaluation.labels, by: { $0 }).mapValues(
      \.count)
    #expect(evaluationByGenre == [0: 1_084, 1: 854, 2: 902])
  }
}
