"""Replication statistics: means with t-based confidence intervals, paired differences.

Independent replications give i.i.d. KPI values; the 95% CI of the mean is
``mean ± t_{0.975, n-1} · s / sqrt(n)``. With common random numbers across scenarios, the
paired differences ``b_i - a_i`` have much smaller variance than the difference of two
independent means, which is why :func:`paired_difference` is the comparison to use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

__all__ = ["Estimate", "mean_ci", "paired_difference", "aggregate_replications"]


@dataclass(frozen=True)
class Estimate:
    """Mean of ``n`` replication values with a ``confidence`` interval (NaN when n < 2)."""

    mean: float
    ci_low: float
    ci_high: float
    half_width: float
    std: float
    n: int
    confidence: float = 0.95

    def as_dict(self) -> dict[str, float | int | None]:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in asdict(self).items()}


def mean_ci(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> Estimate:
    """Mean with a Student-t confidence interval; NaN values are ignored."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        nan = float("nan")
        return Estimate(nan, nan, nan, nan, nan, 0, confidence)
    m = float(x.mean())
    if n < 2:
        nan = float("nan")
        return Estimate(m, nan, nan, nan, nan, n, confidence)
    s = float(x.std(ddof=1))
    h = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * s / math.sqrt(n)) if s > 0 else 0.0
    return Estimate(m, m - h, m + h, h, s, n, confidence)


def paired_difference(a: Sequence[float], b: Sequence[float],
                      confidence: float = 0.95) -> Estimate:
    """CI of the mean of ``b_i - a_i`` (replication i of both used the same random numbers)."""
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if xa.shape != xb.shape:
        raise ValueError(f"paired samples must have the same length, got {xa.size} and {xb.size}")
    return mean_ci(xb - xa, confidence)


def aggregate_replications(kpis: Sequence[Mapping[str, float]], confidence: float = 0.95
                           ) -> dict[str, dict[str, float | int | None]]:
    """Per KPI: mean, CI and the replication values (keys sorted for stable output)."""
    names = sorted({k for d in kpis for k in d})
    out: dict[str, dict[str, float | int | None]] = {}
    for k in names:
        vals = [float(d.get(k, float("nan"))) for d in kpis]
        est = mean_ci(vals, confidence).as_dict()
        out[k] = est
    return out
