import DPModel
import Foundation

/// The built-in `digits` task: scikit-learn's 1,797 8×8 handwritten digits (committed as
/// `Resources/digits.csv`, CC BY 4.0, see `DIGITS-LICENSE.md`), shuffled with a seed into
///   - a public 30 % for non-private pre-training,
///   - a held-out 20 % for evaluation,
///   - a private 50 % dealt to clients with a Dirichlet(α) label skew.
/// The three parts are disjoint. Pixels are scaled to [0, 1].
public enum DigitsTask {
  /// The split and client layout.
  public struct Configuration: Codable, Equatable, Sendable {
    /// The number of private clients.
    public var clients = 100
    /// Dirichlet concentration of the label skew.
    public var concentration = 0.5
    /// The seed of the shuffle and the split (public).
    public var seed: UInt64 = 0

    /// The defaults: 100 clients, α = 0.5.
    public init(clients: Int = 100, concentration: Double = 0.5, seed: UInt64 = 0) {
      self.clients = clients
      self.concentration = concentration
      self.seed = seed
    }
  }

  /// The task, read from the module's resources.
  /// - Throws: ``FederatedError/malformedData(file:line:reason:)`` if the CSV is damaged.
  public static func load(_ configuration: Configuration = .init()) throws -> FederatedDataset<
    [Float]
  > {
    guard let url = Bundle.module.url(forResource: "digits", withExtension: "csv") else {
      throw FederatedError.malformedData(
        file: "digits.csv", line: 0, reason: "the resource is missing from the build")
    }
    let (images, labels) = try readCSV(url)
    var generator = Xoshiro256StarStar(seed: configuration.seed)
    let order = Array(images.indices).shuffled(using: &generator)
    let publicCount = images.count * 3 / 10
    let evaluationCount = images.count / 5
    func part(_ indices: ArraySlice<Int>, id: String) -> ClientData<[Float]> {
      ClientData(id: id, examples: indices.map { images[$0] }, labels: indices.map { labels[$0] })
    }
    let privateIndices = Array(order[(publicCount + evaluationCount)...])
    let split = DirichletSplit.split(
      labels: privateIndices.map { labels[$0] }, clients: configuration.clients,
      concentration: configuration.concentration, seed: configuration.seed &+ 1)
    let clients = split.enumerated().compactMap { client, positions -> ClientData<[Float]>? in
      positions.isEmpty
        ? nil : part(ArraySlice(positions.map { privateIndices[$0] }), id: "client-\(client)")
    }
    return FederatedDataset(
      name: "digits", clients: clients,
      evaluation: part(order[publicCount..<(publicCount + evaluationCount)], id: "evaluation"),
      publicSplit: part(order[..<publicCount], id: "public"), classCount: 10)
  }

  /// Reads `label,p0,…,p63` lines; pixels 0…16 become [0, 1].
  static func readCSV(_ url: URL) throws -> ([[Float]], [Int]) {
    let file = url.lastPathComponent
    guard let text = try? String(contentsOf: url, encoding: .utf8) else {
      throw FederatedError.malformedData(file: file, line: 0, reason: "not readable as UTF-8")
    }
    var images: [[Float]] = []
    var labels: [Int] = []
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated()
      .dropFirst()
    {
      let fields = line.split(separator: ",")
      guard fields.count == 65, let label = Int(fields[0]), (0..<10).contains(label) else {
        throw FederatedError.malformedData(
          file: file, line: index + 1, reason: "expected a label 0–9 and 64 pixels")
      }
      let pixels = fields.dropFirst().compactMap { Float($0) }
      guard pixels.count == 64, pixels.allSatisfy({ (0...16).contains($0) }) else {
        throw FederatedError.malformedData(
          file: file, line: index + 1, reason: "pixels must be numbers in 0…16")
      }
      images.append(pixels.map { $0 / 16 })
      labels.append(label)
    }
    return (images, labels)
  }
}
