import Crypto
import Foundation
import Testing

@testable import FlowerNode

@Suite("Signed Fleet requests")
struct FleetCredentialsTests {
  @Test("timestamps read as Python's datetime.isoformat() writes them")
  func timestamps() {
    #expect(
      FleetCredentials.timestamp(Date(timeIntervalSince1970: 1_764_800_000.125))
        == "2025-12-03T22:13:20.125000+00:00")
    #expect(
      FleetCredentials.timestamp(Date(timeIntervalSince1970: 951_782_400.999999))
        == "2000-02-29T00:00:00.999999+00:00")
  }

  @Test("the signature is a DER ECDSA-SHA256 over the timestamp, by the key in the header")
  func signatureVerifies() throws {
    let credentials = FleetCredentials()
    let headers = Dictionary(
      uniqueKeysWithValues: credentials.headers(at: Date()).map {
        ($0.name, $0.value)
      })
    let pem = String(
      decoding: try #require(Data(base64Encoded: headers["flwr-public-key"]!)), as: UTF8.self)
    #expect(
      pem.hasPrefix("-----BEGIN PUBLIC KEY-----\n") && pem.hasSuffix("-----END PUBLIC KEY-----\n"))
    let key = try P256.Signing.PublicKey(pemRepresentation: pem)
    let signature = try P256.Signing.ECDSASignature(
      derRepresentation: try #require(Data(base64Encoded: headers["flwr-signature"]!)))
    let timestamp = try #require(headers["flwr-timestamp"])
    #expect(key.isValidSignature(signature, for: Data(timestamp.utf8)))
    #expect(!key.isValidSignature(signature, for: Data((timestamp + " ").utf8)))
  }

  @Test("a node that rejoins keeps its key")
  func keyRoundTrip() throws {
    let credentials = FleetCredentials()
    let again = try FleetCredentials(privateKeyBytes: credentials.privateKeyBytes)
    #expect(again.publicKeyPEM == credentials.publicKeyPEM)
    #expect(throws: (any Error).self) { try FleetCredentials(privateKeyBytes: Data([1, 2, 3])) }
  }
}
