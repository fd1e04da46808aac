"""End-to-end training speed: `dpfl train` on a built-in task, timed as a user waits for it.

  python3 Scripts/bench_train.py --dpfl .build/release/dpfl [--before OLD_DPFL]
      [--task shakespeare-genre] [--rounds 30] [--seeds 0 1 2] [--units user example]
      [--flags "EXTRA DPFL TRAIN FLAGS"] [--format markdown|json]

For each privacy unit and seed it runs `dpfl train --task T --rounds R --seed S
--privacy-unit U` (example level at ε = 8, user level at the default ε = 2) into a
temporary run folder, with the environment as it is (thread counts included), and reads
back the summary and metrics.jsonl. With --before it runs an older binary on the same
configurations in the same session, so the two are measured on the same machine under the
same load; the speed-up column is before ÷ after. --flags adds train flags to every run
(e.g. the same local and server steps for two binaries whose defaults differ).

Rows: wall seconds of the whole process (loading, tokenising, every evaluation, writing the
run folder), rounds per second, trained examples per second (the cohorts' examples times
their local epochs, from the newer binary's metrics.jsonl, whose seeds give the same
cohorts), and the final accuracy (mean ± std over seeds). Standard library only; progress
on stderr, the report (Markdown or one JSON object) on stdout.
"""
import argparse
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def run(binary, task, rounds, seed, unit, flags):
    """One timed `dpfl train`; its summary, per-round metrics and process wall seconds."""
    with tempfile.TemporaryDirectory(prefix="dpfl-bench-train-") as scratch:
        folder = pathlib.Path(scratch) / "run"
        command = [binary, "train", "--task", task, "--rounds", str(rounds), "--seed", str(seed),
                   "--privacy-unit", unit, "--run-dir", str(folder), "--format", "json"]
        if unit == "example":
            command += ["--epsilon", "8"]
        command += flags
        start = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True)
        seconds = time.monotonic() - start
        if result.returncode != 0:
            sys.exit(f"bench train: {' '.join(command)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
        metrics = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
        config = json.loads((folder / "config.json").read_text())
        return {"summary": json.loads(result.stdout), "metrics": metrics, "config": config,
                "seconds": seconds}


def trained_examples(record):
    """The cohorts' examples times their local epochs, or None when not recorded."""
    counts = [m.get("examples") for m in record["metrics"]]
    if any(count is None for count in counts):
        return None
    return sum(counts) * record["config"].get("local_epochs", 1)


def measure(binary, label, args):
    rows = []
    for unit in args.units:
        records = []
        for seed in args.seeds:
            print(f"[{label}] {args.task} {unit} level, seed {seed} ...", file=sys.stderr, flush=True)
            record = run(binary, args.task, args.rounds, seed, unit, args.flags.split())
            print(f"    {record['seconds']:.1f} s, accuracy {record['summary']['accuracy_after']:.4f}",
                  file=sys.stderr, flush=True)
            records.append(record)
        rows.append({"binary": label, "unit": unit, "records": records})
    return rows


def summarise(rows, examples_by_unit):
    out = []
    for row in rows:
        records = row["records"]
        seconds = [r["seconds"] for r in records]
        accuracy = [r["summary"]["accuracy_after"] for r in records]
        rounds = [r["summary"]["rounds"] for r in records]
        examples = examples_by_unit.get(row["unit"])
        out.append({
            "binary": row["binary"], "unit": row["unit"], "seeds": len(records),
            "wall_seconds": statistics.mean(seconds),
            "rounds_per_second": sum(rounds) / sum(seconds),
            "examples_per_second": (sum(examples) / sum(seconds)) if examples else None,
            "accuracy_mean": statistics.mean(accuracy),
            "accuracy_std": statistics.stdev(accuracy) if len(accuracy) > 1 else 0.0,
        })
    return out


def cpu_model():
    """The CPU's model name from /proc/cpuinfo (the machine type where there is none)."""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def markdown(report):
    flags = f" {report['flags']}" if report["flags"] else ""
    lines = [f"`dpfl train --task {report['task']} --rounds {report['rounds']}{flags}`, seeds "
             f"{', '.join(map(str, report['seeds']))}; {report['machine']}; "
             f"OPENBLAS_NUM_THREADS={report['openblas_num_threads'] or 'unset'}.", "",
             "| binary | privacy unit | wall s (mean) | rounds/s | trained examples/s | accuracy % | speed-up |",
             "|---|---|---:|---:|---:|---:|---:|"]
    after = {row["unit"]: row for row in report["rows"] if row["binary"] == "after"}
    for row in report["rows"]:
        speedup = ""
        if row["binary"] == "before" and row["unit"] in after:
            speedup = f"{row['wall_seconds'] / after[row['unit']]['wall_seconds']:.2f}×"
        examples = f"{row['examples_per_second']:.0f}" if row["examples_per_second"] else "–"
        lines.append(f"| {row['binary']} | {row['unit']} | {row['wall_seconds']:.1f} | "
                     f"{row['rounds_per_second']:.3f} | {examples} | "
                     f"{100 * row['accuracy_mean']:.1f} ± {100 * row['accuracy_std']:.1f} | {speedup} |")
    lines += ["", "speed-up: the before binary's wall time ÷ this one's (same configurations, same session)."]
    return "\n".join(lines)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpfl", required=True)
    parser.add_argument("--before")
    parser.add_argument("--task", default="shakespeare-genre")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--units", nargs="+", default=["user", "example"], choices=["user", "example"])
    parser.add_argument("--flags", default="")
    parser.add_argument("--format", choices=["markdown", "json"], default="markdown")
    args = parser.parse_args(argv)
    rows = measure(args.dpfl, "after", args)
    examples_by_unit = {row["unit"]: [trained_examples(r) for r in row["records"]] for row in rows}
    examples_by_unit = {unit: counts for unit, counts in examples_by_unit.items() if None not in counts}
    if args.before:
        rows = measure(args.before, "before", args) + rows
    report = {"task": args.task, "rounds": args.rounds, "seeds": args.seeds, "flags": args.flags,
              "machine": f"{os.cpu_count()} CPUs, {cpu_model()}, Linux {platform.release()}",
              "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
              "rows": summarise(rows, examples_by_unit)}
    print(json.dumps(report, indent=1) if args.format == "json" else markdown(report))


if __name__ == "__main__":
    main(sys.argv[1:])
