import DPModel
import Foundation

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

      /// "line 3" in the same file, "train.jsonl:3" in another; at line 0, what `file` says.
      func named(from other: String) -> String {
        line == 0 ? file : other == file ? "line \(line)" : "\(file):\(line)"
      }
    }

    /// A reader that checks every line against a Flower server's schema (its kind of
    /// examples and of labels), as against a first line.
    init(schema: Schema?) {
      guard let schema else { return }
      let server = Place(file: "the server's data", line: 0)
      reference = (server, schema.featureCount)
      labelReference = (server, schema.classNames != nil)
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
      guard let decoded = decode(bytes, file: file, line: number) else { return }
      let place = Place(file: file, line: number)
      let whats =
        decoded.problems + shapeProblems(decoded, at: place)
        + labelProblems(decoded, at: place)
      guard whats.isEmpty else {
        problems.add(file: file, line: number, whats)
        return
      }
      // Nothing is kept once a problem is found: the load will throw anyway.
      guard problems.count == 0 else { return }
      keep(decoded, at: place, into: &users, groupByUser: groupByUser)
    }

    /// The line decoded strictly, or leniently when it is JSON5 with NaN or ±Infinity in its
    /// features; `nil` (the problem recorded, with where) when it is not JSON, or when it
    /// gives a key twice (the decoder would keep one of the values silently).
    mutating func decode(_ bytes: Data, file: String, line number: Int) -> Line? {
      if let line = try? strict.decode(Line.self, from: bytes) {
        if let duplicate = duplicateKey(bytes) {
          problems.add(file: file, line: number, [duplicate])
          return nil
        }
        return line
      }
      if Self.mayHoldNonFiniteNumbers(bytes),
        let line = try? lenient.decode(Line.self, from: bytes),
        line.hasNonFiniteFeatures
      {
        return line
      }
      problems.add(file: file, line: number, ["the line is not valid JSON\(detail(bytes))"])
      return nil
    }

    /// What is wrong with the line's text or features given the first line with content.
    mutating func shapeProblems(_ decoded: Line, at place: Place) -> [String] {
      switch decoded.shape {
      case .text?:
        if let reference, reference.featureCount != nil {
          return [
            "the line must have features like \(reference.place.named(from: place.file)) (got text)"
          ]
        }
        if reference == nil { reference = (place, nil) }
      case .features(let count)?:
        guard let reference else {
          reference = (place, count)
          return []
        }
        if let expected = reference.featureCount, count != expected {
          return [
            "features must have \(expected) numbers like \(reference.place.named(from: place.file)) "
              + "(got \(count))"
          ]
        }
        if reference.featureCount == nil {
          return [
            "the line must have text like \(reference.place.named(from: place.file)) (got features)"
          ]
        }
      case nil:
        break
      }
      return []
    }

    /// What is wrong with the line's label given the first line with a label.
    mutating func labelProblems(_ decoded: Line, at place: Place) -> [String] {
      switch decoded.label {
      case .id(let id)?:
        if let labelReference, labelReference.isName {
          return [
            "label must be a class name like \(labelReference.place.named(from: place.file)) (got \(id))"
          ]
        }
        if labelReference == nil { labelReference = (place, false) }
      case .name(let name)?:
        if let labelReference, !labelReference.isName {
          return [
            "label must be an integer class id like \(labelReference.place.named(from: place.file)) "
              + "(got \(Described.quoted(name)))"
          ]
        }
        if labelReference == nil { labelReference = (place, true) }
      case nil:
        break
      }
      return []
    }

    /// Adds a valid line's example to its user.
    mutating func keep(_ decoded: Line, at place: Place, into users: inout Users, groupByUser: Bool)
    {
      guard let id = decoded.userID, let label = decoded.label, let content = decoded.content
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
            file: place.file, line: place.line,
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

    /// "the key "label" is given twice (at columns 2 and 14)" for a line that gives a key
    /// twice at any depth; `nil` when it does not.
    func duplicateKey(_ bytes: Data) -> String? {
      let array = [UInt8](bytes)
      do {
        _ = try StrictJSON.parse(
          array, options: StrictJSON.Options(maximumDepth: 512, rejectsDuplicateKeys: true))
        return nil
      } catch {
        guard error.message.hasPrefix("duplicate key ") else { return nil }
        let column = StrictJSON.lineAndColumn(of: error.offset, in: array).column
        let message = error.message.replacingOccurrences(
          of: "(first at line 1, column ", with: "(first at column ")
        return "the line is ambiguous: \(message), again at column \(column)"
      }
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
}
