import Accountants
import DPModel
import Foundation
import FuzzSupport

@testable import DPFederated

/// A run folder as `dpfl train --resume` reads it: the input is `config.json`, then after NUL
/// bytes `ledger.json`, `checkpoint.json` and `metrics.jsonl`. The harness writes them with a
/// manifest that matches (so inputs get past the checksums to the readers), opens the folder,
/// reads every file, checks the checkpoint against the digits model of the configuration and
/// restores the ledger, as a resume does before it trains. Nothing may trap; every error is
/// one of the run folder's.
@_cdecl("FuzzRunFolder_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  let folder = URL(fileURLWithPath: "/dev/shm/dpfl-fuzz-run-\(getpid())")
  defer { try? FileManager.default.removeItem(at: folder) }
  let files: [RunFolder.File] = [.configuration, .ledger, .checkpoint, .metrics]
  return runFuzzer(argc, argv) { bytes in
    try? FileManager.default.removeItem(at: folder)
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let parts = bytes.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false)
    var manifest = RunManifest()
    for (file, part) in zip(files, parts) {
      try? Data(part).write(to: folder.appendingPathComponent(file.rawValue))
      manifest = manifest.recording(Data(part), as: file.rawValue)
    }
    try? JSONEncoder().encode(manifest).write(to: folder.appendingPathComponent("manifest.json"))
    do {
      try resume(folder)
    } catch let error as FederatedError {
      let message = error.description
      precondition(!message.isEmpty && message.utf8.count < 64 << 10, "message too long")
    } catch {
      preconditionFailure("unexpected error type \(type(of: error)): \(error)")
    }
  }
}

/// What a resume does with the folder before it trains.
func resume(_ url: URL) throws {
  let folder = try RunFolder(existing: url)
  let configuration = try folder.readConfiguration()
  guard let checkpoint = try folder.read(Checkpoint.self, from: .checkpoint),
    let recorded = try folder.read(DPEvent.self, from: .ledger)
  else { return }
  _ = try folder.readMetrics()
  guard configuration.task == .digits, configuration.plannedRounds <= 1_000 else { return }
  let model = MultilayerPerceptron<Float>(inputs: 64, hidden: [128, 128], classes: 10, seed: 1)
    .adapted(configuration.adapterConfiguration)
  let steps = configuration.steps
  if checkpoint.problem(
    trainables: model.trainableParameters,
    optimizer: steps.serverOptimizer.optimizer(learningRate: steps.serverLearningRate),
    configuration: configuration) != nil
  {
    return
  }
  let sampler = CohortSampler(
    scheme: configuration.samplingScheme, clientCount: 100,
    cohortSize: min(configuration.clientsPerRound, 100), population: configuration.population,
    noiseCohortSize: configuration.noiseCohortSize)
  let mechanism = try CentralGaussianMechanism(
    noiseMultiplier: 1, clippingBound: 1, sampler: sampler, adaptive: nil, noiseSource: .seeded)
  var ledger = PrivacyLedger(
    plan: PrivacyPlan(sampler: sampler, delta: configuration.delta, accountant: .rdp),
    mechanism: mechanism, targetEpsilon: configuration.targetEpsilon,
    plannedRounds: configuration.plannedRounds)
  try ledger.restore(
    recorded: recorded, completedRounds: checkpoint.round, reproducibleNoise: true,
    fallbackEpsilon: checkpoint.epsilonSpent, folder: url.path)
}
