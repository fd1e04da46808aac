"""Hyper-parameter tuning (DPEvent.tuned): Papernot & Steinke 2022 (arXiv:2110.03620v2).

Writes Tests/AccountantsTests/Fixtures/tuning.json: for a DP-SGD run
selfComposed(poissonSampled(q, gaussian(sigma)), steps) tuned by random search with K runs,
the RDP bound of the released best run at the integer orders 2..63, 128, 256, 512, 1024,
evaluated independently in mpmath (40 digits):

* inner RDP: steps * log A_alpha / (alpha - 1), A_alpha the exact binomial sum (MTZ19 3.2);
* truncated negative binomial D_{eta,gamma} (Theorem 2):
      eps'(l) = eps(l) + min_{lh in {1} u grid} (1+eta)[(1 - 1/lh) eps(lh) + log(1/gamma)/lh]
                + log(E[K])/(l - 1),
  E[K] = eta (1-gamma) / (gamma (1 - gamma^eta))  (eta != 0),  (1/gamma - 1)/log(1/gamma)  (eta = 0),
  checked here against sum_k k P[K = k] of the distribution's probability mass function;
* Poisson(mu) (Theorem 6 with the K = 0 outcome kept, as dpfl derives it):
      eps'(l) = log(exp(-mu) + mu exp((l - 1)(eps(l) + mu * deltahat(l)))) / (l - 1),
  deltahat(l) = the inner curve's delta at epsilonhat = log(1 + 1/(l - 1)) by the improved
  conversion (CKS20 Prop. 12, min'ed with the KL bound);
* epsilon(delta) of the tuned curve by the improved conversion.

Self-checks (asserted; nothing from them is stored): on random discrete mechanisms Q with an
ordered output space, the exact Renyi divergence of the best-of-K release (from the
probability generating function G of K: P[best <= y] = G(F(y))) never exceeds either bound,
in both directions; and the published Poisson form eps + mu*deltahat + log(mu)/(l-1) does
fall below the exact value for some mu < 1 (why dpfl keeps the e^{-mu} term).

Run: Scripts/crosscheck/run (or this file alone with the crosscheck venv's python).
"""
import json
import math
import pathlib
import random
import sys

import mpmath as mp

from mp_formulas import epsilon_improved, log_a_integer

mp.mp.dps = 40
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AccountantsTests/Fixtures/tuning.json"
GRID = list(range(2, 64)) + [128, 256, 512, 1024]


def inner_curve(q, s, steps, orders):
    return [steps * log_a_integer(q, s, a) / (a - 1) for a in orders]


def expected_runs_closed_form(eta, gamma):
    eta, gamma = mp.mpf(eta), mp.mpf(gamma)
    if eta == 0:
        return (1 / gamma - 1) / mp.log(1 / gamma)
    return eta * (1 - gamma) / (gamma * (1 - gamma**eta))


def expected_runs_by_sum(eta, gamma):
    """sum_k k P[K = k] of D_{eta,gamma} (paper, section 2.2), by mpmath.nsum."""
    eta, gamma = mp.mpf(eta), mp.mpf(gamma)
    if eta == 0:
        return mp.nsum(lambda k: (1 - gamma) ** k / mp.log(1 / gamma), [1, mp.inf])
    norm = gamma ** (-eta) - 1

    def mass(k):
        # prod_{l<k} (l + eta)/(l + 1) = Gamma(k + eta) / (Gamma(eta) Gamma(k + 1))
        return (1 - gamma) ** k / norm * mp.rf(eta, k) / mp.factorial(k)

    return mp.nsum(lambda k: k * mass(k), [1, mp.inf])


def log_delta_improved(alpha, r, eps):
    a = mp.mpf(alpha)
    if r <= 0:
        return -mp.inf
    value = mp.mpf(0.5) * mp.log(-mp.expm1(-r))
    if a > 1.01:
        value = min(value, (a - 1) * (r - eps + mp.log1p(-1 / a)) - mp.log(a))
    return value


def delta_improved(orders, curve, eps):
    return min(mp.mpf(1), mp.exp(min(log_delta_improved(a, r, eps) for a, r in zip(orders, curve))))


def tnb_bound(orders, curve, eta, gamma):
    eta, gamma = mp.mpf(eta), mp.mpf(gamma)
    log_inv_gamma = mp.log(1 / gamma)
    best, second = (1 + eta) * log_inv_gamma, 1
    for a, r in zip(orders, curve):
        value = (1 + eta) * ((1 - mp.mpf(1) / a) * r + log_inv_gamma / a)
        if value < best:
            best, second = value, a
    log_mean = mp.log(expected_runs_closed_form(eta, gamma))
    return [r + best + log_mean / (a - 1) for a, r in zip(orders, curve)], second


def poisson_bound(orders, curve, mu):
    mu = mp.mpf(mu)
    out = []
    for a, r in zip(orders, curve):
        eps_hat = mp.log1p(mp.mpf(1) / (a - 1))
        delta_hat = delta_improved(orders, curve, eps_hat)
        out.append(mp.log(mp.exp(-mu) + mu * mp.exp((a - 1) * (r + mu * delta_hat))) / (a - 1))
    return out


# ---------------------------------------------------------------------------------------------
# Self-checks on exact toys.


def renyi(p, q, alpha):
    return mp.log(sum(pi**alpha * qi ** (1 - alpha) for pi, qi in zip(p, q) if pi > 0)) / (alpha - 1)


def best_of_k(dist, pgf, p_zero):
    """Law of the best of K draws from `dist` (outputs ordered by index), plus K = 0."""
    out = [p_zero]
    cdf = mp.mpf(0)
    for mass in dist:
        lower = pgf(cdf)
        cdf += mass
        out.append(pgf(cdf) - lower)
    return out


def pgf_tnb(eta, gamma):
    eta, gamma = mp.mpf(eta), mp.mpf(gamma)
    if eta == 0:
        return lambda t: mp.log(1 - (1 - gamma) * t) / mp.log(gamma)
    return lambda t: ((1 - (1 - gamma) * t) ** (-eta) - 1) / (gamma ** (-eta) - 1)


def self_checks():
    rng = random.Random(20261205)
    orders = [1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]
    checked = 0
    published_violations = 0
    for trial in range(60):
        m = rng.randint(2, 5)
        scale = rng.choice([0.3, 1.0, 2.5])
        a = [mp.mpf(rng.random()) ** 2 + mp.mpf(1e-3) for _ in range(m)]
        b = [x * mp.exp(scale * (rng.random() - 0.5)) for x in a]
        p = [x / sum(a) for x in a]
        q = [x / sum(b) for x in b]
        # The inner RDP bound must hold for both orders of the pair.
        curve = [max(renyi(p, q, al), renyi(q, p, al)) for al in orders]
        for dist in [("tnb", 1, 0.2), ("tnb", 0, 0.05), ("tnb", 0.5, 0.1), ("tnb", -0.5, 0.3), ("poisson", 0.3), ("poisson", 4), ("poisson", 20)]:
            if dist[0] == "tnb":
                pgf, p_zero = pgf_tnb(dist[1], dist[2]), mp.mpf(0)
                bound, _ = tnb_bound(orders, curve, dist[1], dist[2])
            else:
                mu = mp.mpf(dist[1])
                pgf, p_zero = (lambda t, mu=mu: mp.exp(mu * (t - 1))), mp.exp(-mu)
                bound = poisson_bound(orders, curve, dist[1])
            A = best_of_k(p, pgf, p_zero)
            B = best_of_k(q, pgf, p_zero)
            for al, value in zip(orders, bound):
                exact = max(renyi(A, B, al), renyi(B, A, al))
                assert exact <= value * (1 + mp.mpf(10) ** -20) + mp.mpf(10) ** -30, (trial, dist, al, exact, value)
                checked += 1
                if dist[0] == "poisson":
                    r = curve[orders.index(al)]
                    eps_hat = mp.log1p(mp.mpf(1) / (al - 1))
                    published = r + mu * delta_improved(orders, curve, eps_hat) + mp.log(mu) / (al - 1)
                    if exact > published:
                        published_violations += 1
    assert published_violations > 0, "expected the published Poisson form to fail for mu < 1"
    return checked, published_violations


def main():
    checked, violations = self_checks()
    print(f"self-checks: {checked} exact best-of-K values below the bounds; the published Poisson form is below the exact value in {violations} of them (mu = 0.3)", file=sys.stderr)
    for eta, gamma in [(0, 0.05), (0.5, 0.1), (1, 0.2), (2, 0.3), (-0.5, 0.3)]:
        closed = expected_runs_closed_form(eta, gamma)
        summed = expected_runs_by_sum(eta, gamma)
        assert abs(closed - summed) < mp.mpf(10) ** -25 * closed, (eta, gamma, closed, summed)
    cases = []
    for q, s, steps in [(0.01, 1.1, 1000), (1e-3, 1.0, 2000), (0.05, 2.0, 300)]:
        curve = inner_curve(q, s, steps, GRID)
        for runs in [
            {"type": "TruncatedNegativeBinomial", "shape": 1, "success_probability": 0.1},
            {"type": "TruncatedNegativeBinomial", "shape": 0, "success_probability": 0.01},
            {"type": "TruncatedNegativeBinomial", "shape": 0.5, "success_probability": 0.05},
            {"type": "TruncatedNegativeBinomial", "shape": -0.5, "success_probability": 0.2},
            {"type": "TruncatedNegativeBinomial", "shape": 3, "success_probability": 0.5},
            {"type": "Poisson", "mean": 10},
            {"type": "Poisson", "mean": 0.5},
        ]:
            if runs["type"] == "Poisson":
                tuned, second = poisson_bound(GRID, curve, runs["mean"]), None
                mean = mp.mpf(runs["mean"])
            else:
                tuned, second = tnb_bound(GRID, curve, runs["shape"], runs["success_probability"])
                mean = expected_runs_closed_form(runs["shape"], runs["success_probability"])
            for delta in (1e-5, 1e-8):
                cases.append(
                    {
                        "sampling_rate": q,
                        "noise_multiplier": s,
                        "steps": steps,
                        "runs": runs,
                        "delta": delta,
                        "expected_runs": float(mean),
                        "second_order": second,
                        "rdp": [float(v) for v in tuned],
                        "inner_epsilon": float(epsilon_improved(GRID, curve, delta)),
                        "epsilon": float(epsilon_improved(GRID, tuned, delta)),
                    }
                )
    document = {
        "source": [{"library": "mpmath", "version": mp.__version__}],
        "command": "Scripts/crosscheck/run",
        "script": "Scripts/crosscheck/golden_tuning.py",
        "orders": GRID,
        "rtol": 1e-9,
        "cases": cases,
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
