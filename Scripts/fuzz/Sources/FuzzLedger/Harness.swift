import Accountants
import Foundation
import FuzzSupport

@testable import DPFLCommands

/// A ledger as `dpfl account --ledger FILE` reads it: strict JSON, then `DPEvent`; a ledger
/// that decodes is described and its parameters validated (accounting itself is not run:
/// the accountants' cost on huge counts is another issue).
@_cdecl("FuzzLedger_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv) { bytes in
    do throws(CLIError) {
      let ledger = try LedgerQuery.decodeLedger(Data(bytes), source: "ledger.json")
      _ = ledger.summary
      _ = ledger.parameterFailure()
      _ = try? JSONEncoder().encode(ledger)
    } catch {
      let message = error.message(.flag)
      precondition(!message.contains("\n"), "a multi-line message")
      precondition(message.utf8.count < 2048, "message too long: \(message.utf8.count) bytes")
    }
  }
}
