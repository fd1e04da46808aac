// dpfl's side of `Scripts/bench model`: times one training-step configuration on
// all-MiniLM-L6-v2 and prints one JSON row on stdout. Run one configuration per process so
// the peak resident memory is that configuration's.
//
//   dpfl-model-bench --assets DIR --layers 6 --seq 32 --batch 16 --mode lora|dp-lora
//                    [--steps 20] [--warmup 3] [--rank 8] [--alpha 16]
//
// lora:    forward, backward to the batch gradient of the LoRA factors and head, SGD step.
// dp-lora: forward, per-example gradients, clip each to C = 1, sum, add N(0, σ²C²) with
//          σ = 1 to every coordinate, divide by the batch size, SGD step (DP-SGD).
import DPModel
import Foundation

struct Options {
  var assets = ""
  var layers = 6
  var sequenceLength = 32
  var batchSize = 16
  var mode = "lora"
  var steps = 20
  var warmup = 3
  var rank = 8
  var alpha = 16.0

  init(_ arguments: [String]) {
    var iterator = arguments.makeIterator()
    while let flag = iterator.next() {
      guard let value = iterator.next() else { fail("\(flag) needs a value") }
      switch flag {
      case "--assets": assets = value
      case "--layers": layers = parse(Int.self, flag, value)
      case "--seq": sequenceLength = parse(Int.self, flag, value)
      case "--batch": batchSize = parse(Int.self, flag, value)
      case "--mode":
        guard ["lora", "dp-lora"].contains(value) else { fail("--mode must be lora or dp-lora; got \(value)") }
        mode = value
      case "--steps": steps = parse(Int.self, flag, value)
      case "--warmup": warmup = parse(Int.self, flag, value)
      case "--rank": rank = parse(Int.self, flag, value)
      case "--alpha": alpha = parse(Double.self, flag, value)
      default: fail("unknown flag \(flag)")
      }
    }
    if assets.isEmpty { fail("--assets DIR is required (Scripts/fetch-assets prints it)") }
    for (flag, value) in [("--layers", layers), ("--seq", sequenceLength), ("--batch", batchSize), ("--steps", steps), ("--rank", rank)] where value < 1 {
      fail("\(flag) must be ≥ 1; got \(value)")
    }
    if warmup < 0 { fail("--warmup must be ≥ 0; got \(warmup)") }
    if !(alpha > 0) { fail("--alpha must be > 0; got \(alpha)") }
  }
}

func parse<T: LosslessStringConvertible>(_: T.Type, _ flag: String, _ value: String) -> T {
  guard let parsed = T(value) else { fail("\(flag) must be a number; got \(value)") }
  return parsed
}

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("dpfl-model-bench: \(message)\n".utf8))
  exit(64)
}

func peakResidentMegabytes() -> Double {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return Double(usage.ru_maxrss) / 1024
}

OpenBLASKernel.reexecuteWithMatchingKernel()
let allocatorTuned = Allocator.keepFreedBlocks()
let options = Options(Array(CommandLine.arguments.dropFirst()))
let encoder: BertEncoder<Float>
do {
  encoder = try BertEncoder(
    folder: URL(fileURLWithPath: options.assets), layers: options.layers,
    adapters: AdapterConfiguration(kind: .lora, rank: options.rank, alpha: options.alpha))
} catch {
  fail("\(error)")
}
var model = TextClassifier(encoder: encoder, classes: 2, seed: 1)
var generator = Xoshiro256StarStar(seed: 2)
let vocabulary = encoder.configuration.vocabSize
let batches = (0..<4).map { _ in
  TokenBatch(
    ids: (0..<(options.batchSize * options.sequenceLength)).map { _ in Int.random(in: 1000..<vocabulary, using: &generator) },
    typeIDs: Array(repeating: 0, count: options.batchSize * options.sequenceLength),
    mask: Array(repeating: true, count: options.batchSize * options.sequenceLength),
    sequenceLength: options.sequenceLength)
}
let labels = (0..<4).map { _ in (0..<options.batchSize).map { _ in Int.random(in: 0..<2, using: &generator) } }
let learningRate: Float = 0.01

@MainActor func step(_ index: Int) {
  let batch = batches[index % batches.count]
  let targets = labels[index % labels.count]
  var update: ParameterSet<Float>
  if options.mode == "lora" {
    update = model.batchGradient(batch, labels: targets).gradient
  } else {
    let (_, perExample) = model.perExampleGradients(batch, labels: targets)
    update = perExample.clippedSum(clippingBound: 1).sum
    let noisy = update.flattened().map { $0 + Float(generator.nextStandardNormal()) }
    update = update.with(flattened: noisy)
  }
  var parameters = model.trainableParameters
  parameters.add(update, scaledBy: -learningRate / Float(options.batchSize))
  model.updateTrainables(parameters)
}

for index in 0..<options.warmup { step(index) }
let start = DispatchTime.now().uptimeNanoseconds
for index in 0..<options.steps { step(index) }
let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
let row: [String: Any] = [
  "impl": "dpfl", "mode": options.mode, "layers": options.layers, "seq": options.sequenceLength,
  "batch": options.batchSize,
  "examples_per_second": Double(options.batchSize * options.steps) / seconds,
  "peak_rss_mb": peakResidentMegabytes(), "steps": options.steps, "warmup": options.warmup,
  "trainable_parameters": model.trainableParameters.scalarCount, "allocator_tuned": allocatorTuned,
  "openblas_core": OpenBLASKernel.coreName,
]
let json = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))
