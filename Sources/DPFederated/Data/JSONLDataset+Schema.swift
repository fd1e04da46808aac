import Foundation

extension JSONLDataset {
  /// What the nodes of a Flower run on JSON Lines agree on with its server, which holds no
  /// user's data: the classes (so that a node whose file lacks a class numbers the others as
  /// the server does), the kind of examples, and the public file (the head's centre or the
  /// pre-training, which must be the same on every machine for the model to be).
  public struct Schema: Codable, Equatable, Sendable {
    /// The class names in class-id order, when labels are names.
    public var classNames: [String]?
    /// The number of classes (the model's head).
    public var classCount: Int
    /// The length of every feature vector; `nil` for text.
    public var featureCount: Int?
    /// SHA-256 of the public file (`--public-data`), hex; `nil` without one.
    public var publicDataSHA256: String?

    enum CodingKeys: String, CodingKey {
      case classNames = "class_names", classCount = "class_count"
      case featureCount = "feature_count", publicDataSHA256 = "public_data_sha256"
    }

    /// The schema of a loaded dataset and its public file.
    /// - Throws: when the public file cannot be read.
    public init<Example>(_ dataset: FederatedDataset<Example>, publicData: URL?) throws {
      classNames = dataset.classNames
      classCount = dataset.classCount
      featureCount = (dataset.firstExample as? [Float])?.count
      publicDataSHA256 = try publicData.map { try RunManifest.sha256(file: $0) }
    }

    /// The schema as JSON, keys sorted (what a Flower instruction carries).
    public var json: String {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// A schema received from the server.
    /// - Throws: ``FederatedError/invalidSettings(_:)`` when it does not parse.
    public init(json: String) throws {
      guard let schema = try? JSONDecoder().decode(Self.self, from: Data(json.utf8)),
        schema.classCount >= 1, schema.classNames.map({ $0.count == schema.classCount }) ?? true
      else { throw FederatedError.invalidSettings("the server's dpfl-data is not a data schema") }
      self = schema
    }

    /// Why labels read as `reader` read them are not among this schema's classes, or `nil`
    /// when they are (the kinds of example and label the reader checked line by line).
    func mismatch(_ reader: Reader, file: String) -> String? {
      if let classNames {
        let known = Set(classNames)
        let unknown = reader.names.filter { !known.contains($0) }
        if !unknown.isEmpty {
          return
            "\(file) has labels that are not among the server's \(classCount) classes (\(classNames.prefix(10).map(Described.quoted).joined(separator: ", "))\(classCount > 10 ? ", …" : "")): \(unknown.prefix(5).map(Described.quoted).joined(separator: ", "))"
        }
      } else if reader.maximumLabel >= classCount {
        return
          "\(file) has label \(reader.maximumLabel); the server's run has classes 0..<\(classCount)"
      }
      return nil
    }
  }
}
