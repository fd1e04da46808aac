"""Participation sampling (DPEvent.participationSampled): exact references.

Writes Tests/AccountantsTests/Fixtures/participation.json with two parts.

1. "rdp": the RDP of T rounds of participationSampled(q, selfComposed(poissonSampled(p,
   gaussian(sigma)), k)) at integer orders (exact binomial sums) and fractional orders
   (quadrature of A_alpha), evaluated independently in mpmath at 40 digits as
       T * log(1 + q * (exp((alpha - 1) * k * eps_SGM(alpha)) - 1)) / (alpha - 1),
   and epsilon(delta) by the improved conversion (Canonne, Kamath & Steinke 2020, Prop. 12,
   with dp_accounting's KL shortcut) on the integer grid 2..63, 128, 256, 512, 1024.

2. "brute_force": the exact hockey-stick curve of the whole T-round nested mechanism,
   computed directly and without the mixture formula: every participation pattern
   pi in {0,1}^T is enumerated (weight q^|pi| (1-q)^(T-|pi|); whether the client took part is
   visible and equally likely under both datasets), and given pi the released outputs are
   k*|pi| local DP-SGD steps. Each step's output, in the canonical worst-case pair of the
   Poisson-subsampled Gaussian, is x ~ (1-p) N(0, s^2) + p N(1, s^2) with the record and
   x ~ N(0, s^2) without it (the local samples enumerated through the mixture), so the
   privacy loss of the whole output is the sum of the per-step losses
       l(x) = log(1 - p + p exp((2x - 1) / (2 s^2)))        (remove direction; -l(x) add).
   delta(eps) = E[(1 - exp(eps - L))_+] is evaluated for n = k*|pi| steps by the recursion
       H_n(t) = E_X[H_{n-1}(t - l(X))],   H_1 in closed form (Gaussian CDFs),
   with H_{n-1} tabulated on a fine t grid (cubic spline) and the Gaussian expectation taken
   by the trapezoid rule on [-16 s, 1 + 16 s] (exponentially convergent for this smooth
   integrand); the last level is integrated at the queried eps directly. p = 1 uses the
   exact Gaussian closed form (mpmath, 40 digits) for every n. The recursion is checked
   against the closed form (p = 1, and n = 1 for p = 1/2) and against itself on a grid
   twice as fine; the largest relative differences are stored ("numerical_rtol").
   epsilon(delta) is found by brentq on the reconstructed delta(eps) (to 1e-12).

Run: Scripts/crosscheck/run (or this file alone with the crosscheck venv's python).
"""
import itertools
import json
import pathlib
import sys
import time

import mpmath as mp
import numpy as np
from scipy import interpolate, optimize, special

from mp_formulas import epsilon_improved, log_a_integer, log_a_quadrature

mp.mp.dps = 40
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AccountantsTests/Fixtures/participation.json"
INTEGER_GRID = list(range(2, 64)) + [128, 256, 512, 1024]


# ---------------------------------------------------------------------------------------------
# Part 1: RDP, independently in mpmath.


def participation_rdp(q, p, s, k, rounds, alpha):
    alpha_mp = mp.mpf(alpha)
    log_a = log_a_integer(p, s, int(alpha)) if alpha == int(alpha) else log_a_quadrature(p, s, alpha)
    inner = k * log_a  # (alpha - 1) * k * eps_SGM(alpha): the inner log-moment
    q = mp.mpf(q)
    return rounds * mp.log(1 + q * mp.expm1(inner)) / (alpha_mp - 1)


def rdp_cases():
    cases = []
    fractional = [1.5, 2.5, 4.25, 10.5, 32.5]
    for q, p, s, k, rounds, delta in [
        (1e-3, 0.2, 1.0, 5, 200, 1e-6),
        (1e-3, 1.0, 3.0, 1, 200, 1e-6),
        (1e-2, 0.25, 1.5, 4, 200, 1e-6),
        (0.1, 0.5, 1.0, 2, 3, 1e-5),
        (0.5, 0.5, 2.0, 2, 3, 1e-5),
        (1e-3, 0.2, 0.8, 5, 200, 1e-8),
    ]:
        integer = [participation_rdp(q, p, s, k, rounds, a) for a in INTEGER_GRID]
        frac = [participation_rdp(q, p, s, k, rounds, a) for a in fractional]
        cases.append(
            {
                "participation_probability": q,
                "sampling_rate": p,
                "noise_multiplier": s,
                "local_steps": k,
                "rounds": rounds,
                "delta": delta,
                "integer_orders": INTEGER_GRID,
                "rdp_integer": [float(v) for v in integer],
                "fractional_orders": fractional,
                "rdp_fractional": [float(v) for v in frac],
                "epsilon_integer_grid": float(epsilon_improved(INTEGER_GRID, integer, delta)),
            }
        )
    return cases


# ---------------------------------------------------------------------------------------------
# Part 2: brute force.


def gaussian_delta_mp(eps, mu):
    """Exact delta(eps) of mu-GDP (Balle & Wang 2018 / Dong, Roth & Su): both directions."""
    eps, mu = mp.mpf(eps), mp.mpf(mu)
    return mp.ncdf(-eps / mu + mu / 2) - mp.exp(eps) * mp.ncdf(-eps / mu - mu / 2)


def loss(x, p, s):
    """Per-step privacy loss l(x) (remove direction), vectorised, in log space."""
    z = (2 * x - 1) / (2 * s * s)
    if p == 1:
        return z
    # log(1 - p + p e^z) = logaddexp(log(1-p), log p + z)
    return np.logaddexp(np.log1p(-p), np.log(p) + z)


def h1(t, p, s, direction):
    """H_1(t) = E[(1 - e^{t - L})_+] for one step, closed form in Gaussian CDFs.

    remove: X ~ P = (1-p)N(0,s^2) + pN(1,s^2), L = l(X);  E_P[e^{-L} 1{L>t}] = Q(L > t).
    add:    X ~ Q = N(0,s^2),                  L = -l(X); E_Q[e^{-L} 1{L>t}] = P(L > t).
    l is increasing, so {l(X) > t} = {X > x*(t)} with x* = s^2 log((e^t - (1-p))/p) + 1/2.
    """
    t = np.asarray(t, dtype=float)
    out = np.zeros_like(t)
    if direction == "remove":
        low = np.log1p(-p) if p < 1 else -np.inf
        below = t <= low
        out[below] = -np.expm1(t[below])
        m = ~below
        tt = t[m]
        xs = s * s * (np.log(np.expm1(tt) + p) - np.log(p)) + 0.5
        p_tail = (1 - p) * special.ndtr(-xs / s) + p * special.ndtr(-(xs - 1) / s)
        q_tail = special.ndtr(-xs / s)
        out[m] = p_tail - np.exp(tt) * q_tail
    else:
        high = -np.log1p(-p) if p < 1 else np.inf
        above = t >= high
        out[above] = 0
        m = ~above
        tt = t[m]
        # -l(X) > t  <=>  l(X) < -t  <=>  X < x_a with x_a = s^2 log((e^{-t} - (1-p))/p) + 1/2
        xa = s * s * (np.log(np.expm1(-tt) + p) - np.log(p)) + 0.5
        q_low = special.ndtr(xa / s)
        p_low = (1 - p) * special.ndtr(xa / s) + p * special.ndtr((xa - 1) / s)
        out[m] = q_low - np.exp(tt) * p_low
    return np.maximum(out, 0)


class Recursion:
    """H_n for n = 1..n_max in one direction, tabulated on a t grid of step dt.

    Levels are tabulated on [start, end] with start below the support of L_n (or 25 nats
    below 0, where the lower tail is far below 1e-100) and end the largest t any query with
    eps <= eps_max can reach (or the top of the support); outside, H = 1 - e^t below and 0
    above (exact outside the support).
    """

    def __init__(self, p, s, direction, n_max, eps_max, dt=1e-3, nx=2001):
        self.p, self.s, self.direction = p, s, direction
        self.x = np.linspace(-12 * s, 1 + 12 * s, nx)
        dx = self.x[1] - self.x[0]
        if direction == "remove":
            density = (1 - p) * np.exp(-0.5 * (self.x / s) ** 2) + p * np.exp(-0.5 * ((self.x - 1) / s) ** 2)
            self.shift = loss(self.x, p, s)
        else:
            density = np.exp(-0.5 * (self.x / s) ** 2)
            self.shift = -loss(self.x, p, s)
        self.weights = density / (s * np.sqrt(2 * np.pi)) * dx
        self.weights[0] *= 0.5
        self.weights[-1] *= 0.5
        lo, hi = float(np.min(self.shift)), float(np.max(self.shift))
        reach = eps_max + 2 + n_max * max(0.0, -lo)
        self.levels = {}
        for n in range(2, n_max):
            start = max(n * lo - 1, -25.0)
            end = min(n * hi + 1, reach)
            grid = np.arange(start, end + dt, dt)
            values = self.evaluate(n, grid)
            self.levels[n] = (grid[0], grid[-1], interpolate.CubicSpline(grid, values))

    def level(self, n, t):
        if n == 1:
            return h1(t, self.p, self.s, self.direction)
        start, end, spline = self.levels[n]
        t = np.asarray(t, dtype=float)
        out = spline(np.clip(t, start, end))
        out = np.where(t < start, -np.expm1(t), out)
        out = np.where(t > end, 0.0, out)
        return np.maximum(out, 0)

    def evaluate(self, n, t):
        """H_n at the points t: E_X[H_{n-1}(t - shift(X))] by the trapezoid rule."""
        if n == 1:
            return h1(t, self.p, self.s, self.direction)
        t = np.asarray(t, dtype=float)
        out = np.empty_like(t)
        block = max(1, 4_000_000 // len(self.x))
        for i in range(0, len(t), block):
            tt = t[i : i + block, None] - self.shift[None, :]
            out[i : i + block] = self.level(n - 1, tt) @ self.weights
        return out


def nested_delta(eps, q, rounds, k, inner_delta):
    """delta of T rounds by enumerating the participation patterns: sum_pi w_pi H_{k|pi|}(eps)."""
    total = 0.0
    for pattern in itertools.product((0, 1), repeat=rounds):
        j = sum(pattern)
        weight = q**j * (1 - q) ** (rounds - j)
        total += weight * (inner_delta(k * j, eps) if j > 0 else max(0.0, -np.expm1(eps)))
    return total


def brute_force():
    cases = []
    checks = {}
    epsilons = [0.0, 0.1, 0.3, 0.6, 1.0, 1.5, 2.5]
    deltas = [0.3, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6]
    n_max = 6  # 3 rounds of at most 2 local steps
    for s in (1.0, 2.0):
        # The recursion against the Gaussian closed form (p = 1 exercises it too).
        worst_gaussian = 0.0
        rec = Recursion(1.0, s, "remove", n_max, max(epsilons), dt=1e-3, nx=1001)
        for n in range(1, n_max + 1):
            for eps in epsilons:
                a = rec.evaluate(n, np.array([eps]))[0]
                b = float(gaussian_delta_mp(eps, mp.sqrt(n) / s))
                if b > 1e-12:
                    worst_gaussian = max(worst_gaussian, abs(a - b) / b)
        checks[f"s={s}, p=1: recursion vs closed form"] = worst_gaussian
        for p in (1.0, 0.5):
            per_direction = {}
            worst = 0.0
            for direction in ("remove", "add"):
                if p == 1:
                    # Gaussian: exact closed form for every n (mu = sqrt(n)/s), symmetric.
                    def inner(n, eps, s=s):
                        return float(gaussian_delta_mp(eps, mp.sqrt(n) / s))

                else:
                    fine = Recursion(p, s, direction, n_max, max(epsilons), dt=1e-3, nx=1001)
                    coarse = Recursion(p, s, direction, n_max, max(epsilons), dt=2e-3, nx=601)

                    def inner(n, eps, fine=fine):
                        return float(fine.evaluate(n, np.array([eps]))[0])

                    # Self-check: the grid twice as fine against the coarse one.
                    for n in range(1, n_max + 1):
                        for eps in epsilons:
                            a = fine.evaluate(n, np.array([eps]))[0]
                            b = coarse.evaluate(n, np.array([eps]))[0]
                            if a > 1e-12:
                                worst = max(worst, abs(a - b) / a)
                    checks[f"s={s}, p={p}, {direction}: fine vs coarse grid"] = worst
                per_direction[direction] = inner
            numerical = max(worst, worst_gaussian if p < 1 else 0.0, 1e-12)
            for k in (1, 2):
                for q in (0.1, 0.5):
                    for rounds in (1, 2, 3):
                        case = {
                            "noise_multiplier": s,
                            "sampling_rate": p,
                            "local_steps": k,
                            "participation_probability": q,
                            "rounds": rounds,
                            "numerical_rtol": numerical,
                            "epsilons": epsilons,
                            "deltas": deltas,
                        }
                        for direction in ("remove", "add"):
                            inner = per_direction[direction]

                            def delta_of(eps, inner=inner, q=q, rounds=rounds, k=k):
                                return nested_delta(eps, q, rounds, k, inner)

                            case[f"delta_{direction}"] = [delta_of(e) for e in epsilons]
                            eps_values = []
                            for target in deltas:
                                if delta_of(0.0) <= target:
                                    eps_values.append(0.0)
                                    continue
                                high = 1.0
                                while delta_of(high) > target:
                                    high *= 2
                                root = optimize.brentq(
                                    lambda e: np.log(delta_of(e)) - np.log(target), 0.0, high, xtol=1e-12
                                )
                                eps_values.append(root)
                            case[f"epsilon_{direction}"] = eps_values
                        cases.append(case)
    return cases, checks


def main():
    started = time.time()
    rdp = rdp_cases()
    print(f"rdp: {len(rdp)} cases ({time.time() - started:.1f} s)", file=sys.stderr)
    bf, checks = brute_force()
    print(f"brute force: {len(bf)} cases ({time.time() - started:.1f} s)", file=sys.stderr)
    for key, value in checks.items():
        print(f"  recursion self-check {key}: max relative difference {value:.2e}", file=sys.stderr)
    document = {
        "source": [
            {"library": "mpmath", "version": mp.__version__},
            {"library": "numpy", "version": np.__version__},
            {"library": "scipy", "version": __import__("scipy").__version__},
        ],
        "command": "Scripts/crosscheck/run",
        "script": "Scripts/crosscheck/golden_participation.py",
        "rdp_rtol": 1e-9,
        "rdp": rdp,
        "brute_force": bf,
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
