import Foundation

/// Loads golden fixtures written by `Scripts/crosscheck/run` (peer-library outputs).
///
/// Fixtures use snake_case keys (decoded as camelCase properties) and encode infinity
/// as the JSON string "inf".
public enum Golden {
  /// Decodes `name` (e.g. "rdp_poisson.json") from a test bundle's `Fixtures` folder.
  public static func load<T: Decodable>(_ type: T.Type, _ name: String, in bundle: Bundle) throws -> T {
    guard let url = bundle.url(forResource: "Fixtures/\(name)", withExtension: nil) else {
      throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Fixtures/\(name)"])
    }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(T.self, from: Data(contentsOf: url))
  }
}
