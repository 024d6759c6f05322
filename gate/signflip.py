"""Sign-flip tests of paired deltas: exact where cheap, Monte Carlo to a set precision elsewhere,
and the Westfall–Young min-p adjustment across the metrics of one suite.

Under "this change did nothing" base and head of a case are exchangeable, so each per-case
delta d is as likely to be −d as d; the sign-flip distribution of the sum of the deltas is the
exact null, whatever the noise of the model or the judge. The one-sided p-value of "head is
worse" is P*(T* ≤ T), T = Σ d.

* **Exact** (`lattice_pmf`): when every delta is a multiple of 1/L for a small L (means of k
  integer or 0/1 scores are multiples of 1/k), T·L is an integer sum of ±w_i, and the
  distribution of Σ_{positive} w_i is the product of the polynomials (1 + x^w)/2, one per
  case. Its coefficients come from one inverse FFT of that product evaluated on the unit
  circle (no aliasing: the transform is longer than the support). 10,000 judge cases at
  k = 3 take a few milliseconds; the error is ~1e-15 absolute, far below any α.
* **Monte Carlo** (`FlipSampler`): every other case. Flips are drawn in batches that share
  the case signs across metrics (the metrics score the same answers; flipping a case swaps
  base and head for all of them at once), and a batch is added while the estimate that
  decides a verdict is within `_MC_SIGMAS` Monte-Carlo standard errors of α.
* **Westfall–Young** step-down min-p (`westfall_young`): the adjusted p of the metric ranked r
  is the chance, over joint flips, that the smallest marginal p among the metrics ranked r or
  later is at most its own p, made monotone. It controls the family-wise rate exactly like
  Holm but uses the metrics' correlation, so it is never more conservative than Holm and
  usually close to unadjusted when the metrics move together. Each estimate is clipped to
  [p, min(1, m·p)], which hold exactly (Bonferroni), so a single metric needs no draws.

Pure: numpy only, every generator seeded by the caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_MAX_UNIT = 60  # the largest denominator L tried for a lattice (means of up to 60 repeats)
_MAX_LATTICE = 1 << 21  # Σ w_i above this: Monte Carlo (an FFT of 4 M points costs ~0.3 s)
_LATTICE_SLACK = 1e-6
_MC_SIGMAS = 4.0  # keep drawing while |p̂ − α| is within this many Monte-Carlo SEs
_BATCH_FLIPS = 4_000_000  # case signs per batch (4 MB of int8)


def lattice_weights(deltas: FloatArray) -> npt.NDArray[np.int64] | None:
    """Integer weights w with deltas = w / L for the smallest L ≤ 60, or None (no lattice, or
    too large a sum for an exact transform)."""
    if deltas.size == 0:
        return np.zeros(0, dtype=np.int64)
    for unit in range(1, _MAX_UNIT + 1):
        scaled = deltas * unit
        rounded = np.round(scaled)
        if np.all(np.abs(scaled - rounded) <= _LATTICE_SLACK):
            weights = rounded.astype(np.int64)
            if int(np.abs(weights).sum()) > _MAX_LATTICE:
                return None
            return weights
    return None


def lattice_cdf(weights: npt.NDArray[np.int64]) -> FloatArray:
    """P*(Σ_{positive} |w_i| ≤ s) for s = 0 … Σ|w_i| under independent fair signs."""
    magnitudes = np.abs(weights[weights != 0])
    total = int(magnitudes.sum())
    if total == 0:
        return np.ones(1)
    size = 1 << int(total).bit_length()  # > total: the circular transform does not wrap
    values, counts = np.unique(magnitudes, return_counts=True)
    freq = np.arange(size // 2 + 1) * (2.0 * math.pi / size)
    log_spectrum = np.zeros(freq.size, dtype=np.complex128)
    for w, c in zip(values.tolist(), counts.tolist(), strict=True):
        # ((1 + e^{−iwθ}) / 2)^c = (cos(wθ/2) · e^{−iwθ/2})^c, in logs so that c may be 10,000
        half = w * freq / 2.0
        cos = np.cos(half)
        with np.errstate(divide="ignore"):
            log_spectrum += c * (np.log(np.abs(cos)) - 1j * half + 1j * math.pi * (cos < 0))
    spectrum = np.exp(log_spectrum)
    pmf = np.fft.irfft(spectrum, n=size)[: total + 1]
    pmf = np.clip(pmf, 0.0, None)
    cdf: FloatArray = np.cumsum(pmf)
    cdf /= cdf[-1]
    return cdf


@dataclass(frozen=True, slots=True)
class Marginal:
    """One metric's deltas and how its p-value is computed from a flipped sum."""

    deltas: FloatArray  # over the suite's cases (0 where the metric has no paired case)
    weights: npt.NDArray[np.int64] | None  # the lattice, when exact
    cdf: FloatArray | None  # P*(positive mass ≤ s), when exact
    observed: float  # Σ d (or Σ w on the lattice)
    p_value: float | None  # one-sided; None until the Monte-Carlo draws estimate it

    @property
    def column(self) -> FloatArray:
        """What a flip multiplies: the lattice weights when exact, else the deltas."""
        if self.weights is not None:
            return self.weights.astype(np.float64)
        return self.deltas

    @property
    def scale(self) -> float:
        return float(np.abs(self.column).sum())


def mc_marginal(deltas: FloatArray) -> Marginal:
    """A metric whose p comes from the Monte-Carlo draws."""
    return Marginal(deltas, None, None, float(deltas.sum()), None)


def exact_marginal(deltas: FloatArray) -> Marginal | None:
    """The exact sign-flip p of Σ d ≤ observed, when the deltas lie on a small lattice."""
    weights = lattice_weights(deltas)
    if weights is None:
        return None
    cdf = lattice_cdf(weights)
    positive = int(weights[weights > 0].sum())
    return Marginal(deltas, weights, cdf, float(weights.sum()), float(cdf[positive]))


def _lattice_p(marginal: Marginal, sums: FloatArray) -> FloatArray:
    """Marginal p of flipped lattice sums T* = Σ s_i w_i: P*(T ≤ T*), by lookup."""
    assert marginal.cdf is not None and marginal.weights is not None
    total = int(np.abs(marginal.weights).sum())
    index = np.rint((sums + total) / 2.0).astype(np.int64)
    out: FloatArray = marginal.cdf[np.clip(index, 0, total)]
    return out


class FlipSampler:
    """Batches of joint sign flips over the cases, and the flipped sums of every metric."""

    def __init__(
        self, columns: Sequence[FloatArray], rng: np.random.Generator, *, integral: bool = False
    ) -> None:
        self._matrix = np.column_stack(columns) if columns else np.zeros((0, 0))
        # integer weights (|Σ| ≤ 2²¹) sum exactly in float32, at half the memory traffic
        self._dtype: type[np.floating[Any]] = np.float32 if integral else np.float64
        self._cast: npt.NDArray[np.floating[Any]] = self._matrix.astype(self._dtype)
        self._total = self._matrix.sum(0)
        self._rng = rng
        self.sums: FloatArray = np.zeros((0, len(columns)))

    @property
    def draws(self) -> int:
        return int(self.sums.shape[0])

    def draw(self, count: int) -> None:
        """Add `count` joint resamples."""
        cases = self._matrix.shape[0]
        if cases == 0:
            self.sums = np.zeros((self.draws + count, self._matrix.shape[1]))
            return
        batch = max(1, _BATCH_FLIPS // cases)
        parts = [self.sums]
        left = count
        while left > 0:
            rows = min(batch, left)
            bits = np.unpackbits(
                np.frombuffer(self._rng.bytes((rows * cases + 7) // 8), dtype=np.uint8),
                count=rows * cases,
            ).reshape(rows, cases)
            # s = 2·bit − 1, so Σ s·d = 2·(bits @ d) − Σ d
            flips: npt.NDArray[np.floating[Any]] = bits.astype(self._dtype)
            positive = np.matmul(flips, self._cast).astype(np.float64)
            parts.append(2.0 * positive - self._total)
            left -= rows
        self.sums = np.concatenate(parts)


def monte_carlo_p(sums: FloatArray, observed: float, scale: float) -> float:
    """(1 + #{T* ≤ T}) / (1 + B): a valid p-value for any number of draws B."""
    tol = 1e-9 * max(1.0, scale)
    return (1 + int((sums <= observed + tol).sum())) / (1 + sums.size)


def rank_p(sums: FloatArray, scale: float) -> FloatArray:
    """Each draw's own Monte-Carlo p among all draws: (1 + #{T*' ≤ T*}) / (1 + B)."""
    tol = 1e-9 * max(1.0, scale)
    ordered = np.sort(sums)
    below = np.searchsorted(ordered, sums + tol, side="right")
    out: FloatArray = (1 + below) / (1 + sums.size)
    return out


def adaptive_draws(
    start: int,
    limit: int,
    estimate: Callable[[], list[float]],
    decisive: Callable[[list[float]], bool],
    sampler: FlipSampler,
) -> list[float]:
    """Draw `start` resamples, then double while the estimates are not decisive."""
    sampler.draw(start)
    values = estimate()
    while not decisive(values) and sampler.draws < limit:
        sampler.draw(min(sampler.draws, limit - sampler.draws))
        values = estimate()
    return values


def mc_close(p: float, alpha: float, draws: int) -> bool:
    """Is a Monte-Carlo estimate within `_MC_SIGMAS` standard errors of α?"""
    se = math.sqrt(max(alpha * (1 - alpha), 1e-12) / max(draws, 1))
    return abs(p - alpha) < _MC_SIGMAS * se


def westfall_young(
    raw: Sequence[float],
    marginal_p: FloatArray,
    draws: int,
    exact: Sequence[bool] | None = None,
) -> list[float]:
    """Step-down min-p adjusted p-values.

    `raw[j]` is metric j's own p; `marginal_p[b, j]` the marginal p of draw b's flipped sum
    for metric j (from the same joint flips for every j). Returns p̃_j, monotone in rank and
    clipped to the exact bounds [p_j, min(1, m·p_j)].

    When metric j's marginal is exact (`exact[j]`), P*(q_j ≤ p_j) = p_j is known, and only
    the rest of the event is estimated: p̃ = p_j + P*(q_j > p_j, min of the others ≤ p_j).
    That part is small when the metrics move together, so its Monte-Carlo error is too.
    """
    m = len(raw)
    known = list(exact) if exact is not None else [False] * m
    order = sorted(range(m), key=lambda j: (raw[j], j))
    adjusted = [1.0] * m
    running = 0.0
    for rank, j in enumerate(order):
        rest = order[rank:]
        bar = raw[j] * (1 + 1e-12)
        if known[j] and draws:
            others = [c for c in rest if c != j]
            rest_min = marginal_p[:, others].min(axis=1) if others else np.ones(draws)
            extra = int(((marginal_p[:, j] > bar) & (rest_min <= bar)).sum())
            estimate = raw[j] + extra / draws
        else:
            smallest = marginal_p[:, rest].min(axis=1) if draws else np.zeros(0)
            estimate = (1 + int((smallest <= bar).sum())) / (1 + draws)
        bounded = min(max(estimate, raw[j]), min(1.0, (m - rank) * raw[j]))
        running = max(running, bounded)
        adjusted[j] = running
    return adjusted


def wy_error(adjusted: float, raw: float | None, draws: int) -> float:
    """The Monte-Carlo standard error of a Westfall–Young estimate (see `westfall_young`)."""
    part = adjusted - raw if raw is not None else adjusted
    part = min(max(part, 1.0 / max(draws, 1)), 1.0)
    return math.sqrt(part * (1 - part) / max(draws, 1))


def marginal_p_of_draws(marginals: Sequence[Marginal], sums: FloatArray) -> FloatArray:
    """The marginal p of every draw and metric: exact lookup on a lattice, else by rank."""
    out = np.empty_like(sums)
    for j, marginal in enumerate(marginals):
        if marginal.cdf is not None:
            out[:, j] = _lattice_p(marginal, sums[:, j])
        else:
            out[:, j] = rank_p(sums[:, j], marginal.scale)
    return out
