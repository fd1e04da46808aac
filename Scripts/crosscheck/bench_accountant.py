#!/usr/bin/env python3
"""Benchmark dpfl's RDP accountant against Opacus and dp_accounting.

Normally run through `Scripts/bench accountant [--configs N] [--format json]`,
which builds the release binary and the pinned Python venv first.

What is measured
  * epsilon queries: N seeded random configurations (Poisson-subsampled
    Gaussian, add/remove) answered by
      - dpfl:  ONE process, `dpfl account --batch FILE --timings`; the per-query
               time is the `seconds` each output line reports (measured inside
               the process, so process start-up is excluded and reported apart);
      - Opacus: RDPAccountant(), history = [(sigma, q, steps)], get_epsilon(delta);
      - dp_accounting: RdpAccountant(), compose(SelfComposed(PoissonSampled(
               q, Gaussian(sigma)), steps)), get_epsilon(delta).
    For the Python libraries time.perf_counter() brackets the whole query
    (accountant construction to epsilon: that is where the RDP curve is
    computed), in this one process, sequentially.
  * calibration: ~30 random (q, steps, delta, target epsilon) answered by
    `dpfl plan --batch FILE --timings`, and the first --python-calibration of
    them (default 10, they are slow) by Opacus get_noise_multiplier
    (accountant="rdp", epsilon_tolerance 0.01) and dp_accounting
    calibrate_dp_mechanism(RdpAccountant, ...) (default bracket, tol 1e-6).
  * throughput: 20,000 ε queries (the configurations repeated) in one
    `dpfl account --batch FILE`, no timings, whole-process wall time on every
    core: queries per second as a user of a batch sees them.
  * sanity: max relative epsilon difference dpfl vs dp_accounting (dpfl is
    meant to match dp_accounting's default-grid RDP accountant).
  * PLD (skip with --skip-pld): one fixed case, q = 1e-3, T = 2000, δ = 1e-6,
      - ε query at σ = 1: `dpfl account --batch` with "accountant": "pld"
        (PLD_REPEATS identical lines, median `seconds`; dpfl reports the
        discretization h it used) against dp_accounting PLDAccountant(
        value_discretization_interval=h) composing SelfComposed(PoissonSampled(
        q, Gaussian(σ)), T), timed at h = 1e-4 and at dpfl's h (equal
        tightness), PLD_REPEATS times each, median;
      - calibration to ε = 2: --pld-plans `dpfl plan --batch` lines (default 1,
        ~1 s each) against one calibrate_dp_mechanism(PLDAccountant(h = 1e-4)).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

SEED = 20261122
THROUGHPUT_QUERIES = 20_000
REPO = Path(__file__).resolve().parents[2]
DEFAULT_DPFL = REPO / ".build" / "release" / "dpfl"


def _quiet():
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)
    warnings.simplefilter("ignore")


_quiet()

from dp_accounting import dp_event  # noqa: E402
from dp_accounting import mechanism_calibration  # noqa: E402
from dp_accounting.pld import pld_privacy_accountant as dpa_pld  # noqa: E402
from dp_accounting.rdp import rdp_privacy_accountant as dpa_rdp  # noqa: E402
from opacus.accountants import RDPAccountant  # noqa: E402
from opacus.accountants.utils import get_noise_multiplier  # noqa: E402

from machine import machine_info


# --------------------------------------------------------------------------
# Configurations
# --------------------------------------------------------------------------


def log_uniform(rng, lo, hi):
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def log_uniform_int(rng, lo, hi):
    return max(int(lo), int(round(log_uniform(rng, lo, hi))))


def epsilon_configs(rng, n):
    out = []
    for _ in range(n):
        out.append({
            "noise_multiplier": log_uniform(rng, 0.5, 20.0),
            "sampling_rate": log_uniform(rng, 1e-5, 1.0),
            "steps": log_uniform_int(rng, 1, 1e6),
            "delta": log_uniform(rng, 1e-10, 1e-3),
        })
    return out


def calibration_configs(rng, n):
    out = []
    for _ in range(n):
        out.append({
            "epsilon": log_uniform(rng, 0.5, 8.0),
            "delta": log_uniform(rng, 1e-10, 1e-3),
            "sampling_rate": log_uniform(rng, 1e-4, 0.5),
            "steps": log_uniform_int(rng, 10, 1e5),
        })
    return out


def write_jsonl(path: Path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


# --------------------------------------------------------------------------
# dpfl
# --------------------------------------------------------------------------


class DpflUnavailable(Exception):
    pass


def _num(x):
    """dpfl writes infinity as the string "inf"."""
    if isinstance(x, str):
        return {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}[x]
    return float(x)


def run_dpfl_batch(dpfl: Path, command: str, path: Path, n_expected: int, timings: bool = True):
    if not dpfl.exists():
        raise DpflUnavailable(
            f"dpfl binary not found at {dpfl}. Build it with Scripts/setup "
            f"(swift build -c release --product dpfl) or pass --dpfl PATH.")
    if not os.access(dpfl, os.X_OK):
        raise DpflUnavailable(f"{dpfl} is not executable.")
    argv = [str(dpfl), command, "--batch", str(path)] + (["--timings"] if timings else [])
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
    except OSError as e:
        raise DpflUnavailable(f"could not run {' '.join(argv)}: {e}") from e
    wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    results = []
    for ln in lines:
        try:
            results.append(json.loads(ln))
        except json.JSONDecodeError:
            results.append({"error": f"unparseable output line: {ln[:120]}"})
    if len(results) != n_expected:
        raise DpflUnavailable(
            f"`{' '.join(argv)}` exited with {proc.returncode} and printed {len(results)} result lines "
            f"for {n_expected} queries; stderr: {proc.stderr.strip()[:500]}")
    return results, wall, proc.returncode


def dpfl_version(dpfl: Path):
    try:
        p = subprocess.run([str(dpfl), "--version"], capture_output=True, text=True, timeout=30)
        return (p.stdout.strip() or None) if p.returncode == 0 else None
    except OSError:
        return None


# --------------------------------------------------------------------------
# Python libraries
# --------------------------------------------------------------------------


def poisson_event(q, sigma, steps):
    return dp_event.SelfComposedDpEvent(dp_event.PoissonSampledDpEvent(q, dp_event.GaussianDpEvent(sigma)), steps)


def time_opacus_epsilon(c):
    t0 = time.perf_counter()
    try:
        acc = RDPAccountant()
        acc.history = [(c["noise_multiplier"], c["sampling_rate"], c["steps"])]
        eps = float(acc.get_epsilon(delta=c["delta"]))
        err = None
    except Exception as e:  # noqa: BLE001
        eps, err = math.nan, f"{type(e).__name__}: {e}"
    return time.perf_counter() - t0, eps, err


def time_dpa_epsilon(c):
    t0 = time.perf_counter()
    try:
        acc = dpa_rdp.RdpAccountant()
        acc.compose(poisson_event(c["sampling_rate"], c["noise_multiplier"], c["steps"]))
        eps, order = acc.get_epsilon_and_optimal_order(c["delta"])
        eps, order, err = float(eps), float(order), None
    except Exception as e:  # noqa: BLE001
        eps, order, err = math.nan, math.nan, f"{type(e).__name__}: {e}"
    return time.perf_counter() - t0, eps, order, err


PLD_Q, PLD_STEPS, PLD_DELTA, PLD_SIGMA, PLD_TARGET_EPS = 1e-3, 2000, 1e-6, 1.0, 2.0
PLD_H = 1e-4          # dp_accounting's default value_discretization_interval
PLD_REPEATS = 3


def pld_epsilon(h, sigma):
    acc = dpa_pld.PLDAccountant(value_discretization_interval=h)
    acc.compose(poisson_event(PLD_Q, sigma, PLD_STEPS))
    return float(acc.get_epsilon(PLD_DELTA))


def time_dpa_pld_epsilon(h, sigma=PLD_SIGMA, repeats=PLD_REPEATS):
    """Median seconds (accountant construction to ε) and the ε, over `repeats` runs."""
    times, eps = [], math.nan
    for _ in range(repeats):
        t0 = time.perf_counter()
        eps = pld_epsilon(h, sigma)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), eps


def time_dpa_pld_calibration(h=PLD_H):
    """Seconds of one calibrate_dp_mechanism, σ, and the ε at σ (computed outside the timing)."""
    t0 = time.perf_counter()
    s = float(mechanism_calibration.calibrate_dp_mechanism(
        lambda: dpa_pld.PLDAccountant(value_discretization_interval=h),
        lambda x: poisson_event(PLD_Q, x, PLD_STEPS), PLD_TARGET_EPS, PLD_DELTA))
    t = time.perf_counter() - t0
    return t, s, pld_epsilon(h, s)


def is_near_tie(c, order, best_eps, rtol=1e-9):
    """Whether dp_accounting's ε at `order` is within rtol of its optimum."""
    acc = dpa_rdp.RdpAccountant()
    acc.compose(poisson_event(c["sampling_rate"], c["noise_multiplier"], c["steps"]))
    orders = list(acc.orders)
    if order not in orders:
        return False
    i = orders.index(order)
    e = float(dpa_rdp.compute_epsilon([orders[i]], [acc.rdp[i]], c["delta"])[0])
    return abs(e - best_eps) <= max(1e-12, rtol * abs(best_eps))


def time_opacus_calibration(c):
    t0 = time.perf_counter()
    try:
        s = float(get_noise_multiplier(target_epsilon=c["epsilon"], target_delta=c["delta"],
                                       sample_rate=c["sampling_rate"], steps=c["steps"], accountant="rdp"))
        err = None
    except Exception as e:  # noqa: BLE001
        s, err = math.nan, f"{type(e).__name__}: {e}"
    return time.perf_counter() - t0, s, err


def time_dpa_calibration(c):
    q, T = c["sampling_rate"], c["steps"]
    t0 = time.perf_counter()
    try:
        s = float(mechanism_calibration.calibrate_dp_mechanism(
            dpa_rdp.RdpAccountant, lambda x: poisson_event(q, x, T), c["epsilon"], c["delta"]))
        err = None
    except Exception as e:  # noqa: BLE001
        s, err = math.nan, f"{type(e).__name__}: {e}"
    return time.perf_counter() - t0, s, err


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def arbitrate(dpfl, workdir, eps_cfg, dpfl_eps, dp_eps, diffs, sanity, problems, log):
    """Configurations where dpfl and dp_accounting differ by more than 1e-9, judged by dpfl's
    certified accountant (MPFR, integer orders; exact to far below 1e-12) where both optima sit
    at the same integer order: dp_accounting sums A_α itself, which cancels where A_α ≈ 1 (small q)
    and loses up to ~1e-8 relative there; dpfl sums A_α − 1. A difference is a problem when dpfl
    is not within 1e-12 of MPFR there, or when MPFR cannot judge it and it exceeds 1e-6."""
    apart = [i for d, i in diffs if d > 1e-9]
    path = workdir / "arbitrate.jsonl"
    write_jsonl(path, [{**eps_cfg[i], "accountant": "certified"} for i in apart])
    try:
        certified, _, _ = run_dpfl_batch(dpfl, "account", path, len(apart), timings=False)
    except DpflUnavailable as e:
        problems.append(f"certified arbitration unavailable: {e}")
        return
    judged = dpfl_right = 0
    for i, c in zip(apart, certified):
        r = dpfl_eps[i]
        exact = _num(c.get("epsilon", math.nan))
        same_order = "optimal_order" in c and _num(c["optimal_order"]) == _num(r.get("optimal_order", math.nan))
        if not same_order or not exact > 0:
            if rel_diff(_num(r["epsilon"]), dp_eps[i]) > 1e-6:
                problems.append(f"dpfl vs dp_accounting differ by more than 1e-6 at {eps_cfg[i]}, "
                                "where the certified accountant cannot judge")
            continue
        judged += 1
        dpfl_error, dp_error = rel_diff(_num(r["epsilon"]), exact), rel_diff(dp_eps[i], exact)
        if dpfl_error <= 1e-12:
            dpfl_right += 1
        else:
            problems.append(f"dpfl's ε is {dpfl_error:.3g} from MPFR's (dp_accounting {dp_error:.3g}) at {eps_cfg[i]}")
    sanity["above_1e-9_judged_by_mpfr"] = judged
    sanity["above_1e-9_dpfl_within_1e-12_of_mpfr"] = dpfl_right
    log(f"{len(apart)} configs differ from dp_accounting by more than 1e-9; MPFR judged {judged}, and "
        f"dpfl is within 1e-12 of it in {dpfl_right}.")


def versions():
    out = {}
    for d in ("dp-accounting", "opacus", "numpy", "scipy"):
        try:
            out[d] = importlib.metadata.version(d)
        except importlib.metadata.PackageNotFoundError:
            out[d] = None
    return out


def median(xs):
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    return statistics.median(xs) if xs else None


def rel_diff(a, b):
    if math.isinf(a) or math.isinf(b):
        return 0.0 if a == b else math.inf
    if math.isnan(a) or math.isnan(b):
        return math.nan
    if b == 0:
        return abs(a)
    return abs(a - b) / abs(b)


def fmt_time(s):
    if s is None:
        return "n/a"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_ratio(a, b):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.1f}×"


def fmt_eps(x, digits=6):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}g}"


def fmt_h(h):
    if h is None:
        return "n/a"
    m, ex = f"{h:.5e}".split("e")
    return f"{m.rstrip('0').rstrip('.')}e{int(ex)}"


def markdown(report):
    m, v = report["machine"], report["versions"]
    out = [f"Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['os']}, Python {m['python']}",
           "Versions: dpfl " + (report["dpfl"]["version"] or "(unknown)") + ", "
           + ", ".join(f"{k} {val}" for k, val in v.items()), ""]
    out.append("| query | n (dpfl / Python) | dpfl median | Opacus median | dp_accounting median "
               "| Opacus / dpfl | dp_accounting / dpfl | ε dpfl / dp_accounting |")
    out.append("|---|---|---|---|---|---|---|---|")
    for key, label in (("epsilon", "ε query (`account`)"), ("calibration", "calibration (`plan`)")):
        r = report[key]
        out.append(f"| {label} | {r['n_dpfl']} / {r['n_python']} | {fmt_time(r['dpfl_median_s'])} "
                   f"| {fmt_time(r['opacus_median_s'])} | {fmt_time(r['dp_accounting_median_s'])} "
                   f"| {fmt_ratio(r['opacus_median_s'], r['dpfl_median_s'])} "
                   f"| {fmt_ratio(r['dp_accounting_median_s'], r['dpfl_median_s'])} | see sanity note |")
    pld = report.get("pld")
    if pld:
        e, c = pld["epsilon_query"], pld["calibration"]
        hm = e["dp_accounting_at_dpfl_h"]
        hd = e["dp_accounting_default_h"]
        times = f"{fmt_time(hd['median_s'])} (h={fmt_h(hd['h'])})"
        ratios = fmt_ratio(hd["median_s"], e["dpfl_median_s"])
        epss = f"{fmt_eps(e['dpfl_epsilon'])} / {fmt_eps(hd['epsilon'])} (h={fmt_h(hd['h'])})"
        if hm:
            times += f"; {fmt_time(hm['median_s'])} (h={fmt_h(hm['h'])})"
            ratios += f"; {fmt_ratio(hm['median_s'], e['dpfl_median_s'])}"
            epss += f"; {fmt_eps(hm['epsilon'])} (h={fmt_h(hm['h'])})"
        out.append(f"| PLD ε query (q=1e-3, T=2000, δ=1e-6) | {e['n_dpfl']} / {e['n_python']} "
                   f"| {fmt_time(e['dpfl_median_s'])} | n/a | {times} | n/a | {ratios} | {epss} |")
        out.append(f"| PLD calibration (ε=2) | {c['n_dpfl']} / {c['n_python']} | {fmt_time(c['dpfl_median_s'])} "
                   f"| n/a | {fmt_time(c['dp_accounting_s'])} (h={fmt_h(c['dp_accounting_h'])}) | n/a "
                   f"| {fmt_ratio(c['dp_accounting_s'], c['dpfl_median_s'])} "
                   f"| {fmt_eps(c['dpfl_epsilon'], 8)} / {fmt_eps(c['dp_accounting_epsilon'], 8)} "
                   f"(σ {fmt_eps(c['dpfl_noise_multiplier'])} / {fmt_eps(c['dp_accounting_noise_multiplier'])}) |")
    out.append("")
    for note in report["notes"]:
        out.append(f"- {note}")
    return "\n".join(out)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", type=int, default=1000, help="random ε-query configurations (default 1000)")
    ap.add_argument("--calibration-configs", type=int, default=30, help="random calibration targets for dpfl (default 30)")
    ap.add_argument("--python-calibration", type=int, default=10,
                    help="how many of the calibration targets the Python libraries solve (default 10; they are slow)")
    ap.add_argument("--dpfl", type=Path, default=DEFAULT_DPFL, help=f"dpfl binary (default {DEFAULT_DPFL})")
    ap.add_argument("--format", choices=("markdown", "json"), default="markdown")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--skip-pld", action="store_true",
                    help="skip the PLD rows (ε query and calibration at q=1e-3, T=2000, δ=1e-6)")
    ap.add_argument("--pld-plans", type=int, default=1, choices=(1, 2, 3),
                    help="PLD calibrations dpfl runs (median; ~1 s each; default 1)")
    ap.add_argument("--keep", type=Path, default=None, help="write the batch files and raw outputs into this directory")
    args = ap.parse_args()

    rng_eps, rng_cal = (np.random.default_rng(s) for s in np.random.SeedSequence(args.seed).spawn(2))
    eps_cfg = epsilon_configs(rng_eps, args.configs)
    cal_cfg = calibration_configs(rng_cal, args.calibration_configs)
    n_py_cal = min(args.python_calibration, len(cal_cfg))

    workdir_ctx = tempfile.TemporaryDirectory(prefix="dpfl-bench-") if args.keep is None else None
    workdir = Path(workdir_ctx.name) if workdir_ctx else args.keep
    workdir.mkdir(parents=True, exist_ok=True)
    eps_file, cal_file = workdir / "account.jsonl", workdir / "plan.jsonl"
    write_jsonl(eps_file, eps_cfg)
    write_jsonl(cal_file, cal_cfg)

    notes, problems = [], []
    log = (lambda msg: print(msg, file=sys.stderr, flush=True))

    # ---- dpfl (one process per batch) ----
    dpfl_eps = dpfl_cal = None
    dpfl_info = {"path": str(args.dpfl), "version": None, "available": True,
                 "account_wall_s": None, "plan_wall_s": None}
    try:
        log(f"dpfl account: {len(eps_cfg)} queries ...")
        dpfl_eps, wall, rc = run_dpfl_batch(args.dpfl, "account", eps_file, len(eps_cfg))
        dpfl_info["account_wall_s"] = wall
        log(f"dpfl plan: {len(cal_cfg)} targets ...")
        dpfl_cal, wall, rc2 = run_dpfl_batch(args.dpfl, "plan", cal_file, len(cal_cfg))
        dpfl_info["plan_wall_s"] = wall
        dpfl_info["version"] = dpfl_version(args.dpfl)
        # Throughput as a user of a batch sees it: THROUGHPUT_QUERIES lines (the configs
        # repeated), no timings, wall time of the whole process on every core.
        log(f"dpfl account: {THROUGHPUT_QUERIES} queries end to end ...")
        repeated = (eps_cfg * math.ceil(THROUGHPUT_QUERIES / len(eps_cfg)))[:THROUGHPUT_QUERIES]
        throughput_file = workdir / "throughput.jsonl"
        write_jsonl(throughput_file, repeated)
        _, wall, _ = run_dpfl_batch(args.dpfl, "account", throughput_file, len(repeated), timings=False)
        dpfl_info["throughput"] = {"queries": len(repeated), "wall_s": wall,
                                   "queries_per_s": len(repeated) / wall, "cores": os.cpu_count()}
    except DpflUnavailable as e:
        dpfl_info["available"] = False
        dpfl_info["error"] = str(e)
        problems.append(f"dpfl unavailable: {e}")
        log(f"WARNING: {e}\nContinuing with the Python libraries only.")
    if args.keep is not None:
        for name, rows in (("account.out.jsonl", dpfl_eps), ("plan.out.jsonl", dpfl_cal)):
            if rows is not None:
                write_jsonl(workdir / name, rows)

    # ---- Python: epsilon queries ----
    log(f"Opacus + dp_accounting: {len(eps_cfg)} ε queries ...")
    op_t, op_eps, op_err, dp_t, dp_eps, dp_order, dp_err = [], [], [], [], [], [], []
    for c in eps_cfg:
        t, e, err = time_opacus_epsilon(c)
        op_t.append(t), op_eps.append(e), op_err.append(err)
        t, e, o, err = time_dpa_epsilon(c)
        dp_t.append(t), dp_eps.append(e), dp_order.append(o), dp_err.append(err)

    # ---- Python: calibration ----
    log(f"Opacus + dp_accounting: {n_py_cal} calibrations ...")
    opc_t, opc_s, opc_err, dpc_t, dpc_s, dpc_err = [], [], [], [], [], []
    for c in cal_cfg[:n_py_cal]:
        t, s, err = time_opacus_calibration(c)
        opc_t.append(t), opc_s.append(s), opc_err.append(err)
        t, s, err = time_dpa_calibration(c)
        dpc_t.append(t), dpc_s.append(s), dpc_err.append(err)

    # ---- PLD ----
    pld_block = None
    if not args.skip_pld:
        pld_block = run_pld(args, workdir, dpfl_info["available"], problems, log)

    # ---- dpfl results ----
    eps_block = {"n_dpfl": 0, "n_python": len(eps_cfg), "dpfl_median_s": None,
                 "opacus_median_s": median(op_t), "dp_accounting_median_s": median(dp_t),
                 "opacus_errors": sum(e is not None for e in op_err),
                 "dp_accounting_errors": sum(e is not None for e in dp_err)}
    cal_block = {"n_dpfl": 0, "n_python": n_py_cal, "dpfl_median_s": None, "dpfl_median_all_s": None,
                 "opacus_median_s": median(opc_t), "dp_accounting_median_s": median(dpc_t),
                 "opacus_errors": sum(e is not None for e in opc_err),
                 "dp_accounting_errors": sum(e is not None for e in dpc_err)}
    sanity = {}
    if dpfl_eps is not None:
        errors = [(i, r) for i, r in enumerate(dpfl_eps) if "error" in r]
        ok = [(i, r) for i, r in enumerate(dpfl_eps) if "error" not in r]
        eps_block["n_dpfl"] = len(ok)
        eps_block["dpfl_errors"] = len(errors)
        eps_block["dpfl_median_s"] = median([_num(r["seconds"]) for _, r in ok if "seconds" in r])
        for i, r in errors[:5]:
            problems.append(f"dpfl account error on config {i} ({eps_cfg[i]}): {r}")
        diffs = []
        order_mismatch = order_ties = 0
        for i, r in ok:
            if dp_err[i] is None and "epsilon" in r:
                d = rel_diff(_num(r["epsilon"]), dp_eps[i])
                diffs.append((d, i))
                if "optimal_order" in r and _num(r["optimal_order"]) != dp_order[i]:
                    if is_near_tie(eps_cfg[i], _num(r["optimal_order"]), dp_eps[i]):
                        order_ties += 1
                    else:
                        order_mismatch += 1
        if diffs:
            worst_d, worst_i = max(diffs, key=lambda x: (math.isnan(x[0]), x[0]))
            sanity = {
                "compared": len(diffs),
                "max_rel_epsilon_diff_vs_dp_accounting": worst_d,
                "worst_config": {**eps_cfg[worst_i], "dpfl_epsilon": _num(dpfl_eps[worst_i]["epsilon"]),
                                 "dp_accounting_epsilon": dp_eps[worst_i]},
                "above_1e-9": sum(d > 1e-9 for d, _ in diffs),
                "above_1e-6": sum(d > 1e-6 for d, _ in diffs),
                "optimal_order_mismatches": order_mismatch,
                "optimal_order_near_ties": order_ties,
            }
            if not worst_d <= 1e-9:
                arbitrate(args.dpfl, workdir, eps_cfg, dpfl_eps, dp_eps, diffs, sanity, problems, log)
    if dpfl_cal is not None:
        errors = [(i, r) for i, r in enumerate(dpfl_cal) if "error" in r]
        ok = [(i, r) for i, r in enumerate(dpfl_cal) if "error" not in r]
        cal_block["n_dpfl"] = len(ok)
        cal_block["dpfl_errors"] = len(errors)
        # Ratios are taken on the targets the Python libraries also solved.
        cal_block["dpfl_median_s"] = median([_num(r["seconds"]) for i, r in ok if "seconds" in r and i < n_py_cal])
        cal_block["dpfl_median_all_s"] = median([_num(r["seconds"]) for _, r in ok if "seconds" in r])
        for i, r in errors[:5]:
            problems.append(f"dpfl plan error on target {i} ({cal_cfg[i]}): {r}")
        over = [i for i, r in ok if "epsilon" in r and _num(r["epsilon"]) > cal_cfg[i]["epsilon"]]
        if over:
            problems.append(f"dpfl plan returned ε above the target for {len(over)} targets, e.g. {cal_cfg[over[0]]}")
        sig = [rel_diff(_num(r["noise_multiplier"]), dpc_s[i]) for i, r in ok
               if i < n_py_cal and dpc_err[i] is None and "noise_multiplier" in r]
        if sig:
            sanity["max_rel_sigma_diff_vs_dp_accounting"] = max(sig)
            sanity["sigma_compared"] = len(sig)

    notes.append(f"ε queries: {len(eps_cfg)} seeded configs (seed {args.seed}): q log-uniform [1e-5, 1], "
                 f"σ log-uniform [0.5, 20], steps log-uniform [1, 1e6], δ log-uniform [1e-10, 1e-3].")
    notes.append(f"calibration: dpfl solved {len(cal_cfg)} targets (ε log-uniform [0.5, 8], δ [1e-10, 1e-3], "
                 f"q [1e-4, 0.5], steps [10, 1e5]); Opacus and dp_accounting only the first {n_py_cal} (they are "
                 f"slow). The table's dpfl median is over those {n_py_cal}; over all {len(cal_cfg)}: "
                 f"{fmt_time(cal_block.get('dpfl_median_all_s'))}.")
    notes.append("Per-query times: dpfl from the `seconds` it reports (inside one process); Python with "
                 "time.perf_counter around accountant construction + query, one process, sequential.")
    if dpfl_info.get("throughput"):
        t = dpfl_info["throughput"]
        notes.append(f"dpfl throughput: {t['queries']:,} ε queries (the configs repeated) in one "
                     f"`dpfl account --batch` on {t['cores']} cores, reading, answering and writing JSON: "
                     f"{t['wall_s']:.3f} s wall, {t['queries_per_s']:,.0f} queries/s (goal ≥ 20,000).")
    if dpfl_info["account_wall_s"] is not None:
        notes.append(f"dpfl whole-process wall time incl. start-up: account {dpfl_info['account_wall_s']:.3f} s, "
                     f"plan {dpfl_info['plan_wall_s']:.3f} s.")
    if eps_block["opacus_errors"] or eps_block["dp_accounting_errors"]:
        notes.append(f"Python errors in ε queries: Opacus {eps_block['opacus_errors']}, "
                     f"dp_accounting {eps_block['dp_accounting_errors']}.")
    if cal_block["opacus_errors"] or cal_block["dp_accounting_errors"]:
        first = next((e for e in opc_err + dpc_err if e), "")
        notes.append(f"Python errors in calibration: Opacus {cal_block['opacus_errors']}, "
                     f"dp_accounting {cal_block['dp_accounting_errors']} (e.g. {first}).")
    if "max_rel_epsilon_diff_vs_dp_accounting" in sanity:
        notes.append(f"Sanity: max relative ε difference dpfl vs dp_accounting over {sanity['compared']} configs: "
                     f"{sanity['max_rel_epsilon_diff_vs_dp_accounting']:.3g} ({sanity['above_1e-9']} above 1e-9"
                     + (f"; of these MPFR judged {sanity['above_1e-9_judged_by_mpfr']}, and dpfl is within 1e-12 "
                        f"of it in {sanity['above_1e-9_dpfl_within_1e-12_of_mpfr']}"
                        if "above_1e-9_judged_by_mpfr" in sanity else "") + "); "
                     f"optimal order differs in {sanity['optimal_order_mismatches']} "
                     f"(plus {sanity['optimal_order_near_ties']} near-ties: dp_accounting's ε at dpfl's order is "
                     f"within 1e-9 of its optimum).")
    if "max_rel_sigma_diff_vs_dp_accounting" in sanity:
        notes.append(f"Sanity: max relative σ difference dpfl vs dp_accounting over {sanity['sigma_compared']} "
                     f"calibrations: {sanity['max_rel_sigma_diff_vs_dp_accounting']:.3g}.")
    if pld_block is not None:
        e, c = pld_block["epsilon_query"], pld_block["calibration"]
        used = [fmt_h(PLD_H) + " (default)"]
        if e["dp_accounting_at_dpfl_h"]:
            used.append(fmt_h(e["dp_accounting_at_dpfl_h"]["h"]) + " (dpfl's)")
        notes.append(f"PLD: σ = {PLD_SIGMA:g} for the ε query, target ε = {PLD_TARGET_EPS:g} for the calibration "
                     f"(q = {fmt_h(PLD_Q)}, T = {PLD_STEPS}, δ = {fmt_h(PLD_DELTA)}, add/remove). h (value discretization "
                     f"interval) used: dpfl `account` h = {fmt_h(e['dpfl_h'])} (its reported `discretization`), "
                     f"dpfl `plan` h not reported; dp_accounting ε query at h = {' and '.join(used)}, "
                     f"calibration at h = {fmt_h(c['dp_accounting_h'])}. ε query times are medians of "
                     f"{PLD_REPEATS} runs; calibration: dpfl {c['n_dpfl']} plan(s), dp_accounting 1. Opacus has no PLD "
                     f"accountant (n/a).")
    notes += problems

    report = {"machine": machine_info(), "versions": versions(), "dpfl": dpfl_info,
              "epsilon": eps_block, "calibration": cal_block, "pld": pld_block, "sanity": sanity,
              "seed": args.seed, "notes": notes}
    if args.format == "json":
        print(json.dumps(_sanitize(report), indent=1, allow_nan=False, ensure_ascii=False))
    else:
        print(markdown(report))
    if workdir_ctx:
        workdir_ctx.cleanup()
    return 0 if dpfl_info["available"] else 2


def run_pld(args, workdir: Path, dpfl_ok: bool, problems, log):
    base = {"sampling_rate": PLD_Q, "steps": PLD_STEPS, "delta": PLD_DELTA, "accountant": "pld"}
    e = {"n_dpfl": 0, "n_python": PLD_REPEATS, "sigma": PLD_SIGMA, "dpfl_median_s": None, "dpfl_epsilon": None,
         "dpfl_h": None, "dp_accounting_default_h": None, "dp_accounting_at_dpfl_h": None}
    c = {"n_dpfl": 0, "n_python": 1, "target_epsilon": PLD_TARGET_EPS, "dpfl_median_s": None,
         "dpfl_epsilon": None, "dpfl_noise_multiplier": None, "dp_accounting_s": None, "dp_accounting_h": PLD_H,
         "dp_accounting_epsilon": None, "dp_accounting_noise_multiplier": None}
    if dpfl_ok:
        try:
            f = workdir / "pld-account.jsonl"
            write_jsonl(f, [{**base, "noise_multiplier": PLD_SIGMA}] * PLD_REPEATS)
            log(f"dpfl account (PLD): {PLD_REPEATS} queries ...")
            rows, _, _ = run_dpfl_batch(args.dpfl, "account", f, PLD_REPEATS)
            ok = [r for r in rows if "error" not in r]
            if len(ok) < len(rows):
                problems.append(f"dpfl account (PLD) error: {next(r for r in rows if 'error' in r)}")
            if ok:
                e["n_dpfl"] = len(ok)
                e["dpfl_median_s"] = median([_num(r["seconds"]) for r in ok if "seconds" in r])
                e["dpfl_epsilon"] = _num(ok[0]["epsilon"])
                e["dpfl_h"] = _num(ok[0]["discretization"]) if ok[0].get("discretization") is not None else None
            f = workdir / "pld-plan.jsonl"
            write_jsonl(f, [{**base, "epsilon": PLD_TARGET_EPS}] * args.pld_plans)
            log(f"dpfl plan (PLD): {args.pld_plans} calibration(s) ...")
            rows, _, _ = run_dpfl_batch(args.dpfl, "plan", f, args.pld_plans)
            ok = [r for r in rows if "error" not in r]
            if len(ok) < len(rows):
                problems.append(f"dpfl plan (PLD) error: {next(r for r in rows if 'error' in r)}")
            if ok:
                c["n_dpfl"] = len(ok)
                c["dpfl_median_s"] = median([_num(r["seconds"]) for r in ok if "seconds" in r])
                c["dpfl_epsilon"] = _num(ok[0]["epsilon"])
                c["dpfl_noise_multiplier"] = _num(ok[0]["noise_multiplier"])
        except DpflUnavailable as ex:
            problems.append(f"dpfl PLD unavailable: {ex}")
    try:
        log(f"dp_accounting PLD: ε query at h = {PLD_H:g} ...")
        t, eps = time_dpa_pld_epsilon(PLD_H)
        e["dp_accounting_default_h"] = {"h": PLD_H, "median_s": t, "epsilon": eps,
                                        "epsilon_ratio_dpfl_over_dp_accounting":
                                            e["dpfl_epsilon"] / eps if e["dpfl_epsilon"] is not None else None}
        h = e["dpfl_h"]
        if h is not None and h > 0:
            log(f"dp_accounting PLD: ε query at dpfl's h = {h:g} ...")
            t, eps = time_dpa_pld_epsilon(h)
            e["dp_accounting_at_dpfl_h"] = {"h": h, "median_s": t, "epsilon": eps,
                                            "epsilon_ratio_dpfl_over_dp_accounting": e["dpfl_epsilon"] / eps}
        log(f"dp_accounting PLD: calibration to ε = {PLD_TARGET_EPS:g} at h = {PLD_H:g} ...")
        t, s, eps = time_dpa_pld_calibration(PLD_H)
        c.update(dp_accounting_s=t, dp_accounting_noise_multiplier=s, dp_accounting_epsilon=eps)
        if c["dpfl_median_s"] is not None:
            c["time_ratio_dp_accounting_over_dpfl"] = t / c["dpfl_median_s"]
            c["epsilon_ratio_dpfl_over_dp_accounting"] = c["dpfl_epsilon"] / eps
            c["sigma_ratio_dpfl_over_dp_accounting"] = c["dpfl_noise_multiplier"] / s
    except Exception as ex:  # noqa: BLE001
        problems.append(f"dp_accounting PLD failed: {type(ex).__name__}: {ex}")
    if e["dpfl_median_s"]:
        for k in ("dp_accounting_default_h", "dp_accounting_at_dpfl_h"):
            if e[k]:
                e[k]["time_ratio_dp_accounting_over_dpfl"] = e[k]["median_s"] / e["dpfl_median_s"]
    return {"sampling_rate": PLD_Q, "steps": PLD_STEPS, "delta": PLD_DELTA, "epsilon_query": e, "calibration": c}


def _sanitize(x):
    if isinstance(x, dict):
        return {k: _sanitize(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_sanitize(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return "inf" if x > 0 else ("-inf" if x < 0 else "nan")
    return x


if __name__ == "__main__":
    sys.exit(main())
