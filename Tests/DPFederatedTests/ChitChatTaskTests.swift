import Foundation
import Testing

@testable import DPFederated

/// The committed excerpt (Fixtures/chitchat/dataset.json) and the file `Scripts/fetch-assets`
/// fetches, `<repository>/.cache/assets/chitchat/dataset.json`.
enum ChitChatFiles {
  static let fixture = Bundle.module.url(
    forResource: "Fixtures/chitchat/dataset", withExtension: "json")!

  static let fetched = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent(".cache/assets/chitchat/dataset.json")

  static var fetchedAvailable: Bool { FileManager.default.fileExists(atPath: fetched.path) }

  static func decoded(_ url: URL = fixture) throws -> [String: ChitChatTask.Conversation] {
    try JSONDecoder().decode(
      [String: ChitChatTask.Conversation].self, from: Data(contentsOf: url))
  }
}

@Suite("ChitChatTask")
struct ChitChatTaskTests {
  @Test("the topic table holds the 34 prompts: 9 about machines, 12 hypotheticals, 13 personal")
  func topicTable() {
    #expect(ChitChatTask.topics.count == 34)
    let counts = Dictionary(grouping: ChitChatTask.topics.values, by: { $0 }).mapValues(\.count)
    #expect(counts == [.machines: 9, .hypotheticals: 12, .personal: 13])
  }

  @Test("an example is one participant's text in one conversation; no prompt, no example")
  func examples() throws {
    let examples = ChitChatTask.examples(try ChitChatFiles.decoded())
    #expect(examples.count == 9)
    #expect(Set(examples.map(\.user)).count == 8)
    #expect(Set(examples.map(\.label)) == [0, 1, 2])
    #expect(
      examples.allSatisfy {
        !$0.text.isEmpty && $0.text == $0.text.trimmingCharacters(in: .whitespaces)
      })
    // The first conversation in start order is "Mozart or Beethoven?" (personal), whose
    // first speaker wrote "Mozart" (and a blank utterance, dropped).
    #expect(
      examples.first
        == .init(
          user: "ab3328ab-12d1-4638-88ac-2e19c421c785", text: "Mozart",
          label: ChitChatTask.Topic.personal.rawValue))
  }

  @Test("the split is by participant: public, evaluation and clients are disjoint and cover all")
  func splitByUser() throws {
    var configuration = ChitChatTask.Configuration()
    configuration.publicShare = 0.25
    configuration.evaluationShare = 0.25
    let dataset = try ChitChatTask.load(configuration, file: ChitChatFiles.fixture)
    #expect(dataset.name == "chitchat-topic")
    #expect(dataset.classCount == 3)
    #expect(dataset.clients.count == 4)
    #expect(dataset.clients.map(\.id) == dataset.clients.map(\.id).sorted())
    let all = ChitChatTask.examples(try ChitChatFiles.decoded())
    let clientTexts = Set(dataset.clients.flatMap(\.examples))
    let held = Set(dataset.evaluation.examples).union(dataset.publicSplit.examples)
    #expect(clientTexts.isDisjoint(with: held))
    #expect(
      dataset.privateExampleCount + dataset.evaluation.examples.count
        + dataset.publicSplit.examples.count == all.count)
    for client in dataset.clients {
      #expect(client.examples == all.filter { $0.user == client.id }.map(\.text))
    }
  }

  @Test("the run's seed orders the evaluation examples but does not move anyone between splits")
  func seedOnlyOrdersEvaluation() throws {
    var configuration = ChitChatTask.Configuration(seed: 0)
    configuration.evaluationShare = 0.5
    let first = try ChitChatTask.load(configuration, file: ChitChatFiles.fixture)
    configuration.seed = 7
    let second = try ChitChatTask.load(configuration, file: ChitChatFiles.fixture)
    #expect(first.clients.map(\.id) == second.clients.map(\.id))
    #expect(Set(first.evaluation.examples) == Set(second.evaluation.examples))
  }

  @Test("a participant keeps at most maximumExamples examples, the earliest")
  func cap() throws {
    var configuration = ChitChatTask.Configuration()
    configuration.maximumExamples = 1
    configuration.evaluationShare = 0.125
    let dataset = try ChitChatTask.load(configuration, file: ChitChatFiles.fixture)
    #expect(dataset.clients.allSatisfy { $0.examples.count == 1 })
  }

  @Test("bad shares and a file of another format are reported")
  func errors() throws {
    var configuration = ChitChatTask.Configuration()
    configuration.evaluationShare = 0.9
    configuration.publicShare = 0.2
    #expect(configuration.problems().count == 1)
    #expect(throws: FederatedError.self) {
      try ChitChatTask.load(configuration, file: ChitChatFiles.fixture)
    }
    let other = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-chitchat-\(UUID()).json")
    try Data("[1, 2]".utf8).write(to: other)
    #expect(throws: FederatedError.self) {
      try ChitChatTask.load(file: other)
    }
  }

  @Test(
    "the fetched file gives 913 clients, 5,278 training, 1,328 evaluation and 488 public examples",
    .enabled(if: ChitChatFiles.fetchedAvailable, "run Scripts/fetch-assets to enable"))
  func fetched() throws {
    let dataset = try ChitChatTask.load(file: ChitChatFiles.fetched)
    #expect(dataset.clients.count == 913)
    #expect(dataset.privateExampleCount == 5_278)
    #expect(dataset.evaluation.examples.count == 1_328)
    #expect(dataset.publicSplit.examples.count == 488)
  }
}
