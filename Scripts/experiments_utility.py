"""Driver of `Scripts/experiments utility` (see that script for what it runs).

Uses only the Python standard library: it runs the dpfl binary with --format json and
aggregates the summaries.
"""
import argparse
import concurrent.futures
import datetime
import hashlib
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile

# The line that ends the generated part of experiments-utility.md; what follows it is
# hand-written discussion, kept when the table is regenerated.
GENERATED_END = "<!-- end of the generated part; the discussion below is kept on regeneration -->"

METHODS = ["dp-lora", "dp-dylora", "ffa-lora", "fed-sb"]

# Per-task settings shared by every row (the rows differ only in method and privacy). Text
# tasks run the text default loop (one local step per client over all its examples, server
# Adam; docs/federated-learning-diagnosis.md §7) with cohorts of 50.
TASKS = {
    "digits": [],
    "shakespeare-genre": ["--rounds", "60", "--cohort-size", "50"],
    # Real participants' chat (913 clients of 1-64 examples, several labels each), with more
    # rounds for the smaller clients.
    "chitchat-topic": ["--rounds", "100", "--cohort-size", "50"],
}
# What the example-level rows add to the task's settings: the per-example clip (on text the
# text loop's C = 4, docs/federated-learning-diagnosis.md §7.5-7.6; on digits C = 1).
EXAMPLE_SETTINGS = {
    "digits": ["--clipping-bound", "1"],
    "shakespeare-genre": ["--clipping-bound", "4"],
    "chitchat-topic": ["--clipping-bound", "4"],
}
# Example level with the server's noise (`--example-noise server`): one clipped step per
# client and round, which is the text loop's; on text only.
SERVER_NOISE = "example ε = 8, server noise"
# The rows run with EXAMPLE_SETTINGS.
EXAMPLE_LOOP_ROWS = ("example ε = 8", SERVER_NOISE, "no privacy, example loop")
# The rows of text tasks only.
TEXT_ONLY_ROWS = (SERVER_NOISE,)
# --quick: fewer rounds (and clients), the rest as above.
QUICK = {
    "digits": ["--rounds", "40"],
    "shakespeare-genre": ["--rounds", "6", "--cohort-size", "6"],
    "chitchat-topic": ["--rounds", "6", "--cohort-size", "6"],
}

ROWS = (
    [("no privacy", "dp-lora", ["--no-privacy"])]
    # The head alone under the same loop: what the adapters add.
    + [("no privacy, head only", "head-only", ["--no-privacy"])]
    + [(f"user ε = 2", method, ["--epsilon", "2", "--delta", "1e-6"]) for method in METHODS]
    + [
        (f"example ε = 8", method,
         ["--privacy-unit", "example", "--epsilon", "8", "--delta", "1e-6"])
        for method in METHODS
    ]
    + [
        (SERVER_NOISE, method,
         ["--privacy-unit", "example", "--epsilon", "8", "--delta", "1e-6",
          "--example-noise", "server"])
        for method in METHODS
    ]
    # FLoRA (fresh adapters of the clients' ranks, merged into the weights each round) at
    # user level, and DP-BREM (client momentum, centered clipping) at its record level, each
    # beside its own run without noise.
    + [("no privacy", "flora", ["--no-privacy"]),
       ("user ε = 2", "flora", ["--epsilon", "2", "--delta", "1e-6"])]
    + [("no privacy, example loop", "dp-brem", ["--privacy-unit", "example", "--no-privacy"]),
       ("example ε = 8", "dp-brem",
        ["--privacy-unit", "example", "--epsilon", "8", "--delta", "1e-6"])]
    # DP-REC needs fixed-size cohorts (accounted by RDP, replace-one); DP-LoRA under the
    # same accounting is its like-for-like comparison.
    + [
        ("user ε = 2, fixed-size", method,
         ["--epsilon", "2", "--delta", "1e-6", "--sampling", "fixed-size", "--accountant", "rdp"])
        for method in ["dp-lora", "dp-rec"]
    ]
)


def row_of(summary):
    """The (privacy label, method) of the row a run's summary belongs to, from its command
    (the longest matching flags first, so that a fixed-size row is not taken for a plain one)."""
    command = summary["command"] + " "
    for label, method, flags in sorted(ROWS, key=lambda row: -len(" ".join(row[2]))):
        if f"--method {method} " in command and " ".join(flags) + " " in command:
            return label, method
    return None


def overridden(flags, overrides):
    """`flags` with each option of `overrides` set to its value there (replaced in place or
    appended)."""
    flags = list(flags)
    for option, value in zip(overrides[::2], overrides[1::2]):
        if option in flags:
            flags[flags.index(option) + 1] = value
        else:
            flags += [option, value]
    return flags


def settings_of(task, label, quick):
    """The task's settings of this table for the row `label` (with EXAMPLE_SETTINGS for the
    example rows); with `quick`, its fewer rounds."""
    settings = TASKS[task] + (EXAMPLE_SETTINGS[task] if label in EXAMPLE_LOOP_ROWS else [])
    return overridden(settings, QUICK[task]) if quick else settings


def is_text(task):
    """Whether `task` is a text task (the server-noise rows are run on text only)."""
    return task != "digits"


def run(dpfl, task, method, flags, seed, settings, cache):
    """The summary of one `dpfl train` run: `settings`, then `flags`. With a `cache` folder,
    a run whose command was run before is read from there, and a new one is written there
    as soon as it ends, so that a regeneration stopped half-way resumes where it stopped."""
    arguments = ["train", "--task", task, "--method", method, "--seed", str(seed)] + settings + flags
    cached = None
    if cache is not None:
        cached = cache / (hashlib.sha256(" ".join(arguments).encode()).hexdigest()[:20] + ".json")
        if cached.exists():
            return json.loads(cached.read_text())
    with tempfile.TemporaryDirectory(prefix="dpfl-experiment-") as folder:
        command = [dpfl] + arguments + ["--run-dir", folder, "--format", "json"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode not in (0, 3):
            sys.exit(f"experiments: {' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
        summary = json.loads(result.stdout)
        summary["command"] = " ".join(["dpfl"] + arguments)
    if cached is not None:
        cache.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial")
        partial.write_text(json.dumps(summary, sort_keys=True) + "\n")
        partial.rename(cached)
    return summary


def write_keeping_discussion(path, lines):
    """Writes the generated `lines` to `path`, then GENERATED_END and the hand-written
    discussion that followed it in the previous file (if any)."""
    discussion = ""
    if path.exists():
        text = path.read_text()
        if GENERATED_END in text:
            discussion = text.split(GENERATED_END, 1)[1]
    path.write_text("\n".join(lines + [GENERATED_END]) + (discussion or "\n"))


def mean_std(values):
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, std


def main(argv):
    parser = argparse.ArgumentParser(description="utility experiments")
    parser.add_argument("--dpfl", required=True)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", nargs="+", metavar="PRIVACY",
                        help="rerun only the rows of these privacy labels (e.g. 'no privacy' "
                             "'example ε = 8'); the task's other rows are kept")
    parser.add_argument("--methods", nargs="+", metavar="METHOD",
                        help="rerun only the rows of these methods (e.g. flora dp-brem); the "
                             "task's other rows are kept")
    parser.add_argument("--cache", type=pathlib.Path,
                        help="folder of finished runs' summaries, keyed by command: a run found "
                             "there is not run again (delete it after a change that moves results)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="seeds run at once (each run is single-threaded; wall times then include contention)")
    args = parser.parse_args(argv)
    seeds = list(range(1 if args.quick else args.seeds))

    def chosen(label, method):
        return ((not args.rows or label in args.rows)
                and (not args.methods or method in args.methods))

    runs = []
    table = []
    for task in args.tasks:
        for label, method, flags in ROWS:
            if not chosen(label, method):
                continue
            if label in TEXT_ONLY_ROWS and not is_text(task):
                continue
            settings = settings_of(task, label, args.quick)
            print(f"experiments: {task} {label} {method} seeds {seeds}", file=sys.stderr, flush=True)
            with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
                summaries = list(pool.map(
                    lambda seed: run(args.dpfl, task, method, flags, seed, settings, args.cache),
                    seeds))
            runs += summaries
            accuracy = mean_std([s["accuracy_after"] for s in summaries])
            before = mean_std([s["accuracy_before"] for s in summaries])
            row = {
                "task": task, "privacy": label, "method": method, "seeds": len(seeds),
                "accuracy_mean": accuracy[0], "accuracy_std": accuracy[1],
                "accuracy_before": before[0],
                "epsilon": max(s["epsilon"] for s in summaries) if not label.startswith("no privacy") else None,
                "noise_multiplier": statistics.fmean(s["noise_multiplier"] for s in summaries),
                "bytes_per_client_per_round": round(statistics.fmean(s["bytes_per_client_per_round"] for s in summaries)),
                "bits_per_parameter": statistics.fmean(
                    s["coding"]["bits_per_parameter"] if "coding" in s else 32 for s in summaries),
                "deployment_bits_per_parameter": statistics.fmean(
                    s["coding"]["deployment_bits_per_parameter"] if "coding" in s else 32 for s in summaries),
                "wall_seconds": statistics.fmean(s["wall_seconds"] for s in summaries),
                "rounds": summaries[0]["rounds"],
            }
            table.append(row)
    args.out.mkdir(parents=True, exist_ok=True)
    json_path = args.out / "experiments-utility.json"
    markdown_path = args.out / "experiments-utility.md"
    if json_path.exists() and not args.quick:
        # Rows not run this time (other tasks, or other --rows) keep their rows and runs.
        previous = json.loads(json_path.read_text())

        def kept(task, row):
            return task not in args.tasks or not chosen(*row)

        table = [row for row in previous["rows"]
                 if kept(row["task"], (row["privacy"], row["method"]))] + table
        runs = [run for run in previous["runs"] if kept(run["task"], row_of(run) or ("", ""))] + runs
    task_order = {task: index for index, task in enumerate(TASKS)}
    row_order = {(label, method): index for index, (label, method, _) in enumerate(ROWS)}
    table.sort(key=lambda row: (task_order.get(row["task"], len(task_order)),
                                row_order.get((row["privacy"], row["method"]), len(row_order))))
    for row in table:
        baseline = next((b for b in table if b["task"] == row["task"]
                         and b["privacy"] == "no privacy"), None)
        row["points_below_no_privacy"] = (
            None if baseline is None or row is baseline
            else 100 * (baseline["accuracy_mean"] - row["accuracy_mean"]))
    stamp = datetime.date.today().isoformat()
    machine = f"{os.cpu_count()} CPUs, {platform.platform()}"
    json_path.write_text(
        json.dumps({"date": stamp, "machine": machine, "quick": args.quick, "rows": table, "runs": runs},
                   indent=1, sort_keys=True) + "\n")
    lines = [
        "# Utility of private federated fine-tuning",
        "",
        f"Made by `Scripts/experiments utility{' --quick' if args.quick else ''}` on {stamp} ({machine}); "
        f"every run's summary is in `experiments-utility.json`. Accuracy on the held-out split, "
        f"mean ± std over {len(seeds)} seed(s); points below = no-privacy accuracy minus the row's, "
        "in percentage points. Text tasks run the text default loop (one local step per client "
        "over all its examples, server Adam) with cohorts of 50. User level: ε = 2, δ = 1e-6, a simulated population of 1,000,000 "
        "with the noise of 1,000 clients per round. Example level: ε = 8, δ = 1e-6, DP-SGD "
        "inside each client, accounted with the client's participation (each round's event is "
        "the local DP-SGD of the least protected client, Poisson-sampled with q = noise cohort ÷ N); "
        "the simulated clients' local noise is scaled by √(clients trained ÷ noise cohort), so "
        "that the noise on the mean is the deployment's. "
        "Fixed-size: exactly the cohort each round, accounted as sampling without replacement "
        "(replace-one, RDP), which DP-REC needs. Bits / parameter: what a client sends per "
        "trainable parameter per round (32 = float32); for DP-REC in this simulation (each "
        "simulated client carries its share of the simulated sum's noise) and in the deployment "
        "the accounting describes (1,000 clients per round, each carrying σC/√1000).",
        "",
        "| task | privacy | method | accuracy | points below no privacy | ε | σ | bytes / client / round | bits / parameter (simulation; deployment) | rounds | s / run |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in table:
        below = "" if row["points_below_no_privacy"] is None else f"{row['points_below_no_privacy']:+.1f}"
        epsilon = "∞" if row["epsilon"] is None else f"{row['epsilon']:.3g}"
        lines.append(
            f"| {row['task']} | {row['privacy']} | {row['method']} | "
            f"{100 * row['accuracy_mean']:.1f} ± {100 * row['accuracy_std']:.1f} | {below} | {epsilon} | "
            f"{row['noise_multiplier']:.3g} | {row['bytes_per_client_per_round']:,} | "
            f"{row['bits_per_parameter']:.3g}; {row['deployment_bits_per_parameter']:.3g} | {row['rounds']} | "
            f"{row['wall_seconds']:.1f} |")
    lines += ["", "Commands (one seed shown; `--seed` varies):", ""]
    # In the table's order (rows kept from an earlier run come first in `runs`).
    first_seeds = [run for run in runs if "--seed 0 " in run["command"] + " "]
    lines += [f"    {run['command']}" for row in table for run in first_seeds
              if run["task"] == row["task"] and row_of(run) == (row["privacy"], row["method"])]
    write_keeping_discussion(markdown_path, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
