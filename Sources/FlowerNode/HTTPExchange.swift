import CCurl
import Dispatch
import Foundation

/// One HTTP POST through libcurl, off the caller's thread. libcurl rather than
/// FoundationNetworking because on Linux the latter has no way to trust a private
/// certificate authority (it reads `URLSessionCertificateAuthorityInfoFile` on Android
/// only), and a SuperLink of a real federation often has one.
struct HTTPExchange: Sendable {
  /// The answer: its HTTP status and body.
  struct Response: Sendable {
    var status: Int
    var body: Data
  }

  /// A PEM file of the certificate authorities to trust instead of the system's (`nil`:
  /// the system's).
  let rootCertificates: String?
  /// Seconds a whole exchange may take.
  let timeout: Int

  /// POSTs `body` to `url` with `headers` (name, value).
  /// - Throws: ``Failure`` when there is no HTTP answer (connection refused, TLS, timeout).
  func post(_ url: String, headers: [(String, String)], body: Data) async throws
    -> Response
  {
    try await withCheckedThrowingContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(with: Result { try perform(url, headers: headers, body: body) })
      }
    }
  }

  /// No HTTP answer, with libcurl's reason.
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  private static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

  private func perform(_ url: String, headers: [(String, String)], body: Data)
    throws -> Response
  {
    guard Self.initialised, let handle = curl_easy_init() else {
      throw Failure(description: "libcurl could not start")
    }
    defer { curl_easy_cleanup(handle) }
    var headerList: UnsafeMutablePointer<curl_slist>?
    for (name, value) in headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
    defer { curl_slist_free_all(headerList) }
    let received = ReceivedBytes()
    var errorText = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    let code: CURLcode = body.withUnsafeBytes { bodyBytes in
      url.withCString { urlText in
        errorText.withUnsafeMutableBufferPointer { errorBuffer in
          withExtendedLifetime(received) {
            var optionResults = [
              dpfl_curl_set_pointer(handle, CURLOPT_URL, urlText),
              dpfl_curl_set_long(handle, CURLOPT_POST, 1),
              dpfl_curl_set_pointer(handle, CURLOPT_POSTFIELDS, bodyBytes.baseAddress),
              dpfl_curl_set_long(handle, CURLOPT_POSTFIELDSIZE, bodyBytes.count),
              dpfl_curl_set_pointer(handle, CURLOPT_HTTPHEADER, headerList),
              dpfl_curl_set_long(handle, CURLOPT_TIMEOUT, timeout),
              dpfl_curl_set_long(handle, CURLOPT_NOSIGNAL, 1),
              dpfl_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer.baseAddress),
              dpfl_curl_set_write(
                handle, receive, Unmanaged.passUnretained(received).toOpaque()),
            ]
            if let rootCertificates {
              optionResults.append(
                rootCertificates.withCString {
                  dpfl_curl_set_pointer(handle, CURLOPT_CAINFO, $0)  // libcurl copies strings
                })
            }
            if let failed = optionResults.first(where: { $0 != CURLE_OK }) { return failed }
            return curl_easy_perform(handle)
          }
        }
      }
    }
    guard code == CURLE_OK else {
      let detail = String(
        decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      throw Failure(
        description: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
    }
    return Response(status: dpfl_curl_response_code(handle), body: received.data)
  }
}

/// The body libcurl hands over in pieces.
private final class ReceivedBytes {
  var data = Data()
}

/// libcurl's write callback: appends the piece to the ``ReceivedBytes`` behind `context`.
private func receive(
  _ bytes: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int,
  _ context: UnsafeMutableRawPointer?
) -> Int {
  let length = size * count
  guard let bytes, let context else { return length }
  Unmanaged<ReceivedBytes>.fromOpaque(context).takeUnretainedValue().data.append(
    UnsafeRawPointer(bytes).assumingMemoryBound(to: UInt8.self), count: length)
  return length
}
