"""Runs named dpfl train configurations and records what they learned, for
docs/federated-learning-diagnosis.md.

  python3 Scripts/federated_diagnosis.py --dpfl .build/release/dpfl --out runs/diagnosis \\
      --jobs 2 --seeds 0 --only NAME [NAME ...]

Each run's folder is <out>/<name>-s<seed>/ (dpfl's run folder); one JSON line per run is
appended to <out>/results.jsonl: the name, flags, seed, the accuracy before and after, the
accuracy every tenth round (metrics.jsonl), the wall time, and the L2 norms of the trained
tensors by kind (LoRA A, LoRA B, head weight, head bias) read from adapter.safetensors.
Standard library only. Progress on stderr. OPENBLAS_NUM_THREADS=1 for every run.
"""
import argparse
import array
import concurrent.futures
import json
import math
import os
import pathlib
import struct
import subprocess
import sys
import time

SHAKESPEARE = ["--task", "shakespeare-genre", "--no-privacy", "--method", "dp-lora"]



def fedsgd_c50(rate, *extra, rounds="60", head=False, cohort="50"):
    """The fix's loop with cohorts of 50 (section 7): one local step per client (batch 64),
    server Adam at `rate`, α = 16 (or the head alone), for `rounds`; then `extra` flags."""
    model = ["--method", "head-only"] if head else ["--alpha", "16"]
    return (["--rounds", rounds, "--cohort-size", cohort, "--local-batch-size", "64"] + model
            + ["--server-optimizer", "adam", "--server-learning-rate", rate] + list(extra))


def example_eps8(method, *extra, rounds="60"):
    """Example level at ε = 8 in the text loop (section 7.5): one DP-SGD step per client over
    all its examples, per-example clip C = 4, server Adam 3e-3, cohorts of 50."""
    return (["--privacy", "--privacy-unit", "example", "--epsilon", "8", "--delta", "1e-6",
             "--method", method, "--clipping-bound", "4", "--rounds", rounds,
             "--cohort-size", "50", "--local-batch-size", "64", "--local-learning-rate", "0.125",
             "--server-optimizer", "adam", "--server-learning-rate", "0.003"] + list(extra))


# name -> flags (after SHAKESPEARE unless the flags give their own --task/--method).
CONFIGURATIONS = {
    # Last session's rows: 30 rounds, local SGD 0.03, α = 2, server SGD 1 (FedAvg).
    "baseline-a2": ["--rounds", "30", "--local-learning-rate", "0.03", "--alpha", "2"],
    "baseline-a16": ["--rounds", "30", "--local-learning-rate", "0.03", "--alpha", "16"],
    "head-sgd": ["--rounds", "30", "--local-learning-rate", "0.03", "--method", "head-only"],
    # Server Adam (FedAdam) at a few server learning rates.
    "adam1e-2-a16": ["--rounds", "30", "--local-learning-rate", "0.03", "--alpha", "16",
                     "--server-optimizer", "adam", "--server-learning-rate", "0.01"],
    "adam3e-3-a16": ["--rounds", "30", "--local-learning-rate", "0.03", "--alpha", "16",
                     "--server-optimizer", "adam", "--server-learning-rate", "0.003"],
    "adam3e-2-a16": ["--rounds", "30", "--local-learning-rate", "0.03", "--alpha", "16",
                     "--server-optimizer", "adam", "--server-learning-rate", "0.03"],
    "head-adam1e-2": ["--rounds", "30", "--local-learning-rate", "0.03", "--method", "head-only",
                      "--server-optimizer", "adam", "--server-learning-rate", "0.01"],
    # Local steps: more epochs, larger local learning rate.
    "sgd-e4-a16": ["--rounds", "30", "--local-learning-rate", "0.03", "--alpha", "16",
                   "--local-epochs", "4"],
    "sgd-lr0.3-a16": ["--rounds", "30", "--local-learning-rate", "0.3", "--alpha", "16"],
    "momentum-a16": ["--rounds", "30", "--local-learning-rate", "0.03", "--alpha", "16",
                     "--server-optimizer", "momentum", "--server-learning-rate", "1"],
    # The fix (section 4): one local step per client (FedSGD), server Adam, α = 16.
    "fedsgd-adam3e-3-a16": ["--rounds", "60", "--local-batch-size", "64", "--alpha", "16",
                            "--server-optimizer", "adam", "--server-learning-rate", "0.003"],
    # The fix with larger cohorts (section 7): 50 one-label clients a step instead of 20.
    "fedsgd-adam3e-3-a16-c50": fedsgd_c50("0.003"),
    # The fix with a cosine-annealed server learning rate (section 7.3): 60 and 120 rounds.
    # Larger cohorts (section 7.7): 150 of the 370 clients, and all of them (no cohort
    # sampling at all: the server's step is the full gradient of the user-weighted loss).
    "fedsgd-adam3e-3-a16-c150": fedsgd_c50("0.003", cohort="150"),
    "fedsgd-adam3e-3-a16-c370": fedsgd_c50("0.003", cohort="370"),
    "fedsgd-adam3e-3-a16-c50-cosine": fedsgd_c50("0.003", "--server-schedule", "cosine"),
    "fedsgd-adam1e-2-a16-c50-cosine": fedsgd_c50("0.01", "--server-schedule", "cosine"),
    "fedsgd-adam3e-3-a16-c50-r120-cosine": fedsgd_c50("0.003", "--server-schedule", "cosine",
                                                      rounds="120"),
    # Capped example weights (section 7.3): each client's mean gradient times min(n/64, 1),
    # so that the server's mean follows the examples as the centralised loss does.
    "fedsgd-adam3e-3-a16-c50-w64": fedsgd_c50("0.003", "--client-weight-cap", "64"),
    "fedsgd-adam1e-2-a16-c50-cosine-w64": fedsgd_c50("0.01", "--server-schedule", "cosine",
                                                     "--client-weight-cap", "64"),
    "head-fedsgd-adam1e-2-c50-cosine-w64": fedsgd_c50("0.01", "--server-schedule", "cosine",
                                                      "--client-weight-cap", "64", head=True),
    "head-fedsgd-adam3e-3": ["--rounds", "60", "--method", "head-only", "--local-batch-size", "64",
                             "--server-optimizer", "adam", "--server-learning-rate", "0.003"],
    "head-fedsgd-adam3e-3-c50": fedsgd_c50("0.003", head=True),
    # The fix's private row on shakespeare-genre (user level, ε = 2, local learning rate 1,
    # cohorts of 50).
    "fedsgd-adam3e-3-a16-c50-eps2": ["--privacy", "--epsilon", "2", "--rounds", "60",
                                     "--cohort-size", "50", "--local-batch-size", "64",
                                     "--local-learning-rate", "1", "--alpha", "16",
                                     "--server-optimizer", "adam", "--server-learning-rate", "0.003"],
    # `dpfl train --task shakespeare-genre` as a new user runs it (DP-DyLoRA, ε = 2, 200
    # rounds, the text default of FedSGD with a server Adam).
    "shakespeare-defaults": ["--privacy", "--method", "dp-dylora"],
    # chitchat-topic (section 6) with the fix, cohorts of 50 (about 290 examples a round).
    "chitchat-fedsgd-adam": ["--task", "chitchat-topic", "--rounds", "100", "--cohort-size", "50",
                             "--local-batch-size", "64", "--alpha", "16",
                             "--server-optimizer", "adam", "--server-learning-rate", "0.003"],
    "chitchat-head-fedsgd-adam": ["--task", "chitchat-topic", "--method", "head-only", "--rounds", "100",
                                  "--cohort-size", "50", "--local-batch-size", "64",
                                  "--server-optimizer", "adam", "--server-learning-rate", "0.003"],
    # The private rows of the fix (section 7): user level, ε = 2 (the text tasks' default
    # simulation: noise of 1,000 of 10⁶ clients per round). Local learning rate 1, so the
    # clipped update is the client's mean gradient rather than a tiny step under the noise.
    "chitchat-fedsgd-adam-eps2": ["--task", "chitchat-topic", "--privacy", "--epsilon", "2",
                                  "--rounds", "100", "--cohort-size", "50",
                                  "--local-batch-size", "64", "--local-learning-rate", "1",
                                  "--alpha", "16", "--server-optimizer", "adam",
                                  "--server-learning-rate", "0.003"],
    # Example level in the text loop (sections 7.5 and 7.6): each client's one local step a
    # DP-SGD step over all its examples (batch 64, local sampling rate 1), per-example clip
    # C = 4, ε = 8, server Adam 3e-3; on shakespeare-genre each method, 60 rounds of 50.
    **{f"example-eps8-c4-{method}": example_eps8(method) for method in
       ("dp-lora", "dp-dylora", "ffa-lora", "fed-sb")},
    "chitchat-example-eps8-c4": example_eps8("dp-lora", "--task", "chitchat-topic", rounds="100"),
    "chitchat-example-eps8-c4-r200": example_eps8("dp-lora", "--task", "chitchat-topic",
                                                  rounds="200"),
    # The same with the noise a server adds once to the cohort's sum (σC/B on the sum, so
    # σC/(B·1,000) on the deployment's mean) instead of every client's local σC/B, emulated
    # before the mechanism existed by a population and noise cohort 1,000 times larger: the
    # sampling rate (so σ) is unchanged and the local noise on the mean shrinks by √1,000.
    "chitchat-example-eps8-c4-central-emulated": example_eps8(
        "dp-lora", "--task", "chitchat-topic", "--population", "1000000000",
        "--noise-cohort-size", "1000000", rounds="100"),
    # The mechanism itself (`--example-noise server`, CentralDPSGDMechanism), and the same on
    # shakespeare-genre.
    "chitchat-example-eps8-c4-server": example_eps8(
        "dp-lora", "--task", "chitchat-topic", "--example-noise", "server", rounds="100"),
    # The clip alone: the server's noise shrunk to nothing (σηC/B over a noise cohort of 10⁹)
    # at the same σ and sampling rate.
    "chitchat-example-c4-clip-only": example_eps8(
        "dp-lora", "--task", "chitchat-topic", "--example-noise", "server", "--population",
        "1000000000000", "--noise-cohort-size", "1000000000", rounds="100"),
    "example-c4-clip-only": example_eps8(
        "dp-lora", "--example-noise", "server", "--population", "1000000000000",
        "--noise-cohort-size", "1000000000"),
    "example-eps8-c4-server": example_eps8("dp-lora", "--example-noise", "server"),
    # chitchat-topic at example level under the former default (FedAvg: local SGD on batches
    # of 8 at 0.01, server SGD 1), C = 1 as in docs/experiments-utility.md.
    "chitchat-example-eps8-fedavg-c1": ["--task", "chitchat-topic", "--privacy", "--privacy-unit",
                                        "example", "--epsilon", "8", "--delta", "1e-6",
                                        "--clipping-bound", "1", "--rounds", "100",
                                        "--cohort-size", "50"],
    "chitchat-head-fedsgd-adam-eps2": ["--task", "chitchat-topic", "--method", "head-only",
                                       "--privacy", "--epsilon", "2", "--rounds", "100",
                                       "--cohort-size", "50", "--local-batch-size", "64",
                                       "--local-learning-rate", "1", "--server-optimizer", "adam",
                                       "--server-learning-rate", "0.003"],
}


def tensor_norms(path):
    """L2 norms of the tensors in a safetensors file, summed by kind."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    sums = {}
    for name, info in header.items():
        if name == "__metadata__" or info.get("dtype") != "F32":
            continue
        begin, end = info["data_offsets"]
        values = array.array("f")
        values.frombytes(data[8 + length + begin:8 + length + end])
        kind = ("lora_A" if "lora_A" in name or name.endswith(".down") or ".A" in name
                else "lora_B" if "lora_B" in name or name.endswith(".up") or ".B" in name
                else "head_weight" if name.startswith("classifier.") and name.endswith("weight")
                else "head_bias" if name.startswith("classifier.") else name.rsplit(".", 1)[-1])
        sums[kind] = sums.get(kind, 0.0) + sum(v * v for v in values)
    return {kind: math.sqrt(total) for kind, total in sums.items()}


def run(dpfl, out, name, seed):
    flags = CONFIGURATIONS[name]
    base = list(SHAKESPEARE)
    for option in ("--task", "--method"):
        if option in flags:
            index = base.index(option)
            del base[index:index + 2]
    if "--privacy" in flags:
        base.remove("--no-privacy")
    folder = out / f"{name}-s{seed}"
    command = [dpfl, "train"] + base + flags + ["--seed", str(seed), "--run-dir", str(folder),
                                                  "--format", "json"]
    environment = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    start = time.time()
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    if result.returncode not in (0, 3):
        return {"name": name, "seed": seed, "error": result.stderr[-2000:]}
    summary = json.loads(result.stdout)
    curve = [(m["round"] + 1, m["accuracy"]) for m in map(json.loads, (folder / "metrics.jsonl").read_text().splitlines())
             if m.get("accuracy") is not None]
    return {"name": name, "seed": seed, "flags": base + flags,
            "accuracy_before": summary["accuracy_before"], "accuracy": summary["accuracy_after"],
            "curve": curve, "seconds": time.time() - start,
            "norms": tensor_norms(folder / "adapter.safetensors")}


def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--dpfl", required=True)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", nargs="+", required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    unknown = [name for name in args.only if name not in CONFIGURATIONS]
    if unknown:
        sys.exit(f"unknown configurations {unknown}; known: {list(CONFIGURATIONS)}")
    tasks = [(name, seed) for name in args.only for seed in args.seeds]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run, args.dpfl, args.out, name, seed): (name, seed) for name, seed in tasks}
        for future in concurrent.futures.as_completed(futures):
            record = future.result()
            with open(args.out / "results.jsonl", "a") as handle:
                handle.write(json.dumps(record) + "\n")
            print(f"{record['name']} s{record['seed']}: "
                  + (f"{record['accuracy']:.4f} curve {record['curve']} norms "
                     f"{ {k: round(v, 4) for k, v in record['norms'].items()} } "
                     f"({record['seconds']:.0f} s)" if "error" not in record else record["error"]),
                  file=sys.stderr, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
