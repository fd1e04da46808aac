import Foundation
import SwiftProtobuf

/// What a Fleet API call can fail with.
public enum FleetError: Error, Equatable, CustomStringConvertible {
  /// No HTTP answer (connection refused, DNS, TLS, timeout), after the retries.
  case unreachable(address: String, reason: String)
  /// The SuperLink answered 4xx: it refuses the request (bad signature, unknown node, …).
  case refused(rpc: String, status: Int, detail: String)
  /// The SuperLink answered 5xx to every attempt.
  case serverError(rpc: String, status: Int, detail: String)
  /// The answer is not the protobuf the call expects.
  case malformedResponse(rpc: String)
  /// An object of a message never became available.
  case objectUnavailable(id: String)
  /// A received object does not hash to its id or cannot be read.
  case object(FlowerObject.FormatError)
  /// A received message's content cannot be read.
  case content(FlowerContentError)

  public var description: String {
    switch self {
    case .unreachable(let address, let reason):
      "the Flower SuperLink at \(address) is unreachable: \(reason)"
    case .refused(let rpc, let status, let detail):
      "the Flower SuperLink refused \(rpc) (HTTP \(status)): \(detail)"
    case .serverError(let rpc, let status, let detail):
      "the Flower SuperLink failed \(rpc) (HTTP \(status)) on every attempt: \(detail)"
    case .malformedResponse(let rpc): "the Flower SuperLink's answer to \(rpc) is not protobuf"
    case .objectUnavailable(let id): "Flower object \(id) never became available"
    case .object(let error): error.description
    case .content(let error): error.description
    }
  }
}

/// How often and how patiently a call is retried when the SuperLink is unreachable or
/// answers 5xx, and an object is polled while it is not yet available.
public struct FleetRetryPolicy: Sendable {
  /// Attempts in all, the first included.
  public var attempts: Int
  /// The wait before the second attempt; each later wait doubles, up to `maximumDelay`.
  public var initialDelay: Duration
  /// The longest wait between attempts.
  public var maximumDelay: Duration

  public init(
    attempts: Int = 6, initialDelay: Duration = .milliseconds(200),
    maximumDelay: Duration = .seconds(5)
  ) {
    self.attempts = attempts
    self.initialDelay = initialDelay
    self.maximumDelay = maximumDelay
  }

  /// The wait after failed attempt `attempt` (0-based).
  func delay(after attempt: Int) -> Duration {
    min(initialDelay * (1 << min(attempt, 20)), maximumDelay)
  }
}

/// One SuperLink's Fleet API over HTTP(S): each call POSTs a protobuf body to
/// `/v1/fleet/<rpc>` with the node's signed headers and reads a protobuf answer.
public struct FleetClient: Sendable {
  /// `http://host:port` or `https://host:port`.
  public let baseURL: URL
  /// The node's identity.
  public let credentials: FleetCredentials
  /// Retries on transport errors and 5xx.
  public let retry: FleetRetryPolicy
  private let exchange: HTTPExchange

  /// A client of the SuperLink at `address` (`HOST:PORT`), over HTTPS unless `insecure`,
  /// trusting the certificate authorities in the PEM file `rootCertificates` (`nil`: the
  /// system's).
  public init(
    address: String, insecure: Bool, rootCertificates: String? = nil,
    credentials: FleetCredentials, retry: FleetRetryPolicy = FleetRetryPolicy()
  ) {
    self.baseURL = URL(string: (insecure ? "http://" : "https://") + address)!
    self.credentials = credentials
    self.retry = retry
    self.exchange = HTTPExchange(rootCertificates: rootCertificates, timeout: 60)
  }

  /// Calls `rpc` (`register-node`, `pull-messages`, …) with `request`.
  func call<Response: SwiftProtobuf.Message>(
    _ rpc: String, _ request: some SwiftProtobuf.Message, as _: Response.Type = Response.self
  ) async throws(FleetError) -> Response {
    let body: Data = try! request.serializedBytes()
    let url = baseURL.appendingPathComponent("v1/fleet/\(rpc)").absoluteString
    var lastFailure = FleetError.unreachable(address: baseURL.absoluteString, reason: "no attempt")
    for attempt in 0..<max(retry.attempts, 1) {
      if attempt > 0 { try? await Task.sleep(for: retry.delay(after: attempt - 1)) }
      let headers =
        [("content-type", "application/protobuf"), ("accept", "application/protobuf")]
        + credentials.headers(at: Date()).map { ($0.name, $0.value) }
      let response: HTTPExchange.Response
      do {
        response = try await exchange.post(url, headers: headers, body: body)
      } catch {
        lastFailure = .unreachable(address: baseURL.absoluteString, reason: "\(error)")
        continue
      }
      switch response.status {
      case 200:
        guard let answer = try? Response(serializedBytes: response.body) else {
          throw .malformedResponse(rpc: rpc)
        }
        return answer
      case 500...599:
        lastFailure = .serverError(
          rpc: rpc, status: response.status, detail: Self.detail(response.body))
      default:
        throw .refused(rpc: rpc, status: response.status, detail: Self.detail(response.body))
      }
    }
    throw lastFailure
  }

  /// The `detail` of a FastAPI error body, else its first 300 characters.
  private static func detail(_ body: Data) -> String {
    if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
      let detail = object["detail"]
    {
      return "\(detail)"
    }
    return String(String(decoding: body, as: UTF8.self).prefix(300))
  }
}
