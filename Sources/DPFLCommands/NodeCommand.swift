import ArgumentParser
import DPFederated
import FlowerNode
import Foundation

/// `dpfl node`: a Flower SuperNode in Swift. It joins a Flower SuperLink over the Fleet API
/// and answers the `train` instructions of a dpfl ServerApp (`dpfl flower-app`) with the
/// client side of the run: local training on its own share of the task, then the clip.
struct NodeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "node",
    abstract: "Join a Flower federation as a node that trains on its own data.",
    discussion: """
      Registers with the Flower SuperLink at --superlink (its Fleet API, HTTP), then waits \
      for the ServerApp's instructions. Each instruction carries the run's configuration and \
      the round's public choices; the node builds the same model as the server (the same \
      code) and answers with its clipped update. Each node is one client: on a built-in \
      task partition I of N holds the task's clients c with c mod N = I, and --nodes K hosts \
      partitions I … I+K−1 in one process, each with its own key. On --task jsonl a node's \
      data is its own --data file (all of it one user), checked against the server's classes \
      and public file (--public-data, the same file as the server's). At example level (the server's --privacy-unit \
      example) a node draws its local batches, and its local noise, from its OS CSPRNG: \
      the server's seeds would tell the server which examples a step used.

      Each node keeps its own ledger (--ledger-dir): every round it answers is composed \
      there, without amplification by the cohort sampling (the node cannot check the \
      server's secret draw), and written to disk before the reply leaves; at example level \
      the event is the node's own local DP-SGD, at its own number of examples. A round that \
      would take the node past its own --epsilon at --delta gets no reply. With DP-BREM a \
      node keeps its user's momentum between rounds, in --ledger-dir too \
      (node-state-partition-I.json), written before each reply: a node that restarts \
      continues from it.

      \(ExitStatus.help)

      Examples:
        dpfl node --superlink 127.0.0.1:9095 --insecure --partition 0 --partitions 4
        dpfl node --superlink 127.0.0.1:9095 --insecure --partition 0 --partitions 20 --nodes 20
        dpfl node --superlink link.example.org:9095 --data my-reviews.jsonl --public-data public.jsonl
      """)

  @Option(help: "The SuperLink's Fleet API, HOST:PORT.")
  var superlink: String
  @Flag(help: "Plain HTTP (loopback and tests); without it the node speaks HTTPS.")
  var insecure = false
  @Option(help: "PEM file of the root certificates that sign the SuperLink's TLS certificate.")
  var rootCertificates: String?
  @Option(help: "A built-in task: the first partition this process serves.")
  var partition = 0
  @Option(help: "A built-in task: partitions in the federation (its nodes).")
  var partitions: Int?
  @Option(
    help:
      "--task jsonl: the node's own JSON Lines file, all of it one user (give it once per hosted node)."
  )
  var data: [String] = []
  @Option(help: "--task jsonl: the node's copy of the server's --public-data file.")
  var publicData: String?
  @Option(help: "Nodes this process hosts (consecutive partitions, or one per --data).")
  var nodes = 1
  @Option(help: "Stop after answering this many instructions in all (default: run until stopped).")
  var maxMessages: Int?
  @Option(help: "Seconds between polls for instructions.")
  var pollInterval = 1.0
  @Option(
    help:
      "The node's own budget: it answers no round that would take its data past this ε (counted without the cohort sampling's amplification; inf: no limit, which a run without privacy needs)."
  )
  var epsilon = 10.0
  @Option(help: "δ of the node's own budget.")
  var delta = 1e-6
  @Option(
    help:
      "Folder of the nodes' own ledgers (node-ledger-partition-I.json) and DP-BREM momenta (node-state-partition-I.json)."
  )
  var ledgerDir = "."
  @Option(
    help:
      "Seconds the nodes keep trying a SuperLink that stopped answering before they exit (it may be restarting; 0: exit at once)."
  )
  var reconnectTimeout = 600.0

  func validate() throws {
    if data.isEmpty {
      guard let partitions, partitions >= 1 else {
        throw ValidationError(
          "--partitions \(partitions.map(String.init) ?? "none") must be at least 1 (or give --data FILE for --task jsonl)."
        )
      }
      guard nodes >= 1, partition >= 0, partition + nodes <= partitions else {
        throw ValidationError(
          "--partition \(partition) --nodes \(nodes) must lie within 0..<\(partitions) (--partitions)."
        )
      }
      if let publicData {
        throw ValidationError("--public-data \(publicData) goes with --data (--task jsonl).")
      }
    } else {
      guard partitions == nil, partition == 0 else {
        throw ValidationError(
          "--partition and --partitions choose a built-in task's share; with --data the node's file is its data."
        )
      }
      guard data.count == nodes else {
        throw ValidationError(
          "--data is given \(data.count) time(s) for --nodes \(nodes): give one file per hosted node."
        )
      }
      for file in data + [publicData].compactMap({ $0 })
      where !FileManager.default.isReadableFile(atPath: file) {
        throw ValidationError("\(file): no readable file (a JSON Lines file).")
      }
      let stems = data.map(Self.fileStem)
      guard Set(stems).count == stems.count else {
        throw ValidationError(
          "--data files \(data.joined(separator: ", ")) share a name: each node's ledger is named after its file."
        )
      }
    }
    if insecure && rootCertificates != nil {
      throw ValidationError("--insecure and --root-certificates exclude each other.")
    }
    if let rootCertificates, !FileManager.default.isReadableFile(atPath: rootCertificates) {
      throw ValidationError(
        "--root-certificates \(rootCertificates): no readable file (a PEM file of certificate authorities)."
      )
    }
    guard epsilon > 0, delta > 0, delta < 1 else {
      throw ValidationError("--epsilon \(epsilon) must be > 0 and --delta \(delta) in (0, 1).")
    }
    guard reconnectTimeout >= 0, reconnectTimeout.isFinite else {
      throw ValidationError(
        "--reconnect-timeout \(reconnectTimeout) must be a number of seconds ≥ 0.")
    }
    if let maxMessages, maxMessages < 1 {
      throw ValidationError("--max-messages \(maxMessages) must be at least 1.")
    }
  }

  func run() throws {
    TrainCommand.prepareProcessForTraining()
    try TrainCommand.reportingErrors {
      do {
        try runBlocking { try await serve() }
      } catch let error as FleetError {
        FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
        throw ExitCode(ExitStatus.unavailable)
      }
    }
  }

  /// Joins every hosted node, answers instructions until `--max-messages` or a signal, and
  /// leaves: also when joining a later node or answering fails, so that no node stays
  /// registered with the SuperLink after the process has gone.
  private func serve() async throws {
    let roster = NodeRoster()
    let answered: Int
    do {
      for _ in 0..<nodes {
        let client = FleetClient(
          address: superlink, insecure: insecure, rootCertificates: rootCertificates,
          credentials: FleetCredentials())
        await roster.append(try await FleetNode.join(client))
      }
      log(
        "joined \(superlink) as \(nodes) node(s): \(await roster.nodes.map { String($0.nodeID) }.joined(separator: ", "))"
      )
      answered = try await answerInstructions(roster)
    } catch {
      let joined = await roster.nodes
      for node in joined { try? await node.leave() }
      if !joined.isEmpty { log("left \(superlink) after an error") }
      throw error
    }
    for node in await roster.nodes { try? await node.leave() }
    log("left \(superlink) after \(answered) instruction(s)")
  }

  /// Answers the joined nodes' instructions until `--max-messages` or a signal, and returns
  /// how many it answered.
  private func answerInstructions(_ roster: NodeRoster) async throws -> Int {
    let stop = StopSignal()
    let heartbeats = Task {
      while !Task.isCancelled {
        try? await Task.sleep(for: .seconds(await roster.nodes[0].heartbeatInterval / 3))
        for node in await roster.nodes { try? await node.heartbeat() }
      }
    }
    defer { heartbeats.cancel() }
    var services: [Int: FlowerClientService] = [:]
    var ledgers = try (0..<nodes).map { offset in
      try NodeLedger(
        url: URL(fileURLWithPath: ledgerDir).appendingPathComponent(
          "node-ledger-" + nodeFileStem(offset: offset) + ".json"),
        epsilon: epsilon, delta: delta)
    }
    var answered = 0
    var unreachableSince: Date?
    while !stop.isRaised, maxMessages.map({ answered < $0 }) ?? true {
      var idle = true
      for (offset, node) in await roster.nodes.enumerated() {
        let pulled: FlowerInstruction?
        do {
          pulled = try await node.pullInstruction()
          if unreachableSince != nil { log("the SuperLink answers again") }
          unreachableSince = nil
        } catch {
          switch error {
          case .unreachable(_, let reason):
            // A SuperLink restarting with its database keeps the nodes and their runs: wait.
            if unreachableSince == nil {
              log("the SuperLink stopped answering (\(reason)); waiting for it")
              unreachableSince = Date()
            }
            guard Date().timeIntervalSince(unreachableSince!) < reconnectTimeout else {
              throw error
            }
          case .refused(_, 401, _):
            // The SuperLink does not know this node's key: it restarted without its
            // database. Join again with the same key; the node's own ledger is its partition's.
            let rejoined = try await FleetNode.join(node.client)
            await roster.replace(offset, with: rejoined)
            log(
              "node \(node.nodeID): the SuperLink no longer knows this node (restarted without its database); joined again as node \(rejoined.nodeID)"
            )
            idle = false
          case .refused(let rpc, let status, let detail):
            // An instruction of a run the SuperLink no longer serves (one that ended while
            // it restarted): this message is gone, later ones are not.
            log(
              "node \(node.nodeID): skipping a message the SuperLink refused (\(rpc), HTTP \(status)): \(detail)"
            )
            idle = false
          default: throw error
          }
          continue
        }
        guard let instruction = pulled else { continue }
        idle = false
        let started = Date()
        let share = partition + offset
        let name = data.isEmpty ? "partition \(share)" : "node \(data[offset])"
        guard instruction.metadata.messageType == "train" else {
          // Metrics of the node's private data, released without noise, would be a
          // release no ledger counts; dpfl evaluates on the server's held-out split.
          let reason =
            "dpfl nodes answer train messages only: a '\(instruction.metadata.messageType)' reply on private data would be a release no ledger accounts"
          log("node \(node.nodeID): declining: \(reason)")
          try await node.decline(instruction, reason: reason, since: started)
          continue
        }
        let service = try service(for: instruction.content, offset: offset, cache: &services)
        // The node's own books first: recorded on disk before anything leaves, or no reply.
        guard let reached = try ledgers[offset].authorize(service.answeredRoundEvent) else {
          let reason =
            "\(name) declines round \(instruction.metadata.groupID): it would take this node past its own ε = \(epsilon)"
          log(reason)
          try await node.decline(instruction, reason: reason, since: started)
          continue
        }
        let reply = try service.reply(to: instruction.content)
        try await node.reply(
          to: instruction.metadata, body: .content(reply),
          runtime: Date().timeIntervalSince(started))
        answered += 1
        log(
          "\(name): answered round \(instruction.metadata.groupID) (\(service.exampleCount) examples, \(String(format: "%.2f", Date().timeIntervalSince(started))) s; its own ε \(String(format: "%.4g", reached)) of \(epsilon))"
        )
      }
      if idle { try await Task.sleep(for: .seconds(pollInterval)) }
    }
    // Stay active a little: the ServerApp counts replies from a node that has already
    // left as failures.
    for _ in 0..<3 where !stop.isRaised {
      try? await Task.sleep(for: .seconds(2))
      for node in await roster.nodes { try? await node.heartbeat() }
    }
    return answered
  }

  /// The client service of hosted node `offset` for the instruction's configuration, built
  /// once.
  private func service(
    for content: FlowerRecordDict, offset: Int, cache: inout [Int: FlowerClientService]
  ) throws -> FlowerClientService {
    let instruction = try FlowerRoundContent.instruction(content)
    if let cached = cache[offset], cached.configurationJSON == instruction.configurationJSON,
      cached.dataJSON == instruction.dataJSON
    {
      return cached
    }
    let configuration = try FlowerFederation.configuration(json: instruction.configurationJSON)
    var builder: FlowerClientService.Builder
    if configuration.task == .jsonl {
      builder = .init(
        nodes: configuration.population, configurationJSON: instruction.configurationJSON,
        ownData: data.isEmpty
          ? nil
          : .init(
            file: URL(fileURLWithPath: data[offset]),
            publicData: publicData.map(URL.init(fileURLWithPath:)),
            schemaJSON: instruction.dataJSON ?? ""))
    } else {
      guard let partitions, configuration.population == partitions else {
        throw FederatedError.invalidConfiguration(
          field: "--partitions", value: partitions.map(String.init) ?? "none",
          allowed:
            "\(configuration.population), the nodes of the server's run on \(configuration.task.rawValue)"
        )
      }
      builder = .init(
        partition: partition + offset, partitions: partitions,
        configurationJSON: instruction.configurationJSON)
    }
    builder.stateFile = URL(fileURLWithPath: ledgerDir).appendingPathComponent(
      "node-state-" + nodeFileStem(offset: offset) + ".json")
    let service = try TrainingRun.run(
      configuration: configuration, assets: TrainCommand.assets, runner: builder)
    cache[offset] = service
    return service
  }

  /// What names hosted node `offset`'s ledger and state files: `partition-<k>`, or its data
  /// file's name without the extension.
  func nodeFileStem(offset: Int) -> String {
    data.isEmpty
      ? "partition-\(partition + offset)" : Self.fileStem(data[offset])
  }

  /// `file`'s name without its extension.
  static func fileStem(_ file: String) -> String {
    URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
  }

  private func log(_ line: String) {
    FileHandle.standardError.write(Data("dpfl node: \(line)\n".utf8))
  }
}

extension FleetNode {
  /// Answers `instruction` with an error reply giving `reason` (the client side declined),
  /// so the ServerApp learns at once rather than after the round's timeout.
  fileprivate func decline(_ instruction: FlowerInstruction, reason: String, since started: Date)
    async throws(FleetError)
  {
    try await reply(
      to: instruction.metadata,
      body: .error(code: FlowerReplyBody.clientDeclined, reason: reason),
      runtime: Date().timeIntervalSince(started))
  }
}

/// The nodes a `dpfl node` process hosts, shared with its heartbeats: a node that joins
/// again replaces its old self.
actor NodeRoster {
  private(set) var nodes: [FleetNode] = []

  func append(_ node: FleetNode) { nodes.append(node) }

  func replace(_ offset: Int, with node: FleetNode) { nodes[offset] = node }
}

/// Raised by SIGINT or SIGTERM, so that a node leaves the federation before it exits.
final class StopSignal: @unchecked Sendable {
  private var sources: [any DispatchSourceSignal] = []
  private let lock = NSLock()
  private var raised = false

  init() {
    for signalNumber in [SIGINT, SIGTERM] {
      signal(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber)
      source.setEventHandler { [weak self] in self?.raise() }
      source.resume()
      sources.append(source)
    }
  }

  var isRaised: Bool { lock.withLock { raised } }
  private func raise() { lock.withLock { raised = true } }
}

/// Runs `body` to completion from synchronous code (the command-line entry point).
func runBlocking(_ body: @escaping @Sendable () async throws -> Void) throws {
  final class Outcome: @unchecked Sendable { var error: (any Error)? }
  let outcome = Outcome()
  let done = DispatchSemaphore(value: 0)
  Task {
    do { try await body() } catch { outcome.error = error }
    done.signal()
  }
  done.wait()
  if let error = outcome.error { throw error }
}
