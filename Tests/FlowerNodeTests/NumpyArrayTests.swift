import Testing

@testable import FlowerNode

@Suite("NumPy .npy arrays, byte for byte against NumPy 2")
struct NumpyArrayTests {
  static let cases = FlowerCodecVectors.shared.npy

  @Test("reads NumPy's file and writes the same bytes back", arguments: cases.map(\.name))
  func roundTrip(name: String) throws {
    let vector = try #require(Self.cases.first { $0.name == name })
    let array = try NumpyArray(npy: Array(vector.file))
    #expect(array.elementType.rawValue == vector.dtype)
    #expect(array.shape == vector.shape)
    #expect(array.count == vector.values.count)
    #expect(array.npy == Array(vector.file))
    if let floats = array.floatValues() {
      #expect(floats == vector.values.map(Float.init))
    }
  }

  @Test(
    "writes float32 arrays as np.save does",
    arguments: cases.filter { $0.dtype == "float32" }.map(\.name))
  func writesFloat32(name: String) throws {
    let vector = try #require(Self.cases.first { $0.name == name })
    let array = NumpyArray(float32: vector.values.map(Float.init), shape: vector.shape)
    #expect(array.npy == Array(vector.file))
  }

  @Test("refuses what it cannot read, naming the problem")
  func refusals() throws {
    let good = Array(try #require(Self.cases.first { $0.name == "float32 3x4" }).file)
    #expect(throws: NumpyArray.FormatError.notNpy) { try NumpyArray(npy: Array(good.dropFirst())) }
    var version3 = good
    version3[6] = 3
    #expect(throws: NumpyArray.FormatError.unsupportedVersion(major: 3, minor: 0)) {
      try NumpyArray(npy: version3)
    }
    #expect(throws: NumpyArray.FormatError.dataLength(expected: 48, found: 47)) {
      try NumpyArray(npy: Array(good.dropLast()))
    }
    let header = String(decoding: good[10..<128], as: UTF8.self)
    func replacing(_ old: String, _ new: String) -> [UInt8] {
      Array(good[0..<10]) + Array(header.replacingOccurrences(of: old, with: new).utf8)
        + Array(good[128...])
    }
    #expect(throws: NumpyArray.FormatError.unsupportedDescriptor(">f4")) {
      try NumpyArray(npy: replacing("'<f4'", "'>f4'"))
    }
    #expect(throws: NumpyArray.FormatError.fortranOrder) {
      try NumpyArray(npy: replacing("False", "True "))
    }
    #expect(
      NumpyArray.FormatError.unsupportedDescriptor("|b1").description
        == ".npy element type '|b1' is not supported (allowed: <f4, <f8, <i4, <i8)")
  }
}
