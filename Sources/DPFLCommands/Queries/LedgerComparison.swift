import Accountants

/// `dpfl account --ledger FILE --compare --format json`: one object with every
/// accountant's result, or its error, in a stable order.
struct LedgerComparison: Encodable {
  private struct Failure: Encodable {
    var accountant: String
    var error: String
  }

  private enum Entry: Encodable {
    case result(AccountResult)
    case failure(Failure)

    func encode(to encoder: any Encoder) throws {
      switch self {
      case .result(let result): try result.encode(to: encoder)
      case .failure(let failure): try failure.encode(to: encoder)
      }
    }
  }

  private var results: [Entry]

  init(_ results: [(method: AccountantKind, result: Result<AccountResult, CLIError>)]) {
    self.results = results.map { method, result in
      switch result {
      case .success(let value): return .result(value)
      case .failure(let error):
        return .failure(Failure(accountant: method.rawValue, error: error.message(.flag)))
      }
    }
  }
}
