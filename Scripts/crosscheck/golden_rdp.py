#!/usr/bin/env python3
"""Golden fixtures for dpfl's RDP accountants, computed with the peer libraries.

Writes into Tests/AccountantsTests/Fixtures/:

  rdp_poisson.json     Poisson-subsampled Gaussian (add/remove): dp_accounting
                       RdpAccountant on its default grid and on an integer grid,
                       the classic (Mironov 2017) conversion, delta-for-epsilon,
                       and Opacus' analysis.rdp for comparison; plus per-order
                       per-step RDP curves.
  rdp_fixed_size.json  Sampling without replacement (replace-one): dp_accounting
                       RdpAccountant(REPLACE_ONE); plus per-order curves.
  calibration.json     Noise multiplier for a target (epsilon, delta):
                       dp_accounting calibrate_dp_mechanism and Opacus
                       get_noise_multiplier; plus the largest number of steps
                       within budget (dp_accounting, discrete calibration).

Run it through Scripts/crosscheck/run (which creates the pinned venv first).
Everything is deterministic: numpy default_rng seeded from 20261122 (one
independent child stream per list, SeedSequence(20261122).spawn(4)), and the
results do not depend on the number of worker processes (--jobs).

Besides the library values, every stored value is re-evaluated with mpmath
(mp_reference.py: the same formula at the same order, 50+ digits).  Where the
file tolerance does not cover 10x dp_accounting's measured error or the
rounding budget of an independent double-precision implementation, the case
gets its own looser "rtol" (per-order lists: "rtol_per_order"; calibration:
"epsilon_rtol"), and optimal orders that are not determined at that
tolerance are listed in "order_ties".  The statistics
printed at the end are the source of Tests/AccountantsTests/Fixtures/README.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import multiprocessing
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

SEED = 20261122
COMMAND = "Scripts/crosscheck/run"
SCRIPT = "Scripts/crosscheck/golden_rdp.py"
REPO = Path(__file__).resolve().parents[2]
OUT_DIR = REPO / "Tests" / "AccountantsTests" / "Fixtures"


def _quiet_libraries() -> None:
    """dp_accounting logs a warning per non-convergent fractional order and
    Opacus warns whenever the optimum is at the edge of its grid; both are
    expected here (they are what the fixtures document)."""
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)
    warnings.simplefilter("ignore")


_quiet_libraries()

from dp_accounting import dp_event  # noqa: E402
from dp_accounting import mechanism_calibration  # noqa: E402
from dp_accounting.privacy_accountant import NeighboringRelation  # noqa: E402
from dp_accounting.rdp import rdp_privacy_accountant as dpa_rdp  # noqa: E402
from opacus.accountants import RDPAccountant as OpacusRDPAccountant  # noqa: E402
from opacus.accountants.analysis import rdp as opacus_rdp  # noqa: E402
from opacus.accountants.utils import get_noise_multiplier  # noqa: E402

import mpmath as mp  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mp_reference  # noqa: E402

DEFAULT_ORDERS = list(dpa_rdp.DEFAULT_RDP_ORDERS)
INTEGER_ORDERS = list(range(2, 64)) + [128, 256, 512, 1024]
OPACUS_ORDERS = list(OpacusRDPAccountant.DEFAULT_ALPHAS)
assert len(DEFAULT_ORDERS) == 156, len(DEFAULT_ORDERS)
assert len(OPACUS_ORDERS) == 151, len(OPACUS_ORDERS)

# --------------------------------------------------------------------------
# JSON helpers
# --------------------------------------------------------------------------


def jsonable(x):
    """numpy -> Python, +inf -> "inf"; NaN and -inf are bugs and raise."""
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            raise ValueError("NaN would be written to a fixture")
        if math.isinf(x):
            if x < 0:
                raise ValueError("-inf would be written to a fixture")
            return "inf"
        return x
    return x


def write_json(name: str, obj) -> Path:
    path = OUT_DIR / name
    text = json.dumps(jsonable(obj), indent=1, allow_nan=False)
    path.write_text(text + "\n")
    return path


def sources(*dists: str):
    out = [{"library": d, "version": importlib.metadata.version(d)} for d in dists]
    out.append({"library": "python", "version": platform.python_version()})
    return out


def child_rngs(n: int):
    return [np.random.default_rng(s) for s in np.random.SeedSequence(SEED).spawn(n)]


def log_uniform(rng, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def log_uniform_int(rng, lo: float, hi: float) -> int:
    return max(int(lo), int(round(log_uniform(rng, lo, hi))))


def err_str(e: BaseException) -> str:
    return f"error: {type(e).__name__}: {e}"


# --------------------------------------------------------------------------
# Library calls
# --------------------------------------------------------------------------


def poisson_event(q: float, sigma: float, steps: int):
    return dp_event.SelfComposedDpEvent(
        dp_event.PoissonSampledDpEvent(q, dp_event.GaussianDpEvent(sigma)), steps
    )


def wor_event(n: int, m: int, sigma: float, steps: int):
    return dp_event.SelfComposedDpEvent(
        dp_event.SampledWithoutReplacementDpEvent(n, m, dp_event.GaussianDpEvent(sigma)),
        steps,
    )


def dpa_accountant(event, orders=None, relation=NeighboringRelation.ADD_OR_REMOVE_ONE):
    acc = dpa_rdp.RdpAccountant(orders=orders, neighboring_relation=relation)
    acc.compose(event)
    return acc


def dpa_epsilon_and_order(q: float, sigma: float, steps: int, delta: float):
    eps, order = dpa_accountant(poisson_event(q, sigma, steps)).get_epsilon_and_optimal_order(delta)
    return float(eps), float(order)


def classic_per_order(orders, rdp, delta):
    """Mironov 2017, Prop. 3 at each order: rdp(a) + log(1/delta)/(a-1); +inf
    where the RDP is +inf (those orders are excluded)."""
    orders, rdp = np.asarray(orders, dtype=float), np.asarray(rdp, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(rdp), rdp + (-math.log(delta)) / (orders - 1), np.inf)


def classic_conversion(orders, rdp, delta):
    """eps = min_a [rdp(a) + log(1/delta)/(a-1)], clamped at >= 0."""
    vals = classic_per_order(orders, rdp, delta)
    i = int(np.argmin(vals))
    return max(0.0, float(vals[i])), float(orders[i])


def opacus_epsilon(q: float, sigma: float, steps: int, delta: float):
    """Opacus analysis.rdp; returns (fixture value, per-order RDP or None)."""
    try:
        rdp = opacus_rdp.compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=OPACUS_ORDERS)
        eps, order = opacus_rdp.get_privacy_spent(orders=OPACUS_ORDERS, rdp=rdp, delta=delta)
    except Exception as e:  # noqa: BLE001 - recorded in the fixture
        return err_str(e), None
    eps, order = float(eps), float(order)
    if math.isnan(eps) or math.isnan(order):
        return f"error: Opacus returned epsilon={eps}, optimal_order={order}", None
    return {"epsilon": eps, "optimal_order": order}, np.asarray(rdp, dtype=float)


def opacus_epsilon_value(q, sigma, steps, delta):
    acc = OpacusRDPAccountant()
    acc.history = [(sigma, q, steps)]
    return float(acc.get_epsilon(delta=delta))


# --------------------------------------------------------------------------
# Precision of the reference values
#
# dp_accounting works in double precision; where A_alpha is 1 + tiny (small q,
# large sigma) or where the WOR bound takes forward differences of a nearly
# polynomial function, its result carries a rounding error far above 1e-9
# relative.  For every stored value we re-evaluate the same formula at the
# same order with mpmath (mp_reference.py).  A value whose file tolerance
# does not cover both 10x dp_accounting's measured error and the rounding
# budget of an independent double implementation (rounding_budget) gets its
# own tolerance, the larger of the two rounded up to one significant digit.
# --------------------------------------------------------------------------


def round_up_1sig(x: float) -> float:
    e = math.floor(math.log10(x))
    m = math.ceil(x / 10.0 ** e - 1e-9)
    return float(f"{m}e{e}") if m < 10 else float(f"1e{e + 1}")


def needed_rtol(ref: float, exact, rtol: float, atol: float, budget: float = 0.0):
    """Returns (tolerance or None, measured relative error of `ref`).

    The tolerance is the larger of 10x the measured relative error of
    dp_accounting's value and `budget` (the relative rounding error any
    double-precision implementation may make, see rounding_budget).  None
    means the file-level (rtol, atol) already covers it."""
    exact_inf = exact == mp.inf
    if math.isinf(ref) or exact_inf:
        if math.isinf(ref) and exact_inf:
            return None, 0.0
        return math.inf, math.inf
    ex = float(exact)
    err = abs(ref - ex)
    scale = max(abs(ref), abs(ex))
    relerr = err / scale if scale > 0 else 0.0
    need = max(10 * relerr, budget)
    if need * scale <= max(atol, rtol * scale):
        return None, relerr
    return max(rtol, round_up_1sig(need)), relerr


# Rounding budget of an independent double-precision implementation: 16 ulps
# (of max(1, |log A|)) in each per-step log A_alpha, times the steps, plus
# 4 ulps in each term of the conversion.  Catastrophic cancellation appears
# when A_alpha = 1 + tiny and T is large (then 16 ulps of 1 in log A,
# multiplied by T / (alpha - 1), can dwarf a small epsilon).
ULP = 2.0 ** -52


def rounding_budget(kind, order, rdp_step, T, delta, eps_target, value):
    a = float(order)
    r = float(rdp_step)
    if not math.isfinite(r) or value == 0 or not math.isfinite(value):
        return 0.0
    log_a_err = 16 * ULP * max(1.0, abs(r) * (a - 1))  # per step, absolute, in log A
    total_err = T * log_a_err / (a - 1)                  # in the total RDP at this order
    if kind == "eps":
        b = total_err + 4 * ULP * (T * r + abs(math.log1p(-1 / a)) + abs(math.log(delta * a)) / (a - 1))
        return b / abs(value)
    if kind == "classic":
        return (total_err + 4 * ULP * (T * r + abs(math.log(delta)) / (a - 1))) / abs(value)
    if value >= 1.0:  # delta clamped at 1
        return 0.0
    return (a - 1) * total_err + 4 * ULP * ((a - 1) * (T * r + eps_target + abs(math.log1p(-1 / a))) + math.log(a))


def per_order_budget(order, rdp_step):
    if not math.isfinite(rdp_step) or rdp_step == 0:
        return 0.0
    a = float(order)
    return 16 * ULP * max(1.0, abs(rdp_step) * (a - 1)) / (a - 1) / abs(rdp_step)


def combine_tol(tols):
    tols = [t for t in tols if t is not None]
    return max(tols) if tols else None


def near_ties(orders, values, best_index, rtol, atol):
    """Orders (other than the optimum) whose per-order value is within the
    comparison tolerance of the optimum: a re-implementation may pick them."""
    # values are the per-order results as the library reports them (clamped:
    # epsilon >= 0, delta <= 1), so every order reaching a clamp ties.
    # dp_accounting itself takes np.argmin over the UNclamped values and clamps
    # afterwards, so at epsilon = 0 it reports the order with the most negative
    # raw bound (or the first KL-shortcut order) - a convention, not a result.
    best = float(values[best_index])
    if not math.isfinite(best):
        return []
    tol = atol + rtol * abs(best)
    return [float(orders[i]) for i, v in enumerate(values)
            if i != best_index and math.isfinite(v) and abs(float(v) - best) <= tol]


def dpa_eps_per_order(orders, rdp, delta):
    return np.array([dpa_rdp.compute_epsilon([a], [r], delta)[0] for a, r in zip(orders, rdp)], dtype=float)


def dpa_delta_per_order(orders, rdp, eps):
    return np.array([dpa_rdp.compute_delta([a], [r], eps)[0] for a, r in zip(orders, rdp)], dtype=float)


def index_of(orders, order):
    return int(np.flatnonzero(np.asarray(orders, dtype=float) == float(order))[0])


# --------------------------------------------------------------------------
# Workers (run in a multiprocessing pool)
# --------------------------------------------------------------------------

RTOL, ATOL = 1e-9, 1e-12


def _case_precision(out_dp, rdp_at, T, d, E, conversions):
    """Measure dp_accounting's error for every stored value of a case.

    conversions: list of (key, order_key, kind) with kind in
    {"eps", "classic", "delta"}; rdp_at(order) -> exact per-step RDP."""
    tols, errs = [], {}
    for key, okey, kind in conversions:
        order = out_dp[okey]
        r_step = rdp_at(order)
        r = r_step * T
        if kind == "eps":
            ex = mp_reference.epsilon_at(order, r, d)
        elif kind == "classic":
            ex = mp_reference.epsilon_classic_at(order, r, d)
        else:
            ex = mp_reference.delta_at(order, r, E)
        budget = rounding_budget(kind, order, r_step, T, d, E, out_dp[key])
        tol, err = needed_rtol(out_dp[key], ex, RTOL, ATOL, budget)
        tols.append(tol)
        errs[key] = err
    return combine_tol(tols), errs


def work_poisson_case(c):
    t0 = time.perf_counter()
    q, s, T, d, E = (c[k] for k in ("sampling_rate", "noise_multiplier", "steps", "delta", "target_epsilon"))
    ev = poisson_event(q, s, T)
    acc = dpa_accountant(ev)
    eps, order = acc.get_epsilon_and_optimal_order(d)
    acc_int = dpa_accountant(ev, orders=INTEGER_ORDERS)
    eps_i, order_i = acc_int.get_epsilon_and_optimal_order(d)
    eps_c, order_c = classic_conversion(acc.orders, acc.rdp, d)
    dd, order_d = acc.get_delta_and_optimal_order(E)
    dp = {
        "epsilon": float(eps), "optimal_order": float(order),
        "epsilon_integer": float(eps_i), "optimal_order_integer": float(order_i),
        "epsilon_classic": eps_c, "optimal_order_classic": order_c,
        "delta": float(dd), "optimal_order_delta": float(order_d),
    }
    out = dict(c)
    out["dp_accounting"] = dp
    op, op_rdp = opacus_epsilon(q, s, T, d)
    out["opacus"] = op

    # Precision of the stored values (see above).
    tol, errs = _case_precision(
        dp, lambda a: mp_reference.poisson_rdp(q, s, a), T, d, E,
        [("epsilon", "optimal_order", "eps"), ("epsilon_integer", "optimal_order_integer", "eps"),
         ("epsilon_classic", "optimal_order_classic", "classic"), ("delta", "optimal_order_delta", "delta")])
    case_rtol = tol if tol is not None else RTOL
    if tol is not None:
        out["rtol"] = tol
    # Near-ties of the argmin at that tolerance.
    O, R = acc.orders, acc.rdp
    ties = {
        "optimal_order": near_ties(O, dpa_eps_per_order(O, R, d), index_of(O, order), case_rtol, ATOL),
        "optimal_order_integer": near_ties(acc_int.orders, dpa_eps_per_order(acc_int.orders, acc_int.rdp, d),
                                           index_of(acc_int.orders, order_i), case_rtol, ATOL),
        "optimal_order_classic": near_ties(O, classic_per_order(O, R, d), index_of(O, order_c), case_rtol, ATOL),
        "optimal_order_delta": near_ties(O, dpa_delta_per_order(O, R, E), index_of(O, order_d), case_rtol, 0.0),
    }
    ties = [k for k, v in ties.items() if v]
    if ties:
        out["order_ties"] = ties

    # Why Opacus differs (for the README statistics).
    reason = None
    if op_rdp is not None:
        eo, ao = op["epsilon"], op["optimal_order"]
        if rel(eo, dp["epsilon"]) <= 1e-9:
            reason = "agree"
        elif dp["epsilon"] == 0:
            reason = "kl_shortcut_or_clamp"
        elif dp["optimal_order"] not in set(OPACUS_ORDERS):
            reason = "order_not_in_opacus_grid"
        else:
            r_dp = R[index_of(O, ao)]
            r_op = op_rdp[OPACUS_ORDERS.index(ao)]
            if math.isinf(r_dp):
                reason = "dpa_order_nonconvergent"
            elif not float(ao).is_integer() and r_dp > r_op * (1 + 1e-9) + 1e-12:
                reason = "abs_vs_signed_series"
            else:
                reason = "rounding"
    diag = {
        "seconds": time.perf_counter() - t0,
        "n_inf_orders": int(np.sum(np.isinf(R))),
        "errs": errs,
        "reason": reason,
    }
    return out, diag


def work_poisson_per_order(p):
    q, s = p["sampling_rate"], p["noise_multiplier"]
    rdp = [float(v) for v in dpa_rdp._compute_rdp_poisson_subsampled_gaussian(q, s, DEFAULT_ORDERS)]
    out = {**p, "grid": "dp_accounting_default", "rdp": rdp}
    tols, errs = [], []
    for a, r in zip(DEFAULT_ORDERS, rdp):
        tol, err = needed_rtol(r, mp_reference.poisson_rdp(q, s, a), RTOL, ATOL, per_order_budget(a, r))
        tols.append(RTOL if tol is None else tol)
        errs.append(err)
    if any(t > RTOL for t in tols):
        out["rtol_per_order"] = tols
    try:
        rdp_op = [float(v) for v in opacus_rdp.compute_rdp(q=q, noise_multiplier=s, steps=1, orders=DEFAULT_ORDERS)]
        if any(math.isnan(v) for v in rdp_op):
            rdp_op = "error: NaN in Opacus per-order RDP"
    except Exception as e:  # noqa: BLE001
        rdp_op = err_str(e)
    out["rdp_opacus"] = rdp_op
    return out, {"errs": errs}


def work_wor_case(c):
    t0 = time.perf_counter()
    n, m, s, T, d, E = (c[k] for k in ("source_size", "sample_size", "noise_multiplier", "steps", "delta", "target_epsilon"))
    ev = wor_event(n, m, s, T)
    rel_ = NeighboringRelation.REPLACE_ONE
    acc = dpa_accountant(ev, relation=rel_)
    eps, order = acc.get_epsilon_and_optimal_order(d)
    acc_int = dpa_accountant(ev, orders=INTEGER_ORDERS, relation=rel_)
    eps_i, order_i = acc_int.get_epsilon_and_optimal_order(d)
    dd, order_d = acc.get_delta_and_optimal_order(E)
    dp = {
        "epsilon": float(eps), "optimal_order": float(order),
        "epsilon_integer": float(eps_i), "optimal_order_integer": float(order_i),
        "delta": float(dd), "optimal_order_delta": float(order_d),
    }
    out = dict(c)
    out["dp_accounting"] = dp
    q = m / n
    tol, errs = _case_precision(
        dp, lambda a: mp_reference.wor_rdp(q, s, a), T, d, E,
        [("epsilon", "optimal_order", "eps"), ("epsilon_integer", "optimal_order_integer", "eps"),
         ("delta", "optimal_order_delta", "delta")])
    case_rtol = tol if tol is not None else RTOL
    if tol is not None:
        out["rtol"] = tol
    O, R = acc.orders, acc.rdp
    ties = {
        "optimal_order": near_ties(O, dpa_eps_per_order(O, R, d), index_of(O, order), case_rtol, ATOL),
        "optimal_order_integer": near_ties(acc_int.orders, dpa_eps_per_order(acc_int.orders, acc_int.rdp, d),
                                           index_of(acc_int.orders, order_i), case_rtol, ATOL),
        "optimal_order_delta": near_ties(O, dpa_delta_per_order(O, R, E), index_of(O, order_d), case_rtol, 0.0),
    }
    ties = [k for k, v in ties.items() if v]
    if ties:
        out["order_ties"] = ties
    return out, {"seconds": time.perf_counter() - t0, "n_inf_orders": int(np.sum(np.isinf(R))), "errs": errs}


def work_wor_per_order(p):
    q = p["sample_size"] / p["source_size"]
    s = p["noise_multiplier"]
    rdp = [float(v) for v in dpa_rdp._compute_rdp_sample_wor_gaussian(q, s, DEFAULT_ORDERS)]
    out = {**p, "grid": "dp_accounting_default", "rdp": rdp}
    tols, errs = [], []
    for a, r in zip(DEFAULT_ORDERS, rdp):
        tol, err = needed_rtol(r, mp_reference.wor_rdp(q, s, a), RTOL, ATOL, per_order_budget(a, r))
        tols.append(RTOL if tol is None else tol)
        errs.append(err)
    if any(t > RTOL for t in tols):
        out["rtol_per_order"] = tols
    return out, {"errs": errs}


def work_calibration_case(c):
    t0 = time.perf_counter()
    q, T, d, E = (c[k] for k in ("sampling_rate", "steps", "delta", "target_epsilon"))
    out = dict(c)
    try:
        s_op = float(get_noise_multiplier(
            target_epsilon=E, target_delta=d, sample_rate=q, steps=T, accountant="rdp"))
        out["opacus"] = {
            "noise_multiplier": s_op,
            "epsilon": opacus_epsilon_value(q, s_op, T, d),
            "dp_accounting_epsilon": dpa_epsilon_and_order(q, s_op, T, d)[0],
        }
    except Exception as e:  # noqa: BLE001
        out["opacus"] = err_str(e)
    try:
        s_dp = float(mechanism_calibration.calibrate_dp_mechanism(
            dpa_rdp.RdpAccountant, lambda s: poisson_event(q, s, T), E, d))
        eps, order = dpa_epsilon_and_order(q, s_dp, T, d)
        out["dp_accounting"] = {"noise_multiplier": s_dp, "epsilon": eps, "optimal_order": order}
        r_step = mp_reference.poisson_rdp(q, s_dp, order)
        ex = mp_reference.epsilon_at(order, r_step * T, d)
        tol, _ = needed_rtol(eps, ex, RTOL, ATOL, rounding_budget("eps", order, r_step, T, d, E, eps))
        if tol is not None:
            out["epsilon_rtol"] = tol
    except Exception as e:  # noqa: BLE001
        out["dp_accounting"] = err_str(e)
    return out, {"seconds": time.perf_counter() - t0}


def work_max_steps_case(c):
    t0 = time.perf_counter()
    q, s, d, E = (c[k] for k in ("sampling_rate", "noise_multiplier", "delta", "target_epsilon"))
    out = dict(c)
    diag = {}

    def make_event(t):
        # SelfComposedDpEvent rejects count 0, which the default bracket
        # (LowerEndpointAndGuess(0, 1)) probes first: zero steps = no event.
        t = int(t)
        return poisson_event(q, s, t) if t > 0 else dp_event.NoOpDpEvent()

    try:
        steps = int(mechanism_calibration.calibrate_dp_mechanism(
            dpa_rdp.RdpAccountant, make_event, E, d, discrete=True))
        e0 = dpa_epsilon_and_order(q, s, steps, d)[0] if steps > 0 else 0.0
        e1 = dpa_epsilon_and_order(q, s, steps + 1, d)[0]
        out["dp_accounting"] = {"steps": steps, "epsilon": e0, "epsilon_next": e1,
                                # how far the target is from the two sides, relative:
                                # below ~1e-8 a +-1 step difference is rounding.
                                "margin": min(E - e0, e1 - E) / E}
        diag["valid"] = steps >= 1 and e0 <= E < e1
        diag["why"] = f"eps({steps})={e0!r}, eps({steps + 1})={e1!r}, target={E!r}"
    except Exception as e:  # noqa: BLE001
        out["dp_accounting"] = err_str(e)
        diag["valid"] = False
        diag["why"] = out["dp_accounting"]
    diag["seconds"] = time.perf_counter() - t0
    return out, diag


def _dispatch(task):
    kind, payload = task
    return WORKERS[kind](payload)


WORKERS = {
    "poisson_case": work_poisson_case,
    "poisson_per_order": work_poisson_per_order,
    "wor_case": work_wor_case,
    "wor_per_order": work_wor_per_order,
    "calibration_case": work_calibration_case,
    "max_steps_case": work_max_steps_case,
}


def rel(a, b):
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


# --------------------------------------------------------------------------
# Case definitions
# --------------------------------------------------------------------------


def poisson_cases(rng, n_random: int):
    def case(name, q, s, T, d, E):
        return {"name": name, "sampling_rate": q, "noise_multiplier": s, "steps": int(T),
                "delta": d, "target_epsilon": E}

    cases = []
    for i in range(n_random):
        q = log_uniform(rng, 1e-6, 1.0)
        s = log_uniform(rng, 0.3, 50.0)
        T = log_uniform_int(rng, 1, 1e7)
        d = log_uniform(rng, 1e-12, 1e-2)
        E = log_uniform(rng, 0.05, 20.0)
        cases.append(case(f"random-{i:03d}", q, s, T, d, E))
    cases += [
        case("edge-q1-s0.3", 1.0, 0.3, 1, 1e-5, 1.0),
        case("edge-q1-s1", 1.0, 1.0, 10, 1e-5, 2.0),
        case("edge-q1-s5", 1.0, 5.0, 1000, 1e-5, 8.0),
        case("edge-q0.999", 0.999, 1.0, 10, 1e-5, 2.0),
        case("edge-q1e-6", 1e-6, 1.0, 100000, 1e-5, 0.5),
        case("edge-steps-1", 0.01, 1.0, 1, 1e-5, 0.1),
        case("edge-steps-1e7", 1e-4, 1.0, 10_000_000, 1e-6, 5.0),
        case("edge-s50", 0.1, 50.0, 1000, 1e-5, 0.1),
        case("edge-s0.3", 0.01, 0.3, 100, 1e-5, 10.0),
        case("edge-delta-1e-12", 0.01, 1.0, 1000, 1e-12, 3.0),
        case("edge-delta-1e-2", 0.01, 1.0, 1000, 1e-2, 1.0),
        # TF-Privacy #166: the exact epsilon is 0 here, but RDP is not (~0.2548):
        # alpha=1.1 RDP is 1.04e-6 > delta^2, so the KL shortcut does not fire.
        case("edge-tf166-q0.00105", 0.00105, 1.0, 1, 1e-3, 0.1),
        # KL/Pinsker shortcut: delta^2 + expm1(-rdp(1.1)) > 0 => epsilon = 0
        # on the default grid (the integer grid, starting at 2, gives ~0.2545).
        case("edge-kl-shortcut", 0.001, 1.0, 1, 1e-3, 0.1),
        case("edge-kl-shortcut-both-grids", 0.00105, 1.0, 1, 1e-2, 0.1),
        # epsilon is 0 for dp_accounting, negative for Opacus (no clamp).
        case("edge-kl-shortcut-opacus-negative", 1e-6, 5.0, 1, 1e-2, 0.05),
        case("edge-known-q0.04-s1.5-T2250", 0.04, 1.5, 2250, 1e-5, 7.0),
        case("edge-known-q0.01-s1.1-T10000", 0.01, 1.1, 10000, 1e-5, 5.0),
        case("edge-mnist", 256 / 60000, 1.1, 14062, 1e-5, 2.6),
        case("edge-fl-default", 1e-3, 1.0, 2000, 1e-6, 1.0),
        case("edge-fl-1e6-steps", 1e-3, 1.0, 1_000_000, 1e-6, 8.0),
        case("edge-order-above-63", 0.01, 20.0, 100, 1e-5, 0.02),
        case("edge-tiny-delta-order-256", 0.00033, 4.0, 10000, 1e-10, 0.1),
        case("edge-prv-discrete-mean", 0.125, 0.8, 1000, 1e-5, 50.0),
        case("edge-huge-eps-q0.5-s0.5", 0.5, 0.5, 100, 1e-5, 20.0),
        case("edge-nonconvergent-q0.9-s0.3", 0.9, 0.3, 10, 1e-5, 20.0),
        case("edge-tiny-eps", 1e-5, 5.0, 1000, 1e-5, 0.005),
        case("edge-order-1024", 1e-3, 50.0, 100, 1e-12, 0.05),
        case("edge-order-1.1", 0.1, 2.0, 1_000_000, 1e-5, 1000.0),
        case("edge-order-11", 0.01, 1.2, 1000, 1e-5, 1.0),
        case("edge-order-63", 1e-4, 2.0, 100, 1e-5, 0.1),
    ]
    return cases


POISSON_PER_ORDER = (
    [(q, s) for q in (1e-6, 1e-3, 0.1, 0.5) for s in (0.3, 0.8, 1.1, 5.0, 50.0)]
    + [(q, 1.0) for q in (1e-5, 1e-4, 0.00105, 256 / 60000, 0.01, 0.04, 0.2, 0.9, 0.999, 1.0)]
    + [(q, s) for q, s in ((0.01, 20.0), (0.00033, 4.0), (0.125, 0.8), (0.04, 1.5),
                           (0.01, 1.2), (1e-3, 2.0), (0.3, 0.3), (0.3, 3.0),
                           (1.0, 0.5), (0.05, 10.0))]
)


def wor_cases(rng, n_random: int):
    def case(name, n, m, s, T, d, E):
        return {"name": name, "source_size": int(n), "sample_size": int(m), "noise_multiplier": s,
                "steps": int(T), "delta": d, "target_epsilon": E}

    cases = []
    for i in range(n_random):
        n = log_uniform_int(rng, 10, 1e7)
        m = int(rng.integers(1, n, endpoint=True))
        s = log_uniform(rng, 0.5, 50.0)
        T = log_uniform_int(rng, 1, 1e6)
        d = log_uniform(rng, 1e-12, 1e-2)
        E = log_uniform(rng, 0.05, 20.0)
        cases.append(case(f"random-{i:03d}", n, m, s, T, d, E))
    cases += [
        case("edge-m-equals-n", 1000, 1000, 1.0, 10, 1e-5, 2.0),
        case("edge-m-equals-n-s5", 50000, 50000, 5.0, 100, 1e-6, 5.0),
        case("edge-m1", 1000, 1, 1.0, 10, 1e-5, 0.5),
        case("edge-m1-large-n", 10_000_000, 1, 2.0, 1_000_000, 1e-8, 1.0),
        case("edge-m-n-minus-1", 1000, 999, 1.0, 10, 1e-5, 2.0),
        case("edge-mnist", 60000, 256, 1.1, 14062, 1e-5, 5.0),
        case("edge-steps-1", 10000, 100, 1.0, 1, 1e-5, 0.5),
        case("edge-steps-1e6", 1_000_000, 100, 2.0, 1_000_000, 1e-6, 5.0),
        case("edge-order-512", 1_000_000, 10, 5.0, 1000, 1e-12, 0.05),
        case("edge-order-1024", 1_000_000, 10, 20.0, 1000, 1e-10, 0.02),
        case("edge-order-above-256-s10", 100_000, 100, 10.0, 100, 1e-12, 0.05),
        case("edge-tiny-delta", 60000, 256, 1.1, 1000, 1e-12, 3.0),
        case("edge-s0.5", 1000, 100, 0.5, 100, 1e-5, 20.0),
        case("edge-s50", 1000, 500, 50.0, 1000, 1e-5, 0.1),
        case("edge-delta-1e-2", 60000, 256, 1.1, 1000, 1e-2, 1.0),
    ]
    return cases


WOR_PER_ORDER = [
    (60000, 256, 1.1), (1000, 1000, 1.0), (1000, 1, 1.0), (1000, 999, 1.0),
    (1_000_000, 10, 5.0), (1_000_000, 10, 20.0), (100_000, 100, 10.0),
    (1000, 100, 0.5), (1000, 500, 50.0), (100, 10, 0.8), (10_000, 5000, 2.0),
    (10_000_000, 1, 2.0), (50, 25, 1.0), (60000, 600, 0.7), (1_000_000, 1000, 1.5),
]


def calibration_cases(rng, n_random: int):
    def case(name, q, T, d, E):
        return {"name": name, "sampling_rate": q, "steps": int(T), "delta": d, "target_epsilon": E}

    cases = []
    for i in range(n_random):
        q = log_uniform(rng, 1e-5, 0.5)
        T = log_uniform_int(rng, 10, 1e6)
        d = log_uniform(rng, 1e-10, 1e-3)
        E = log_uniform(rng, 0.3, 10.0)
        cases.append(case(f"random-{i:03d}", q, T, d, E))
    cases += [
        case("edge-q1", 1.0, 100, 1e-5, 4.0),
        case("edge-q1-T1", 1.0, 1, 1e-5, 1.0),
        case("edge-q1-T1-eps0.1", 1.0, 1, 1e-5, 0.1),
        case("edge-q1-T1-eps50", 1.0, 1, 1e-5, 50.0),
        case("edge-T1", 0.01, 1, 1e-5, 1.0),
        case("edge-eps0.1", 0.01, 1000, 1e-5, 0.1),
        case("edge-eps50", 0.1, 1000, 1e-5, 50.0),
        case("edge-fl-default", 1e-3, 2000, 1e-6, 2.0),
        case("edge-mnist", 256 / 60000, 14062, 1e-5, 2.6),
        case("edge-tiny-delta-1e6-steps", 0.01, 1_000_000, 1e-10, 0.3),
    ]
    return cases


def max_steps_cases(rng, n_random: int):
    def case(name, q, s, d, E):
        return {"name": name, "sampling_rate": q, "noise_multiplier": s, "delta": d, "target_epsilon": E}

    cases = []
    for i in range(n_random):
        q = log_uniform(rng, 1e-4, 0.1)
        s = log_uniform(rng, 0.7, 5.0)
        d = log_uniform(rng, 1e-8, 1e-4)
        E = log_uniform(rng, 0.5, 8.0)
        cases.append(case(f"random-{i:03d}", q, s, d, E))
    cases.append(case("edge-fl-default", 1e-3, 1.0, 1e-6, 2.0))
    cases.append(case("edge-mnist", 256 / 60000, 1.1, 1e-5, 2.6))
    return cases


# --------------------------------------------------------------------------
# Checks and statistics
# --------------------------------------------------------------------------


def check_known_values(poisson, wor, calib):
    """Fail loudly if the installed libraries do not reproduce known values."""
    by = {c["name"]: c for c in poisson}
    problems = []

    def expect(label, got, want, rtol):
        if not (rel(got, want) <= rtol):
            problems.append(f"{label}: got {got!r}, expected {want!r} (rtol {rtol})")

    dp = by["edge-known-q0.04-s1.5-T2250"]["dp_accounting"]
    expect("q=0.04 s=1.5 T=2250 integer-grid eps", dp["epsilon_integer"], 7.329876773834, 1e-9)
    expect("q=0.04 s=1.5 T=2250 integer-grid order", dp["optimal_order_integer"], 4, 0)
    # Stated to 7 significant digits (5.632011): checked to that precision.
    dp = by["edge-known-q0.01-s1.1-T10000"]["dp_accounting"]
    expect("q=0.01 s=1.1 T=10000 eps", dp["epsilon"], 5.632011, 1e-7)
    dp = by["edge-mnist"]["dp_accounting"]
    expect("MNIST-like Poisson eps (spec: 2.60)", round(dp["epsilon"], 2), 2.60, 0)
    expect("MNIST-like Poisson classic eps (spec: 3.01)", round(dp["epsilon_classic"], 2), 3.01, 0)
    expect("KL shortcut eps", by["edge-kl-shortcut"]["dp_accounting"]["epsilon"], 0.0, 0)
    expect("KL shortcut eps (both grids)", by["edge-kl-shortcut-both-grids"]["dp_accounting"]["epsilon_integer"], 0.0, 0)
    dp = by["edge-tf166-q0.00105"]["dp_accounting"]
    expect("TF #166 RDP eps (spec: 0.255)", round(dp["epsilon"], 3), 0.255, 0)
    dp = by["edge-order-above-63"]["dp_accounting"]
    expect("q=0.01 s=20 T=100 eps (spec: 0.0149)", round(dp["epsilon"], 4), 0.0149, 0)
    op = by["edge-order-above-63"]["opacus"]
    expect("q=0.01 s=20 T=100 Opacus eps (spec: 0.104)", round(op["epsilon"], 3), 0.104, 0)
    dp = by["edge-tiny-delta-order-256"]["dp_accounting"]
    expect("q=0.00033 s=4 T=1e4 d=1e-10 eps (spec: 0.074)", round(dp["epsilon"], 3), 0.074, 0)
    op = by["edge-tiny-delta-order-256"]["opacus"]
    expect("q=0.00033 s=4 T=1e4 d=1e-10 Opacus eps (spec: 0.291)", round(op["epsilon"], 3), 0.291, 0)
    for name, order in (("edge-order-1024", 1024), ("edge-order-1.1", 1.1), ("edge-order-11", 11),
                        ("edge-order-63", 63), ("edge-order-above-63", 512)):
        expect(f"{name} optimal order", by[name]["dp_accounting"]["optimal_order"], order, 0)

    wby = {c["name"]: c for c in wor}
    dp = wby["edge-mnist"]["dp_accounting"]
    expect("MNIST-like WOR eps (spec: 5.24)", round(dp["epsilon"], 2), 5.24, 0)
    for name in ("edge-order-512", "edge-order-1024", "edge-order-above-256-s10"):
        if not wby[name]["dp_accounting"]["optimal_order"] > 256:
            problems.append(f"WOR {name}: optimum {wby[name]['dp_accounting']['optimal_order']} not > 256")

    cby = {c["name"]: c for c in calib}
    c = cby["edge-fl-default"]
    if isinstance(c["dp_accounting"], str) or not c["dp_accounting"]["epsilon"] <= 2.0:
        problems.append(f"calibration edge-fl-default: {c['dp_accounting']}")

    if problems:
        raise SystemExit("known-value check FAILED (wrong library versions?):\n  " + "\n  ".join(problems))
    print("known-value checks passed", file=sys.stderr)


def _fmt_case(c):
    return (f"{c['name']} (q={c['sampling_rate']:.3g}, s={c['noise_multiplier']:.3g}, T={c['steps']}, "
            f"d={c['delta']:.3g}): dpa {c['dp_accounting']['epsilon']:.6g} @ {c['dp_accounting']['optimal_order']:g}, "
            f"opacus {c['opacus']['epsilon']:.6g} @ {c['opacus']['optimal_order']:g}")


def poisson_stats(cases, diags, per_order, per_order_diags):
    """Where dp_accounting and Opacus disagree (printed; copied into the README)."""
    lines = ["## rdp_poisson.json"]
    errors = [c for c in cases if isinstance(c["opacus"], str)]
    lines.append(f"cases: {len(cases)}; Opacus errors: {len(errors)}")
    for c in errors:
        lines.append(f"  opacus error in {c['name']}: {c['opacus']}")
    groups = {}
    for c, d in zip(cases, diags):
        if d["reason"] is not None:
            groups.setdefault(d["reason"], []).append(c)
    for reason in ("agree", "kl_shortcut_or_clamp", "order_not_in_opacus_grid", "dpa_order_nonconvergent",
                   "abs_vs_signed_series", "rounding"):
        lst = groups.get(reason, [])
        if not lst:
            lines.append(f"  {reason}: 0")
            continue
        if reason == "kl_shortcut_or_clamp":
            vals = [c["opacus"]["epsilon"] for c in lst]
            lines.append(f"  {reason}: {len(lst)} cases (dpa eps = 0); Opacus eps in [{min(vals):.4g}, {max(vals):.4g}], "
                         f"negative in {sum(v < 0 for v in vals)}")
            continue
        diffs = [(c["opacus"]["epsilon"] - c["dp_accounting"]["epsilon"]) / c["dp_accounting"]["epsilon"] for c in lst]
        worst = max(range(len(lst)), key=lambda i: abs(diffs[i]))
        lines.append(f"  {reason}: {len(lst)} cases; (opacus-dpa)/dpa in [{min(diffs):.3g}, {max(diffs):.3g}], "
                     f"median {np.median(diffs):.3g}; opacus larger in {sum(x > 0 for x in diffs)}; worst {_fmt_case(lst[worst])}")
    ok = [c for c in cases if not isinstance(c["opacus"], str) and c["dp_accounting"]["epsilon"] > 0]
    allrel = [rel(c["opacus"]["epsilon"], c["dp_accounting"]["epsilon"]) for c in ok]
    lines.append(f"disagree beyond 1e-9: {sum(r > 1e-9 for r in allrel)}; max |opacus-dpa|/dpa over cases with "
                 f"dpa eps > 0: {max(allrel):.4g}")
    lines.append(f"dp_accounting optimum > 63: {sum(c['dp_accounting']['optimal_order'] > 63 for c in cases)}; "
                 + "; ".join(f"at {o:g}: {sum(c['dp_accounting']['optimal_order'] == o for c in cases)}"
                             for o in (1.1, 11, 63, 128, 256, 512, 1024)))
    lines.append(f"dp_accounting eps == 0 (KL shortcut): {sum(c['dp_accounting']['epsilon'] == 0 for c in cases)}; "
                 f"cases with some +inf (non-convergent) orders: {sum(d['n_inf_orders'] > 0 for d in diags)}")
    cl = [c["dp_accounting"]["epsilon_classic"] / c["dp_accounting"]["epsilon"]
          for c in cases if c["dp_accounting"]["epsilon"] > 0]
    lines.append(f"classic/improved ratio: median {np.median(cl):.4f}, min {min(cl):.4f}, max {max(cl):.4f}")
    ig = [c["dp_accounting"]["epsilon_integer"] / c["dp_accounting"]["epsilon"]
          for c in cases if c["dp_accounting"]["epsilon"] > 0]
    lines.append(f"integer-grid/default-grid ratio: median {np.median(ig):.6f}, max {max(ig):.4f}")
    lines += precision_lines(cases, diags, ("epsilon", "epsilon_integer", "epsilon_classic", "delta"))
    # Per-order comparison dp_accounting vs Opacus (per step).
    int_rel, frac_ratio, frac_below, n_inf, n_frac = [], [], [], 0, 0
    for p in per_order:
        if isinstance(p["rdp_opacus"], str):
            lines.append(f"  per_order opacus error q={p['sampling_rate']} s={p['noise_multiplier']}: {p['rdp_opacus']}")
            continue
        for a, r, ro in zip(DEFAULT_ORDERS, p["rdp"], p["rdp_opacus"]):
            if math.isinf(r) or math.isinf(ro):
                n_inf += math.isinf(r) and not float(a).is_integer()
                n_frac += not float(a).is_integer()
                continue
            significant = abs(r - ro) > ATOL + RTOL * abs(r)
            if float(a).is_integer():
                if r > 1e-10:
                    int_rel.append(rel(ro, r))
            else:
                n_frac += 1
                if r > 1e-10 and ro > 0:
                    frac_ratio.append(r / ro)
                if significant and r < ro:
                    frac_below.append((p["sampling_rate"], p["noise_multiplier"], a, r, ro))
    lines.append(f"per_order: {len(per_order)} (q, sigma); integer orders (rdp > 1e-10): max |opacus-dpa|/dpa "
                 f"{max(int_rel):.3g}; fractional orders (rdp > 1e-10): dpa/opacus in [{min(frac_ratio):.12g}, "
                 f"{max(frac_ratio):.6g}]; dpa < opacus beyond (atol, rtol) at {len(frac_below)} fractional points; "
                 f"dpa +inf at {n_inf}/{n_frac} fractional points")
    for x in frac_below[:5]:
        lines.append(f"    dpa < opacus: q={x[0]:.3g} s={x[1]:.3g} a={x[2]}: {x[3]!r} vs {x[4]!r}")
    n_over = sum("rtol_per_order" in p for p in per_order)
    worst = max(max(d["errs"]) for d in per_order_diags)
    lines.append(f"per_order entries with looser per-order tolerances: {n_over}; worst dpa rel. error vs mpmath {worst:.3g}")
    return lines


def precision_lines(cases, diags, keys):
    lines = []
    loose = [c for c in cases if "rtol" in c]
    worst = {k: max(d["errs"][k] for d in diags) for k in keys}
    lines.append(f"precision: cases with own rtol: {len(loose)} / {len(cases)}; max dpa rel. error vs mpmath: "
                 + ", ".join(f"{k} {v:.3g}" for k, v in worst.items()))
    if loose:
        tols = sorted(c["rtol"] for c in loose)
        lines.append(f"  case rtol values: min {tols[0]:g}, median {tols[len(tols) // 2]:g}, max {tols[-1]:g}; "
                     f"> 1e-6: {sum(t > 1e-6 for t in tols)}; > 1e-3: {sum(t > 1e-3 for t in tols)}")
        for c in sorted(loose, key=lambda c: -c["rtol"])[:6]:
            lines.append(f"    {c['name']}: rtol {c['rtol']:g}")
    ties = [c for c in cases if "order_ties" in c]
    lines.append(f"cases with near-tied optimal orders: {len(ties)}"
                 + (" (" + ", ".join(f"{c['name']}: {c['order_ties']}" for c in ties[:8]) + ")" if ties else ""))
    return lines


def wor_stats(cases, diags, per_order, per_order_diags):
    lines = ["## rdp_fixed_size.json", f"cases: {len(cases)}"]
    lines.append(f"dp_accounting optimum > 256: {sum(c['dp_accounting']['optimal_order'] > 256 for c in cases)}; "
                 f"> 63: {sum(c['dp_accounting']['optimal_order'] > 63 for c in cases)}")
    lines += precision_lines(cases, diags, ("epsilon", "epsilon_integer", "delta"))
    n_over = sum("rtol_per_order" in p for p in per_order)
    lines.append(f"per_order entries with looser per-order tolerances: {n_over} / {len(per_order)}")
    for p, d in zip(per_order, per_order_diags):
        bad = [(a, e) for a, e in zip(DEFAULT_ORDERS, d["errs"]) if e > 1e-6]
        if bad:
            lines.append(f"    n={p['source_size']} m={p['sample_size']} s={p['noise_multiplier']}: dpa rel. error > 1e-6 at "
                         + ", ".join(f"{a:g} ({e:.2g})" for a, e in bad))
    return lines


def calibration_stats(cases, max_steps, dropped):
    lines = ["## calibration.json"]
    both = [c for c in cases if not isinstance(c["opacus"], str) and not isinstance(c["dp_accounting"], str)]
    for c in cases:
        for lib in ("opacus", "dp_accounting"):
            if isinstance(c[lib], str):
                lines.append(f"  {lib} error in {c['name']}: {c[lib]}")
    ratios = [c["opacus"]["noise_multiplier"] / c["dp_accounting"]["noise_multiplier"] for c in both]
    lines.append(f"cases: {len(cases)}, both libraries answered: {len(both)}; opacus/dpa sigma ratio: "
                 f"median {np.median(ratios):.4f}, min {min(ratios):.4f}, max {max(ratios):.4f}; "
                 f"opacus > dpa by more than 1%: {sum(r > 1.01 for r in ratios)}, by more than 10%: {sum(r > 1.1 for r in ratios)}")
    worst = max(both, key=lambda c: c["opacus"]["noise_multiplier"] / c["dp_accounting"]["noise_multiplier"])
    lines.append(f"  largest ratio: {worst['name']} q={worst['sampling_rate']:.4g} T={worst['steps']} d={worst['delta']:.3g} "
                 f"E={worst['target_epsilon']:.4g}: opacus {worst['opacus']['noise_multiplier']:.6g}, "
                 f"dpa {worst['dp_accounting']['noise_multiplier']:.6g} (dpa optimum {worst['dp_accounting']['optimal_order']:g})")
    below = [c for c in both if c["opacus"]["noise_multiplier"] < c["dp_accounting"]["noise_multiplier"]]
    lines.append(f"opacus sigma below dpa sigma: {len(below)}")
    for c in below:
        lines.append(f"  {c['name']} q={c['sampling_rate']:.4g} T={c['steps']} d={c['delta']:.3g} "
                     f"E={c['target_epsilon']:.4g}: sigma opacus {c['opacus']['noise_multiplier']:.7g} vs dpa "
                     f"{c['dp_accounting']['noise_multiplier']:.7g} (rel {1 - c['opacus']['noise_multiplier'] / c['dp_accounting']['noise_multiplier']:.2g}); "
                     f"dpa eps at opacus sigma {c['opacus']['dp_accounting_epsilon']:.7g}; opacus eps {c['opacus']['epsilon']:.7g}")
        s_op, q, T, d = c["opacus"]["noise_multiplier"], c["sampling_rate"], c["steps"], c["delta"]
        op_fix, op_rdp = opacus_epsilon(q, s_op, T, d)
        acc = dpa_accountant(poisson_event(q, s_op, T))
        ao = op_fix["optimal_order"]
        lines.append(f"    at opacus sigma: opacus optimum {ao:g}, dpa optimum "
                     f"{acc.get_epsilon_and_optimal_order(d)[1]:g}; total RDP at {ao:g}: opacus "
                     f"{op_rdp[OPACUS_ORDERS.index(ao)]:.7g}, dpa {acc.rdp[index_of(acc.orders, ao)]:.7g}; "
                     f"dpa +inf orders: {int(np.sum(np.isinf(acc.rdp)))}")
    ok = [c for c in cases if not isinstance(c["dp_accounting"], str)]
    over = [c["dp_accounting"]["epsilon"] - c["target_epsilon"] for c in ok]
    lines.append(f"dpa eps(sigma) - target: max {max(over):.3g} (must be <= 0), min {min(over):.3g}; "
                 f"cases with own epsilon_rtol: {sum('epsilon_rtol' in c for c in cases)}")
    slack = [c["target_epsilon"] - c["opacus"]["epsilon"] for c in both]
    lines.append(f"opacus target - eps(sigma): max {max(slack):.4g}, min {min(slack):.4g} (epsilon_tolerance 0.01)")
    lines.append(f"max_steps kept: {len(max_steps)}; dropped: {len(dropped)}")
    for name, why in dropped:
        lines.append(f"  dropped {name}: {why}")
    return lines


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def run_tasks(pool, kind, payloads, label):
    t0 = time.perf_counter()
    results = list(pool.imap(_dispatch, [(kind, p) for p in payloads], chunksize=1))
    dt = time.perf_counter() - t0
    slow = sorted(((d.get("seconds", 0.0), r.get("name", "")) for r, d in results), reverse=True)[:3]
    slow_txt = ", ".join(f"{n} {s:.2f}s" for s, n in slow if s > 0)
    print(f"{label}: {len(payloads)} tasks in {dt:.1f}s" + (f" (slowest: {slow_txt})" if slow_txt else ""),
          file=sys.stderr, flush=True)
    return [r for r, _ in results], [d for _, d in results]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="worker processes (default: min(2, nproc)); results do not depend on it")
    ap.add_argument("--out", type=Path, default=None,
                    help="output directory (default: Tests/AccountantsTests/Fixtures)")
    args = ap.parse_args()

    global OUT_DIR
    if args.out is not None:
        OUT_DIR = args.out
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    rng_poisson, rng_wor, rng_calib, rng_max_steps = child_rngs(4)

    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(args.jobs) as pool:
        poisson, p_diags = run_tasks(pool, "poisson_case", poisson_cases(rng_poisson, 300), "rdp_poisson cases")
        per_order, po_diags = run_tasks(
            pool, "poisson_per_order",
            [{"sampling_rate": q, "noise_multiplier": s} for q, s in POISSON_PER_ORDER], "rdp_poisson per_order")
        wor, w_diags = run_tasks(pool, "wor_case", wor_cases(rng_wor, 60), "rdp_fixed_size cases")
        wor_per_order, wpo_diags = run_tasks(
            pool, "wor_per_order",
            [{"source_size": n, "sample_size": m, "noise_multiplier": s} for n, m, s in WOR_PER_ORDER],
            "rdp_fixed_size per_order")
        calib, _ = run_tasks(pool, "calibration_case", calibration_cases(rng_calib, 60), "calibration cases")
        ms_cases, ms_diags = run_tasks(pool, "max_steps_case", max_steps_cases(rng_max_steps, 10),
                                       "calibration max_steps")

    check_known_values(poisson, wor, calib)

    max_steps, dropped = [], []
    for r, d in zip(ms_cases, ms_diags):
        if d["valid"]:
            max_steps.append(r)
        else:
            dropped.append((r["name"], d["why"]))
            print(f"max_steps: dropping {r['name']}: {d['why']}", file=sys.stderr)

    below = [c["name"] for c in calib
             if not isinstance(c["opacus"], str) and not isinstance(c["dp_accounting"], str)
             and c["opacus"]["noise_multiplier"] < c["dp_accounting"]["noise_multiplier"]]

    common = {"command": COMMAND, "script": SCRIPT, "seed": SEED}
    rng_note = "numpy default_rng(SeedSequence(20261122).spawn(4)[{}])"
    files = [
        write_json("rdp_poisson.json", {
            "source": sources("dp-accounting", "opacus", "numpy", "scipy", "mpmath"),
            **common, "rng": rng_note.format(0),
            "rtol": RTOL, "atol": ATOL,
            "grids": {"dp_accounting_default": DEFAULT_ORDERS, "integer": INTEGER_ORDERS,
                      "opacus_default": OPACUS_ORDERS},
            "cases": poisson,
            "per_order": per_order,
        }),
        write_json("rdp_fixed_size.json", {
            "source": sources("dp-accounting", "numpy", "scipy", "mpmath"),
            **common, "rng": rng_note.format(1),
            "rtol": RTOL, "atol": ATOL,
            "neighboring_relation": "replace_one",
            "grids": {"dp_accounting_default": DEFAULT_ORDERS, "integer": INTEGER_ORDERS},
            "cases": wor,
            "per_order": wor_per_order,
        }),
        write_json("calibration.json", {
            "source": sources("dp-accounting", "opacus", "numpy", "scipy", "mpmath"),
            **common, "rng": rng_note.format(2) + " for cases, " + rng_note.format(3) + " for max_steps",
            # dp_accounting's Brent search stops at xtol = 1e-6 (absolute, in
            # sigma); another root finder lands within about that of the root.
            "rtol": 1e-5, "atol": 2e-6,
            # dp_accounting.epsilon is a deterministic function of the stored sigma.
            "epsilon_rtol": RTOL, "epsilon_atol": ATOL,
            "grid": "dp_accounting_default",
            "opacus_epsilon_tolerance": 0.01,
            "cases": calib,
            "opacus_below_dp_accounting": below,
            "max_steps": max_steps,
        }),
    ]

    report = (poisson_stats(poisson, p_diags, per_order, po_diags)
              + wor_stats(wor, w_diags, wor_per_order, wpo_diags)
              + calibration_stats(calib, max_steps, dropped))
    print("\n".join(report))
    total = 0
    for f in files:
        size = f.stat().st_size
        total += size
        print(f"wrote {f.relative_to(REPO) if f.is_relative_to(REPO) else f} ({size / 1e6:.2f} MB)")
    print(f"total {total / 1e6:.2f} MB; cases: rdp_poisson {len(poisson)} (+{len(per_order)} per_order), "
          f"rdp_fixed_size {len(wor)} (+{len(wor_per_order)} per_order), calibration {len(calib)} "
          f"(+{len(max_steps)} max_steps); {time.perf_counter() - t_start:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
