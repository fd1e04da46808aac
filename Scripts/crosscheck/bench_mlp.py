"""Driver of `Scripts/bench mlp`: SGD and DP-SGD steps on the digits perceptron, dpfl against PyTorch + Opacus.

The model on both sides: 64 -> 128 -> 128 -> 10, GELU between the layers, every weight
trainable (26,122 parameters), random inputs in [0, 16] (8x8 digits' range) and random
labels. A step: forward, cross-entropy, gradient, SGD (lr 0.01); DP-SGD adds per-example
gradients clipped to C = 1, summed, N(0, sigma^2 C^2) noise with sigma = 1 on every
coordinate, divided by the batch size.

  dpfl    dpfl-model-bench --model mlp --mode sgd|dp-sgd --batch B --steps S --warmup W,
          with OPENBLAS_NUM_THREADS=threads
  opacus  torch.nn.Sequential in this script (--child), torch.set_num_threads(threads);
          dp-sgd is Opacus PrivacyEngine.make_private(noise_multiplier 1.0, max_grad_norm 1.0,
          poisson_sampling=False, grad_sample_mode "hooks")

One process per (side, mode, batch), `steps` timed steps after `warmup`. The ratio per batch
is dpfl DP-SGD examples/s over Opacus DP-SGD examples/s (issue 17's goal: at least 5).
--format markdown (default) or json. Run through `Scripts/bench mlp`, which builds
dpfl-model-bench and prepares the venv.
"""
import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import time
import warnings

from bench_model import command_output, last_lines, log
from machine import machine_info

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODES = ("sgd", "dp-sgd")
GOAL = 5.0
SEED = 20261206


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dpfl", type=pathlib.Path, metavar="BINARY",
                        help="dpfl-model-bench binary (required unless --child)")
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in ("steps", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1; got {getattr(args, name)}")
    if args.warmup < 0 or any(b < 1 for b in args.batch):
        parser.error("--warmup must be >= 0 and every --batch >= 1")
    if args.dpfl is None and not args.child:
        parser.error("--dpfl BINARY is required (swift build -c release --product dpfl-model-bench)")
    return args


def child(args):
    """Times one PyTorch configuration and prints its row as JSON."""
    import opacus
    import torch
    import torch.nn.functional as F
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)
    batch = args.batch[0]
    model = nn.Sequential(nn.Linear(64, 128), nn.GELU(), nn.Linear(128, 128), nn.GELU(),
                          nn.Linear(128, 10))
    count = batch * (args.warmup + args.steps)
    data = TensorDataset(torch.rand(count, 64) * 16, torch.randint(0, 10, (count,)))
    loader = DataLoader(data, batch_size=batch, shuffle=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    if args.child == "dp-sgd":
        model, optimizer, loader = opacus.PrivacyEngine().make_private(
            module=model, optimizer=optimizer, data_loader=loader, noise_multiplier=1.0,
            max_grad_norm=1.0, poisson_sampling=False, grad_sample_mode="hooks")

    def step(inputs, labels):
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(inputs), labels).backward()
        optimizer.step()

    batches = iter(loader)
    for _ in range(args.warmup):
        step(*next(batches))
    start = time.perf_counter()
    for _ in range(args.steps):
        step(*next(batches))
    seconds = time.perf_counter() - start
    print(json.dumps({
        "impl": "opacus", "mode": args.child, "batch": batch,
        "examples_per_second": batch * args.steps / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "framework": f"pytorch {torch.__version__.split('+')[0]} + opacus {opacus.__version__}",
    }))


def run(command, env=None):
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"bench_mlp: {' '.join(command)} failed (exit {done.returncode}):\n"
                 f"{last_lines(done.stderr) or '(no message)'}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(report):
    m, rows = report["machine"], report["rows"]
    speed = {(r["impl"], r["mode"], r["batch"]): r["examples_per_second"] for r in rows}
    framework = next((r["framework"] for r in rows if r["impl"] == "opacus"), "")
    s = report["settings"]
    out = [f"dpfl {report['dpfl_version'] or '(version unknown)'} vs {framework}; "
           f"{s['threads']} thread(s), {s['steps']} timed steps after {s['warmup']} warmup, one "
           f"process per configuration; machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['os']}.",
           "", "| batch | dpfl SGD ex/s | dpfl DP-SGD ex/s | PyTorch SGD ex/s | Opacus DP-SGD ex/s "
           "| DP-SGD dpfl / Opacus |", "|---:|---:|---:|---:|---:|---:|"]
    for ratio in report["ratios"]:
        b = ratio["batch"]
        cells = [f"{speed[(impl, mode, b)]:,.0f}" for impl in ("dpfl", "opacus") for mode in MODES]
        mark = "✓" if ratio["dp_over_opacus"] >= GOAL else "✗"
        out.append(f"| {b} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} "
                   f"| {ratio['dp_over_opacus']:.2f} {mark} |")
    out += ["", f"ex/s: training examples per second; goal: DP-SGD dpfl / Opacus ≥ {GOAL:g}."]
    return "\n".join(out)


def main(argv):
    args = parse(argv)
    if args.child:
        return child(args)
    rows = []
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads))
    for batch in args.batch:
        for mode in MODES:
            common = ["--batch", str(batch), "--steps", str(args.steps),
                      "--warmup", str(args.warmup)]
            log(f"dpfl {mode} batch {batch} ...")
            rows.append(run([str(args.dpfl), "--model", "mlp", "--mode", mode] + common, env))
            log(f"opacus {mode} batch {batch} ...")
            rows.append(run([sys.executable, __file__, "--child", mode, "--threads",
                             str(args.threads)] + common))
    speed = {(r["impl"], r["mode"], r["batch"]): r["examples_per_second"] for r in rows}
    ratios = [{"batch": b, "dp_over_opacus": speed[("dpfl", "dp-sgd", b)]
               / speed[("opacus", "dp-sgd", b)]} for b in args.batch]
    report = {"rows": rows, "ratios": ratios, "goal_dp_over_opacus": GOAL,
              "settings": {"batch": args.batch, "steps": args.steps, "warmup": args.warmup,
                           "threads": args.threads},
              "dpfl_version": command_output([str(args.dpfl.parent / "dpfl"), "--version"]),
              "machine": machine_info()}
    print(json.dumps(report, indent=1) if args.format == "json" else markdown(report))


if __name__ == "__main__":
    main(sys.argv[1:])
