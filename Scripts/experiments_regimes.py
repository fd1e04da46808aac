"""Driver of `Scripts/experiments regimes` (see that script for what it runs).

Private rows of a task in regimes where the noise on the mean update matters: smaller
simulated populations and noise cohorts, and the task's own clients with no simulation.
Uses only the Python standard library and the helpers of the utility driver.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import pathlib
import platform
import statistics
import sys

from experiments_utility import METHODS, mean_std, run, write_keeping_discussion

# Per task: the settings every row shares, the clients trained per round, the task's own
# clients, the output's file stem, and the regimes as (label, population, noise cohort,
# extra flags). The first regime of digits is the utility table's.
TASKS = {
    "digits": {
        "settings": [], "trained": 20, "clients": 100, "stem": "experiments-regimes",
        "regimes": [
            ("N = 10⁶, noise cohort 1,000", 1_000_000, 1_000, []),
            ("N = 10⁵, noise cohort 1,000", 100_000, 1_000, []),
            ("N = 10⁵, noise cohort 100", 100_000, 100, []),
            ("N = 10⁴, noise cohort 100", 10_000, 100, []),
            # No simulated noise cohort: the noise of the 20 clients actually trained.
            ("N = 10⁴, noise cohort 20", 10_000, 20, []),
            # No simulation: the task's own clients, all 20 of a round's cohort in the noise.
            # 200 rounds at this σ diverge (the noise random-walks the weights), so 10 rounds.
            ("own 100 clients, cohort 20, 10 rounds", 100, 20, ["--rounds", "10"]),
        ],
    },
    # The text default loop (FedSGD, server Adam 3e-3) with cohorts of 50 one-label clients
    # for 60 rounds, as in docs/federated-learning-diagnosis.md §7.2; one run takes about
    # 5 minutes on 2 cores, so only the two ends of digits' range: the issue's goal regime
    # and no simulation.
    "shakespeare-genre": {
        "settings": ["--rounds", "60", "--cohort-size", "50"], "trained": 50, "clients": 370,
        "stem": "experiments-regimes-shakespeare-genre",
        "regimes": [
            ("N = 10⁵, noise cohort 1,000", 100_000, 1_000, []),
            # No simulation: the task's own 370 clients, all 50 of a round's cohort in the noise.
            ("own 370 clients, cohort 50", 370, 50, []),
        ],
    },
}

# DP-DyLoRA's accuracy at these ranks of its one trained model goes in its own column.
RANKS = [1, 2, 4, 8]


def rows(task):
    """(regime, method, flags) of every row of `task`, the no-privacy references first."""
    yield ("no privacy", "dp-lora", ["--no-privacy"])
    yield ("no privacy", "head-only", ["--no-privacy"])
    for label, population, cohort, extra in TASKS[task]["regimes"]:
        # The head alone too: fewer noisy coordinates, no adaptation.
        for method in METHODS + ["head-only"]:
            yield (label, method, ["--epsilon", "2", "--delta", "1e-6", "--population", str(population),
                                   "--noise-cohort-size", str(cohort)] + extra)


def row_runs(runs, method, flags):
    """The runs of one row: its method, and its flags at the end of the command."""
    tail = " " + " ".join(flags)
    return [r for r in runs if f"--method {method} " in r["command"] and r["command"].endswith(tail)]


def render(task, runs, seeds, stamp, machine):
    """The markdown lines and the table rows of `task`'s `runs`."""
    settings = TASKS[task]
    table = []
    for regime, method, flags in rows(task):
        summaries = row_runs(runs, method, flags)
        accuracy = mean_std([s["accuracy_after"] for s in summaries])
        by_rank = ([statistics.fmean(s["accuracy_by_rank"][rank - 1] for s in summaries) for rank in RANKS]
                   if "accuracy_by_rank" in summaries[0] else None)
        table.append({
            "regime": regime, "method": method, "seeds": len(summaries),
            "accuracy_mean": accuracy[0], "accuracy_std": accuracy[1], "accuracy_by_rank": by_rank,
            "accuracy_before": statistics.fmean(s["accuracy_before"] for s in summaries),
            "epsilon": None if regime == "no privacy" else max(s["epsilon"] for s in summaries),
            "noise_multiplier": statistics.fmean(s["noise_multiplier"] for s in summaries),
            "noise_std_on_mean": statistics.fmean(
                s["noise_multiplier"] * s["clipping_bound"] / s["noise_cohort_size"] for s in summaries),
            "noise_source": summaries[0]["noise_source"],
            "bytes_per_client_per_round": round(statistics.fmean(s["bytes_per_client_per_round"] for s in summaries)),
            "rounds": summaries[0]["rounds"],
        })
    baseline = table[0]["accuracy_mean"]
    lines = [
        f"# Private rows where the noise matters ({task})",
        "",
        f"Made by `Scripts/experiments regimes --task {task}` on {stamp} ({machine}); every run's "
        f"summary is in `{settings['stem']}.json`. User level, ε = 2, δ = 1e-6, "
        f"{settings['trained']} clients trained per round, the noise calibrated for the noise "
        "cohort out of the population N (simulated when larger than the task's "
        f"{settings['clients']} clients). Accuracy on the held-out split, mean ± std over {len(seeds)} "
        f"seed(s); the public pre-training alone scores {100 * table[0]['accuracy_before']:.1f} %. "
        "Noise std on the mean = σ·C ÷ noise cohort, per coordinate of the mean update each round. "
        f"DP-DyLoRA: accuracy of its one model cut to rank {' / '.join(map(str, RANKS))}. Rows "
        "without simulation use secure noise (the default there), so they differ from run to run.",
        "",
        "| regime | method | accuracy | points below no privacy | σ | noise std on the mean | "
        f"DyLoRA by rank {'/'.join(map(str, RANKS))} | bytes / client / round | rounds | noise |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in table:
        below = "" if row is table[0] else f"{100 * (baseline - row['accuracy_mean']):+.1f}"
        ranks = "" if row["accuracy_by_rank"] is None else " / ".join(f"{100 * a:.1f}" for a in row["accuracy_by_rank"])
        lines.append(
            f"| {row['regime']} | {row['method']} | {100 * row['accuracy_mean']:.1f} ± {100 * row['accuracy_std']:.1f} | "
            f"{below} | {row['noise_multiplier']:.3g} | {row['noise_std_on_mean']:.2g} | {ranks} | "
            f"{row['bytes_per_client_per_round']:,} | {row['rounds']} | {row['noise_source']} |")
    lines += ["", "Commands (seed 0; `--seed` varies):", ""]
    lines += [f"    {run['command']}" for run in runs if "--seed 0 " in run["command"]]
    return lines, table


def main(argv):
    parser = argparse.ArgumentParser(description="private rows where the noise matters")
    parser.add_argument("--task", choices=list(TASKS), default="digits")
    parser.add_argument("--dpfl", required=True)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--render-only", action="store_true",
                        help="remake the markdown from experiments-regimes.json without running")
    args = parser.parse_args(argv)
    settings = TASKS[args.task]
    json_path = args.out / f"{settings['stem']}.json"
    if args.render_only:
        previous = json.loads(json_path.read_text())
        runs, stamp, machine = previous["runs"], previous["date"], previous["machine"]
        seeds = sorted({r["command"].split("--seed ")[1].split()[0] for r in runs})
    else:
        seeds = list(range(args.seeds))
        runs = []
        for regime, method, flags in rows(args.task):
            print(f"experiments: {args.task} {regime} {method} seeds {seeds}", file=sys.stderr, flush=True)
            with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
                runs += pool.map(lambda seed: run(args.dpfl, args.task, method, flags, seed,
                                                  settings["settings"]), seeds)
        stamp = datetime.date.today().isoformat()
        machine = f"{os.cpu_count()} CPUs, {platform.platform()}"
    lines, table = render(args.task, runs, seeds, stamp, machine)
    args.out.mkdir(parents=True, exist_ok=True)
    json_path.write_text(
        json.dumps({"date": stamp, "machine": machine, "rows": table, "runs": runs}, indent=1, sort_keys=True) + "\n")
    write_keeping_discussion(args.out / f"{settings['stem']}.md", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
