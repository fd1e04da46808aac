/// One client's private examples and their labels.
public struct ClientData<Example: Sendable>: Sendable {
  /// The client's identifier (e.g. `user_id`, or a play and role).
  public var id: String
  /// The examples, in a fixed order.
  public var examples: [Example]
  /// One label per example.
  public var labels: [Int]

  /// A client.
  /// - Precondition: one label per example.
  public init(id: String, examples: [Example], labels: [Int]) {
    precondition(
      examples.count == labels.count,
      "client \(id): \(examples.count) examples, \(labels.count) labels")
    self.id = id
    self.examples = examples
    self.labels = labels
  }
}

/// A federated task: clients with private data, a central evaluation set, a public
/// split for non-private pre-training (possibly empty), and the class count.
public struct FederatedDataset<Example: Sendable>: Sendable {
  /// The task's name as the CLI spells it (`digits`, …).
  public var name: String
  /// The private clients.
  public var clients: [ClientData<Example>]
  /// Held-out examples for accuracy (never trained on).
  public var evaluation: ClientData<Example>
  /// Public examples for pre-training, disjoint from every client.
  public var publicSplit: ClientData<Example>
  /// The number of classes.
  public var classCount: Int
  /// The class names in class-id order, when the data names its classes (JSON Lines with
  /// name labels).
  public var classNames: [String]? = nil

  /// The first example of the clients, else of the evaluation split, else of the public
  /// split (a Flower server's clients hold none): what fixes a feature vector's length.
  public var firstExample: Example? {
    clients.lazy.flatMap(\.examples).first ?? evaluation.examples.first
      ?? publicSplit.examples.first
  }

  /// The number of private examples over all clients.
  public var privateExampleCount: Int { clients.reduce(0) { $0 + $1.examples.count } }
}
