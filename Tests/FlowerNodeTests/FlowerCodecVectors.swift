import Foundation

/// Flower's own encoding of known content, written by the pinned wheel
/// (`Scripts/flower/.venv/bin/python Scripts/flower/codec_vectors.py
/// Tests/FlowerNodeTests/Fixtures/flower-codec-vectors.json`).
struct FlowerCodecVectors: Decodable {
  struct Object: Decodable {
    let id: String
    let content: Data
  }
  struct Chunk: Decodable {
    let id: String
    let content: Data
  }
  struct ArrayValues: Decodable {
    let dtype: String
    let shape: [Int]
    let values: [Double]
  }
  struct ErrorMessage: Decodable {
    let code: Int64
    let reason: String
    let id: String
    let content: Data
    let objects: [String]
  }
  struct NpyCase: Decodable {
    let name: String
    let dtype: String
    let shape: [Int]
    let values: [Double]
    let file: Data
  }

  let flwr: String
  let chunk_bytes: Int
  let array_chunk_abc: Chunk
  let arrays: [String: ArrayValues]
  let content_root: String
  let message_root: String
  let objects: [Object]
  let error_message: ErrorMessage
  let npy: [NpyCase]

  static let shared: FlowerCodecVectors = {
    let url = Bundle.module.url(
      forResource: "Fixtures/flower-codec-vectors", withExtension: "json")!
    return try! JSONDecoder().decode(FlowerCodecVectors.self, from: Data(contentsOf: url))
  }()
}
