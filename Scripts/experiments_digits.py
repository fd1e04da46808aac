"""What the digits experiment drivers share: the splits as JSON Lines (for runs from
scratch), their command line, running `dpfl train` and the jobs, and a mean ± std cell."""
import argparse
import concurrent.futures
import json
import statistics
import subprocess
import sys
import tempfile


def export_digits(dpfl, seed, folder):
    """Writes digits' splits for `seed` (as `dpfl train --task digits --seed S` builds them)
    to `folder` and returns the `dpfl train --task jsonl` flags that train on them."""
    command = [dpfl, "export-task", "--task", "digits", "--seed", str(seed), "--out", folder]
    subprocess.run(command, check=True, capture_output=True)
    return ["--data", f"{folder}/train.jsonl", "--evaluation-data", f"{folder}/evaluation.jsonl"]


def parse_arguments(add_more=None):
    """--dpfl, --out, --seeds (3) and --jobs (1), and whatever `add_more(parser)` adds."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--dpfl", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    if add_more is not None:
        add_more(parser)
    return parser.parse_args()


def train(dpfl, flags):
    """Runs `dpfl train FLAGS` in a temporary run folder; returns its JSON summary and the
    records of its metrics.jsonl. A failed run stops the driver with its error."""
    with tempfile.TemporaryDirectory() as folder:
        command = [dpfl, "train", *flags, "--run-dir", f"{folder}/run", "--format", "json"]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
        with open(f"{folder}/run/metrics.jsonl") as lines:
            metrics = [json.loads(line) for line in lines]
        return json.loads(done.stdout), metrics


def run_jobs(todo, workers, work):
    """`work(flags)` for every (key, flags) of `todo` on `workers` threads, with progress on
    stderr; the results by key."""
    results = {}
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = {key: pool.submit(work, flags) for key, flags in todo}
        for key, future in futures.items():
            results[key] = future.result()
            print(f"done: {key}", file=sys.stderr)
    return results


def spread(values):
    """`mean ± std` with one decimal (std 0 for a single value)."""
    deviation = statistics.stdev(values) if len(values) > 1 else 0
    return f"{statistics.mean(values):.1f} ± {deviation:.1f}"
