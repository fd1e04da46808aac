import Crypto
import Foundation

/// A SuperNode's identity on the Fleet API: a P-256 key whose public half the SuperLink
/// registers, and the three headers that sign every request with it (`flwr-public-key`,
/// `flwr-timestamp`, `flwr-signature`: base64 PEM, ISO-8601 time, base64 DER ECDSA-SHA256
/// over the timestamp's bytes). The SuperLink refuses a request whose timestamp is more
/// than 5 s ahead of or 305 s behind its clock.
public struct FleetCredentials: Sendable {
  /// The node's private key, as its raw 32-byte scalar (what a node that rejoins keeps).
  public let privateKeyBytes: Data

  /// A fresh key.
  public init() { self.privateKeyBytes = P256.Signing.PrivateKey().rawRepresentation }

  /// An existing key (a node that rejoins keeps its identity).
  public init(privateKeyBytes: Data) throws {
    _ = try P256.Signing.PrivateKey(rawRepresentation: privateKeyBytes)
    self.privateKeyBytes = privateKeyBytes
  }

  private var privateKey: P256.Signing.PrivateKey {
    try! P256.Signing.PrivateKey(rawRepresentation: privateKeyBytes)
  }

  /// The public key as the SuperLink stores it: PEM SubjectPublicKeyInfo, newline-terminated
  /// as Python's `cryptography` writes it.
  public var publicKeyPEM: [UInt8] {
    Array((privateKey.publicKey.pemRepresentation + "\n").utf8)
  }

  /// The authentication headers of a request sent at `date`.
  public func headers(at date: Date) -> [(name: String, value: String)] {
    let timestamp = Self.timestamp(date)
    let signature = try! privateKey.signature(for: Data(timestamp.utf8)).derRepresentation
    return [
      ("flwr-public-key", Data(publicKeyPEM).base64EncodedString()),
      ("flwr-timestamp", timestamp),
      ("flwr-signature", signature.base64EncodedString()),
    ]
  }

  /// `date` in UTC as Python's `datetime.isoformat()` writes it:
  /// `2026-11-21T22:20:01.123456+00:00`.
  static func timestamp(_ date: Date) -> String {
    let seconds = date.timeIntervalSince1970
    var whole = time_t(seconds.rounded(.down))
    let micros = min(Int(((seconds - Double(whole)) * 1_000_000).rounded(.down)), 999_999)
    var parts = tm()
    gmtime_r(&whole, &parts)
    func pad(_ value: Int32, _ width: Int) -> String {
      let text = String(value)
      return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
      + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
      + ".\(pad(Int32(micros), 6))+00:00"
  }
}
