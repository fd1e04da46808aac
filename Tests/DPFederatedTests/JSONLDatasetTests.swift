import Foundation
import Testing

@testable import DPFederated

/// Users' own data as JSON Lines: grouping, labels, the user-level evaluation split, and one
/// error that lists every malformed line.
@Suite("JSONLDataset")
final class JSONLDatasetTests {
  let directory: URL

  init() throws {
    directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("dpfl-jsonl-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: directory) }

  /// Writes `lines`, each followed by `\n`.
  func write(_ lines: [String], to name: String = "train.jsonl") throws -> URL {
    let url = directory.appendingPathComponent(name)
    try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: url)
    return url
  }

  func features(_ loaded: JSONLDataset.Loaded) throws -> FederatedDataset<[Float]> {
    guard case .features(let dataset) = loaded.examples else {
      Issue.record("expected features, got text")
      throw CancellationError()
    }
    return dataset
  }

  func text(_ loaded: JSONLDataset.Loaded) throws -> FederatedDataset<String> {
    guard case .text(let dataset) = loaded.examples else {
      Issue.record("expected text, got features")
      throw CancellationError()
    }
    return dataset
  }

  /// The file, line and reason of the one error a load throws.
  func malformed(
    training: URL, evaluation: URL? = nil, sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> (file: String, line: Int, reason: String) {
    let error = try #require(throws: FederatedError.self, sourceLocation: sourceLocation) {
      try JSONLDataset.load(training: training, evaluation: evaluation, seed: 0)
    }
    guard case .malformedData(let file, let line, let reason) = error else {
      Issue.record("expected malformedData, got \(error)", sourceLocation: sourceLocation)
      throw CancellationError()
    }
    return (file, line, reason)
  }

  // MARK: Well-formed files

  @Test("a features file groups lines into users in first-appearance order")
  func featuresGrouping() throws {
    let training = try write([
      #"{"user_id": "bob", "label": 1, "features": [1, 2.5]}"#,
      #"{"user_id": 17, "label": 0, "features": [3, 4], "note": "ignored"}"#,
      #"{"user_id": "bob", "label": 4, "features": [5, 6]}"#,
      #"{"user_id": "17", "label": 2, "features": [-7, 8e-1]}"#,
      #"{"user_id": "ann", "label": 1, "features": [9, 10]}"#,
    ])
    let evaluation = try write(
      [
        #"{"user_id": "zed", "label": 3, "features": [0, 1]}"#,
        #"{"user_id": "amy", "label": 0, "features": [1, 0]}"#,
      ], to: "eval.jsonl")
    let loaded = try JSONLDataset.load(training: training, evaluation: evaluation, seed: 0)
    let dataset = try features(loaded)
    #expect(loaded.classNames == nil)
    #expect(dataset.name == "train.jsonl")
    #expect(dataset.clients.map(\.id) == ["bob", "17", "ann"])
    #expect(dataset.clients[0].examples == [[1, 2.5], [5, 6]])
    #expect(dataset.clients[0].labels == [1, 4])
    #expect(dataset.clients[1].examples == [[3, 4], [-7, 0.8]])
    #expect(dataset.clients[1].labels == [0, 2])
    #expect(dataset.clients[2].labels == [1])
    #expect(dataset.evaluation.examples == [[0, 1], [1, 0]])
    #expect(dataset.evaluation.labels == [3, 0])
    #expect(dataset.classCount == 5)
    #expect(dataset.publicSplit.examples.isEmpty && dataset.publicSplit.labels.isEmpty)
  }

  @Test("a text file loads as text examples; blank lines, CRLF and a byte-order mark are fine")
  func textFile() throws {
    let url = directory.appendingPathComponent("reviews.jsonl")
    let contents =
      "\u{FEFF}{\"user_id\": 1, \"label\": 1, \"text\": \"a fine film\"}\r\n\r\n"
      + "  \n{\"user_id\": 2, \"label\": 0, \"text\": \"dull, ünïcode ✓\"}\r\n"
      + "{\"user_id\": 1, \"label\": 0, \"text\": \"\"}"  // no final newline
    try Data(contents.utf8).write(to: url)
    let dataset = try text(JSONLDataset.load(training: url, evaluationFraction: 0, seed: 0))
    #expect(dataset.clients.map(\.id) == ["1", "2"])
    #expect(dataset.clients[0].examples == ["a fine film", ""])
    #expect(dataset.clients[1].examples == ["dull, ünïcode ✓"])
    #expect(dataset.classCount == 2)
    #expect(dataset.evaluation.examples.isEmpty)
  }

  @Test("string labels are numbered in sorted order over both files, and the names reported")
  func stringLabels() throws {
    let training = try write([
      #"{"user_id": "a", "label": "pos", "text": "good"}"#,
      #"{"user_id": "b", "label": "neg", "text": "bad"}"#,
      #"{"user_id": "a", "label": "pos", "text": "great"}"#,
    ])
    let evaluation = try write(
      [#"{"user_id": "c", "label": "mixed", "text": "so-so"}"#], to: "eval.jsonl")
    let loaded = try JSONLDataset.load(training: training, evaluation: evaluation, seed: 0)
    let dataset = try text(loaded)
    #expect(loaded.classNames == ["mixed", "neg", "pos"])
    #expect(dataset.classCount == 3)
    #expect(dataset.clients[0].labels == [2, 2])
    #expect(dataset.clients[1].labels == [1])
    #expect(dataset.evaluation.labels == [0])
  }

  @Test("a file over twice the 1 MiB read size loses no line at the chunk boundaries")
  func chunkBoundaries() throws {
    let lines = (0..<40_000).map {
      #"{"user_id": \#($0 % 97), "label": \#($0 % 3), "text": "line \#($0) padded to cross"}"#
    }
    let url = try write(lines)
    let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
    #expect((attributes[.size] as? Int ?? 0) > 2 << 20)
    let dataset = try text(JSONLDataset.load(training: url, evaluationFraction: 0, seed: 0))
    #expect(dataset.privateExampleCount == 40_000)
    #expect(dataset.clients.count == 97)
    #expect(dataset.clients[5].examples.first == "line 5 padded to cross")
    #expect(dataset.clients[5].examples.last == "line 39969 padded to cross")
  }

  // MARK: The evaluation split

  /// 40 users with 1…4 lines each, user `u` writing features `[u, k]`.
  func fortyUsers() throws -> URL {
    var lines: [String] = []
    for round in 0..<4 {
      for user in 0..<40 where user % 4 >= round {
        lines.append(
          #"{"user_id": "u\#(user)", "label": \#(user % 3), "features": [\#(user), \#(round)]}"#)
      }
    }
    return try write(lines)
  }

  @Test("without an evaluation file, a seeded fraction of users is held out, whole and disjoint")
  func heldOutUsers() throws {
    let url = try fortyUsers()
    let dataset = try features(JSONLDataset.load(training: url, evaluationFraction: 0.25, seed: 7))
    #expect(dataset.clients.count == 30)
    let heldOut = Set(dataset.evaluation.examples.map { Int($0[0]) })
    let trained = Set(dataset.clients.map { Int($0.examples[0][0]) })
    #expect(heldOut.count == 10)
    #expect(heldOut.isDisjoint(with: trained))
    #expect(heldOut.union(trained) == Set(0..<40))
    // Every line of a held-out user is in the evaluation set, and nowhere else.
    let expectedLines = heldOut.reduce(0) { $0 + $1 % 4 + 1 }
    #expect(dataset.evaluation.examples.count == expectedLines)
    #expect(dataset.privateExampleCount + expectedLines == 100)
    // Clients keep their first-appearance order.
    let order = dataset.clients.map { Int($0.id.dropFirst())! }
    #expect(order == order.sorted())
  }

  @Test("the held-out users depend only on the seed")
  func heldOutIsDeterministic() throws {
    let url = try fortyUsers()
    func heldOut(seed: UInt64) throws -> [String] {
      let dataset = try features(JSONLDataset.load(training: url, seed: seed))
      return Set(dataset.evaluation.examples.map { "u\(Int($0[0]))" }).sorted()
    }
    #expect(try heldOut(seed: 3) == heldOut(seed: 3))
    #expect(try heldOut(seed: 3) != heldOut(seed: 4))
    #expect(JSONLDataset.evaluationUserIndices(userCount: 40, fraction: 0.2, seed: 3).count == 8)
  }

  @Test(
    "the held-out count is rounded, at least one user, and never every user",
    arguments: [
      (1, 0.5, 0), (2, 0.01, 1), (2, 0.9, 1), (10, 0.25, 3), (10, 0.24, 2), (10, 0, 0),
    ])
  func heldOutCount(users: Int, fraction: Double, expected: Int) {
    let held = JSONLDataset.evaluationUserIndices(userCount: users, fraction: fraction, seed: 1)
    #expect(held.count == expected)
    #expect(held == held.sorted() && Set(held).count == held.count)
    #expect(held.allSatisfy { (0..<users).contains($0) })
  }

  @Test("an evaluation fraction outside [0, 1) is an invalid configuration")
  func badFraction() throws {
    let url = try write([#"{"user_id": 1, "label": 0, "text": "x"}"#])
    for fraction in [-0.1, 1, .nan] {
      #expect(throws: FederatedError.self) {
        try JSONLDataset.load(training: url, evaluationFraction: fraction, seed: 0)
      }
    }
    #expect(
      throws: FederatedError.invalidConfiguration(
        field: "evaluationFraction", value: "1.0", allowed: "in [0, 1)")
    ) { try JSONLDataset.load(training: url, evaluationFraction: 1, seed: 0) }
  }

  // MARK: Malformed lines

  /// Each bad line (line 4, after two good lines and a blank one) with a phrase of its error.
  static let malformedLines: [(String, String)] = [
    (#"{"user_id": 1, "label": 0, "features": [1, 2]"#, "not valid JSON"),
    (#"user_id,label,features"#, "not valid JSON"),
    (#"[1, 2]"#, "must be a JSON object (got an array)"),
    (
      #"{"user_id": 1, "label": 0, "label": 1, "features": [1, 2]}"#,
      #"the line is ambiguous: duplicate key "label" (first at column 16), again at column 28"#
    ),
    (
      #"{"user_id": 1, "label": 0, "features": [1, 2], "extra": {"a": 1, "a": 2}}"#,
      #"duplicate key "a" (first at column 58), again at column 66"#
    ),
    (#"{"label": 0, "features": [1, 2]}"#, "user_id is missing"),
    (#"{"user_id": 1, "features": [1, 2]}"#, "label is missing"),
    (
      #"{"user_id": 1.5, "label": 0, "features": [1, 2]}"#,
      "user_id must be a string or an integer (got 1.5)"
    ),
    (
      #"{"user_id": null, "label": 0, "features": [1, 2]}"#,
      "user_id must be a string or an integer (got null)"
    ),
    (
      #"{"user_id": 1, "label": true, "features": [1, 2]}"#,
      "label must be an integer class id ≥ 0 or a class name (got true)"
    ),
    (#"{"user_id": 1, "label": 0.5, "features": [1, 2]}"#, "(got 0.5)"),
    (#"{"user_id": 1, "label": -1, "features": [1, 2]}"#, "label must be ≥ 0 (got -1)"),
    (
      #"{"user_id": 1, "label": "cat", "features": [1, 2]}"#,
      "label must be an integer class id like line 1 (got \"cat\")"
    ),
    (
      #"{"user_id": 1, "label": 0, "features": [1, 2], "text": "x"}"#,
      "exactly one of text and features (got both)"
    ),
    (#"{"user_id": 1, "label": 0}"#, "exactly one of text and features (got neither)"),
    (#"{"user_id": 1, "label": 0, "text": "x"}"#, "must have features like line 1 (got text)"),
    (
      #"{"user_id": 1, "label": 0, "features": [1, 2, 3]}"#,
      "features must have 2 numbers like line 1 (got 3)"
    ),
    (#"{"user_id": 1, "label": 0, "features": []}"#, "features must not be empty"),
    (
      #"{"user_id": 1, "label": 0, "features": "1 2"}"#,
      "features must be an array of numbers (got \"1 2\")"
    ),
    (
      #"{"user_id": 1, "label": 0, "features": [1, "2"]}"#,
      "features[1] must be a number (got \"2\")"
    ),
    (
      #"{"user_id": 1, "label": 0, "features": [NaN, 2]}"#,
      "features[0] must be finite in Float32 (got NaN)"
    ),
    (
      #"{"user_id": 1, "label": 0, "features": [1, -Infinity]}"#,
      "features[1] must be finite in Float32 (got -Infinity)"
    ),
    (
      #"{"user_id": 1, "label": 0, "features": [1e39, 2]}"#,
      "features[0] must be finite in Float32 (got 1e+39)"
    ),
    (
      #"{"user_id": 1, "label": 0, "features": [1, 1e400]}"#,
      "features[1] must be finite in Float32 (got a number out of range)"
    ),
  ]

  @Test("each kind of malformed line is reported at its file and line", arguments: malformedLines)
  func malformedLine(line: String, phrase: String) throws {
    let url = try write([
      #"{"user_id": 1, "label": 0, "features": [1, 2]}"#,
      #"{"user_id": 2, "label": 1, "features": [3, 4]}"#,
      "",
      line,
      #"{"user_id": 2, "label": 1, "features": [5, 6]}"#,
    ])
    let (file, number, reason) = try malformed(training: url)
    #expect(file == url.relativePath)
    #expect(number == 4)
    #expect(reason.contains(phrase), "\(reason)")
    #expect(!reason.contains(";"), "only one line is malformed: \(reason)")
  }

  @Test("a text file rejects a non-string text and a features line")
  func malformedText() throws {
    let url = try write([
      #"{"user_id": 1, "label": "a", "text": "x"}"#,
      #"{"user_id": 1, "label": "b", "text": 5}"#,
      #"{"user_id": 1, "label": "a", "features": [1]}"#,
      #"{"user_id": 1, "label": 2, "text": "y"}"#,
      #"{"user_id": 1, "label": "", "text": "y"}"#,
    ])
    let (file, number, reason) = try malformed(training: url)
    #expect(file == url.relativePath && number == 2)
    #expect(reason.hasPrefix("text must be a string (got 5)"))
    #expect(reason.contains("\(file):3: the line must have text like line 1 (got features)"))
    #expect(reason.contains("\(file):4: label must be a class name like line 1 (got 2)"))
    #expect(reason.contains("\(file):5: label must not be empty"))
  }

  @Test("every problem of every line is reported together, in one error")
  func allProblemsAtOnce() throws {
    let url = try write([
      #"{"user_id": 1, "label": 0, "features": [1, 2]}"#,
      #"{"label": -2, "features": [1, 2]}"#,
      #"{"user_id": 1, "label": 0, "features": [1, 2]}"#,
      #"not json"#,
      #"{"user_id": 1, "label": 0, "features": [1, 2, 3, NaN]}"#,
      #"{"user_id": 1, "label": 0, "features": [Infinity, NaN, "x"]}"#,
    ])
    let (file, number, reason) = try malformed(training: url)
    #expect(number == 2)
    #expect(reason.hasPrefix("user_id is missing, label must be ≥ 0 (got -2); "))
    #expect(reason.contains("; \(file):4: the line is not valid JSON"))
    #expect(
      reason.contains(
        "; \(file):5: features[3] must be finite in Float32 (got NaN), "
          + "features must have 2 numbers like line 1 (got 4)"))
    #expect(
      reason.contains(
        "; \(file):6: features[0] must be finite in Float32 (got Infinity), "
          + "and 2 more features are not finite numbers"))
    #expect(!reason.contains(":1:") && !reason.contains(":3:"))
    #expect(
      FederatedError.malformedData(file: file, line: number, reason: reason).description
        .hasPrefix("\(file):2: user_id is missing"))
  }

  @Test("after twenty malformed lines the rest are counted, not listed")
  func manyProblems() throws {
    let lines = (1...25).map { #"{"user_id": \#($0), "label": 0}"# }
    let url = try write(lines)
    let (file, number, reason) = try malformed(training: url)
    #expect(number == 1)
    #expect(reason.contains("\(file):20: "))
    #expect(!reason.contains("\(file):21: "))
    #expect(reason.hasSuffix("; … and 5 more malformed lines"))
  }

  @Test("problems in the evaluation file are reported with the training file's, each named")
  func evaluationProblems() throws {
    let training = try write([
      #"{"user_id": 1, "label": "x", "features": [1, 2]}"#,
      #"{"user_id": 1, "label": "y", "features": [1]}"#,
    ])
    let evaluation = try write(
      [
        #"{"user_id": 9, "label": "x", "features": [1, 2]}"#,
        #"{"user_id": 9, "label": 1, "features": [1, 2, 3]}"#,
        #"{"user_id": 9, "label": "y", "text": "z"}"#,
      ], to: "eval.jsonl")
    let (file, number, reason) = try malformed(training: training, evaluation: evaluation)
    #expect(file == training.relativePath && number == 2)
    #expect(reason.hasPrefix("features must have 2 numbers like line 1 (got 1)"))
    let other = evaluation.relativePath
    #expect(
      reason.contains(
        "; \(other):2: features must have 2 numbers like \(file):1 (got 3), "
          + "label must be a class name like \(file):1 (got 1)"))
    #expect(reason.contains("; \(other):3: the line must have features like \(file):1 (got text)"))
  }

  @Test("an empty file and a missing file are errors at line 0")
  func emptyOrMissing() throws {
    let empty = try write(["", "   "])
    #expect(try malformed(training: empty) == (empty.relativePath, 0, "the file holds no examples"))
    let missing = directory.appendingPathComponent("missing.jsonl")
    let (file, number, reason) = try malformed(training: missing)
    #expect(file == missing.relativePath && number == 0)
    #expect(reason.hasPrefix("the file cannot be opened"))
    let good = try write([#"{"user_id": 1, "label": 0, "text": "x"}"#], to: "good.jsonl")
    let (evaluationFile, _, _) = try malformed(training: good, evaluation: empty)
    #expect(evaluationFile == empty.relativePath)
  }

  // MARK: Bounds (issue 14)

  @Test("a huge integer label is refused naming the line and the limit, not an overflow")
  func hugeLabels() throws {
    let file = try write([
      #"{"user_id": 1, "label": 0, "features": [1]}"#,
      #"{"user_id": 2, "label": 9223372036854775807, "features": [1]}"#,
      #"{"user_id": 3, "label": 1e9, "features": [1]}"#,
    ])
    let (name, line, reason) = try malformed(training: file)
    #expect(name == file.relativePath && line == 2)
    #expect(
      reason
        == "label must be a class id below 10000, dpfl's limit on classes (got 9223372036854775807); "
        + "\(file.relativePath):3: label must be a class id below 10000, dpfl's limit on classes "
        + "(got 1000000000)")
  }

  @Test("more distinct class names than the limit are refused at the first one too many")
  func tooManyNames() throws {
    let lines = (0...JSONLDataset.maximumClassCount).map {
      #"{"user_id": 1, "label": "c\#($0)", "text": "x"}"#
    }
    let file = try write(lines)
    let (_, line, reason) = try malformed(training: file)
    #expect(line == JSONLDataset.maximumClassCount + 1)
    #expect(
      reason == "label \"c\(JSONLDataset.maximumClassCount)\" would be class 10001; a dataset "
        + "must have at most 10000 classes")
  }

  @Test("deep nesting and out-of-range numbers say what is wrong and at which column")
  func strictDetail() throws {
    let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
    let file = try write([#"{"user_id": 1, "label": 0, "features": "# + deep + "}"])
    let (_, _, reason) = try malformed(training: file)
    #expect(reason == "the line is not valid JSON (nesting deeper than 512 levels at column 551)")
  }

  @Test(
    "invalid UTF-8 where a key belongs is a malformed line, not a trap in Foundation's JSON5 scanner"
  )
  func invalidUTF8Key() throws {
    // Found by Scripts/fuzz (jsonl): JSON5Scanner traps in _decodeScalars on these bytes.
    let url = directory.appendingPathComponent("train.jsonl")
    var bytes = Data(#"{"user_id": 2, "label": 1, "#.utf8)
    bytes.append(contentsOf: [UInt8](repeating: 0xFC, count: 8))
    bytes.append(contentsOf: Data(#""text": "y"}"#.utf8) + Data("\n".utf8))
    try bytes.write(to: url)
    let (_, line, reason) = try malformed(training: url)
    #expect(line == 1)
    #expect(reason == "the line is not valid JSON (expected a string key at column 28)")
  }
}
