import Foundation
import Testing

@testable import DPFederated

/// The run folder's writer: a planted link is never followed, files are 0644.
@Suite("AtomicFile")
struct AtomicFileTests {
  @Test("a run-folder file written over a symbolic link replaces the link, mode 0644")
  func link() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dpfl-atomic-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let victim = folder.appendingPathComponent("victim")
    try Data("precious".utf8).write(to: victim)
    let run = try RunFolder(creating: folder.appendingPathComponent("run"))
    try FileManager.default.createSymbolicLink(
      at: run.path(.ledger), withDestinationURL: victim)
    try FileManager.default.createSymbolicLink(
      atPath: run.url.path + "/.ledger.json.tmp-\(getpid())", withDestinationPath: victim.path)
    try run.write(["type": "NoOp"], to: .ledger)
    #expect(try Data(contentsOf: victim) == Data("precious".utf8))
    #expect(try Data(contentsOf: run.path(.ledger)) == Data("{\"type\":\"NoOp\"}\n".utf8))
    let attributes = try FileManager.default.attributesOfItem(atPath: run.path(.ledger).path)
    #expect(attributes[.type] as? FileAttributeType == .typeRegular)
    #expect(attributes[.posixPermissions] as? Int == 0o644)
  }

  @Test("a folder that cannot be written is a runFolder error naming the file")
  func unwritable() {
    let url = URL(fileURLWithPath: "/nonexistent-dpfl/run/ledger.json")
    #expect {
      try AtomicFile.write(Data(), to: url)
    } throws: { error in
      guard case .runFolder(let path, let reason) = error as? FederatedError else { return false }
      return path == url.path && reason.contains("No such file or directory")
    }
  }
}
