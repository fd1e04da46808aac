import Foundation

/// The files of the Flower App that `dpfl flower-app` writes: a `pyproject.toml` with the
/// run's settings, and a thin Python ServerApp that starts `dpfl flower-server` and carries
/// messages between it and the nodes (``FlowerServerLink`` describes the pipe).
enum FlowerAppFiles {
  /// `pyproject.toml` for a run of `dpfl` (the executable's path), writing `runDir`, with
  /// `nodes` nodes and `arguments` for `dpfl flower-server`.
  static func pyproject(
    flowerVersion: String, dpfl: String, runDir: String, nodes: Int, joinTimeout: Double,
    roundTimeout: Double, arguments: [String]
  ) -> String {
    let argumentsJSON = String(
      decoding: try! JSONSerialization.data(
        withJSONObject: arguments, options: [.withoutEscapingSlashes]),
      as: UTF8.self)
    return """
      [build-system]
      requires = ["hatchling"]
      build-backend = "hatchling.build"

      [project]
      name = "dpfl-app"
      version = "1.0.0"
      description = "Private federated fine-tuning with dpfl on Flower: dpfl's server side, dpfl nodes"
      license = "Apache-2.0"
      dependencies = ["flwr==\(flowerVersion)", "numpy"]

      [tool.hatch.build.targets.wheel]
      packages = ["."]

      [tool.flwr.app]
      publisher = "dpfl"

      [tool.flwr.app.components]
      serverapp = "dpfl_app.server_app:app"
      clientapp = "dpfl_app.client_app:app"

      [tool.flwr.app.config]
      dpfl = \(tomlString(dpfl))
      run-dir = \(tomlString(runDir))
      nodes = \(nodes)
      join-timeout = \(joinTimeout)
      round-timeout = \(roundTimeout)
      train-arguments = \(tomlString(argumentsJSON))

      """
  }

  /// A TOML literal string (single quotes: no escapes inside).
  private static func tomlString(_ text: String) -> String {
    precondition(!text.contains("'") && !text.contains("\n"), "\(text) needs a TOML escape")
    return "'" + text + "'"
  }

  /// The ClientApp: none runs, the nodes are dpfl's, but Flower's App format names one.
  static let clientApp = #"""
    """This federation's nodes are dpfl nodes (`dpfl node`); no Python ClientApp runs."""
    from flwr.clientapp import ClientApp

    app = ClientApp()

    """#

  /// The ServerApp.
  static let serverApp = #"""
    """dpfl's Flower ServerApp, written by `dpfl flower-app`.

    It starts `dpfl flower-server` and carries messages between it and the nodes; dpfl decides
    the cohort, accounts each round before its release, draws the noise and steps the model.
    The protocol is one JSON object per line each way (dpfl's FlowerServerLink).
    """
    import base64
    import io
    import json
    import math
    import subprocess
    import threading
    import time

    import numpy as np
    from flwr.app import Array, ArrayRecord, ConfigRecord, Context, Message, RecordDict
    from flwr.serverapp import Grid, ServerApp

    app = ServerApp()


    def _arrays(encoded: dict) -> ArrayRecord:
        return ArrayRecord({
            name: Array(np.load(io.BytesIO(base64.b64decode(data)), allow_pickle=False))
            for name, data in encoded.items()})


    def _encoded(record: ArrayRecord) -> dict:
        out = {}
        for name, array in record.items():
            buffer = io.BytesIO()
            np.save(buffer, array.numpy(), allow_pickle=False)
            out[name] = base64.b64encode(buffer.getvalue()).decode()
        return out


    def _wait_for_nodes(grid: Grid, count: int, timeout: float) -> list:
        deadline = time.time() + timeout
        while True:
            nodes = sorted(grid.get_node_ids())
            if len(nodes) >= count:
                return nodes[:count]
            if time.time() > deadline:
                raise SystemExit(f"dpfl: {len(nodes)} of {count} nodes joined within {timeout:.0f} s")
            time.sleep(1)


    def _forward(stream) -> None:
        """dpfl's progress and errors, into the run's log (`flwr log`)."""
        for line in stream:
            print(line.rstrip("\n"), flush=True)


    @app.main()
    def main(grid: Grid, context: Context) -> None:
        config = context.run_config
        nodes = _wait_for_nodes(grid, int(config["nodes"]), float(config["join-timeout"]))
        command = [str(config["dpfl"]), "flower-server", "--nodes", str(len(nodes)),
                   "--run-dir", str(config["run-dir"]),
                   "--round-timeout", str(config["round-timeout"])]
        command += json.loads(str(config["train-arguments"]))
        with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) as dpfl:
            forwarder = threading.Thread(target=_forward, args=(dpfl.stderr,), daemon=True)
            forwarder.start()
            for line in dpfl.stdout:
                request = json.loads(line)
                if request["type"] == "done":
                    print(json.dumps(request["summary"]), flush=True)
                    continue
                arrays = _arrays(request["arrays"])
                by_node_id = {nodes[m["node"]]: m["node"] for m in request["messages"]}
                messages = [
                    Message(RecordDict({"arrays": arrays, "config": ConfigRecord(m["config"])}),
                            dst_node_id=nodes[m["node"]], message_type="train",
                            group_id=str(request["round"] + 1))
                    for m in request["messages"]]
                replies, failures = [], []
                for reply in grid.send_and_receive(messages, timeout=float(request["timeout"])):
                    node = by_node_id.get(reply.metadata.src_node_id)
                    if node is None:
                        continue
                    if reply.has_error():
                        failures.append({"node": node, "reason": reply.error.reason})
                        continue
                    metrics = {k: float(v) if math.isfinite(float(v)) else None
                               for k, v in reply.content["metrics"].items()}
                    replies.append({"node": node, "arrays": _encoded(reply.content["arrays"]),
                                    "metrics": metrics})
                answered = {r["node"] for r in replies} | {f["node"] for f in failures}
                failures += [{"node": m["node"], "reason": "no reply within the round's timeout"}
                             for m in request["messages"] if m["node"] not in answered]
                dpfl.stdin.write(json.dumps({"replies": replies, "failures": failures}) + "\n")
                dpfl.stdin.flush()
        forwarder.join(timeout=5)
        if dpfl.returncode:
            raise SystemExit(f"dpfl flower-server exited with status {dpfl.returncode}")

    """#
}
