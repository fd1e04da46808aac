"""Exact values of dp_accounting's sampling-without-replacement RDP bound (WBK19 Thm 27).

dp_accounting 0.6.0 forms the forward differences of exp(cgf) by repeated log-space
subtraction in float64, which cancels catastrophically for large sigma (the differences are
tiny against values near 1). This script evaluates the *same formula* with the differences
taken in 1500-digit arithmetic (mpmath), reading the cases of rdp_fixed_size.json (written by
golden_rdp.py) and writing rdp_fixed_size_exact.json: the exact per-order curves and the exact
epsilon and delta of every case. Run: Scripts/crosscheck/run
"""
import json
import math
import pathlib
import sys

import mpmath as mp

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "Tests/AccountantsTests/Fixtures"
LIMIT = 256  # dp_accounting's max_alpha: above it the differences are not used
DIGITS = 1500  # enough for 2^257 * exp(cgf(257)) against differences down to 1e-600


def differences(sigma, count):
    """|Delta^(i+1) s|(0) for i = 0..count+1, s = (1, g(0), g(1), ...), g = exp(cgf)."""
    with mp.workdps(DIGITS):
        c = 1 / (2 * mp.mpf(sigma) ** 2)
        values = [mp.mpf(1)] + [mp.exp(x * (x + 1) * c) for x in range(count + 2)]
        out = []
        for _ in range(count + 2):
            values = [values[j + 1] - values[j] for j in range(len(values) - 1)]
            out.append(abs(values[0]))
        return out


def log_a_integer(q, sigma, alpha, diffs):
    if alpha == 1:
        return mp.mpf(0)
    q, sigma = mp.mpf(q), mp.mpf(sigma)
    c = 1 / (2 * sigma * sigma)
    cgf = lambda x: x * (x + 1) * c
    e2 = 2 * c
    total = 1 + q * q * mp.binomial(alpha, 2) * min(4 * mp.expm1(e2), 2 * mp.exp(e2))
    for j in range(3, alpha + 1):
        bound = 2 * mp.exp(cgf(j - 1))
        if alpha <= LIMIT:
            low, high = diffs[2 * (j // 2) - 1], diffs[2 * ((j + 1) // 2) - 1]
            bound = min(4 * mp.sqrt(low * high), bound)
        total += q**j * mp.binomial(alpha, j) * bound
    return mp.log(total)


def curve(q, sigma, orders):
    """Per-step RDP at each order, as dp_accounting defines it (fractional: interpolation)."""
    diffs = differences(sigma, LIMIT)
    cache = {}

    def log_a(order):
        if order not in cache:
            cache[order] = log_a_integer(q, sigma, order, diffs)
        return cache[order]

    result = []
    for alpha in orders:
        if q == 1:
            result.append(mp.mpf(alpha) / (2 * mp.mpf(sigma) ** 2))
        elif float(alpha).is_integer():
            result.append(log_a(int(alpha)) / (alpha - 1))
        else:
            low, high = math.floor(alpha), math.ceil(alpha)
            t = mp.mpf(alpha) - low
            result.append(((1 - t) * log_a(low) + t * log_a(high)) / (mp.mpf(alpha) - 1))
    return result


def epsilon(orders, total, delta):
    """Improved conversion with dp_accounting's safeguards; returns (epsilon, order)."""
    best, best_order = mp.inf, None
    for alpha, r in zip(orders, total):
        alpha = mp.mpf(alpha)
        if r <= 0 or delta**2 + mp.expm1(-r) > 0:
            value = mp.mpf(0)
        elif alpha > 1.01:
            value = r + mp.log1p(-1 / alpha) - (mp.log(delta) + mp.log(alpha)) / (alpha - 1)
        else:
            value = mp.inf
        if value < best:
            best, best_order = value, float(alpha)
    return max(mp.mpf(0), best), best_order


def delta_for(orders, total, eps):
    best = mp.inf
    for alpha, r in zip(orders, total):
        alpha = mp.mpf(alpha)
        if r <= 0:
            return mp.mpf(0)
        log_delta = mp.log(-mp.expm1(-r)) / 2
        if alpha > 1.01:
            log_delta = min(log_delta, (alpha - 1) * (r - eps + mp.log1p(-1 / alpha)) - mp.log(alpha))
        best = min(best, log_delta)
    return min(mp.exp(best), mp.mpf(1))


def main():
    mp.mp.dps = 50
    source = json.loads((FIXTURES / "rdp_fixed_size.json").read_text())
    grids = source["grids"]
    default, integer = grids["dp_accounting_default"], grids["integer"]
    cases = []
    for case in source["cases"]:
        q = case["sample_size"] / case["source_size"]
        per_step = curve(q, case["noise_multiplier"], default + integer)
        total = [case["steps"] * r for r in per_step]
        eps, order = epsilon(default, total[: len(default)], mp.mpf(case["delta"]))
        eps_integer, order_integer = epsilon(integer, total[len(default):], mp.mpf(case["delta"]))
        cases.append({
            "name": case["name"],
            "epsilon": float(eps), "optimal_order": order,
            "epsilon_integer": float(eps_integer), "optimal_order_integer": order_integer,
            "delta": float(delta_for(default, total[: len(default)], mp.mpf(case["target_epsilon"]))),
        })
    per_order = []
    for entry in source["per_order"]:
        q = entry["sample_size"] / entry["source_size"]
        per_order.append({
            "source_size": entry["source_size"], "sample_size": entry["sample_size"],
            "noise_multiplier": entry["noise_multiplier"], "grid": entry["grid"],
            "rdp": [float(r) for r in curve(q, entry["noise_multiplier"], grids[entry["grid"]])],
        })
    document = {
        "source": [{"library": "mpmath", "version": mp.__version__}],
        "command": "Scripts/crosscheck/run",
        "script": "Scripts/crosscheck/golden_wor_exact.py",
        "method": f"dp_accounting 0.6.0's WBK19 Thm 27 bound with forward differences at {DIGITS} digits",
        "rtol": 1e-9,
        "atol": 1e-12,
        "cases": cases,
        "per_order": per_order,
    }
    (FIXTURES / "rdp_fixed_size_exact.json").write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {len(cases)} cases and {len(per_order)} curves to rdp_fixed_size_exact.json", file=sys.stderr)


if __name__ == "__main__":
    main()
