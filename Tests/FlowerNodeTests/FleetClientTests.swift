import Foundation
import Testing

@testable import FlowerNode

/// The Fleet client's failures without a SuperLink (the exchanges that succeed, over HTTP
/// and over TLS with a private authority, are checked against the pinned SuperLink by
/// `Scripts/flower/conformance --tls` in CI).
@Suite("Fleet client")
struct FleetClientTests {
  /// A client of a loopback port nothing listens on, trying `attempts` times.
  static func client(attempts: Int) -> FleetClient {
    FleetClient(
      address: "127.0.0.1:1", insecure: true,
      credentials: FleetCredentials(),
      retry: FleetRetryPolicy(
        attempts: attempts, initialDelay: .milliseconds(1), maximumDelay: .milliseconds(2)))
  }

  static func register(_ client: FleetClient) async -> FleetError? {
    do {
      let _: Flwr_Proto_RegisterNodeFleetResponse = try await client.call(
        "register-node", Flwr_Proto_RegisterNodeFleetRequest())
      return nil
    } catch {
      return error
    }
  }

  @Test("a refused connection is unreachable after the retries, with libcurl's reason")
  func refusedConnection() async {
    let error = await Self.register(Self.client(attempts: 3))
    guard case .unreachable(let address, let reason) = error else {
      Issue.record("expected unreachable, got \(String(describing: error))")
      return
    }
    #expect(address == "http://127.0.0.1:1")
    #expect(reason.lowercased().contains("connect"), "\(reason)")
  }
}
