/// The settings a JSON Lines run (`--task jsonl`) takes from its data when they are not
/// given (as a flag, in a `--config` file, or in a resumed run's `config.json`), and why.
///
/// The built-in tasks keep fixed defaults (``FederatedConfiguration/builtInRounds``, …): they
/// were tuned on those tasks. A user's own file can hold 12 users or 100,000 texts of any
/// length, so there the defaults follow three rules:
///
/// - **`--max-length`** (text only): the smallest multiple of ``lengthStep`` (16) whose
///   sequences hold whole at least ``textPercentage`` (90 %) of the training texts, counted
///   in all-MiniLM-L6-v2's WordPiece tokens with `[CLS]` and `[SEP]`, clamped to
///   ``lengthRange`` (16…128). Most texts are then not cut, while a file of long documents
///   does not make every step cost up to 512 positions (attention is quadratic in the
///   length; a batch is padded only to its longest text, so the limit costs only where texts
///   are long). Multiples of 16 keep the choice stable under small edits of the data. With
///   `--public-data`, the public texts' lengths are used instead, so the choice costs no
///   privacy.
/// - **`--cohort-size`**: a fifth of the training users (``usersPerCohortMember``, rounded
///   down), clamped to ``cohortRange`` (2…20), and never more than the users or
///   `--noise-cohort-size`. A small file gets a cohort it can fill (Poisson sampling of 20 of
///   12 users is impossible), a large one keeps the built-in tasks' 20 clients per round, and
///   the value never makes an otherwise valid configuration invalid.
/// - **`--rounds`**: ``passes`` (10) expected passes over the users, ⌈10 · users ÷ cohort⌉
///   (each user is trained about 10 times: rounds · cohort ÷ users), clamped to
///   ``roundRange`` (20…200): enough rounds for a small file to learn, and never more than
///   the built-in tasks' 200.
///
/// The rounds use the cohort, given or derived; σ is then calibrated for the resolved schedule
/// as for any other, and the values are written to `config.json` before the first round, so
/// a resumed run never re-derives them.
///
/// **Outside ε.** The derived values are functions of the private training data (the number
/// of training users, a quantile of the texts' token lengths unless public texts are given) and are released without noise
/// (in `config.json`, the summary, the schedule itself). The run's ε covers the training for
/// the schedule it was given, not this choice of schedule, as with any hyper-parameter chosen
/// by looking at the data; the stderr line says "not covered by ε". Give the three values
/// (from public knowledge of the deployment) to keep the schedule independent of the data.
public struct DataDefaults: Equatable, Sendable {
  /// `--max-length` values are multiples of this many tokens.
  public static let lengthStep = 16
  /// The share of the training texts, in per cent, a derived `--max-length` holds whole.
  public static let textPercentage = 90
  /// The range a derived `--max-length` is clamped to.
  public static let lengthRange = 16...128
  /// The cohort is one client per this many training users (a fifth).
  public static let usersPerCohortMember = 5
  /// The range a derived `--cohort-size` is clamped to (before the users and
  /// `--noise-cohort-size` bound it).
  public static let cohortRange = 2...20
  /// The expected number of times a user is trained, rounds · cohort ÷ users, that the
  /// derived `--rounds` aims at.
  public static let passes = 10
  /// The range a derived `--rounds` is clamped to.
  public static let roundRange = 20...200

  /// The derived `--max-length`.
  /// - Parameter tokenLengths: the training texts' token counts, `[CLS]` and `[SEP]` included.
  /// - Returns: the smallest multiple of ``lengthStep`` that is ≥ the length of at least
  ///   ``textPercentage`` % of the texts (⌈0.9 n⌉ of n), clamped to ``lengthRange``; the
  ///   range's lower bound when there are no texts.
  public static func maxLength(tokenLengths: [Int]) -> Int {
    guard !tokenLengths.isEmpty else { return lengthRange.lowerBound }
    let held = (textPercentage * tokenLengths.count + 99) / 100
    let length = tokenLengths.sorted()[held - 1]
    return clamped((length + lengthStep - 1) / lengthStep * lengthStep, to: lengthRange)
  }

  /// The derived `--cohort-size`: ⌊users ÷ 5⌋ clamped to ``cohortRange``, then at most
  /// `userCount` and `noiseCohortSize` (and at least 1).
  public static func cohortSize(userCount: Int, noiseCohortSize: Int) -> Int {
    let share = clamped(userCount / usersPerCohortMember, to: cohortRange)
    return max(1, min(share, userCount, noiseCohortSize))
  }

  /// The derived `--rounds`: ⌈``passes`` · users ÷ cohort⌉ clamped to ``roundRange``.
  /// - Precondition: `cohortSize` ≥ 1.
  public static func rounds(userCount: Int, cohortSize: Int) -> Int {
    clamped(roundTarget(userCount: userCount, cohortSize: cohortSize), to: roundRange)
  }

  /// `value` moved into `range`.
  static func clamped(_ value: Int, to range: ClosedRange<Int>) -> Int {
    min(max(value, range.lowerBound), range.upperBound)
  }

  /// ⌈``passes`` · users ÷ cohort⌉, before the clamp.
  /// - Precondition: `cohortSize` ≥ 1.
  static func roundTarget(userCount: Int, cohortSize: Int) -> Int {
    precondition(cohortSize >= 1, "cohortSize must be at least 1; got \(cohortSize)")
    return (passes * userCount + cohortSize - 1) / cohortSize
  }

  /// The training users (clients) the rules read.
  public var userCount: Int
  /// The derived `--max-length` (`nil` when given, or when the data is not text).
  public var maxLength: Int?
  /// The texts the max length was derived from (0 when it was not).
  public var textCount = 0
  /// Those texts are the public ones (`--public-data`): the max length costs no privacy.
  public var lengthsArePublic = false
  /// How many of them fit whole in ``maxLength`` tokens.
  public var textsFitting = 0
  /// The derived `--cohort-size` (`nil` when given).
  public var cohortSize: Int?
  /// The derived `--rounds` (`nil` when given).
  public var rounds: Int?
  /// The run's cohort, given or derived, which the rounds were derived with.
  public var roundsCohortSize = 1

  /// The expected number of times a user is trained in ``rounds``: rounds · cohort ÷ users.
  public var expectedPasses: Double {
    Double((rounds ?? 0) * roundsCohortSize) / Double(max(1, userCount))
  }

  /// Nothing was derived: every value was given (or does not apply).
  public var isEmpty: Bool { maxLength == nil && cohortSize == nil && rounds == nil }
}

extension DataDefaults: CustomStringConvertible {
  /// One line for stderr: "from the data (not covered by ε): max length 64 (92 % of 600
  /// training texts fit), cohort 20 of 154 users, 77 rounds (10 passes)"; a value the clamp
  /// decided says so ("128 … ; at most 128"). When only the max length was derived, from the
  /// public texts, the line starts "from the public data:".
  public var description: String {
    var parts: [String] = []
    if let maxLength {
      let percent = 100 * textsFitting / max(1, textCount)
      let clamped = textsFitting * 100 < Self.textPercentage * textCount
      parts.append(
        "max length \(maxLength) (\(percent) % of \(textCount) \(lengthsArePublic ? "public" : "training") texts fit\(Self.clampNote(maxLength, Self.lengthRange, clamped)))"
      )
    }
    if let cohortSize { parts.append("cohort \(cohortSize) of \(userCount) users") }
    if let rounds {
      let target = Self.roundTarget(userCount: userCount, cohortSize: roundsCohortSize)
      let passes = (expectedPasses * 10).rounded() / 10
      let shown = passes == passes.rounded() ? "\(Int(passes))" : "\(passes)"
      parts.append(
        "\(rounds) rounds (\(shown) passes\(Self.clampNote(rounds, Self.roundRange, rounds != target)))"
      )
    }
    let onlyPublic = lengthsArePublic && cohortSize == nil && rounds == nil
    return (onlyPublic ? "from the public data: " : "from the data (not covered by ε): ")
      + parts.joined(separator: ", ")
  }

  /// "; at most 128" or "; at least 20" for a value that the clamp to `range` decided.
  private static func clampNote(_ value: Int, _ range: ClosedRange<Int>, _ clamped: Bool) -> String
  {
    guard clamped else { return "" }
    return value == range.upperBound ? "; at most \(value)" : "; at least \(value)"
  }
}
