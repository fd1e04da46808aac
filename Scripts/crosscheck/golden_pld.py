#!/usr/bin/env python3
"""Golden fixtures for a PLD (privacy-loss-distribution) accountant of the
Poisson-subsampled Gaussian mechanism (add/remove neighbours).

Writes Tests/AccountantsTests/Fixtures/pld.json. Run it through
Scripts/crosscheck/run, which creates the pinned venv first and runs every
golden_*.py. It also runs standalone: golden_pld.py [--jobs N] [--out DIR]
(--only NAME,... prints those cases and writes nothing).

For every case (q, sigma, T, delta, target_epsilon) the file holds:

  dp_accounting   PLD epsilon on a ladder of value_discretization_interval
                  values h = 1e-4, 3e-5, 1e-5, ... (coarser if 1e-4 does not
                  fit). The ladder stops when two successive epsilons agree to
                  1e-4 relative ("converged"), when the next h would exceed the
                  size limits below, or when a finer h gives a LARGER epsilon
                  (FFT round-off; that value is kept in the ladder, marked
                  "rejected"). Also eps_remove / eps_add (the two PMFs of the
                  asymmetric PLD), delta at target_epsilon, and the default-h
                  (1e-4) epsilon.
  prv_accountant  lower / estimate / upper epsilon from
                  PRVAccountant(PoissonSubsampledGaussianMechanism), with
                  eps_error = 0.01 * max(PLD epsilon, 0.1) (raised if the domain
                  would exceed PRV_MAX_POINTS) and delta_error = delta / 1000;
                  where the library raises, its exception is stored as
                  "error": "error: <Type>: <message>" next to the parameters.
  exact           q = 1: the analytic Gaussian (mu = sqrt(T)/sigma); T = 1 and
                  q < 1: the single-step hockey-stick divergence, max of the
                  remove and add directions. mpmath, 50 digits, bisection.
  rdp_epsilon     dp_accounting RdpAccountant on its default grid.

The size limits are deterministic (predicted from the library's own
truncation bounds before anything is allocated), so the output does not
depend on the machine or on --jobs. The statistics printed at the end are the
source of the "pld.json" section of Tests/AccountantsTests/Fixtures/README.md.
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


def _quiet_libraries() -> None:
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)
    warnings.simplefilter("ignore")  # prv_accountant's DeprecationWarnings, numpy overflow in PRV


_quiet_libraries()

import mpmath as mp  # noqa: E402
from scipy import fft as sp_fft  # noqa: E402

from dp_accounting import dp_event  # noqa: E402
from dp_accounting.pld import common as pld_common  # noqa: E402
from dp_accounting.pld import pld_privacy_accountant  # noqa: E402
from dp_accounting.pld import privacy_loss_distribution as PLD  # noqa: E402
from dp_accounting.pld import privacy_loss_mechanism as plm  # noqa: E402
from dp_accounting.rdp import rdp_privacy_accountant as dpa_rdp  # noqa: E402
from prv_accountant import PoissonSubsampledGaussianMechanism, PRVAccountant  # noqa: E402
from prv_accountant.accountant import compute_safe_domain_size  # noqa: E402

SEED = 20261122
# golden_rdp.py uses SeedSequence(SEED).spawn(4)[0..3]; spawn(n)[k] does not
# depend on n, so index 4 is a fresh independent stream.
RNG_STREAM = 4
COMMAND = "Scripts/crosscheck/run"
SCRIPT = "Scripts/crosscheck/golden_pld.py"
REPO = Path(__file__).resolve().parents[2]
OUT_DIR = REPO / "Tests" / "AccountantsTests" / "Fixtures"

# --------------------------------------------------------------------------
# Parameters of the discretisation ladder and of the limits
# --------------------------------------------------------------------------

H_LADDER = [1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 3e-7, 1e-7, 3e-8, 1e-8, 3e-9, 1e-9]
DEFAULT_H = 1e-4
CONVERGENCE_RTOL = 1e-4
# Size limits per direction (remove / add), checked before allocating:
#  * the single-step PMF (connect-the-dots grid between the library's
#    epsilon bounds): building it costs ~5 us per point (Python dict);
#  * the FFT length of the T-fold self-composition, from the library's own
#    Chernoff truncation bounds (common.compute_self_convolve_bounds):
#    ~100 bytes and ~0.5 us per point.
MAX_SINGLE_STEP_SIZE = 4_000_000
MAX_FFT_LENGTH = 2 ** 25
PRV_EPS_ERROR_FACTOR = 0.01
PRV_EPS_ERROR_FLOOR_SCALE = 0.1  # eps_error >= 0.01 * 0.1 = 1e-3
PRV_MAX_POINTS = 3_000_000

MP_DPS = 50

# --------------------------------------------------------------------------
# JSON helpers (same conventions as golden_rdp.py)
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


def sources(*dists: str):
    out = [{"library": d, "version": importlib.metadata.version(d)} for d in dists]
    out.append({"library": "python", "version": platform.python_version()})
    return out


def err_str(e: BaseException) -> str:
    return f"error: {type(e).__name__}: {e}"


def log_uniform(rng, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def log_uniform_int(rng, lo: float, hi: float) -> int:
    return max(int(lo), int(round(log_uniform(rng, lo, hi))))


def rel(a, b):
    return abs(a - b) / abs(b) if b != 0 else abs(a - b)


# --------------------------------------------------------------------------
# dp_accounting PLD
# --------------------------------------------------------------------------


def directions(q):
    # sampling_prob == 1: the library builds one symmetric PMF (REMOVE only).
    A = plm.AdjacencyType
    return [A.REMOVE] if q == 1.0 else [A.REMOVE, A.ADD]


def single_step_size(q, s, h):
    """Size of the connect-the-dots grid the library builds for one step."""
    n = 0
    for adj in directions(q):
        b = plm.GaussianPrivacyLoss(s, sampling_prob=q, adjacency_type=adj).connect_dots_bounds()
        n = max(n, math.ceil(b.epsilon_upper / h) - math.floor(b.epsilon_lower / h) + 1)
    return n


def fft_length(pmf, T):
    """The FFT length DensePLDPmf.self_compose(T) will use (0 if it uses none)."""
    if T == 1 and pmf.size <= 1000:
        return 0  # SparsePLDPmf.self_compose(1) returns the PMF itself
    probs = pmf.to_dense_pmf()._probs
    lo, hi = pld_common.compute_self_convolve_bounds(probs, T, 1e-15)
    return int(sp_fft.next_fast_len(max(hi - lo + 1, len(probs))))


def negative_mass(pmf):
    p = pmf.to_dense_pmf()._probs
    return max(0.0, float(-p[p < 0].sum()))


def pld_at(q, s, T, d, E, h):
    """One rung of the ladder. Returns (entry, None) or (None, why-not)."""
    n1 = single_step_size(q, s, h)
    if n1 > MAX_SINGLE_STEP_SIZE:
        return None, {"h": h, "single_step_size": n1}
    single = PLD.from_gaussian_mechanism(s, value_discretization_interval=h, sampling_prob=q)
    pmfs = [single._pmf_remove] + ([] if q == 1.0 else [single._pmf_add])
    n2 = max(fft_length(p, T) for p in pmfs)
    if n2 > MAX_FFT_LENGTH:
        return None, {"h": h, "single_step_size": n1, "fft_length": n2}
    # Exactly what PLDAccountant(value_discretization_interval=h) does for
    # SelfComposedDpEvent(PoissonSampledDpEvent(q, GaussianDpEvent(s)), T):
    # identity PLD composed with from_gaussian_mechanism(...).self_compose(T)
    # (checked bit for bit against PLDAccountant in check_accountant_path).
    pld = PLD.identity(value_discretization_interval=h).compose(single.self_compose(T))
    del single
    er = float(pld._pmf_remove.get_epsilon_for_delta(d))
    ea = float(pld._pmf_add.get_epsilon_for_delta(d))
    entry = {
        "h": h,
        "epsilon": float(pld.get_epsilon_for_delta(d)),
        "eps_remove": er,
        "eps_add": ea,
        "delta": float(pld.get_delta_for_epsilon(E)),
        "fft_length": n2,
        "negative_mass": max(negative_mass(pld._pmf_remove), negative_mass(pld._pmf_add)),
    }
    assert entry["epsilon"] == max(er, ea)
    return entry, None


def agree(a, b):
    return abs(a - b) <= CONVERGENCE_RTOL * max(abs(a), abs(b))


def pld_ladder(q, s, T, d, E):
    i0 = H_LADDER.index(DEFAULT_H)
    ladder, stop, not_run = [], None, None
    first, why = pld_at(q, s, T, d, E, DEFAULT_H)
    if first is None:
        # Even the library default does not fit: go coarser until one fits,
        # and compute one coarser still for the convergence ratio.
        not_run = why
        j = i0 - 1
        while j >= 0:
            first, _ = pld_at(q, s, T, d, E, H_LADDER[j])
            if first is not None:
                break
            j -= 1
        if first is None:
            return f"error: no h in {H_LADDER[:i0 + 1]} fits the size limits", None
        if j > 0:
            coarser, _ = pld_at(q, s, T, d, E, H_LADDER[j - 1])
            ladder.append(coarser)
        ladder.append(first)
        stop = "size_limit"
    else:
        ladder.append(first)
        for h in H_LADDER[i0 + 1:]:
            e, why = pld_at(q, s, T, d, E, h)
            if e is None:
                stop, not_run = "size_limit", why
                break
            prev = ladder[-1]
            if e["epsilon"] > prev["epsilon"] and not agree(e["epsilon"], prev["epsilon"]):
                e["rejected"] = True
                ladder.append(e)
                stop = "increased"
                break
            ladder.append(e)
            if agree(e["epsilon"], prev["epsilon"]):
                stop = "converged"
                break
        else:
            stop = "ladder_end"
    accepted = [e for e in ladder if not e.get("rejected")]
    best = accepted[-1]
    prev = accepted[-2] if len(accepted) > 1 else None
    converged = prev is not None and agree(best["epsilon"], prev["epsilon"])
    if stop == "size_limit" and converged:
        stop = "converged"
    if prev is None:
        ratio = None
    elif best["epsilon"] == prev["epsilon"]:
        ratio = 1.0
    elif prev["epsilon"] == 0:
        ratio = math.inf
    else:
        ratio = best["epsilon"] / prev["epsilon"]
    dp = {
        "epsilon": best["epsilon"],
        "discretization": best["h"],
        "converged": converged,
        "stop": stop,
        "convergence_ratio": ratio,
        "previous_discretization": prev["h"] if prev else None,
        "eps_remove": best["eps_remove"],
        "eps_add": best["eps_add"],
        "delta": best["delta"],
        # FFT round-off indicator: negative probability mass of the composed
        # PMF (max over the two directions) divided by delta.
        "noise_ratio": best["negative_mass"] / d,
        "epsilon_default_h": first["epsilon"] if first["h"] == DEFAULT_H else f"skipped: {not_run}",
        "ladder": ladder,
    }
    # Above ~745, exp(-loss) underflows to 0 in the library's
    # _get_epsilon_for_delta, which then returns the smallest grid loss with
    # P(L > loss) + p_inf >= delta: the e^eps * Q(L > eps) term is dropped, so
    # epsilon is the delta-quantile of the loss (an upper bound, above the
    # hockey-stick solution; edge-q1-s0.7-T1e4: 10813.36 against exact 10812.37).
    if best["epsilon"] > 0 and math.isfinite(best["epsilon"]) and math.exp(-best["epsilon"]) == 0.0:
        dp["exp_underflow"] = True
    if dp["previous_discretization"] is None:
        del dp["previous_discretization"], dp["convergence_ratio"]
    if not_run is not None:
        dp["not_run"] = not_run
    return dp, best


def gaussian_event_epsilon(s, T, d, h):
    """q = 1 only: PLDAccountant on SelfComposedDpEvent(GaussianDpEvent(s), T),
    which uses the exact sigma/sqrt(T) shortcut (no FFT composition). At h, or
    at the finest coarser h of the ladder whose single-step grid fits."""
    sT = s / math.sqrt(T)
    i = H_LADDER.index(h)
    while i >= 0 and single_step_size(1.0, sT, H_LADDER[i]) > MAX_SINGLE_STEP_SIZE:
        i -= 1
    if i < 0:
        return f"skipped: single-step size {single_step_size(1.0, sT, H_LADDER[0])} at h={H_LADDER[0]}", None
    acc = pld_privacy_accountant.PLDAccountant(value_discretization_interval=H_LADDER[i])
    acc.compose(dp_event.SelfComposedDpEvent(dp_event.GaussianDpEvent(s), T))
    return float(acc.get_epsilon(d)), H_LADDER[i]


def check_accountant_path():
    """pld_at reproduces PLDAccountant bit for bit (asymmetric and symmetric)."""
    for q, s, T, d, h in ((1e-3, 1.0, 2000, 1e-6, 1e-4), (1.0, 2.0, 10, 1e-5, 1e-4), (0.3, 1.0, 1, 1e-5, 1e-4)):
        acc = pld_privacy_accountant.PLDAccountant(value_discretization_interval=h)
        acc.compose(dp_event.SelfComposedDpEvent(dp_event.PoissonSampledDpEvent(q, dp_event.GaussianDpEvent(s)), T))
        mine, _ = pld_at(q, s, T, d, 1.0, h)
        assert mine["epsilon"] == float(acc.get_epsilon(d)), (q, s, T, mine["epsilon"], acc.get_epsilon(d))
        assert mine["delta"] == float(acc.get_delta(1.0)), (q, s, T)


# --------------------------------------------------------------------------
# prv_accountant
# --------------------------------------------------------------------------


def prv_domain_size(prv, T, eps_error, delta_error):
    L = compute_safe_domain_size([prv], [T], eps_error=eps_error, delta_error=delta_error)
    mesh = eps_error / math.sqrt(T / 2 * math.log(12 / delta_error))
    return int(round(2 * float(L) / mesh)) + 2


def prv_epsilon(q, s, T, d, eps_scale):
    delta_error = d / 1000
    eps_error = PRV_EPS_ERROR_FACTOR * max(eps_scale, PRV_EPS_ERROR_FLOOR_SCALE) if math.isfinite(eps_scale) else 1.0
    out = {"eps_error": eps_error, "delta_error": delta_error}
    prv = PoissonSubsampledGaussianMechanism(sampling_probability=q, noise_multiplier=s)
    try:
        n = prv_domain_size(prv, T, eps_error, delta_error)
        raised = False
        for _ in range(20):
            if n <= PRV_MAX_POINTS:
                break
            # Round the raised eps_error up to 2 significant digits.
            e = eps_error * n / PRV_MAX_POINTS * 1.01
            p = 10 ** math.floor(math.log10(e) - 1)
            eps_error = float(f"{math.ceil(e / p) * p:.2g}")
            raised = True
            n = prv_domain_size(prv, T, eps_error, delta_error)
        out["eps_error"] = eps_error
        out["domain_size"] = n
        if raised:
            out["eps_error_raised"] = True
        acc = PRVAccountant(prvs=[prv], eps_error=eps_error, delta_error=delta_error, max_self_compositions=[T])
        lo, est, up = acc.compute_epsilon(delta=d, num_self_compositions=[T])
        vals = [float(lo), float(est), float(up)]
        if any(math.isnan(v) for v in vals):
            out["error"] = f"error: prv_accountant returned {vals}"
        else:
            out["lower"], out["estimate"], out["upper"] = vals
    except Exception as e:  # noqa: BLE001 - the failure is recorded in the fixture
        out["error"] = err_str(e)
    return out


# --------------------------------------------------------------------------
# Exact values (mpmath)
# --------------------------------------------------------------------------


def _bisect_decreasing(f, target, hi_max=None):
    """Smallest eps >= 0 with f(eps) <= target, f decreasing; f(0) > target."""
    lo, hi = mp.mpf(0), mp.mpf(1)
    while f(hi) > target:
        lo, hi = hi, hi * 2
        if hi_max is not None and hi >= hi_max:
            hi = hi_max
            break
    while hi - lo > mp.mpf(10) ** (-30) * max(1, hi):
        mid = (lo + hi) / 2
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return hi


def gaussian_delta(eps, mu):
    # delta(eps; mu) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2)
    return mp.ncdf(-eps / mu + mu / 2) - mp.exp(eps) * mp.ncdf(-eps / mu - mu / 2)


def exact_gaussian(s, T, d, E):
    with mp.workdps(MP_DPS):
        mu = mp.sqrt(T) / mp.mpf(s)
        dd = mp.mpf(d)
        f = lambda e: gaussian_delta(e, mu)  # noqa: E731
        eps = mp.mpf(0) if f(mp.mpf(0)) <= dd else _bisect_decreasing(f, dd)
        return {"method": "analytic_gaussian", "mu": float(mu), "epsilon": float(eps),
                "delta": float(f(mp.mpf(E)))}


def single_step_deltas(q, s):
    """Hockey-stick delta(eps) of one Poisson-subsampled Gaussian step
    (spec section 5.1), remove and add directions."""
    q, s = mp.mpf(q), mp.mpf(s)

    def d_remove(eps):
        xs = s * s * mp.log((mp.exp(eps) - (1 - q)) / q) + mp.mpf(1) / 2
        return ((1 - q) * mp.ncdf(-xs / s) + q * mp.ncdf(-(xs - 1) / s)
                - mp.exp(eps) * mp.ncdf(-xs / s))

    def d_add(eps):
        if mp.exp(-eps) <= 1 - q:
            return mp.mpf(0)
        xa = s * s * mp.log((mp.exp(-eps) - (1 - q)) / q) + mp.mpf(1) / 2
        return mp.ncdf(xa / s) - mp.exp(eps) * ((1 - q) * mp.ncdf(xa / s) + q * mp.ncdf((xa - 1) / s))

    return d_remove, d_add


def exact_single_step(q, s, d, E):
    with mp.workdps(MP_DPS):
        d_remove, d_add = single_step_deltas(q, s)
        dd = mp.mpf(d)
        e_rem = mp.mpf(0) if d_remove(mp.mpf(0)) <= dd else _bisect_decreasing(d_remove, dd)
        add_max = -mp.log(1 - mp.mpf(q))
        e_add = mp.mpf(0) if d_add(mp.mpf(0)) <= dd else _bisect_decreasing(d_add, dd, hi_max=add_max)
        mE = mp.mpf(E)
        return {"method": "single_step_hockey_stick", "epsilon": float(max(e_rem, e_add)),
                "eps_remove": float(e_rem), "eps_add": float(e_add),
                "delta": float(max(d_remove(mE), d_add(mE)))}


# --------------------------------------------------------------------------
# Worker
# --------------------------------------------------------------------------


def work_case(c):
    t0 = time.perf_counter()
    q, s, T, d, E = (c[k] for k in ("sampling_rate", "noise_multiplier", "steps", "delta", "target_epsilon"))
    out = dict(c)
    secs = {}

    t = time.perf_counter()
    rdp = dpa_rdp.RdpAccountant()
    rdp.compose(dp_event.SelfComposedDpEvent(dp_event.PoissonSampledDpEvent(q, dp_event.GaussianDpEvent(s)), T))
    rdp_eps = float(rdp.get_epsilon(d))
    secs["rdp"] = time.perf_counter() - t

    t = time.perf_counter()
    try:
        dp, best = pld_ladder(q, s, T, d, E)
        if q == 1.0 and best is not None:
            dp["epsilon_gaussian_event"], dp["discretization_gaussian_event"] = \
                gaussian_event_epsilon(s, T, d, best["h"])
            if dp["discretization_gaussian_event"] is None:
                del dp["discretization_gaussian_event"]
    except Exception as e:  # noqa: BLE001
        dp = err_str(e)
    out["dp_accounting"] = dp
    secs["pld"] = time.perf_counter() - t

    t = time.perf_counter()
    scale = dp["epsilon"] if isinstance(dp, dict) else rdp_eps
    out["prv_accountant"] = prv_epsilon(q, s, T, d, scale)
    secs["prv"] = time.perf_counter() - t

    t = time.perf_counter()
    if q == 1.0:
        out["exact"] = exact_gaussian(s, T, d, E)
    elif T == 1:
        out["exact"] = exact_single_step(q, s, d, E)
    secs["exact"] = time.perf_counter() - t

    out["rdp_epsilon"] = rdp_eps
    secs["total"] = time.perf_counter() - t0
    return out, secs


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------


def case(name, q, s, T, d, E):
    return {"name": name, "sampling_rate": float(q), "noise_multiplier": float(s), "steps": int(T),
            "delta": float(d), "target_epsilon": float(E)}


def make_cases(rng, n_random):
    cases = []
    for i in range(n_random):
        q = log_uniform(rng, 1e-6, 1.0)
        s = log_uniform(rng, 0.5, 20.0)
        T = log_uniform_int(rng, 1, 1e5)
        d = log_uniform(rng, 1e-12, 1e-3)
        E = log_uniform(rng, 0.05, 20.0)
        cases.append(case(f"random-{i:03d}", q, s, T, d, E))
    cases += [
        # 10^6 steps: the default h over-states epsilon (spec section 5.4).
        case("edge-1e6-q1e-3-s1", 1e-3, 1.0, 1_000_000, 1e-6, 5.0),
        case("edge-1e6-q1e-4-s5-d1e-10", 1e-4, 5.0, 1_000_000, 1e-10, 0.1),
        case("edge-1e6-q1e-5-s1-d1e-6", 1e-5, 1.0, 1_000_000, 1e-6, 0.05),
        # delta = 1e-12
        case("edge-delta1e-12", 0.01, 1.0, 1000, 1e-12, 3.0),
        case("edge-delta1e-12-T1e4", 1e-3, 1.0, 10_000, 1e-12, 1.0),
        # q = 1: the analytic Gaussian is exact
        case("edge-q1-s1-T1", 1.0, 1.0, 1, 1e-5, 2.0),
        case("edge-q1-s0.5-T1", 1.0, 0.5, 1, 1e-5, 5.0),
        case("edge-q1-s1-T10", 1.0, 1.0, 10, 1e-5, 10.0),
        case("edge-q1-s2-T100-d1e-12", 1.0, 2.0, 100, 1e-12, 20.0),
        case("edge-q1-s5-T1000", 1.0, 5.0, 1000, 1e-5, 10.0),
        case("edge-q1-s20-T10000", 1.0, 20.0, 10_000, 1e-6, 5.0),
        case("edge-q1-s1-T1000-d1e-3", 1.0, 1.0, 1000, 1e-3, 50.0),
        case("edge-q1-s0.7-T1e4", 1.0, 0.7, 10_000, 1e-5, 1000.0),
        # tiny q
        case("edge-q1e-6-s1-T1e5", 1e-6, 1.0, 100_000, 1e-5, 0.1),
        case("edge-q1e-6-s0.5-T1000-d1e-8", 1e-6, 0.5, 1000, 1e-8, 0.1),
        # large per-step privacy loss (prv_accountant #36/#42, Opacus #601/#604)
        case("edge-large-loss-q0.125-s0.8", 0.125, 0.8, 100, 1e-5, 10.0),
        case("edge-large-loss-q0.125-s0.8-T1000", 0.125, 0.8, 1000, 1e-5, 30.0),
        case("edge-large-loss-q0.5-s0.6", 0.5, 0.6, 100, 1e-5, 50.0),
        case("edge-large-loss-q0.5-s0.6-T1000", 0.5, 0.6, 1000, 1e-5, 200.0),
        case("edge-large-loss-q0.2-s0.7", 0.2, 0.7, 1000, 1e-5, 50.0),
        case("edge-large-loss-q0.9-s0.5-T10", 0.9, 0.5, 10, 1e-5, 50.0),
        case("edge-large-loss-q0.125-s0.8-T1", 0.125, 0.8, 1, 1e-5, 1.0),
        # known values
        case("edge-fl-default", 1e-3, 1.0, 2000, 1e-6, 0.25),
        case("edge-q0.01-s1.1-T1e4", 0.01, 1.1, 10_000, 1e-5, 5.0),
        case("edge-tf166-q0.00105", 0.00105, 1.0, 1, 1e-3, 0.1),
        case("edge-mnist", 256 / 60000, 1.1, 14062, 1e-5, 2.0),
        case("edge-q0.04-s1.5-T2250", 0.04, 1.5, 2250, 1e-5, 5.0),
        # single steps, q < 1: exact single-step hockey stick
        case("edge-T1-q0.01-s1", 0.01, 1.0, 1, 1e-5, 0.1),
        case("edge-T1-q0.5-s2-d1e-6", 0.5, 2.0, 1, 1e-6, 0.5),
        case("edge-T1-q0.999-s1", 0.999, 1.0, 1, 1e-5, 2.0),
        # other corners
        case("edge-q0.999-s1-T10", 0.999, 1.0, 10, 1e-5, 5.0),
        case("edge-s20-q0.1-T1e4", 0.1, 20.0, 10_000, 1e-5, 0.5),
        case("edge-s0.5-q0.01-T1e4", 0.01, 0.5, 10_000, 1e-5, 20.0),
        case("edge-T1e5-q0.01-s1", 0.01, 1.0, 100_000, 1e-5, 10.0),
        case("edge-delta1e-3-q0.1-s2-T100", 0.1, 2.0, 100, 1e-3, 1.0),
    ]
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names))
    return cases


# --------------------------------------------------------------------------
# Known values
# --------------------------------------------------------------------------


def check_known_values(cases):
    by = {c["name"]: c for c in cases}
    ok = []

    def ladder_eps(c, h):
        return next((e["epsilon"] for e in c["dp_accounting"]["ladder"] if e["h"] == h), None)

    def expect(cond, what):
        if not cond:
            raise AssertionError(f"known value not reproduced: {what}")
        ok.append(what)

    # Spec 5.4: federated default.
    c = by["edge-fl-default"]["dp_accounting"]
    expect(abs(c["epsilon_default_h"] - 0.25228) < 5e-6, f"fl-default h=1e-4 eps {c['epsilon_default_h']} = 0.25228")
    expect(abs(c["epsilon"] - 0.2522) < 5e-5, f"fl-default converged eps {c['epsilon']} = 0.2522")
    for h, v in ((3e-5, 0.25220), (1e-5, 0.25219)):
        e = ladder_eps(by["edge-fl-default"], h)
        expect(e is not None and abs(e - v) < 5e-6, f"fl-default h={h} eps {e} = {v}")
    # Brief: q=0.01, sigma=1.1, T=1e4, delta=1e-5 at the default h.
    c = by["edge-q0.01-s1.1-T1e4"]["dp_accounting"]
    expect(abs(c["epsilon_default_h"] - 5.192620) < 5e-7, f"q0.01-s1.1 h=1e-4 eps {c['epsilon_default_h']} = 5.192620")
    # Spec 5.4 table at 10^6 steps (digits as given).
    for name, vals in (("edge-1e6-q1e-5-s1-d1e-6", ((1e-4, 0.102, 3), (3e-5, 0.061, 3), (1e-5, 0.0477, 4), (3e-6, 0.0455, 4))),
                       ("edge-1e6-q1e-4-s5-d1e-10", ((1e-4, 0.222, 3), (3e-5, 0.130, 3), (1e-5, 0.112, 3), (3e-6, 0.110, 3)))):
        for h, v, digits in vals:
            e = ladder_eps(by[name], h)
            expect(e is not None and round(e, digits) == v, f"{name} h={h} eps {e} = {v}")
    # Spec 9.9 (TF-Privacy #166): exact 0, PLD 0, PRV estimate about -0.001.
    c = by["edge-tf166-q0.00105"]
    expect(c["exact"]["epsilon"] == 0.0, "tf166 exact eps = 0")
    expect(c["dp_accounting"]["epsilon"] == 0.0 and c["dp_accounting"]["epsilon_default_h"] == 0.0, "tf166 PLD eps = 0")
    expect(-0.002 < c["prv_accountant"].get("estimate", 1) < 0, f"tf166 PRV estimate {c['prv_accountant'].get('estimate')} in (-0.002, 0)")
    expect(c["rdp_epsilon"] > 0.25, f"tf166 RDP eps {c['rdp_epsilon']} > 0.25")
    # Spec 6: prv_accountant fails for large per-step loss.
    c = by["edge-large-loss-q0.125-s0.8"]["prv_accountant"]
    expect(c.get("error", "").startswith("error: RuntimeError: Discrete mean differs"),
           f"PRV fails at q=0.125, sigma=0.8: {c.get('error')}")
    return ok


def check_invariants(cases):
    """Properties every case must satisfy; returns the list of violations."""
    bad = []
    for c in cases:
        dp = c["dp_accounting"]
        if not isinstance(dp, dict):
            continue
        # RDP is an upper bound of the tight epsilon.
        if dp["epsilon"] > c["rdp_epsilon"] * (1 + 1e-9) + 1e-12:
            bad.append(f"{c['name']}: PLD {dp['epsilon']} > RDP {c['rdp_epsilon']}")
        ex = c.get("exact")
        # The pessimistic PLD is an upper bound of the exact epsilon.
        if ex is not None and dp["epsilon"] < ex["epsilon"] * (1 - 1e-9) - 1e-12:
            bad.append(f"{c['name']}: PLD {dp['epsilon']} < exact {ex['epsilon']}")
    return bad


# --------------------------------------------------------------------------
# Statistics for the README
# --------------------------------------------------------------------------


def quantiles(xs):
    xs = np.asarray(xs, dtype=float)
    qs = np.quantile(xs, [0, 0.1, 0.5, 0.9, 1.0])
    return "min {:.3g}, p10 {:.3g}, median {:.3g}, p90 {:.3g}, max {:.3g}".format(*qs)


def fmt_case(c):
    return (f"{c['name']} (q={c['sampling_rate']:.3g}, s={c['noise_multiplier']:.3g}, T={c['steps']}, "
            f"d={c['delta']:.2g})")


def stats(cases, secs):
    L = []
    dps = [c for c in cases if isinstance(c["dp_accounting"], dict)]
    L.append(f"cases: {len(cases)} ({sum(c['name'].startswith('random') for c in cases)} random, "
             f"{sum(c['name'].startswith('edge') for c in cases)} edge); dp_accounting errors: {len(cases) - len(dps)}")
    conv = [c for c in dps if c["dp_accounting"]["converged"]]
    L.append(f"converged: {len(conv)} / {len(dps)}")
    by_stop = {}
    for c in dps:
        by_stop.setdefault(c["dp_accounting"]["stop"], []).append(c)
    for k, v in sorted(by_stop.items()):
        L.append(f"  stop={k}: {len(v)}")
    hs = {}
    for c in dps:
        hs[c["dp_accounting"]["discretization"]] = hs.get(c["dp_accounting"]["discretization"], 0) + 1
    L.append("finest accepted h: " + ", ".join(f"{h:g}: {n}" for h, n in sorted(hs.items(), reverse=True)))
    for c in dps:
        dp = c["dp_accounting"]
        if not dp["converged"]:
            L.append(f"  not converged: {fmt_case(c)}: stop={dp['stop']} h={dp['discretization']:g} "
                     f"eps={dp['epsilon']:.6g} ratio={dp.get('convergence_ratio')} not_run={dp.get('not_run')}")
    rej = [c for c in dps if any(e.get("rejected") for e in c["dp_accounting"]["ladder"])]
    for c in rej:
        e = [e for e in c["dp_accounting"]["ladder"] if e.get("rejected")][0]
        L.append(f"  rejected (increase): {fmt_case(c)} at h={e['h']:g}: {e['epsilon']:.7g} after "
                 f"{c['dp_accounting']['epsilon']:.7g}")
    # noise floor
    noisy = [c for c in dps if c["dp_accounting"]["noise_ratio"] > 1e-2]
    L.append(f"noise_ratio > 1e-2 at the accepted h: {len(noisy)}: "
             + "; ".join(f"{c['name']} (d={c['delta']:.2g}, T={c['steps']}) {c['dp_accounting']['noise_ratio']:.2g}"
                         for c in sorted(noisy, key=lambda c: -c["dp_accounting"]["noise_ratio"])))
    L.append(f"  of which converged: {sum(c['dp_accounting']['converged'] for c in noisy)}; "
             f"stop=increased among them: {sum(c['dp_accounting']['stop'] == 'increased' for c in noisy)} "
             f"(of {len(by_stop.get('increased', []))})")
    uf = [c for c in dps if c["dp_accounting"].get("exp_underflow")]
    L.append(f"exp_underflow (eps > 745): {len(uf)}: " + ", ".join(f"{c['name']} {c['dp_accounting']['epsilon']:.6g}" for c in uf))
    # add vs remove
    add_dom = [c for c in dps if c["dp_accounting"]["eps_add"] > c["dp_accounting"]["eps_remove"]]
    L.append(f"eps_add > eps_remove at the accepted h: {len(add_dom)} cases"
             + (": " + ", ".join(f"{c['name']} ({c['dp_accounting']['eps_add']:.6g} vs "
                                 f"{c['dp_accounting']['eps_remove']:.6g})" for c in add_dom[:8]) if add_dom else ""))
    add_any = [(c, e) for c in dps for e in c["dp_accounting"]["ladder"] if e["eps_add"] > e["eps_remove"]]
    L.append(f"  ... at any rung: {len(add_any)} rungs in {len(set(c['name'] for c, _ in add_any))} cases: "
             + ", ".join(f"{c['name']} h={e['h']:g} ({e['eps_add']:.6g} vs {e['eps_remove']:.6g})" for c, e in add_any[:6]))
    ratio_ar = [c["dp_accounting"]["eps_add"] / c["dp_accounting"]["eps_remove"] for c in dps
                if c["sampling_rate"] < 1 and c["dp_accounting"]["eps_remove"] > 0]
    L.append("eps_add / eps_remove (q < 1): " + quantiles(ratio_ar))
    # default h over-statement
    od = [(c["dp_accounting"]["epsilon_default_h"] / c["dp_accounting"]["epsilon"], c) for c in dps
          if isinstance(c["dp_accounting"]["epsilon_default_h"], float) and c["dp_accounting"]["epsilon"] > 0]
    for x, c in od:
        if c["steps"] >= 1_000_000:
            L.append(f"default h at 1e6 steps: {fmt_case(c)}: {c['dp_accounting']['epsilon_default_h']:.6g} vs "
                     f"{c['dp_accounting']['epsilon']:.6g} at h={c['dp_accounting']['discretization']:g}: x{x:.4f}")
    big = [(x, c) for x, c in od if c["dp_accounting"]["epsilon"] >= 0.01]
    L.append(f"default-h / accepted (eps >= 0.01, {len(big)} cases): " + quantiles([x for x, _ in big])
             + f"; > 1+1e-3: {sum(x > 1 + 1e-3 for x, _ in big)}, > 1.01: {sum(x > 1.01 for x, _ in big)}")
    for x, c in sorted(big, key=lambda x: -x[0])[:5]:
        L.append(f"  {fmt_case(c)}: x{x:.4f} ({c['dp_accounting']['epsilon_default_h']:.6g} vs "
                 f"{c['dp_accounting']['epsilon']:.6g} at h={c['dp_accounting']['discretization']:g})")
    small = [(x, c) for x, c in od if c["dp_accounting"]["epsilon"] < 0.01]
    L.append(f"default-h / accepted (0 < eps < 0.01, {len(small)} cases): " + quantiles([x for x, _ in small]))
    # PRV
    prv_ok = [c for c in dps if "estimate" in c["prv_accountant"]]
    prv_bad = [c for c in cases if "error" in c["prv_accountant"]]
    L.append(f"prv_accountant: {len(prv_ok)} answered, {len(prv_bad)} failed, "
             f"eps_error raised for the size cap in {sum('eps_error_raised' in c['prv_accountant'] for c in cases)}")
    for c in prv_bad:
        L.append(f"  PRV failed: {fmt_case(c)}: {c['prv_accountant']['error'][:90]} "
                 f"(PLD eps {c['dp_accounting']['epsilon'] if isinstance(c['dp_accounting'], dict) else '-'})")
    for label, sel in (("all answered, eps >= 0.01", lambda c: c["dp_accounting"]["epsilon"] >= 0.01),
                       ("converged, noise_ratio <= 1e-2, eps >= 0.01",
                        lambda c: c["dp_accounting"]["epsilon"] >= 0.01 and c["dp_accounting"]["converged"]
                        and c["dp_accounting"]["noise_ratio"] <= 1e-2)):
        sub = [c for c in prv_ok if sel(c)]
        d_est = [(c["prv_accountant"]["estimate"] - c["dp_accounting"]["epsilon"]) / c["dp_accounting"]["epsilon"]
                 for c in sub]
        L.append(f"(PRV estimate - PLD)/PLD, {label} ({len(sub)}): " + quantiles(d_est)
                 + f"; |.| > 1e-3: {sum(abs(x) > 1e-3 for x in d_est)}; PRV below PLD: {sum(x < 0 for x in d_est)}")
        for x, c in sorted(zip(d_est, sub), key=lambda x: -abs(x[0]))[:4]:
            L.append(f"    {fmt_case(c)}: {x:.3g} (PLD {c['dp_accounting']['epsilon']:.7g}, PRV "
                     f"{c['prv_accountant']['estimate']:.7g}, eps_error {c['prv_accountant']['eps_error']:g}, "
                     f"noise_ratio {c['dp_accounting']['noise_ratio']:.2g}, converged {c['dp_accounting']['converged']})")
    d_abs = [abs(c["prv_accountant"]["estimate"] - c["dp_accounting"]["epsilon"]) / c["prv_accountant"]["eps_error"]
             for c in prv_ok]
    L.append("|PRV estimate - PLD| / eps_error (all answered): " + quantiles(d_abs))
    inside = [c for c in prv_ok if c["prv_accountant"]["lower"] <= c["dp_accounting"]["epsilon"] <= c["prv_accountant"]["upper"]]
    L.append(f"PLD inside [PRV lower, upper]: {len(inside)} / {len(prv_ok)}")
    for c in prv_ok:
        if c not in inside:
            p = c["prv_accountant"]
            L.append(f"  outside: {fmt_case(c)}: PLD {c['dp_accounting']['epsilon']:.7g} vs PRV "
                     f"[{p['lower']:.7g}, {p['estimate']:.7g}, {p['upper']:.7g}] eps_error {p['eps_error']:g}")
    neg = [c for c in prv_ok if c["prv_accountant"]["estimate"] < 0]
    L.append(f"PRV estimate < 0: {len(neg)} ({', '.join(c['name'] for c in neg)}); "
             f"PLD eps of those: max {max([c['dp_accounting']['epsilon'] for c in neg] or [0]):.3g}")
    # exact
    for method in ("analytic_gaussian", "single_step_hockey_stick"):
        ex = [c for c in dps if c.get("exact", {}).get("method") == method]
        if not ex:
            continue
        L.append(f"exact ({method}): {len(ex)} cases")
        for c in ex:
            e = c["exact"]["epsilon"]
            dp = c["dp_accounting"]
            r = (dp["epsilon"] - e) / e if e > 0 else dp["epsilon"] - e
            rd = (dp["epsilon_default_h"] - e) / e if (e > 0 and isinstance(dp["epsilon_default_h"], float)) else None
            ge = dp.get("epsilon_gaussian_event")
            gtxt = f", GaussianDpEvent {((ge - e) / e if e > 0 else ge):.2g}" if isinstance(ge, float) else ""
            ptxt = ""
            if "estimate" in c["prv_accountant"]:
                pe = c["prv_accountant"]["estimate"]
                ptxt = f", PRV {((pe - e) / e if e > 0 else pe):.2g}"
            L.append(f"  {fmt_case(c)}: exact {e:.10g}; (PLD-exact)/exact {r:.2g} at h={dp['discretization']:g}"
                     + (f", default h {rd:.2g}" if rd is not None else "") + gtxt + ptxt)
    # RDP / PLD
    rr = [(c["rdp_epsilon"] / c["dp_accounting"]["epsilon"], c) for c in dps if c["dp_accounting"]["epsilon"] > 0]
    L.append(f"RDP / PLD (PLD eps > 0, {len(rr)}): " + quantiles([x for x, _ in rr]))
    for lo, hi in ((1.0, 1.05), (1.05, 1.15), (1.15, 1.3), (1.3, 2.0), (2.0, 10.0), (10.0, math.inf)):
        L.append(f"  [{lo}, {hi}): {sum(lo <= x < hi for x, _ in rr)}")
    for lo, hi in ((1.0, math.inf), (0.1, 1.0), (0.01, 0.1), (0.0, 0.01)):
        sub = [x for x, c in rr if lo <= c["dp_accounting"]["epsilon"] < hi]
        if sub:
            L.append(f"  PLD eps in [{lo}, {hi}) ({len(sub)}): " + quantiles(sub))
    for x, c in sorted(rr, key=lambda x: -x[0])[:3]:
        L.append(f"  largest: {fmt_case(c)}: {x:.4g} (RDP {c['rdp_epsilon']:.4g}, PLD {c['dp_accounting']['epsilon']:.4g})")
    z = [c for c in dps if c["dp_accounting"]["epsilon"] == 0]
    ztxt = ", ".join(f"{c['name']} RDP {c['rdp_epsilon']:.3g}" for c in z)
    L.append(f"PLD eps = 0: {len(z)} ({ztxt})")
    # timing
    tot = {k: sum(s[k] for s in secs) for k in secs[0]}
    L.append("worker seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in tot.items()))
    slow = sorted(zip(secs, cases), key=lambda x: -x[0]["total"])[:5]
    L.append("slowest: " + "; ".join(f"{c['name']} {s['total']:.1f}s (pld {s['pld']:.1f}, prv {s['prv']:.1f})"
                                     for s, c in slow))
    return L


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def _cost_key(c):
    # Heavy cases first so that two workers finish together.
    return -(math.log(c["steps"]) + (5 if c["sampling_rate"] == 1.0 else 0))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="worker processes (default: min(2, nproc)); results do not depend on it")
    ap.add_argument("--out", type=Path, default=None,
                    help="output directory (default: Tests/AccountantsTests/Fixtures)")
    ap.add_argument("--only", default=None, help="comma-separated case names (for debugging; no file is written)")
    args = ap.parse_args()
    out_dir = args.out if args.out is not None else OUT_DIR
    t_start = time.perf_counter()

    check_accountant_path()
    rng = np.random.default_rng(np.random.SeedSequence(SEED).spawn(RNG_STREAM + 1)[RNG_STREAM])
    cases = make_cases(rng, 90)
    if args.only:
        keep = set(args.only.split(","))
        cases = [c for c in cases if c["name"] in keep]
    order = sorted(range(len(cases)), key=lambda i: (_cost_key(cases[i]), i))
    ctx = multiprocessing.get_context("fork")
    results = [None] * len(cases)
    done = 0
    with ctx.Pool(args.jobs, maxtasksperchild=4) as pool:
        for i, res in zip(order, pool.imap(work_case, [cases[i] for i in order], chunksize=1)):
            results[i] = res
            done += 1
            print(f"[{done}/{len(cases)}] {cases[i]['name']} {res[1]['total']:.1f}s "
                  f"({time.perf_counter() - t_start:.0f}s elapsed)", file=sys.stderr, flush=True)
    out_cases = [r for r, _ in results]
    secs = [s for _, s in results]

    report = stats(out_cases, secs)
    if args.only:
        print("\n".join(report))
        print(json.dumps(jsonable(out_cases), indent=1))
        return 0

    known = check_known_values(out_cases)
    bad = check_invariants(out_cases)
    if bad:
        raise AssertionError("invariants violated:\n  " + "\n  ".join(bad))

    doc = {
        "source": sources("dp-accounting", "prv-accountant", "numpy", "scipy", "mpmath"),
        "command": COMMAND,
        "script": SCRIPT,
        "seed": SEED,
        "rng": f"numpy default_rng(SeedSequence({SEED}).spawn({RNG_STREAM + 1})[{RNG_STREAM}])",
        "neighboring_relation": "add_or_remove_one",
        "dp_accounting_pld": {
            "accountant": "PLDAccountant(value_discretization_interval=h) on "
                          "SelfComposedDpEvent(PoissonSampledDpEvent(q, GaussianDpEvent(sigma)), T); "
                          "connect-the-dots, pessimistic, log_mass_truncation_bound -50, tail truncation 1e-15",
            "h_ladder": H_LADDER,
            "default_h": DEFAULT_H,
            "convergence_rtol": CONVERGENCE_RTOL,
            "max_single_step_size": MAX_SINGLE_STEP_SIZE,
            "max_fft_length": MAX_FFT_LENGTH,
        },
        "prv_accountant_settings": {
            "accountant": "PRVAccountant(prvs=[PoissonSubsampledGaussianMechanism(q, sigma)], eps_error, "
                          "delta_error, max_self_compositions=[T]).compute_epsilon(delta, [T])",
            "eps_error": f"{PRV_EPS_ERROR_FACTOR} * max(dp_accounting.epsilon, {PRV_EPS_ERROR_FLOOR_SCALE}), "
                         f"raised (eps_error_raised) until the domain has at most {PRV_MAX_POINTS} points",
            "delta_error": "delta / 1000",
            "max_points": PRV_MAX_POINTS,
        },
        "exact_precision_digits": MP_DPS,
        "cases": out_cases,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "pld.json"
    path.write_text(json.dumps(jsonable(doc), indent=1, allow_nan=False) + "\n")
    print("\n".join(report))
    print(f"known values reproduced: {len(known)}")
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path} "
          f"({path.stat().st_size / 1e6:.3f} MB); {len(out_cases)} cases; "
          f"{time.perf_counter() - t_start:.1f}s with {args.jobs} jobs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
