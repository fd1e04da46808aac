"""DP-BREM's momentum release (DPEvent.momentumGaussian): exact references.

Writes Tests/AccountantsTests/Fixtures/momentum.json. No peer library accounts for a
momentum release, so the reference is the dominating mixture itself, computed here from its
definition and independently of dpfl's code (no grid, no tail truncation, no PLD):

- N ~ Binomial(T, q) participations; in each, the record is in the gradient with
  probability p. Every inclusion pattern b in {0,1}^N is enumerated, with weight
  p^|b| (1-p)^(N-|b|), and c_k = beta*c_(k-1) + (1-beta)*b_k (c_0 = 0), S = sum_k c_k^2.
  For p = 1 only b = (1, ..., 1) has weight, so any T is enumerable.
- RDP at order alpha: log E[exp(lambda*S)] / (alpha - 1), lambda = alpha(alpha-1)/(2 sigma^2)
  (a revealed mixture of Gaussians of shift sqrt(S)/sigma), in mpmath at 40 digits.
- delta(eps) = E[Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2)], mu = sqrt(S)/sigma
  (Balle & Wang 2018, the hockey stick of a Gaussian pair, weighted over the revealed
  components), in mpmath; eps(delta) by bisection on it to 1e-12 relative.

The cases: the shakespeare-genre testbed of docs/experiments-brem.md (T = 30, q = 1e-3,
beta = 0.9, the record in every sample) at the sigma of each of its columns, the digits
testbed (every client in every round) and small cases with record sampling (p < 1), where
dpfl's RDP rounds c up on a grid and its PLD takes every b_k = 1.

Run: Scripts/crosscheck/run (or this file alone with the crosscheck venv's python).
"""
import itertools
import json
import pathlib
import time

import mpmath as mp

mp.mp.dps = 40
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AccountantsTests/Fixtures/momentum.json"
ORDERS = [1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128]
EPSILONS = [0.25, 0.5, 1, 2, 4, 8]
DELTA = 1e-6

# (name, sigma, beta, p, q, T)
CASES = [
    *[(f"shakespeare-genre, sigma {s}", s, 0.9, 1.0, 1e-3, 30)
      for s in (0.714, 0.51, 0.29, 0.17, 0.11)],
    ("digits, every client every round", 11.1, 0.9, 1.0, 1.0, 100),
    ("long run, rare participation", 0.8, 0.95, 1.0, 0.01, 1000),
    ("sampled records, q 1/2", 1.0, 0.9, 0.5, 0.5, 8),
    ("sampled records, every round", 2.0, 0.5, 0.25, 1.0, 12),
    ("sampled records, rare", 0.8, 0.95, 0.7, 0.2, 8),
    ("sampled records, no momentum", 1.5, 0.0, 0.3, 0.6, 9),
]


def components(beta, p, q, rounds):
    """The mixture's (weight, S) pairs, from the definition (equal S merged)."""
    beta, p, q = mp.mpf(beta), mp.mpf(p), mp.mpf(q)
    result = {}
    for n in range(rounds + 1):
        law = mp.binomial(rounds, n) * q**n * (1 - q) ** (rounds - n)
        if law == 0:
            continue
        patterns = [(1,) * n] if p == 1 else itertools.product((0, 1), repeat=n)
        for b in patterns:
            ones = sum(b)
            weight = law * p**ones * (1 - p) ** (n - ones)
            c = mp.mpf(0)
            s = mp.mpf(0)
            for bit in b:
                c = beta * c + (1 - beta) * bit
                s += c * c
            key = mp.nstr(s, 35)
            result[key] = (result.get(key, (0, s))[0] + weight, s)
    return list(result.values())


def rdp(mixture, sigma, alpha):
    alpha = mp.mpf(alpha)
    lam = alpha * (alpha - 1) / (2 * mp.mpf(sigma) ** 2)
    return mp.log(mp.fsum(w * mp.exp(lam * s) for w, s in mixture)) / (alpha - 1)


def gaussian_delta(mu, eps):
    if mu == 0:
        return mp.mpf(0)
    return mp.ncdf(-eps / mu + mu / 2) - mp.exp(eps) * mp.ncdf(-eps / mu - mu / 2)


def delta(mixture, sigma, eps):
    eps = mp.mpf(eps)
    return mp.fsum(w * gaussian_delta(mp.sqrt(s) / sigma, eps) for w, s in mixture)


def epsilon(mixture, sigma, target):
    """The least eps >= 0 with delta(eps) <= target, by bisection."""
    if delta(mixture, sigma, 0) <= target:
        return mp.mpf(0)
    low, high = mp.mpf(0), mp.mpf(1)
    while delta(mixture, sigma, high) > target:
        low, high = high, 2 * high
    while high - low > mp.mpf("1e-13") * high:
        middle = (low + high) / 2
        low, high = (middle, high) if delta(mixture, sigma, middle) > target else (low, middle)
    return high


def main():
    cases = []
    for name, sigma, beta, p, q, rounds in CASES:
        start = time.time()
        mixture = components(beta, p, q, rounds)
        cases.append({
            "name": name, "noise_multiplier": sigma, "momentum": beta,
            "record_probability": p, "participation_probability": q, "rounds": rounds,
            "orders": ORDERS,
            "rdp": [float(rdp(mixture, sigma, a)) for a in ORDERS],
            "epsilons": EPSILONS,
            "deltas": [float(delta(mixture, sigma, e)) for e in EPSILONS],
            "delta": DELTA,
            "epsilon": float(epsilon(mixture, sigma, DELTA)),
        })
        print(f"{name}: {len(mixture)} components, eps({DELTA}) = {cases[-1]['epsilon']:.6g}"
              f" ({time.time() - start:.1f} s)")
    OUT.write_text(json.dumps({
        "source": [{"library": "mpmath", "version": mp.__version__}],
        "command": "Scripts/crosscheck/run",
        "script": "Scripts/crosscheck/golden_momentum.py",
        "description": "The dominating mixture of a momentum release, exactly: every "
                       "inclusion pattern enumerated, RDP and delta(eps) in mpmath (40 digits).",
        "cases": cases,
    }, indent=1) + "\n")


main()
