import Foundation

/// Loads golden fixtures written by `Scripts/crosscheck/run` (peer-library outputs).
///
/// Fixtures use snake_case keys (decoded as camelCase properties) and encode infinity
/// as the JSON string "inf".
public enum Golden {
  /// Decodes `name` (e.g. "rdp_poisson.json") from a test bundle's `Fixtures` folder.
  public static func load<T: Decodable>(_ type: T.Type, _ name: String, in bundle: Bundle) throws
    -> T
  {
    guard let url = bundle.url(forResource: "Fixtures/\(name)", withExtension: nil) else {
      throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Fixtures/\(name)"])
    }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try decoder.decode(T.self, from: Data(contentsOf: url))
  }

  /// ``load(_:_:in:)`` for static fixtures shared by a suite: a missing or malformed
  /// fixture stops the run with the file name and the decoding error.
  public static func required<T: Decodable>(_ type: T.Type, _ name: String, in bundle: Bundle) -> T
  {
    do {
      return try load(type, name, in: bundle)
    } catch {
      preconditionFailure("cannot load fixture \(name): \(error)")
    }
  }
}
