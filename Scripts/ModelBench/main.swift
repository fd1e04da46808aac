// dpfl's side of `Scripts/bench model` and `Scripts/bench mlp`: times one training-step
// configuration and prints one JSON row on stdout. Run one configuration per process so
// the peak resident memory is that configuration's.
//
//   dpfl-model-bench --assets DIR --layers 6 --seq 32 --batch 16 --mode lora|dp-lora
//                    [--steps 20] [--warmup 3] [--rank 8] [--alpha 16] [--threads 1]
//                    [--precision float32|bf16]
//   dpfl-model-bench --model mlp --batch 32 --mode sgd|dp-sgd [--steps 20] [--warmup 3]
//
// lora:    forward, backward to the batch gradient of the LoRA factors and head, SGD step.
// dp-lora: forward, per-example gradients, clip each to C = 1, sum, add N(0, σ²C²) with
//          σ = 1 to every coordinate, divide by the batch size, SGD step (DP-SGD).
// --threads N: N threads compute a MiniLM batch's shards (TextClassifier.shardSize) at once
//             (TextClassifier.workers), OpenBLAS at one thread per call.
// --precision bf16: the frozen encoder weights in bfloat16 (BertEncoder.useBFloat16FrozenWeights).
// mlp:     the digits perceptron (64 → 128 → 128 → 10, GELU, every weight trainable) on
//          random inputs; sgd and dp-sgd are the steps above on all of its weights.
import DPModel
import Foundation

struct Options {
  var model = "minilm"
  var assets = ""
  var layers = 6
  var sequenceLength = 32
  var batchSize = 16
  var mode = "lora"
  var steps = 20
  var warmup = 3
  var rank = 8
  var alpha = 16.0
  var threads = 1
  var precision = "float32"

  init(_ arguments: [String]) {
    var iterator = arguments.makeIterator()
    while let flag = iterator.next() {
      guard let value = iterator.next() else { fail("\(flag) needs a value") }
      switch flag {
      case "--model":
        guard ["minilm", "mlp"].contains(value) else {
          fail("--model must be minilm or mlp; got \(value)")
        }
        model = value
      case "--assets": assets = value
      case "--layers": layers = parse(Int.self, flag, value)
      case "--seq": sequenceLength = parse(Int.self, flag, value)
      case "--batch": batchSize = parse(Int.self, flag, value)
      case "--mode": mode = value
      case "--steps": steps = parse(Int.self, flag, value)
      case "--warmup": warmup = parse(Int.self, flag, value)
      case "--rank": rank = parse(Int.self, flag, value)
      case "--alpha": alpha = parse(Double.self, flag, value)
      case "--threads": threads = parse(Int.self, flag, value)
      case "--precision":
        guard ["float32", "bf16"].contains(value) else {
          fail("--precision must be float32 or bf16; got \(value)")
        }
        precision = value
      default: fail("unknown flag \(flag)")
      }
    }
    let modes = model == "mlp" ? ["sgd", "dp-sgd"] : ["lora", "dp-lora"]
    if !modes.contains(mode) {
      fail("--mode must be \(modes.joined(separator: " or ")) for --model \(model); got \(mode)")
    }
    if model == "minilm", assets.isEmpty {
      fail("--assets DIR is required (Scripts/fetch-assets prints it)")
    }
    for (flag, value) in [
      ("--layers", layers), ("--seq", sequenceLength), ("--batch", batchSize), ("--steps", steps),
      ("--rank", rank), ("--threads", threads),
    ] where value < 1 {
      fail("\(flag) must be ≥ 1; got \(value)")
    }
    if model == "mlp", precision != "float32" { fail("--precision is for --model minilm") }
    if model == "mlp", threads != 1 {
      fail("--threads is for --model minilm (the perceptron uses OPENBLAS_NUM_THREADS)")
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

/// Prints one JSON row: `fields` with the implementation, the peak memory and OpenBLAS's
/// kernel added.
func printRow(_ fields: [String: Any], allocatorTuned: Bool) {
  var row = fields
  row["impl"] = "dpfl"
  row["peak_rss_mb"] = peakResidentMegabytes()
  row["allocator_tuned"] = allocatorTuned
  row["openblas_core"] = OpenBLASKernel.coreName
  let json = try! JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
  print(String(decoding: json, as: UTF8.self))
}

func peakResidentMegabytes() -> Double {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return Double(usage.ru_maxrss) / 1024
}

OpenBLASKernel.reexecuteWithMatchingKernel()
let allocatorTuned = Allocator.keepFreedBlocks()
let options = Options(Array(CommandLine.arguments.dropFirst()))
if options.model == "mlp" {
  printRow(perceptronBenchmark(options), allocatorTuned: allocatorTuned)
  exit(0)
}
var encoder: BertEncoder<Float>
do {
  encoder = try BertEncoder(
    folder: URL(fileURLWithPath: options.assets), layers: options.layers,
    adapters: AdapterConfiguration(kind: .lora, rank: options.rank, alpha: options.alpha))
} catch {
  fail("\(error)")
}
if options.precision == "bf16" {
  guard BFloat16Weight.isSupported else {
    fail("--precision bf16: this CPU cannot run oneDNN's bfloat16 products")
  }
  encoder.useBFloat16FrozenWeights()
}
var model = TextClassifier(encoder: encoder, classes: 2, seed: 1)
model.workers = options.threads
OpenBLASKernel.setThreadsPerCall(1)
var generator = Xoshiro256StarStar(seed: 2)
let vocabulary = encoder.configuration.vocabSize
let batches = (0..<4).map { _ in
  TokenBatch(
    ids: (0..<(options.batchSize * options.sequenceLength)).map { _ in
      Int.random(in: 1000..<vocabulary, using: &generator)
    },
    typeIDs: Array(repeating: 0, count: options.batchSize * options.sequenceLength),
    mask: Array(repeating: true, count: options.batchSize * options.sequenceLength),
    sequenceLength: options.sequenceLength)
}
let labels = (0..<4).map { _ in
  (0..<options.batchSize).map { _ in Int.random(in: 0..<2, using: &generator) }
}
let seconds = timeTrainingSteps(
  &model, batches: Array(zip(batches, labels)), privately: options.mode == "dp-lora",
  warmup: options.warmup, steps: options.steps, generator: &generator)
printRow(
  [
    "layers": options.layers, "seq": options.sequenceLength, "mode": options.mode,
    "batch": options.batchSize,
    "examples_per_second": Double(options.batchSize * options.steps) / seconds,
    "steps": options.steps, "warmup": options.warmup, "workers": options.threads,
    "precision": options.precision,
    "trainable_parameters": model.trainableParameters.scalarCount,
  ], allocatorTuned: allocatorTuned)
