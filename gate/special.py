"""The four special functions the comparison needs, written with the standard library only.

`gate.compare` needs the binomial upper tail P(X > k), X ~ Binomial(n, ½) (the exact one-sided
McNemar / sign test), the normal CDF and quantile, and the Student t quantile. scipy.special
has all four, but importing it costs about 0.3 s per run (a fifth of the gate's own budget for
10,000 cases) and its wheel is the largest part of the action's image, which the runner builds
for every job. Here:

* `binom_sf_half(k, n)` sums binomial coefficients as Python integers, so the p-value is the
  correctly rounded exact value (scipy's `bdtrc` is within a few ulps of it);
* `normal_cdf` and `normal_ppf` are `math.erfc` and `statistics.NormalDist().inv_cdf`;
* `student_t_ppf(df, p)` solves for the tail mass q = min(p, 1 − p), or near ½ for the exact
  central mass 1 − 2q, by Newton's method on the regularized incomplete beta function
  (continued fraction, as in Numerical Recipes' `betacf`), with ln B(df/2, ½) from its
  asymptotic series for large df; within 2e-12 of the exact quantile up to df = 10⁵ (2e-11
  at 10⁶; scipy's `stdtrit` is the reference, 1e-9 the requirement). The comparison uses it
  for a bootstrap percentile level, which 10,000 resamples resolve to 1e-4.

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
    log_beta = _log_beta_half(a)

    def log_density(s: float) -> float:
        return -(a + 0.5) * math.log1p(s * s / df) - 0.5 * math.log(df) - log_beta

    if q <= 0.25:
        log_q = math.log(q)

        def residual(u: float) -> tuple[float, float]:
            """ln P(T ≤ −s) − ln q and its derivative, at s = e^u (both decrease in u)."""
            s = math.exp(u)
            x, y = df / (df + s * s), s * s / (df + s * s)
            log_tail = math.log(0.5) + _log_ibeta(a, 0.5, x, y, log_beta)
            return log_tail - log_q, -math.exp(u + log_density(s) - log_tail)

    else:  # near the centre the tail is ½ − tiny: solve for the central mass 1 − 2q instead,
        # which is exact (Sterbenz), so a p within 1e-15 of ½ keeps every digit of its quantile
        log_centre_target = math.log(1.0 - 2.0 * q)

        def residual(u: float) -> tuple[float, float]:
            """ln(1 − 2q) − ln P(|T| < s) and its derivative, at s = e^u (both decrease in u)."""
            s = math.exp(u)
            x, y = df / (df + s * s), s * s / (df + s * s)
            log_centre = _log_ibeta(0.5, a, y, x, log_beta)  # I_y(½, df/2)
            return (
                log_centre_target - log_centre,
                -math.exp(u + math.log(2.0) + log_density(s) - log_centre),
            )

    # Newton on u = ln s, where the log of either mass is nearly linear; bisection when a
    # step leaves the bracket. The start is the normal quantile, close for all but small df.
    low, high = -50.0, 350.0  # s from 2e-22 to 1e152, where s² still fits a float
    u = math.log(max(-normal_ppf(q), 1e-300))
    for _ in range(_NEWTON_STEPS):
        value, slope = residual(u)
        if value > 0.0:
            low = u  # the tail at s is still heavier than q (the centre lighter): s must grow
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


# ln Γ(a + ½) − ln Γ(a) − ½ ln a = Σ c_k a^−k (odd k): the Bernoulli-polynomial expansion,
# (−1)^(k+1) (B_(k+1)(½) − B_(k+1)) / (k (k+1)), through a^−11: below 3e-15 for a ≥ 10.
_HALF_STEP_SERIES = (-1 / 8, 1 / 192, -1 / 640, 17 / 14336, -31 / 18432, 691 / 180224)
_LOG_SQRT_PI = 0.5 * math.log(math.pi)


def _log_beta_half(a: float) -> float:
    """ln B(a, ½). For a large a the difference of lgamma(a) and lgamma(a + ½) would lose
    digits (both near a ln a; 1e-10 at a = 45,000), so there it comes from the series."""
    if a < 10.0:
        return math.lgamma(a) + _LOG_SQRT_PI - math.lgamma(a + 0.5)
    inverse, inverse_squared = 1.0 / a, 1.0 / (a * a)
    series = 0.0
    for coefficient in reversed(_HALF_STEP_SERIES):
        series = series * inverse_squared + coefficient
    return _LOG_SQRT_PI - 0.5 * math.log(a) - series * inverse


def _log_ibeta(a: float, b: float, x: float, y: float, log_beta: float) -> float:
    """ln I_x(a, b), the regularized incomplete beta function, given y = 1 − x and ln B(a, b).

    Below the mean the continued fraction gives I_x itself, in logarithms so that a far tail
    does not underflow; above it, I_x = 1 − I_{1−x}(b, a) is not small and loses nothing.
    ln x and ln y come from whichever of x and y is small, which each caller has exactly.
    """
    if y <= 0.0:
        return 0.0
    if x <= 0.0:
        return -math.inf
    log_x = math.log1p(-y) if y < 0.5 else math.log(x)
    log_y = math.log1p(-x) if x < 0.5 else math.log(y)
    log_front = a * log_x + b * log_y - log_beta
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
