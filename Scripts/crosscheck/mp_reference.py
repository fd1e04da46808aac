"""High-precision (mpmath) re-evaluation of the RDP formulas dp_accounting uses.

Used only to MEASURE how accurate dp_accounting's double-precision results are
(golden_rdp.py turns that into per-case tolerances); no fixture value is taken
from here.  Each function mirrors the corresponding dp_accounting 0.6.0
routine term by term, but in exact/high-precision arithmetic:

  poisson_rdp(q, sigma, alpha)   _compute_rdp_poisson_subsampled_gaussian
                                 (integer alpha: finite binomial sum;
                                  fractional alpha: the two-sided series with
                                  every term taken with + sign (|C(alpha,k)|),
                                  stopped at the same index as dp_accounting)
  wor_rdp(q, sigma, alpha)       _compute_rdp_sample_wor_gaussian (WBK19 Thm 27
                                 with dp_accounting's index convention, exact
                                 forward differences, O(alpha) branch > 256,
                                 linear interpolation of log A for fractional alpha)
  epsilon_at(order, rdp, delta)  / delta_at(order, rdp, eps)
                                 dp_accounting's per-order conversion formulas.
"""

from __future__ import annotations

import functools
import math

import mpmath as mp

DPS = 50
mp.mp.dps = DPS
_MAX_STEPS_LOG_A_FRAC = 1000  # dp_accounting's cap


def _mpf(x):
    return mp.mpf(x)


@functools.lru_cache(maxsize=4096)
def poisson_log_a_int(q, sigma, alpha: int):
    q, s2 = _mpf(q), _mpf(sigma) ** 2
    terms = (mp.binomial(alpha, k) * (1 - q) ** (alpha - k) * q ** k * mp.exp((k * k - k) / (2 * s2))
             for k in range(alpha + 1))
    return mp.log(mp.fsum(terms))


@functools.lru_cache(maxsize=4096)
def poisson_log_a_frac(q, sigma, alpha):
    """dp_accounting's fractional series in high precision (terms with |C|).

    Returns +inf where dp_accounting gives up (no stop within 1000 terms)."""
    q, s, a = _mpf(q), _mpf(sigma), _mpf(alpha)
    s2 = s * s
    z0 = s2 * mp.log(1 / q - 1) + mp.mpf(1) / 2
    sq2s = mp.sqrt(2) * s
    lq, l1q = mp.log(q), mp.log1p(-q)
    a0 = a1 = mp.mpf(0)
    last0 = last1 = None
    thirty = mp.exp(-30)
    c = mp.mpf(1)  # C(alpha, i), by recurrence
    for i in range(_MAX_STEPS_LOG_A_FRAC):
        if i > 0:
            c = c * (a - (i - 1)) / i
        j = a - i
        ac = abs(c)
        s0 = ac * mp.exp(i * lq + j * l1q + (i * i - i) / (2 * s2)) * mp.erfc((i - z0) / sq2s) / 2
        s1 = ac * mp.exp(j * lq + i * l1q + (j * j - j) / (2 * s2)) * mp.erfc((z0 - j) / sq2s) / 2
        a0 += s0
        a1 += s1
        total = a0 + a1
        if last0 is not None and s0 < last0 and s1 < last1 and max(s0, s1) < total * thirty:
            return mp.log(total)
        last0, last1 = s0, s1
    return mp.inf


def poisson_rdp(q, sigma, alpha):
    """Per-step RDP of the Poisson-subsampled Gaussian, high precision."""
    if q == 0:
        return mp.mpf(0)
    if sigma == 0 or math.isinf(alpha):
        return mp.inf
    if q == 1:
        return _mpf(alpha) / (2 * _mpf(sigma) ** 2)
    if float(alpha).is_integer():
        return poisson_log_a_int(q, sigma, int(alpha)) / (int(alpha) - 1)
    la = poisson_log_a_frac(q, sigma, alpha)
    return la / (_mpf(alpha) - 1) if la != mp.inf else mp.inf


@functools.lru_cache(maxsize=4096)
def _wor_log_a_int(q, sigma, alpha: int):
    """log A_alpha of dp_accounting's _compute_rdp_sample_wor_gaussian_int."""
    if alpha == 1:
        return mp.mpf(0)
    q, s2 = _mpf(q), _mpf(sigma) ** 2

    def cgf(x):
        return _mpf(x) * (x + 1) / (2 * s2)

    def func(x):
        return _mpf(x) / (2 * s2)

    f2 = func(2)
    first = q ** 2 * mp.binomial(alpha, 2) * min(4 * mp.expm1(f2), 2 * mp.exp(f2))
    total = 1 + first
    if alpha <= 256:
        # dp_accounting (_get_forward_diffs): the sequence p = [1, e^cgf(0),
        # e^cgf(1), ..., e^cgf(alpha+1)] and deltas[i] = log|Delta^(i+1) p (0)|.
        # Exact differences need many digits (alternating sums cancel).
        with mp.workdps(DPS + int(3 * alpha) + 50):
            vec = [mp.mpf(1)] + [mp.exp(cgf(k)) for k in range(alpha + 2)]
            deltas = []
            for _ in range(alpha + 2):
                vec = [vec[j + 1] - vec[j] for j in range(len(vec) - 1)]
                deltas.append(abs(vec[0]))
            for i in range(3, alpha + 1):
                lo = deltas[int(2 * math.floor(i / 2.0)) - 1]
                hi = deltas[int(2 * math.ceil(i / 2.0)) - 1]
                t = min(4 * mp.sqrt(lo * hi), 2 * mp.exp(cgf(i - 1)))
                total += q ** i * mp.binomial(alpha, i) * t
    else:
        for i in range(3, alpha + 1):
            total += 2 * mp.exp(cgf(i - 1)) * q ** i * mp.binomial(alpha, i)
    return mp.log(total)


def wor_rdp(q, sigma, alpha):
    """Per-step RDP of fixed-size sampling w/o replacement (replace-one)."""
    if q == 0:
        return mp.mpf(0)
    if q == 1:
        return _mpf(alpha) / (2 * _mpf(sigma) ** 2)
    if math.isinf(alpha):
        return mp.inf
    if float(alpha).is_integer():
        return _wor_log_a_int(q, sigma, int(alpha)) / (int(alpha) - 1)
    af, ac = math.floor(alpha), math.ceil(alpha)
    t = _mpf(alpha) - af
    x, y = _wor_log_a_int(q, sigma, af), _wor_log_a_int(q, sigma, ac)
    return ((1 - t) * x + t * y) / (_mpf(alpha) - 1)


def epsilon_at(order, total_rdp, delta):
    """dp_accounting compute_epsilon's value at one order (same branches)."""
    a, r, d = _mpf(order), total_rdp, _mpf(delta)
    if r == mp.inf:
        return mp.inf
    if d ** 2 + mp.expm1(-r) > 0:
        return mp.mpf(0)
    if order > 1.01:
        return max(mp.mpf(0), r + mp.log1p(-1 / a) - mp.log(d * a) / (a - 1))
    return mp.inf


def epsilon_classic_at(order, total_rdp, delta):
    return max(mp.mpf(0), total_rdp - mp.log(_mpf(delta)) / (_mpf(order) - 1))


def delta_at(order, total_rdp, epsilon):
    """dp_accounting compute_delta's value at one order (same branches)."""
    a, r, e = _mpf(order), total_rdp, _mpf(epsilon)
    logdelta = mp.mpf("-inf") if r == 0 else mp.log1p(-mp.exp(-r)) / 2
    if order > 1.01:
        logdelta = min(logdelta, (a - 1) * (r - e + mp.log1p(-1 / a)) - mp.log(a))
    return min(mp.exp(logdelta), mp.mpf(1))
