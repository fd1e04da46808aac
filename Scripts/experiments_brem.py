"""Driver of `Scripts/experiments brem` (see that script for what it runs).

Uses only the Python standard library: it runs `dpfl train --format json` and aggregates
the summaries into docs/experiments-brem.md and .json.
"""
import datetime
import hashlib
import json
import pathlib
import platform
import statistics
import sys
import tempfile

from experiments_digits import export_digits, parse_arguments, run_jobs, spread, train

DIGITS = "digits from scratch"
TEXT = "shakespeare-genre"
TEXT_OWN = "shakespeare-genre, its own users"
# digits from scratch (its splits exported as JSON Lines, so no public pre-training: the
# attacks have something to spoil), with every one of its 100 clients in every round (q = 1,
# no simulation), as in DP-BREM's cross-silo setting; record level; 100 rounds; the server's
# learning rate 10 (the best of 3, 10 and 30 without privacy: 66, 88 and 8 %).
DIGITS_SETTING = [
    "--task", "jsonl", "--method", "dp-brem", "--privacy-unit", "example",
    "--population", "100", "--cohort-size", "100", "--noise-cohort-size", "100",
    "--rounds", "100", "--server-learning-rate", "10",
]
# shakespeare-genre's users (a simulated population of 10⁶ with a noise cohort of 1,000, the
# task's default), 30 rounds of about 20 clients, the text loop's record clip C = 4 (the
# utility table's example rows); each client's momentum is updated in the rounds it takes
# part in.
TEXT_SETTING = [
    "--task", "shakespeare-genre", "--method", "dp-brem", "--privacy-unit", "example",
    "--rounds", "30", "--cohort-size", "20", "--clipping-bound", "4",
]
# The same with nothing simulated: the task's 370 users, about 20 a round (q = 20/370), and
# the noise calibrated for those 20, so that the noise on the mean matters.
TEXT_OWN_SETTING = TEXT_SETTING + ["--population", "370", "--noise-cohort-size", "20"]
METHODS = [
    ("DP-BREM (β = 0.9, centered clip)", []),
    ("DP-BREM without momentum (β = 0)", ["--momentum", "0"]),
    ("DP-FedSGD (β = 0, no centered clip)", ["--momentum", "0", "--robustness-radius", "1e6"]),
]
PRIVACY = [("no privacy", ["--no-privacy"])] + [
    (f"ε = {e}", ["--epsilon", str(e)]) for e in (1, 2, 4, 8)]
# The rows of each testbed.
TESTBED_METHODS = {DIGITS: METHODS, TEXT: METHODS, TEXT_OWN: METHODS}
ALIE_IPM = [(f, a) for a in ("alie", "ipm") for f in (0.1, 0.2, 0.3)]
# (testbed, its flags, its privacy columns, its attacks at ATTACK_EPSILON); text runs ALIE
# and IPM only (a text run costs about 5× a digits run), and its own users at 20 % only and
# without the no-privacy column (that of shakespeare-genre: nothing else differs).
TESTBEDS = [
    (DIGITS, DIGITS_SETTING, PRIVACY, ALIE_IPM + [(0.2, "label-flip"), (0.2, "min-max")]),
    (TEXT, TEXT_SETTING, PRIVACY, ALIE_IPM),
    (TEXT_OWN, TEXT_OWN_SETTING, PRIVACY[1:], [(0.2, "alie"), (0.2, "ipm")]),
]
ATTACK_EPSILON = 4


def alie_factor(clients, attackers):
    """ALIE's shift in standard deviations, 4·z_max, as dpfl computes it
    (ByzantineAttack.alieScale)."""
    honest = clients - attackers
    needed = clients // 2 + 1 - attackers
    share = min(max((honest - needed) / honest, 1e-6), 0.95)
    return 4 * statistics.NormalDist().inv_cdf(share)


def jobs(testbed, privacy_columns, attacks, seeds):
    """(testbed, table, row, column, seed) keys with the method's and column's flags."""
    for label, flags in TESTBED_METHODS[testbed]:
        for privacy, privacy_flags in privacy_columns:
            for seed in range(seeds):
                yield (testbed, "privacy", label, privacy, seed), flags + privacy_flags
        for fraction, attack in attacks:
            for seed in range(seeds):
                yield ((testbed, "attack", label, f"{attack} {fraction}", seed),
                       flags + ["--epsilon", str(ATTACK_EPSILON), "--byzantine-fraction",
                                str(fraction), "--attack", attack])


def cache_file(cache, flags):
    """Where `cache` keeps the run of `flags` (keyed without the digits splits' temporary
    paths); `None` without a cache."""
    key = " ".join(f for f in flags if not f.endswith(".jsonl"))
    return cache / (hashlib.sha256(key.encode()).hexdigest()[:20] + ".json") if cache else None


def run(dpfl, flags, cache):
    """The run's summary, with its first round's robustness radius τ added; written to the
    `cache` as soon as it ends."""
    summary, metrics = train(dpfl, flags)
    summary["radius"] = metrics[0].get("clipping_bound")
    if cache:
        cache_file(cache, flags).write_text(json.dumps(summary))
    return summary


def section(testbed, privacy_columns, attacks, results, seeds):
    """The markdown of one testbed's two tables."""
    def accuracy(kind, label, column):
        runs = [results[(testbed, kind, label, column, s)] for s in range(seeds)]
        return spread([100 * r["accuracy_after"] for r in runs])

    def detail(column, label):
        run = results[(testbed, "privacy", label, column, 0)]
        return f"σ {run['noise_multiplier']:.2f}, τ {run['radius']:.3g}"

    columns = [p for p, _ in privacy_columns]
    private = [c for c in columns if c != "no privacy"]
    attack_columns = [f"{a} {f}" for f, a in attacks]
    lines = [
        f"## {testbed}: accuracy against ε (no attackers)",
        "",
        "| method | " + " | ".join(columns) + " |",
        "| --- |" + " --- |" * len(columns),
    ]
    for label, _ in TESTBED_METHODS[testbed]:
        lines.append(f"| {label} | " + " | ".join(
            accuracy("privacy", label, c) for c in columns) + " |")
    lines += [
        "", "DP-BREM's σ and initial τ in each column (seed 0): "
        + "; ".join(f"{c}: {detail(c, METHODS[0][0])}" for c in private)
        + "; without momentum, σ " + ", ".join(
            f"{results[(testbed, 'privacy', METHODS[1][0], c, 0)]['noise_multiplier']:.2f}"
            for c in private) + ".", "",
        f"## {testbed}: accuracy against Byzantine clients at ε = {ATTACK_EPSILON}",
        "",
        "| method | none | " + " | ".join(attack_columns) + " |",
        "| --- | --- |" + " --- |" * len(attack_columns),
    ]
    for label, _ in TESTBED_METHODS[testbed]:
        cells = [accuracy("privacy", label, f"ε = {ATTACK_EPSILON}")] + [
            accuracy("attack", label, c) for c in attack_columns]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines + [""]


def main():
    def options(parser):
        parser.add_argument(
            "--testbeds", nargs="+", choices=[name for name, *_ in TESTBEDS],
            default=[name for name, *_ in TESTBEDS],
            help="run only these; the others keep their runs from the previous .json")
        parser.add_argument(
            "--rows", nargs="+", choices=[label for label, _ in METHODS],
            default=[label for label, _ in METHODS],
            help="run only these methods; the others keep their runs from the previous .json")
        parser.add_argument(
            "--cache", type=pathlib.Path,
            help="keep each finished run here and read it instead of running it again")

    arguments = parse_arguments(options)
    if arguments.cache:
        arguments.cache.mkdir(parents=True, exist_ok=True)
    splits = tempfile.TemporaryDirectory()
    data = ([export_digits(arguments.dpfl, seed, f"{splits.name}/{seed}")
             for seed in range(arguments.seeds)] if DIGITS in arguments.testbeds else [])
    every = [(key, setting + flags)
             for testbed, setting, privacy, attacks in TESTBEDS
             for key, flags in jobs(testbed, privacy, attacks, arguments.seeds)]
    def rerun(key):
        return key[0] in arguments.testbeds and key[2] in arguments.rows

    out = pathlib.Path(arguments.out)
    previous = out / "experiments-brem.json"
    # The previous runs by their row label ("row": a summary has its own "method", dpfl's
    # name of the method).
    kept = {} if not previous.exists() else {
        (run["testbed"], run["table"], run["row"], run["column"], run["seed"]): run
        for run in json.loads(previous.read_text())}
    # Each run from the cache if it is there, else run when asked for, else as before.
    results = {}
    todo = []
    for key, flags in every:
        flags = (flags + (data[key[4]] if key[0] == DIGITS and data else [])
                 + ["--noise-source", "seeded", "--seed", str(key[4])])
        cached = cache_file(arguments.cache, flags)
        if cached and cached.exists():
            results[key] = json.loads(cached.read_text())
        elif rerun(key):
            todo.append((key, flags))
        elif key in kept:
            results[key] = kept[key]
    missing = sorted({key[:3] for key, _ in every if key not in results and not rerun(key)})
    explain = (f"no earlier runs of {missing} in {previous}: add them to --testbeds and --rows "
               "to write the docs")
    if missing and not arguments.cache:
        sys.exit(f"experiments brem: {explain}")
    results.update(run_jobs(
        todo, arguments.jobs, lambda flags: run(arguments.dpfl, flags, arguments.cache)))
    if missing:
        sys.exit(f"experiments brem: {len(todo)} runs kept in {arguments.cache}; {explain}")

    lines = [
        "# DP-BREM on digits and shakespeare-genre: accuracy against ε and against Byzantine clients",
        "",
        f"Generated by `Scripts/experiments brem --seeds {arguments.seeds}` on "
        f"{datetime.date.today()} ({platform.machine()}); accuracy (%) on the held-out split, "
        "mean ± std over seeds. Record level (add or remove one example of a client), "
        "δ = 1e-6. DP-BREM with momentum is accounted as one release over the run "
        "(MomentumGaussian, README \"What ε assumes\"; by PLD); "
        "without momentum each round is the "
        "Poisson-subsampled Gaussian (PLD), so at a given ε DP-BREM gets its own σ and the "
        "two rows without momentum share one. DP-FedSGD is the same round without momentum "
        "and without the centered clip (τ = 10⁶): the non-robust central baseline (DP-FedAvg "
        "with one local step).",
        "",
        f"- {DIGITS}: its splits as `dpfl export-task --task digits --seed S` writes them, "
        "trained without the public pre-training (an untrained perceptron with LoRA and the "
        "head; 10 % before training). Every client in every round (100 clients, q = 1, no "
        "simulation), 100 rounds.",
        f"- {TEXT}: its users, a simulated population of 10⁶ with a noise cohort of 1,000 "
        "(the task's default), 30 rounds of about 20 clients (Poisson), record clip C = 4; a "
        "client's momentum changes only in the rounds it takes part in (each takes part in "
        "about 2 of the 30).",
        f"- {TEXT_OWN}: the same with nothing simulated, the task's 370 users with about "
        "20 a round (q = 20/370) and the noise calibrated for those 20, so that the noise on "
        f"the mean matters; its no-privacy column is that of {TEXT}.",
        "",
        "Attackers: in each round the first ⌊F·K⌉ of the K clients attack; every attack is "
        "built from the attackers' own clean updates (non-omniscient), as in the authors' "
        f"code. \"none\" is the ε = {ATTACK_EPSILON} column of the table before it.",
        "",
        "How strong these attacks are: ALIE moves every coordinate of the attackers' mean "
        "by 4·z_max of their standard deviations, and z_max grows with the attackers' share: "
        "4·z_max = " + ", ".join(f"{alie_factor(100, m):.2f}" for m in (10, 20, 30))
        + " at 10, 20 and 30 of 100 clients (digits) and "
        + ", ".join(f"{alie_factor(20, m):.2f}" for m in (2, 4, 6))
        + " at 2, 4 and 6 of 20 (text). IPM sends minus the attackers' mean, which under a "
        "plain mean leaves about 1 − 2F of the honest direction (0.6 at 20 %): a shorter "
        "step, which a server Adam (the text loop's) largely rescales. Both forgeries stay "
        "within the spread of honest updates, where a centered clip cannot single them out: "
        "its radius τ must exceed the honest clients' deviations from v (here mostly v's "
        "noise), and its guarantee, each client moves the aggregate by at most 2τ/m, bounds "
        "large forgeries, which these are not.",
        "",
    ]
    for testbed, _, privacy, attacks in TESTBEDS:
        lines += section(testbed, privacy, attacks, results, arguments.seeds)

    def sigma(testbed, row, column):
        return results[(testbed, "privacy", METHODS[row][0], column, 0)]["noise_multiplier"]
    beta = 0.9
    lines += [
        "What the momentum buys and costs: a client's momentum starts at 0, so in the k-th "
        "round it takes part in it carries 1 − β^k of its gradients. A client that takes part "
        "once sends (1 − β) of its gradient, the same factor that makes a record's "
        "sensitivity (1 − β)R/B in that round, so the accounting's smaller σ is matched by a "
        "smaller signal: against a first-time client's gradient the noise is σ/(1 − β). On "
        f"{TEXT_OWN} at ε = 1 that is {sigma(TEXT_OWN, 0, 'ε = 1') / (1 - beta):.1f} with "
        f"momentum against {sigma(TEXT_OWN, 1, 'ε = 1'):.2f} without (each client takes part "
        "in about 1.6 of the 30 rounds); on "
        f"{DIGITS}, where every client takes part in every round and its momentum fills up, "
        f"σ is {sigma(DIGITS, 0, 'ε = 1'):.1f} against {sigma(DIGITS, 1, 'ε = 1'):.1f}.",
        "",
    ]
    lines += [
        f"Every run: `dpfl train --noise-source seeded --seed S` plus the testbed's flags "
        f"({DIGITS}: `{' '.join(DIGITS_SETTING)} --data train.jsonl --evaluation-data "
        f"evaluation.jsonl`; {TEXT}: `{' '.join(TEXT_SETTING)}`; {TEXT_OWN} adds "
        f"`{' '.join(TEXT_OWN_SETTING[len(TEXT_SETTING):])}`), the method's flags "
        "(" + "; ".join(f"{l}: `{' '.join(f) or '(none)'}`" for l, f in METHODS) + ") and "
        "`--epsilon E` or `--no-privacy`, or `--epsilon 4 --byzantine-fraction F --attack A`.",
        "",
    ]
    (out / "experiments-brem.md").write_text("\n".join(lines))
    (out / "experiments-brem.json").write_text(json.dumps(
        [{**results[k], "testbed": k[0], "table": k[1], "row": k[2], "column": k[3], "seed": k[4]}
         for k, _ in every], indent=1) + "\n")


main()
