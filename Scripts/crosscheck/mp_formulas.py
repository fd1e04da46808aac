"""mpmath formulas shared by the golden_*.py scripts that compute dpfl's own references.

Nothing here sets the precision: each script sets `mp.mp.dps` for itself, and these
functions compute at whatever precision is in force.
"""
import mpmath as mp


def log_a_integer(q, s, alpha):
    """log A_alpha of the Poisson-subsampled Gaussian at integer alpha (MTZ19 3.2), exact:
    the binomial sum of (1 - q)^(alpha - j) q^j exp((j^2 - j) / (2 s^2))."""
    q, s = mp.mpf(q), mp.mpf(s)
    if q == 1:
        return mp.mpf(alpha) * (alpha - 1) / (2 * s * s)
    total = mp.mpf(0)
    for j in range(alpha + 1):
        total += mp.binomial(alpha, j) * (1 - q) ** (alpha - j) * q**j * mp.exp((j * j - j) / (2 * s * s))
    return mp.log(total)


def log_a_quadrature(q, s, alpha):
    """log A_alpha = log E_{z~N(0,s^2)}[(1 - q + q exp((2z-1)/(2s^2)))^alpha] by quadrature,
    for any real alpha > 1."""
    q, s, alpha = mp.mpf(q), mp.mpf(s), mp.mpf(alpha)
    if q == 1:
        return alpha * (alpha - 1) / (2 * s * s)

    def integrand(z):
        return mp.npdf(z, 0, s) * (1 - q + q * mp.exp((2 * z - 1) / (2 * s * s))) ** alpha

    # The integrand peaks near z = alpha (the mixture's tilted mean) for large alpha:
    # give the quadrature the breakpoints it needs.
    peak = max(mp.mpf(1), alpha)
    points = sorted(set([-mp.inf, -10 * s, 0, mp.mpf(0.5), peak, peak + 10 * s, mp.inf]))
    return mp.log(mp.quad(integrand, points))


def epsilon_improved(orders, curve, delta):
    """epsilon(delta) of an RDP curve by CKS20 Prop. 12, with dp_accounting's safeguards
    (0 where the curve is 0 or the KL shortcut applies; clamped at 0)."""
    delta = mp.mpf(delta)
    best = mp.inf
    for alpha, r in zip(orders, curve):
        if r <= 0 or delta**2 + mp.expm1(-r) > 0:
            value = mp.mpf(0)
        else:
            a = mp.mpf(alpha)
            value = r + mp.log1p(-1 / a) - mp.log(delta * a) / (a - 1)
        best = min(best, value)
    return max(mp.mpf(0), best)
