import DPModel
import Foundation

/// The built-in `chitchat-topic` task: real people's chat messages, the client being the person
/// who wrote them, labelled with the kind of conversation starter they answered.
///
/// ## Source, licence, provenance
/// The conversations of the BYU Perception, Control and Cognition Lab's Chit-Chat Challenge
/// (2018): 7,168 text conversations between pairs of volunteers, 258,145 utterances, 1,315
/// participants, each conversation opened by one of 34 prompts. They ship as
/// `chitchat_dataset/dataset.json` inside the wheel of the PyPI package `chitchat-dataset`
/// 0.9.0 (<https://github.com/BYU-PCCL/chitchat-dataset>), released under the MIT licence
/// (Copyright (c) 2019 Perception, Control and Cognition Lab; the licence is copied next to the
/// file). `Scripts/fetch-assets` downloads the wheel, checks its SHA-256 and that of
/// `dataset.json`, and puts the file in `.cache/assets/chitchat/` (the third line it prints).
/// Participants appear only as random UUIDs.
///
/// ## Format
/// One JSON object mapping a conversation UUID to `{"prompt": String?, "start": String,
/// "ratings": {…}, "messages": [[{"text", "timestamp", "sender"}]]}`: `messages` is the list
/// of turns, each turn the list of one sender's consecutive utterances.
///
/// ## The task
/// - An **example** is everything one participant wrote in one conversation: their
///   utterances in order, joined by a space (empty utterances dropped). Conversations
///   without a prompt (243) are skipped.
/// - The **label** is the prompt's ``Topic``: a question about computers and machine
///   intelligence (9 prompts), an imagined situation or wish (12), or the speakers' own life
///   and tastes (13); the table is ``topics``. Most examples talk about their prompt, so the
///   topic is learnable from the text, but not from a greeting alone.
/// - The **user** is the participant (`sender`); most participants took part in several
///   conversations with different prompts, so unlike `shakespeare-genre` a client holds
///   several labels. A client keeps its first ``Configuration/maximumExamples`` examples in
///   the order of the conversations' start times (one participant opened 1,528
///   conversations).
/// - **Splits by user**, fixed by ``Configuration/splitSeed`` (public, independent of the
///   run's seed): the participants sorted by id are shuffled once; the first
///   ``Configuration/publicShare`` of them form the public split (the head's centre), the
///   next ``Configuration/evaluationShare`` the evaluation split (people never seen in
///   training), the rest are the clients. Evaluation and public participants keep at most
///   ``Configuration/maximumExamples`` examples too.
///
/// With the defaults: 10,798 examples of 1,217 participants before the cap; see
/// ``load(_:file:)`` for the split counts (also in docs/experiments-utility.md).
///
/// Loading is deterministic: conversations are read in order of (start, id), participants
/// sorted by id, and only the order of the evaluation examples depends on
/// ``Configuration/seed``.
public enum ChitChatTask {
  /// The kind of conversation starter, which is the label. Raw values are the class ids.
  public enum Topic: Int, CaseIterable, Codable, Sendable, CustomStringConvertible {
    /// Computers, machine intelligence, the internet.
    case machines = 0
    /// Imagined situations and wishes ("What if…", "What would you do if…").
    case hypotheticals = 1
    /// The speakers' own lives and tastes.
    case personal = 2

    /// `machines`, `hypotheticals` or `personal`.
    public var description: String {
      switch self {
      case .machines: "machines"
      case .hypotheticals: "hypotheticals"
      case .personal: "personal"
      }
    }
  }

  /// The topic of each of the 34 prompts, spelled as in `dataset.json`.
  public static let topics: [String: Topic] = [
    // machines: 9 prompts, 1709 conversations
    "Can computers fall in love?": .machines,
    "Do you think computers will ever be given the right to vote?": .machines,
    "How would you define true artificial intelligence?": .machines,
    "If a computer becomes indistinguishable from a person, is it murder to turn it off?":
      .machines,
    "Is it still catfishing if it's a computer doing it?": .machines,
    "What if computers started asking not to be turned off?": .machines,
    "What would happen if the internet just... stopped working?": .machines,
    "What would happen if two computers chatted with each other?": .machines,
    "Which intelligent movie computer do you like best? (i.e. Jarvis from Iron Man, HAL from Space Odyssey 2000, the Star Trek Computer, the robot from Interstellar, etc.)":
      .machines,
    // hypotheticals: 12 prompts, 2361 conversations
    "How would the world be different if pets could talk?": .hypotheticals,
    "If money were no object, how would you spend your time?": .hypotheticals,
    "If you were in power for a day, how would you try to improve the country?": .hypotheticals,
    "What if pigs could fly?": .hypotheticals,
    "What if the world was made of peanut butter?": .hypotheticals,
    "What if unicorns were real?": .hypotheticals,
    "What if you woke up tomorrow morning, and everyone had vanished except you?": .hypotheticals,
    "What superpower do you wish you had, and why?": .hypotheticals,
    "What would happen if humans developed faster-than-light space travel?": .hypotheticals,
    "What would you do if you had a flying car?": .hypotheticals,
    "What would you do if you had a magic wand?": .hypotheticals,
    "What would you do if you had a million dollars?": .hypotheticals,
    // personal: 13 prompts, 2855 conversations
    "If you could relive one day of your life, which would it be and why?": .personal,
    "If you had to give a TED talk tomorrow, what would it be about?": .personal,
    "Is there something that you don't know that you're embarrassed about not knowing?": .personal,
    "Mozart or Beethoven?": .personal,
    "What charitable or philanthropic cause are you most passionate about?": .personal,
    "What's one thing your best friend doesn't know about you?": .personal,
    "What's the best thing that happened to you this year?": .personal,
    "What's the craziest thing you've ever done?": .personal,
    "What's the last film that truly made an impression on you?": .personal,
    "What's the most interesting thing you've learned recently?": .personal,
    "What's your favorite smell?": .personal,
    "What's your secret superpower? (i.e. What are you really really good at.)": .personal,
    "Who is your modern-day hero?": .personal,
  ]

  /// Which participants go where, and how many examples each keeps.
  public struct Configuration: Codable, Equatable, Sendable {
    /// The most examples a participant keeps (the first, by conversation start).
    public var maximumExamples = 64
    /// The share of participants in the public split.
    public var publicShare = 0.05
    /// The share of participants held out for evaluation.
    public var evaluationShare = 0.2
    /// The seed of the split into public, evaluation and client participants (public; the
    /// default keeps the split fixed whatever the run's seed).
    public var splitSeed: UInt64 = 0x6368_6174
    /// The seed of the order of the evaluation examples.
    public var seed: UInt64 = 0

    /// The defaults: 64 examples per participant, 5 % public, 20 % evaluation.
    public init(seed: UInt64 = 0) { self.seed = seed }

    /// Every problem with the values, one error each (empty when valid).
    public func problems() -> [FederatedError] {
      var found: [FederatedError] = []
      if maximumExamples < 1 {
        found.append(
          .invalidConfiguration(
            field: "maximumExamples", value: "\(maximumExamples)", allowed: "an integer ≥ 1"))
      }
      if !(publicShare >= 0 && evaluationShare > 0 && publicShare + evaluationShare < 1) {
        found.append(
          .invalidConfiguration(
            field: "publicShare, evaluationShare", value: "\(publicShare), \(evaluationShare)",
            allowed: "shares ≥ 0 (evaluation > 0) adding up to less than 1"))
      }
      return found
    }
  }

  /// The file name inside the assets folder.
  public static let fileName = "dataset.json"

  struct Utterance: Decodable {
    var text: String
    var sender: String
  }

  struct Conversation: Decodable {
    var prompt: String?
    var start: String?
    var messages: [[Utterance]]
  }

  /// One participant's text in one conversation, with its label.
  struct Example: Equatable {
    var user: String
    var text: String
    var label: Int
  }

  /// The examples of a decoded file, in order of (start, conversation id), and within a
  /// conversation in order of each participant's first utterance.
  static func examples(_ conversations: [String: Conversation]) -> [Example] {
    let ordered = conversations.sorted {
      ($0.value.start ?? "", $0.key) < ($1.value.start ?? "", $1.key)
    }
    var result: [Example] = []
    for (_, conversation) in ordered {
      guard let prompt = conversation.prompt, let topic = topics[prompt] else { continue }
      var senders: [String] = []
      var texts: [String: [String]] = [:]
      for turn in conversation.messages {
        for utterance in turn {
          let text = utterance.text.trimmingCharacters(in: .whitespacesAndNewlines)
          guard !text.isEmpty else { continue }
          if texts[utterance.sender] == nil { senders.append(utterance.sender) }
          texts[utterance.sender, default: []].append(text)
        }
      }
      for sender in senders {
        result.append(
          Example(
            user: sender, text: texts[sender]!.joined(separator: " "), label: topic.rawValue))
      }
    }
    return result
  }

  /// The task, read from `dataset.json`.
  ///
  /// - Parameters:
  ///   - configuration: the per-participant cap and the split.
  ///   - file: `dataset.json` (`.cache/assets/chitchat/dataset.json` after
  ///     `Scripts/fetch-assets`).
  /// - Returns: the dataset `chitchat-topic`: clients sorted by participant id, three classes.
  /// - Throws: ``FederatedError/invalidConfiguration(field:value:allowed:)`` for the first of
  ///   ``Configuration/problems()``, or when a split is empty;
  ///   ``FederatedError/malformedData(file:line:reason:)`` (line 0) when the file cannot be
  ///   read or is not the Chit-Chat format.
  public static func load(_ configuration: Configuration = .init(), file: URL) throws
    -> FederatedDataset<String>
  {
    if let problem = configuration.problems().first { throw problem }
    guard let data = try? Data(contentsOf: file) else {
      throw FederatedError.malformedData(
        file: file.path, line: 0, reason: "cannot be read (run Scripts/fetch-assets)")
    }
    let conversations: [String: Conversation]
    do {
      conversations = try JSONDecoder().decode([String: Conversation].self, from: data)
    } catch {
      throw FederatedError.malformedData(
        file: file.lastPathComponent, line: 0,
        reason: "not the Chit-Chat format (a conversation id → {prompt, start, messages}): \(error)"
      )
    }
    var byUser: [String: [Example]] = [:]
    for example in examples(conversations) {
      if byUser[example.user, default: []].count < configuration.maximumExamples {
        byUser[example.user, default: []].append(example)
      }
    }
    var generator = Xoshiro256StarStar(seed: configuration.splitSeed)
    let users = byUser.keys.sorted().shuffled(using: &generator)
    let publicCount = Int((configuration.publicShare * Double(users.count)).rounded())
    let evaluationCount = Int((configuration.evaluationShare * Double(users.count)).rounded())
    let publicUsers = users.prefix(publicCount)
    let evaluationUsers = users.dropFirst(publicCount).prefix(evaluationCount)
    let clientUsers = users.dropFirst(publicCount + evaluationCount).sorted()
    guard !clientUsers.isEmpty, !evaluationUsers.isEmpty else {
      throw FederatedError.invalidConfiguration(
        field: "evaluationShare", value: "\(configuration.evaluationShare)",
        allowed: "a share leaving at least one participant for evaluation and one client")
    }
    func pooled(_ group: some Sequence<String>, id: String) -> ClientData<String> {
      let all = group.sorted().flatMap { byUser[$0]! }
      return ClientData(id: id, examples: all.map(\.text), labels: all.map(\.label))
    }
    let evaluation = pooled(evaluationUsers, id: "evaluation")
    var orderGenerator = Xoshiro256StarStar(seed: configuration.seed)
    let order = Array(evaluation.examples.indices).shuffled(using: &orderGenerator)
    return FederatedDataset(
      name: "chitchat-topic",
      clients: clientUsers.map { user in
        ClientData(
          id: user, examples: byUser[user]!.map(\.text), labels: byUser[user]!.map(\.label))
      },
      evaluation: ClientData(
        id: "evaluation", examples: order.map { evaluation.examples[$0] },
        labels: order.map { evaluation.labels[$0] }),
      publicSplit: pooled(publicUsers, id: "public"),
      classCount: Topic.allCases.count)
  }
}
