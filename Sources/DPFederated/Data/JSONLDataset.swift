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
/// returned. If any line is malformed, ``load(training:evaluation:publicData:evaluationFraction:seed:schema:)``
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

    /// The training users (the dataset's clients).
    public var clientCount: Int {
      switch self {
      case .text(let dataset): dataset.clients.count
      case .features(let dataset): dataset.clients.count
      }
    }
  }

  /// What ``load(training:evaluation:publicData:evaluationFraction:seed:schema:)`` returns.
  public struct Loaded: Sendable {
    /// The dataset: users in first-appearance order, the evaluation set, an empty public split.
    public var examples: Examples
    /// Class names in class-id order (`classNames[id]`) when labels are names; `nil` when
    /// labels are integer class ids.
    public var classNames: [String]? {
      switch examples {
      case .text(let dataset): dataset.classNames
      case .features(let dataset): dataset.classNames
      }
    }
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
  /// The dataset's `name` is the training file's name (`jsonl (the nodes' files)` without
  /// one). `publicSplit` holds the lines of the public file (empty without one): data that
  /// may be used without privacy (the head's centre, pre-training), never a client's.
  ///
  /// With a Flower server's `schema` (on a node), classes are numbered as the server
  /// numbered them and the class count is the server's; a line whose kind, label or class
  /// the server's run does not have, or a public file other than the server's, is refused.
  ///
  /// - Parameters:
  ///   - training: the users' data; `nil` on a Flower server, which holds none (no clients).
  ///   - evaluation: held-out data; when given, `evaluationFraction` is not used.
  ///   - publicData: public examples in the same format (their `user_id`s are ignored).
  ///   - evaluationFraction: the share of training users held out when `evaluation` is `nil`,
  ///     in [0, 1); 0 gives an empty evaluation set.
  ///   - seed: the seed of the held-out draw (public; the same seed gives the same split).
  ///   - schema: the Flower server's classes, kind of examples and public file, on a node.
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
    training: URL?, evaluation: URL? = nil, publicData: URL? = nil,
    evaluationFraction: Double = 0.2, seed: UInt64, schema: Schema? = nil
  ) throws -> Loaded {
    guard evaluationFraction.isFinite, (0..<1).contains(evaluationFraction) else {
      throw FederatedError.invalidConfiguration(
        field: "evaluationFraction", value: "\(evaluationFraction)", allowed: "in [0, 1)")
    }
    var reader = Reader(schema: schema)
    var users = Users()
    if let training { try reader.read(training, into: &users, groupByUser: true) }
    var evaluationUsers: Users?
    if let evaluation {
      var held = Users()
      try reader.read(evaluation, into: &held, groupByUser: false)
      evaluationUsers = held
    }
    var publicUsers: Users?
    if let publicData {
      var shared = Users()
      try reader.read(publicData, into: &shared, groupByUser: false)
      publicUsers = shared
    }
    if let error = reader.problems.error { throw error }
    let emptyFile =
      training != nil && users.exampleCount == 0
      ? training
      : evaluationUsers?.exampleCount == 0
        ? evaluation : publicUsers?.exampleCount == 0 ? publicData : nil
    if let emptyFile {
      throw FederatedError.malformedData(
        file: emptyFile.relativePath, line: 0, reason: "the file holds no examples")
    }
    if let schema { try check(schema, reader: reader, training: training, publicData: publicData) }

    // Number class names in the schema's order, else in sorted order: labels were stored as
    // first-appearance indices. (With a schema the reader took only names when the schema
    // has them, and `check` refused any name outside them.)
    var classNames: [String]?
    if reader.labelsAreNames == true {
      let names = schema?.classNames ?? reader.names.sorted()
      let id = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
      let rank = reader.names.map { id[$0]! }
      users.relabel(rank)
      evaluationUsers?.relabel(rank)
      publicUsers?.relabel(rank)
      classNames = names
    }
    let classCount = schema?.classCount ?? classNames?.count ?? (reader.maximumLabel + 1)

    let heldOut =
      evaluationUsers == nil
      ? evaluationUserIndices(userCount: users.ids.count, fraction: evaluationFraction, seed: seed)
      : []
    let name = training?.lastPathComponent ?? "jsonl (the nodes' files)"
    let examples: Examples =
      reader.reference?.featureCount == nil
      ? .text(
        assemble(
          name: name, users: users, examples: users.text, heldOut: heldOut,
          evaluation: evaluationUsers.map { ($0.text, $0.labels) },
          publicSplit: publicUsers.map { ($0.text, $0.labels) }, classCount: classCount,
          classNames: classNames))
      : .features(
        assemble(
          name: name, users: users, examples: users.features, heldOut: heldOut,
          evaluation: evaluationUsers.map { ($0.features, $0.labels) },
          publicSplit: publicUsers.map { ($0.features, $0.labels) }, classCount: classCount,
          classNames: classNames))
    return Loaded(examples: examples)
  }

  /// Checks that files read as `reader` did fit a Flower server's `schema`: the same kind of
  /// examples and labels, only its classes, and the same public file.
  /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)`` naming the
  ///   mismatch.
  static func check(_ schema: Schema, reader: Reader, training: URL?, publicData: URL?) throws {
    let file = training?.relativePath ?? "the data"
    if let mismatch = schema.mismatch(reader, file: file) {
      throw FederatedError.invalidConfiguration(
        field: "--data", value: file, allowed: "data that fits the server's run: \(mismatch)")
    }
    let digest = try publicData.map { try RunManifest.sha256(file: $0) }
    guard digest == schema.publicDataSHA256 else {
      func described(_ digest: String?) -> String {
        digest.map { "SHA-256 \($0.prefix(12))…" } ?? "none"
      }
      throw FederatedError.invalidConfiguration(
        field: "--public-data", value: publicData?.relativePath ?? "none",
        allowed:
          "the server's public file (\(described(schema.publicDataSHA256)); this one: \(described(digest)))"
      )
    }
  }

  /// The files of a `--task jsonl` run of `configuration`: its `data`, and its
  /// `evaluation_data` and `public_data` when given; its seed draws the held-out users.
  /// - Throws: as ``load(training:evaluation:publicData:evaluationFraction:seed:schema:)``.
  public static func load(_ configuration: FederatedConfiguration) throws -> Loaded {
    guard let data = configuration.data else {
      throw FederatedError.invalidConfiguration(
        field: "--data", value: "none", allowed: "a JSON Lines file with --task jsonl")
    }
    return try load(
      training: URL(fileURLWithPath: data),
      evaluation: configuration.evaluationData.map { URL(fileURLWithPath: $0) },
      publicData: configuration.publicData.map { URL(fileURLWithPath: $0) },
      seed: configuration.seed)
  }

  /// Clients from the users not held out; the evaluation set from the evaluation file, or
  /// else from the held-out users, in their order; the public split from the public file.
  static func assemble<Example>(
    name: String, users: Users, examples: [[Example]], heldOut: [Int],
    evaluation file: (examples: [[Example]], labels: [[Int]])?,
    publicSplit shared: (examples: [[Example]], labels: [[Int]])?, classCount: Int,
    classNames: [String]?
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
      publicSplit: ClientData(
        id: "public", examples: shared?.examples.flatMap { $0 } ?? [],
        labels: shared?.labels.flatMap { $0 } ?? []),
      classCount: classCount, classNames: classNames)
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
