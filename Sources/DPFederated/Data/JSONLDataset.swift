import DPModel
import Foundation

/// Users' own federated data in JSON Lines, for `dpfl train`: one JSON object per line, one
/// example per object.
///
/// ```
/// {"user_id": "alice", "label": 3, "features": [0.25, 0.5, 0]}
/// {"user_id": 17, "label": "positive", "text": "a fine film"}
/// ```
/// - `user_id`: a string or an integer (`17` and `"17"` are the same user). Lines are grouped
///   into users in the order each user first appears, so the result never depends on hashing.
/// - `label`: an integer class id in 0..<``maximumClassCount``, or a non-empty class name (at
///   most ``maximumClassCount`` distinct names). Names are numbered in sorted
///   order (`String`'s `<`) over the training and evaluation files together, and returned in
///   ``Loaded/classNames``. All lines use the same kind of label.
/// - exactly one of `text` (a string, for text models) or `features` (a non-empty array of
///   numbers, finite in Float32, for vector models). All lines of both files hold the same
///   kind, and every feature array has the length of the first one.
///
/// Other fields are ignored, blank lines are skipped, and a `\r` before the newline is fine.
/// `NaN` and `Infinity` (which Python's `json` writes) are reported as non-finite numbers.
///
/// **All or nothing.** Both files are read and validated to the end before anything is
/// returned. If any line is malformed, ``load(training:evaluation:evaluationFraction:seed:)``
/// throws one ``FederatedError/malformedData(file:line:reason:)`` that lists every malformed
/// line (the first ``reportedLineLimit`` of them, then how many more), so a user fixes the
/// file in one go and nothing is ever trained on part of it.
public enum JSONLDataset {
  /// The most malformed lines one error lists; the rest are counted.
  public static let reportedLineLimit = 20

  /// The most classes a dataset may have: integer labels are below it, and at most this
  /// many distinct class names are used. A model's head has one row per class, so an
  /// unbounded label (`1e9`, `9223372036854775807`) would otherwise size the head from
  /// one line of data (a 512 GB allocation, or an overflow).
  public static let maximumClassCount = 10_000

  /// A loaded task, of the kind the files hold.
  public enum Examples: Sendable {
    /// Lines with `text`, for text models.
    case text(FederatedDataset<String>)
    /// Lines with `features`, for vector models; every example has the same length.
    case features(FederatedDataset<[Float]>)
  }

  /// What ``load(training:evaluation:evaluationFraction:seed:)`` returns.
  public struct Loaded: Sendable {
    /// The dataset: users in first-appearance order, the evaluation set, an empty public split.
    public var examples: Examples
    /// Class names in class-id order (`classNames[id]`) when labels are names; `nil` when
    /// labels are integer class ids.
    public var classNames: [String]?
  }

  /// Reads and validates a training file and an optional evaluation file.
  ///
  /// Each distinct `user_id` of the training file becomes one client, in first-appearance
  /// order. The evaluation set is the whole evaluation file, one pseudo-user `evaluation` in
  /// file order. Without an evaluation file, a seeded random `evaluationFraction` of the
  /// training *users* (not lines) is held out, all of whose lines form the evaluation set,
  /// and the other users stay clients in their original order. Users rather than lines,
  /// because the privacy unit is the user: every line of a held-out user is outside training,
  /// so accuracy is measured on people the model never saw, and no user's data is split
  /// between the two sets. The number held out is `evaluationFraction · users` rounded, at
  /// least one user when `evaluationFraction > 0`, and never all of them.
  ///
  /// `classCount` is the largest integer label + 1 over both files, or the number of names.
  /// The dataset's `name` is the training file's name, and `publicSplit` is empty.
  ///
  /// - Parameters:
  ///   - training: the users' data.
  ///   - evaluation: held-out data; when given, `evaluationFraction` is not used.
  ///   - evaluationFraction: the share of training users held out when `evaluation` is `nil`,
  ///     in [0, 1); 0 gives an empty evaluation set.
  ///   - seed: the seed of the held-out draw (public; the same seed gives the same split).
  /// - Returns: the dataset, text or features as the files hold, and the class names if any.
  /// - Throws: ``FederatedError/malformedData(file:line:reason:)`` when a file cannot be read
  ///   (line 0), holds no examples (line 0), or has malformed lines: then the error names the
  ///   first one's file and line, and `reason` lists every problem, joined by "; ", each
  ///   further line as `file:line: what`;
  ///   ``FederatedError/invalidConfiguration(field:value:allowed:)`` when `evaluationFraction`
  ///   is outside [0, 1).
  /// - Complexity: one streaming pass per file, O(lines + total feature count); examples are
  ///   stored once.
  public static func load(
    training: URL, evaluation: URL? = nil, evaluationFraction: Double = 0.2, seed: UInt64
  ) throws -> Loaded {
    guard evaluationFraction.isFinite, (0..<1).contains(evaluationFraction) else {
      throw FederatedError.invalidConfiguration(
        field: "evaluationFraction", value: "\(evaluationFraction)", allowed: "in [0, 1)")
    }
    var reader = Reader()
    var users = Users()
    try reader.read(training, into: &users, groupByUser: true)
    var evaluationUsers: Users?
    if let evaluation {
      var held = Users()
      try reader.read(evaluation, into: &held, groupByUser: false)
      evaluationUsers = held
    }
    if let error = reader.problems.error { throw error }
    let emptyFile =
      users.exampleCount == 0 ? training : evaluationUsers?.exampleCount == 0 ? evaluation : nil
    if let emptyFile {
      throw FederatedError.malformedData(
        file: emptyFile.relativePath, line: 0, reason: "the file holds no examples")
    }

    // Number class names in sorted order: labels were stored as first-appearance indices.
    var classNames: [String]?
    if reader.labelsAreNames == true {
      let sorted = reader.names.indices.sorted { reader.names[$0] < reader.names[$1] }
      var rank = [Int](repeating: 0, count: sorted.count)
      for (position, provisional) in sorted.enumerated() { rank[provisional] = position }
      users.relabel(rank)
      evaluationUsers?.relabel(rank)
      classNames = sorted.map { reader.names[$0] }
    }
    let classCount = classNames?.count ?? (reader.maximumLabel + 1)

    let heldOut =
      evaluationUsers == nil
      ? evaluationUserIndices(userCount: users.ids.count, fraction: evaluationFraction, seed: seed)
      : []
    let name = training.lastPathComponent
    let examples: Examples =
      reader.reference?.featureCount == nil
      ? .text(
        assemble(
          name: name, users: users, examples: users.text, heldOut: heldOut,
          evaluation: evaluationUsers.map { ($0.text, $0.labels) }, classCount: classCount))
      : .features(
        assemble(
          name: name, users: users, examples: users.features, heldOut: heldOut,
          evaluation: evaluationUsers.map { ($0.features, $0.labels) }, classCount: classCount))
    return Loaded(examples: examples, classNames: classNames)
  }

  /// Clients from the users not held out; the evaluation set from the evaluation file, or
  /// else from the held-out users, in their order.
  static func assemble<Example>(
    name: String, users: Users, examples: [[Example]], heldOut: [Int],
    evaluation file: (examples: [[Example]], labels: [[Int]])?, classCount: Int
  ) -> FederatedDataset<Example> {
    var isHeldOut = [Bool](repeating: false, count: users.ids.count)
    for user in heldOut { isHeldOut[user] = true }
    let clients = users.ids.indices.filter { !isHeldOut[$0] }.map {
      ClientData(id: users.ids[$0], examples: examples[$0], labels: users.labels[$0])
    }
    let evaluation =
      file.map {
        ClientData(
          id: "evaluation", examples: $0.examples.flatMap { $0 }, labels: $0.labels.flatMap { $0 })
      }
      ?? ClientData(
        id: "evaluation", examples: heldOut.flatMap { examples[$0] },
        labels: heldOut.flatMap { users.labels[$0] })
    return FederatedDataset(
      name: name, clients: clients, evaluation: evaluation,
      publicSplit: ClientData(id: "public", examples: [], labels: []), classCount: classCount)
  }

  /// The training users held out for evaluation, ascending: `fraction · userCount` rounded,
  /// at least 1 when `fraction > 0`, at most `userCount − 1`, drawn by a seeded shuffle.
  static func evaluationUserIndices(userCount: Int, fraction: Double, seed: UInt64) -> [Int] {
    guard fraction > 0, userCount >= 2 else { return [] }
    let count = min(userCount - 1, max(1, Int((fraction * Double(userCount)).rounded())))
    var generator = Xoshiro256StarStar(seed: seed)
    return Array(Array(0..<userCount).shuffled(using: &generator).prefix(count)).sorted()
  }
}

// MARK: - Implementation details

extension JSONLDataset {
  /// Examples grouped by user, in first-appearance order. Only one of `text` and `features`
  /// is filled; labels are class ids, or first-appearance name indices until `relabel`.
  struct Users {
    var ids: [String] = []
    var index: [String: Int] = [:]
    var text: [[String]] = []
    var features: [[[Float]]] = []
    var labels: [[Int]] = []
    var exampleCount = 0

    /// The index of user `id`, added if new.
    mutating func user(_ id: String) -> Int {
      if let user = index[id] { return user }
      index[id] = ids.count
      ids.append(id)
      text.append([])
      features.append([])
      labels.append([])
      return ids.count - 1
    }

    /// Replaces every label `l` by `rank[l]`, in place.
    mutating func relabel(_ rank: [Int]) {
      for user in labels.indices {
        for position in labels[user].indices {
          labels[user][position] = rank[labels[user][position]]
        }
      }
    }
  }

  /// Malformed lines: the first ``reportedLineLimit`` kept, the rest counted.
  struct Problems {
    var shown: [(file: String, line: Int, what: String)] = []
    var count = 0

    mutating func add(file: String, line: Int, _ whats: [String]) {
      count += 1
      if shown.count < JSONLDataset.reportedLineLimit {
        shown.append((file, line, whats.joined(separator: ", ")))
      }
    }

    /// All problems as one error, at the first problem's file and line.
    var error: FederatedError? {
      guard let first = shown.first else { return nil }
      var reason = first.what
      for problem in shown.dropFirst() {
        reason += "; \(problem.file):\(problem.line): \(problem.what)"
      }
      if count > shown.count { reason += "; … and \(count - shown.count) more malformed lines" }
      return .malformedData(file: first.file, line: first.line, reason: reason)
    }
  }

  /// Reads files line by line, checks each line and the agreements between lines (one
  /// kind of content, one feature length, one kind of label), and stores the examples until
  /// the first problem; after that it only validates.
  struct Reader {
    /// A line, named from where a message about another line appears.
    struct Place {
      var file: String
      var line: Int

      /// "line 3" in the same file, "train.jsonl:3" in another.
      func named(from other: String) -> String {
        other == file ? "line \(line)" : "\(file):\(line)"
      }
    }

    /// The first line with content: text (`featureCount == nil`) or features of that length.
    var reference: (place: Place, featureCount: Int?)?
    /// The first line with a label, and whether it was a name.
    var labelReference: (place: Place, isName: Bool)?
    var labelsAreNames: Bool? { labelReference?.isName }
    /// Class names in first-appearance order, and their indices.
    var names: [String] = []
    var nameIndex: [String: Int] = [:]
    var maximumLabel = -1
    var problems = Problems()
    let strict = JSONDecoder()
    let lenient: JSONDecoder = {
      let decoder = JSONDecoder()
      decoder.allowsJSON5 = true
      return decoder
    }()

    /// Reads one file; with `groupByUser` false all lines go to one user, `evaluation`.
    mutating func read(_ url: URL, into users: inout Users, groupByUser: Bool) throws {
      let file = url.relativePath
      try JSONLDataset.forEachLine(of: url, file: file) { number, bytes in
        check(bytes, file: file, line: number, into: &users, groupByUser: groupByUser)
      }
    }

    mutating func check(
      _ bytes: Data, file: String, line number: Int, into users: inout Users, groupByUser: Bool
    ) {
      var decoded: Line
      do {
        decoded = try strict.decode(Line.self, from: bytes)
      } catch {
        // Not JSON. If it is JSON5 with NaN or ±Infinity, say so; otherwise say where.
        if Self.mayHoldNonFiniteNumbers(bytes),
          let line = try? lenient.decode(Line.self, from: bytes),
          line.hasNonFiniteFeatures
        {
          decoded = line
        } else {
          problems.add(file: file, line: number, ["the line is not valid JSON\(detail(bytes))"])
          return
        }
      }
      var whats = decoded.problems
      switch decoded.shape {
      case .text?:
        if let reference, reference.featureCount != nil {
          whats.append(
            "the line must have features like \(reference.place.named(from: file)) (got text)")
        } else if reference == nil {
          reference = (Place(file: file, line: number), nil)
        }
      case .features(let count)?:
        if let reference {
          if let expected = reference.featureCount, count != expected {
            whats.append(
              "features must have \(expected) numbers like \(reference.place.named(from: file)) "
                + "(got \(count))")
          } else if reference.featureCount == nil {
            whats.append(
              "the line must have text like \(reference.place.named(from: file)) (got features)")
          }
        } else {
          reference = (Place(file: file, line: number), count)
        }
      case nil:
        break
      }
      switch decoded.label {
      case .id(let id)?:
        if let labelReference, labelReference.isName {
          whats.append(
            "label must be a class name like \(labelReference.place.named(from: file)) (got \(id))")
        } else if labelReference == nil {
          labelReference = (Place(file: file, line: number), false)
        }
      case .name(let name)?:
        if let labelReference, !labelReference.isName {
          whats.append(
            "label must be an integer class id like \(labelReference.place.named(from: file)) "
              + "(got \(Described.quoted(name)))")
        } else if labelReference == nil {
          labelReference = (Place(file: file, line: number), true)
        }
      case nil:
        break
      }
      guard whats.isEmpty else {
        problems.add(file: file, line: number, whats)
        return
      }
      // Nothing is kept once a problem is found: the load will throw anyway.
      guard problems.count == 0, let id = decoded.userID, let label = decoded.label,
        let content = decoded.content
      else { return }
      let user = groupByUser ? users.user(id) : users.user("evaluation")
      switch label {
      case .id(let id):
        users.labels[user].append(id)
        maximumLabel = max(maximumLabel, id)
      case .name(let name):
        if let index = nameIndex[name] {
          users.labels[user].append(index)
        } else if names.count == JSONLDataset.maximumClassCount {
          problems.add(
            file: file, line: number,
            [
              "label \(Described.quoted(name)) would be class \(names.count + 1); a dataset must "
                + "have at most \(JSONLDataset.maximumClassCount) classes"
            ])
          return
        } else {
          nameIndex[name] = names.count
          users.labels[user].append(names.count)
          names.append(name)
        }
      }
      switch content {
      case .text(let text): users.text[user].append(text)
      case .features(let values): users.features[user].append(values)
      }
      users.exampleCount += 1
    }

    /// Whether a line that is not JSON is worth a second, JSON5 reading: it is UTF-8 and
    /// holds `NaN` or `Infinity`. Foundation's JSON5 scanner traps (a fatal error in
    /// `BufferView._decodeScalars`) on invalid UTF-8 where it expects an unquoted key, so
    /// such a line must never reach it.
    static func mayHoldNonFiniteNumbers(_ bytes: Data) -> Bool {
      guard let text = String(validating: bytes, as: UTF8.self) else { return false }
      return text.contains("NaN") || text.contains("Infinity")
    }

    /// What is wrong with a line that does not decode, and at which column, from a strict
    /// reading (``StrictJSON``): " (nesting deeper than 512 levels at column 513)", " (the
    /// number 1e400 is out of range … at column 12)"; empty if the strict reading finds
    /// nothing.
    func detail(_ bytes: Data) -> String {
      let array = [UInt8](bytes)
      do {
        _ = try StrictJSON.parse(
          array, options: StrictJSON.Options(maximumDepth: 512, rejectsOutOfRangeNumbers: true))
        return ""
      } catch {
        let column = StrictJSON.lineAndColumn(of: error.offset, in: array).column
        return " (\(error.message) at column \(column))"
      }
    }
  }

  /// Calls `body` with each non-blank line's 1-based number and bytes, reading 1 MiB at a
  /// time (a UTF-8 byte-order mark on line 1 is dropped).
  static func forEachLine(of url: URL, file: String, _ body: (Int, Data) -> Void) throws {
    let handle: FileHandle
    do {
      handle = try FileHandle(forReadingFrom: url)
    } catch {
      throw FederatedError.malformedData(
        file: file, line: 0, reason: "the file cannot be opened (\(error.localizedDescription))")
    }
    defer { try? handle.close() }
    var pending = Data()
    var scanned = 0
    var number = 0
    func emit(_ line: Data) {
      number += 1
      var line = line
      if number == 1, line.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst(3) }
      let blank = line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
      if !blank { body(number, line) }
    }
    while true {
      let chunk: Data
      do {
        chunk = try handle.read(upToCount: 1 << 20) ?? Data()
      } catch {
        throw FederatedError.malformedData(
          file: file, line: number + 1,
          reason: "the file cannot be read (\(error.localizedDescription))")
      }
      if chunk.isEmpty { break }
      pending.append(chunk)
      let newlines: [Int] = pending.withUnsafeBytes { raw in
        var offsets: [Int] = []
        guard let base = raw.baseAddress else { return offsets }
        var offset = scanned
        while offset < raw.count,
          let hit = memchr(base + offset, 0x0A, raw.count - offset)
        {
          let position = base.distance(to: UnsafeRawPointer(hit))
          offsets.append(position)
          offset = position + 1
        }
        return offsets
      }
      var start = 0
      for end in newlines {
        emit(pending[(pending.startIndex + start)..<(pending.startIndex + end)])
        start = end + 1
      }
      pending = Data(pending[(pending.startIndex + start)...])
      scanned = pending.count
    }
    if !pending.isEmpty { emit(pending) }
  }

  /// One line as decoded: the fields that are well-formed, and a phrase for each that isn't.
  /// Decoding never throws for a field; only text that isn't JSON makes the decoder throw.
  struct Line: Decodable {
    enum Label { case id(Int), name(String) }
    enum Content { case text(String), features([Float]) }
    /// What the line holds, even when its values are bad: text, or features of this length.
    enum Shape { case text, features(Int) }
    enum Key: String, CodingKey { case userID = "user_id", label, text, features }

    var userID: String?
    var label: Label?
    var content: Content?
    var shape: Shape?
    var problems: [String] = []
    var hasNonFiniteFeatures = false

    init(from decoder: any Decoder) throws {
      guard let container = try? decoder.container(keyedBy: Key.self) else {
        problems.append("the line must be a JSON object (got \(Described.describe(decoder)))")
        return
      }
      if !container.contains(.userID) {
        problems.append("user_id is missing")
      } else if let id = try? container.decode(String.self, forKey: .userID) {
        userID = id
      } else if let id = try? container.decode(Int.self, forKey: .userID) {
        userID = String(id)
      } else {
        problems.append(
          "user_id must be a string or an integer (got \(Self.describe(container, .userID)))")
      }

      if !container.contains(.label) {
        problems.append("label is missing")
      } else if let id = try? container.decode(Int.self, forKey: .label) {
        if id < 0 {
          problems.append("label must be ≥ 0 (got \(id))")
        } else if id >= JSONLDataset.maximumClassCount {
          problems.append(
            "label must be a class id below \(JSONLDataset.maximumClassCount), dpfl's limit on "
              + "classes (got \(id))")
        } else {
          label = .id(id)
        }
      } else if let name = try? container.decode(String.self, forKey: .label) {
        if !name.isEmpty { label = .name(name) } else { problems.append("label must not be empty") }
      } else {
        problems.append(
          "label must be an integer class id ≥ 0 or a class name "
            + "(got \(Self.describe(container, .label)))")
      }

      switch (container.contains(.text), container.contains(.features)) {
      case (true, true):
        problems.append("the line must have exactly one of text and features (got both)")
      case (false, false):
        problems.append("the line must have exactly one of text and features (got neither)")
      case (true, false):
        shape = .text
        if let text = try? container.decode(String.self, forKey: .text) {
          content = .text(text)
        } else {
          problems.append("text must be a string (got \(Self.describe(container, .text)))")
        }
      case (false, true):
        decodeFeatures(container)
      }
    }

    /// The fast path reads doubles straight into Float32; only a line with a problem is
    /// read again, element by element, to say which element and what it is.
    mutating func decodeFeatures(_ container: KeyedDecodingContainer<Key>) {
      guard var array = try? container.nestedUnkeyedContainer(forKey: .features) else {
        problems.append(
          "features must be an array of numbers (got \(Self.describe(container, .features)))")
        return
      }
      var values: [Float] = []
      values.reserveCapacity(array.count ?? 0)
      var clean = true
      while !array.isAtEnd {
        guard let value = try? array.decode(Double.self) else {
          clean = false
          break
        }
        let single = Float(value)
        clean = clean && single.isFinite
        values.append(single)
      }
      if clean {
        if values.isEmpty {
          problems.append("features must not be empty")
        } else {
          content = .features(values)
          shape = .features(values.count)
        }
        return
      }
      guard var again = try? container.nestedUnkeyedContainer(forKey: .features) else { return }
      var first: String?
      var badCount = 0
      var index = 0
      while !again.isAtEnd, let element = try? again.decode(Element.self) {
        switch element {
        case .number(let value) where Float(value).isFinite:
          break
        case .number(let value):
          hasNonFiniteFeatures = true
          badCount += 1
          first =
            first ?? "features[\(index)] must be finite in Float32 (got \(Described.number(value)))"
        case .outOfRange:
          hasNonFiniteFeatures = true
          badCount += 1
          first =
            first ?? "features[\(index)] must be finite in Float32 (got \(Described.outOfRange))"
        case .other(let description):
          badCount += 1
          first = first ?? "features[\(index)] must be a number (got \(description))"
        }
        index += 1
      }
      shape = .features(index)
      if var first {
        if badCount > 1 { first += ", and \(badCount - 1) more features are not finite numbers" }
        problems.append(first)
      }
    }

    /// The JSON value at `key`, for a message.
    static func describe(_ container: KeyedDecodingContainer<Key>, _ key: Key) -> String {
      (try? container.decode(Described.self, forKey: key))?.text ?? "an unreadable value"
    }
  }

  /// One element of `features` on the slow path.
  enum Element: Decodable {
    case number(Double)
    case outOfRange
    case other(String)

    init(from decoder: any Decoder) throws {
      if let value = try? decoder.singleValueContainer().decode(Double.self) {
        self = .number(value)
      } else {
        let text = Described.describe(decoder)
        self = text == Described.outOfRange ? .outOfRange : .other(text)
      }
    }
  }

  /// A JSON value in a few words, for messages: `null`, `true`, `1.5`, `"cat"`, `an array`.
  struct Described: Decodable {
    static let outOfRange = "a number out of range"
    var text: String

    init(from decoder: any Decoder) throws { text = Self.describe(decoder) }

    static func describe(_ decoder: any Decoder) -> String {
      if let container = try? decoder.singleValueContainer() {
        if container.decodeNil() { return "null" }
        if let value = try? container.decode(Bool.self) { return String(value) }
        if let value = try? container.decode(Int.self) { return String(value) }
        if let value = try? container.decode(Double.self) { return number(value) }
        if let value = try? container.decode(String.self) { return quoted(value) }
      }
      if (try? decoder.unkeyedContainer()) != nil { return "an array" }
      if (try? decoder.container(keyedBy: Line.Key.self)) != nil { return "an object" }
      return outOfRange
    }

    /// NaN and ±Infinity as JSON5 spells them; other numbers as Swift prints them.
    static func number(_ value: Double) -> String {
      if value.isNaN { return "NaN" }
      if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
      return "\(value)"
    }

    /// A string in quotes, cut to 40 characters.
    static func quoted(_ text: String) -> String {
      text.count <= 40 ? "\"\(text)\"" : "\"\(text.prefix(40))…\""
    }
  }
}
