"""The four special functions the comparison needs, written with the standard library only.

`gate.compare` needs the binomial upper tail P(X > k), X ~ Binomial(n, ½) (the exact one-sided
McNemar / sign test), the normal CDF and quantile, and the Student t quantile. scipy.special
has all four, but importing it costs about 0.3 s per run (a fifth of the gate's own budget for
10,000 cases) and its wheel is the largest part of the action's image, which the runner builds
for every job. Here:

* `binom_sf_half(k, n)` sums binomial coefficients as Python integers, so the p-value is the
  correctly rounded exact value (scipy's `bdtrc` is within a few ulps of it);
* `normal_cdf` and `normal_ppf` are `math.erfc` and `statistics.NormalDist().inv_cdf`;
* `student_t_ppf(df, p)` solves P(T ≤ t) = p by Newton's method on the regularized incomplete
  beta function (continued fraction, as in Numerical Recipes' `betacf`), within 1e-9 of
  scipy's `stdtrit`; the comparison uses it for a bootstrap percentile level, which 10,000
  resamples resolve to 1e-4.

`tests/unit/test_special.py` checks each function against scipy and against exact values.
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ["binom_sf_half", "normal_cdf", "normal_ppf", "student_t_ppf"]

_STANDARD_NORMAL = NormalDist()
_CF_TERMS = 1_000
_CF_TINY = 1e-300
_NEWTON_STEPS = 100


def binom_sf_half(k: int, n: int) -> float:
    """P(X > k) for X ~ Binomial(n, ½): `scipy.special.bdtrc(k, n, 0.5)`, exactly.

    k < 0 gives 1, k ≥ n gives 0. It sums the shorter tail: n = 10,000 takes about 10 ms.
    """
    if n < 0:
        raise ValueError(f"n must be at least 0, got {n}")
    if k < 0:
        return 1.0
    if k >= n:
        return 0.0
    # P(X > k) = P(X ≤ n − k − 1) by symmetry: the sum of C(n, j) for j ≤ n − k − 1.
    last = n - k - 1
    if last <= n // 2:
        return _lower_sum(n, last) / (1 << n)
    return ((1 << n) - _lower_sum(n, k)) / (1 << n)  # the complement's tail is the shorter


def _lower_sum(n: int, last: int) -> int:
    """The sum of C(n, j) for j = 0 … last, in integers."""
    term = total = 1
    for j in range(1, last + 1):
        term = term * (n - j + 1) // j
        total += term
    return total


def normal_cdf(x: float) -> float:
    """Φ(x), the standard normal CDF: `scipy.special.ndtr`."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_ppf(p: float) -> float:
    """Φ⁻¹(p), the standard normal quantile: `scipy.special.ndtri` (0 → −inf, 1 → +inf)."""
    if 0.0 < p < 1.0:
        return _STANDARD_NORMAL.inv_cdf(p)
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    return math.nan


def student_t_ppf(df: float, p: float) -> float:
    """The p quantile of Student's t with df > 0 degrees of freedom: `scipy.special.stdtrit`.

    0 → −inf, 1 → +inf, ½ → 0; df ≤ 0, or p outside [0, 1], gives nan.
    """
    if not (df > 0.0 and 0.0 <= p <= 1.0):
        return math.nan
    if p in (0.0, 1.0):
        return math.inf if p else -math.inf
    if p == 0.5:
        return 0.0
    q = min(p, 1.0 - p)
    magnitude = _t_isf(float(df), q)
    return -magnitude if p < 0.5 else magnitude


def _t_isf(df: float, q: float) -> float:
    """The s > 0 with P(T ≤ −s) = q, for 0 < q < ½."""
    if df == 1.0:  # Cauchy: cot(πq), without rounding ½ − q for a small q
        return 1.0 / math.tan(math.pi * q) if q < 0.25 else math.tan(math.pi * (0.5 - q))
    if df == 2.0:
        return (1.0 - 2.0 * q) / math.sqrt(2.0 * q * (1.0 - q))
    a = df / 2.0
    log_beta = math.lgamma(a) + math.lgamma(0.5) - math.lgamma(a + 0.5)  # ln B(df/2, ½)
    log_q = math.log(q)

    def residual(u: float) -> tuple[float, float]:
        """ln P(T ≤ −s) − ln q and its derivative, at s = e^u (both decrease in u)."""
        s = math.exp(u)
        x, y = df / (df + s * s), s * s / (df + s * s)
        log_cdf = math.log(0.5) + _log_ibeta(a, 0.5, x, y, log_beta)
        log_pdf = -(a + 0.5) * math.log1p(s * s / df) - 0.5 * math.log(df) - log_beta
        return log_cdf - log_q, -math.exp(u + log_pdf - log_cdf)

    # Newton on u = ln s, where ln P(T ≤ −s) is nearly linear; bisection when a step leaves
    # the bracket. The start is the normal quantile, which is close for all but small df.
    low, high = -50.0, 50.0
    u = math.log(max(-normal_ppf(q), 1e-10))
    for _ in range(_NEWTON_STEPS):
        value, slope = residual(u)
        if value > 0.0:
            low = u  # the tail at s is still heavier than q: s must grow
        else:
            high = u
        step = value / slope if slope < 0.0 else math.nan
        following = u - step
        if not low < following < high:
            following = (low + high) / 2.0
        if abs(following - u) <= 1e-15 * max(1.0, abs(u)):
            return math.exp(following)
        u = following
    return math.exp(u)


def _log_ibeta(a: float, b: float, x: float, y: float, log_beta: float) -> float:
    """ln I_x(a, b), the regularized incomplete beta function, given y = 1 − x and ln B(a, b).

    Below the mean the continued fraction gives I_x itself, in logarithms so that a far tail
    does not underflow; above it, I_x = 1 − I_{1−x}(b, a) is not small and loses nothing.
    """
    if y <= 0.0:
        return 0.0
    log_front = a * math.log(x) + b * math.log(y) - log_beta
    if x < (a + 1.0) / (a + b + 2.0):
        return log_front + math.log(_betacf(a, b, x) / a)
    return math.log1p(-math.exp(log_front) * _betacf(b, a, y) / b)


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b), by the modified Lentz method."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) >= _CF_TINY else _CF_TINY)
    h = d
    for m in range(1, _CF_TERMS + 1):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) >= _CF_TINY else _CF_TINY)
            c = 1.0 + aa / c
            c = c if abs(c) >= _CF_TINY else _CF_TINY
            h *= d * c
        if abs(d * c - 1.0) <= 1e-16:
            break
    return h
