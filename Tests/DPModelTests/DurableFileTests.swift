import Foundation
import Testing

@testable import DPModel

/// The write path of model files: atomic, durable, never following a planted link, never
/// group- or world-writable.
@Suite("DurableFile")
final class DurableFileTests {
  let folder: URL

  init() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("dpfl-durable-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: folder) }

  func mode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.posixPermissions] as? Int) ?? -1
  }

  @Test("a write replaces the file, mode 0644, and leaves no temporary file behind")
  func replaces() throws {
    let url = folder.appendingPathComponent("adapter.safetensors")
    try DurableFile.write(Data("old".utf8), to: url)
    try DurableFile.write(Data("new".utf8), to: url)
    #expect(try Data(contentsOf: url) == Data("new".utf8))
    #expect(try mode(url.path) == 0o644)
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["adapter.safetensors"])
  }

  @Test("group and world write bits are cleared even when asked for")
  func notWorldWritable() throws {
    let url = folder.appendingPathComponent("x.json")
    try DurableFile.write(Data("{}".utf8), to: url, permissions: 0o666)
    #expect(try mode(url.path) == 0o644)
  }

  @Test("a symbolic link at the destination is replaced, not followed")
  func linkAtDestination() throws {
    let victim = folder.appendingPathComponent("victim.txt")
    try Data("precious".utf8).write(to: victim)
    let url = folder.appendingPathComponent("adapter.safetensors")
    try FileManager.default.createSymbolicLink(at: url, withDestinationURL: victim)
    try Safetensors.write([Tensor(name: "w", shape: [1], floats: [1])], to: url)
    #expect(try Data(contentsOf: victim) == Data("precious".utf8))
    let type =
      try FileManager.default.attributesOfItem(atPath: url.path)[.type] as? FileAttributeType
    #expect(type == .typeRegular)
    #expect(try Safetensors.read(contentsOf: url).tensors.map(\.name) == ["w"])
  }

  @Test("a symbolic link planted at a temporary name is refused, not followed")
  func linkAtTemporaryName() throws {
    let victim = folder.appendingPathComponent("victim.txt")
    try Data("precious".utf8).write(to: victim)
    let url = folder.appendingPathComponent("adapter.safetensors")
    // The exclusive open refuses a planted link (EEXIST) and writes nothing through it.
    let planted = DurableFile.temporaryPath(for: url)
    try FileManager.default.createSymbolicLink(
      atPath: planted, withDestinationPath: victim.path)
    let descriptor = DurableFile.openExclusive(planted)
    #expect(descriptor == -1 && errno == EEXIST)
    // The names the old writer used (".name.tmp-<pid>") are links too; the write still
    // succeeds under a fresh name and the victim is untouched.
    try FileManager.default.createSymbolicLink(
      atPath: folder.path + "/.adapter.safetensors.tmp-\(getpid())",
      withDestinationPath: victim.path)
    try DurableFile.write(Data("weights".utf8), to: url)
    #expect(try Data(contentsOf: victim) == Data("precious".utf8))
    #expect(try Data(contentsOf: url) == Data("weights".utf8))
  }

  @Test("an unwritable folder is a ModelError naming the file and the step")
  func unwritable() {
    let url = URL(fileURLWithPath: "/nonexistent-dpfl/adapter.safetensors")
    #expect {
      try DurableFile.write(Data(), to: url)
    } throws: { error in
      guard case .fileUnwritable(let file, let reason) = error as? ModelError else { return false }
      return file == url.path
        && reason.hasPrefix("creating a temporary file in /nonexistent-dpfl failed")
    }
  }
}
