"""Replication statistics: means with t-based confidence intervals, paired differences.

Independent replications give i.i.d. KPI values; the 95% CI of the mean is
``mean ± t_{0.975, n-1} · s / sqrt(n)``. With common random numbers across scenarios, the
paired differences ``b_i - a_i`` have much smaller variance than the difference of two
independent means, which is why :func:`paired_difference` is the comparison to use.

Truncation to the parameter space
---------------------------------
A KPI that cannot be negative (a count, km, kg, minutes, yen of cost) has a non-negative
mean, so a t-interval reaching below 0 (e.g. ``takeovers 2.8 [-1.7, 7.3]`` from 5 skewed
replications) only says "the data are few and skewed", and reads as nonsense to a council.
:func:`mean_ci` with ``bounds=(low, high)`` intersects the interval with the parameter space
``[low, high]``. This keeps coverage: whenever the t-interval covers the true mean θ, and θ
lies in ``[low, high]``, the intersection covers θ too, so the truncated interval covers θ
at least as often (exactly as often) as the untruncated one. ``half_width`` stays the
t half-width ``t · s / sqrt(n)`` (the precision of the mean, e.g. for "is the interval too
wide to judge"); only ``ci_low``/``ci_high`` are clipped, so a truncated interval is not
symmetric about the mean.

Which KPI lives where (:func:`kpi_bounds`, an explicit rule on the KPI *name*, never a guess
from the data):

* **signed, not truncated**: the names in :data:`SIGNED_KPIS` (departure delay, which is
  negative for early departures; subsidies, which are negative when revenue exceeds cost)
  and any name containing one of :data:`SIGNED_NAME_PARTS` (``subsidy``, ``profit``,
  ``delay_mean``, ``diff``, ``delta``, ``net_``; so a future ``profit_yen`` is signed by
  default). Paired differences (:func:`paired_difference`) are never truncated.
* **[0, 1]**: names ending in ``_share``, containing ``_share.`` (``mode_share.walk``,
  ``last_mile_share.drt``) and the names in :data:`UNIT_INTERVAL_KPIS` (``drt.soc_min``,
  ``choice_converged``, ``choice_changed_share_last``).
* **[0, ∞)**: every other KPI. All KPIs of :mod:`tomakomai_maas.metrics.kpi`,
  :mod:`~tomakomai_maas.metrics.cost` and the choice model are counts, amounts, times,
  distances, energies, costs, revenues or ratios of those; ``tests/test_metrics_stats.py``
  checks the rule against every KPI of the shipped goldens.

If a replication value lies outside the declared space (a KPI was classified wrongly), the
interval is not truncated and a warning names the KPI.

Constant KPIs
-------------
When all replication values are equal up to floating-point round-off (spread ≤
``1e-12 · max(1, |x|)``, e.g. a capital cost summed from the same shares in another order),
``std``, ``half_width`` are exactly 0 and the interval is ``[mean, mean]`` instead of
``std 8.9e-12`` noise; the mean is the first value (deterministic, so byte-identical
summaries stay byte-identical).

Few replications
----------------
With fewer than :data:`MIN_RELIABLE_REPLICATIONS` replications the t-intervals rest on very
few degrees of freedom and on normality; :func:`few_replications_warning` gives the text the
CLI and the HTML report print.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

__all__ = [
    "Estimate",
    "mean_ci",
    "paired_difference",
    "aggregate_replications",
    "kpi_bounds",
    "SIGNED_KPIS",
    "SIGNED_NAME_PARTS",
    "UNIT_INTERVAL_KPIS",
    "MIN_RELIABLE_REPLICATIONS",
    "few_replications_warning",
    "values_constant",
]

log = logging.getLogger(__name__)

#: KPIs that may be negative: their intervals are never truncated.
SIGNED_KPIS: frozenset[str] = frozenset({
    "dep_delay_mean_min",        # early departures give negative delays
    "subsidy_required_yen",      # cost - revenue: negative when revenue exceeds cost
    "subsidy_per_passenger_yen",
    "drt.subsidy_per_trip_yen",
})
#: A KPI whose name contains one of these is signed too (future profits, net figures ...).
SIGNED_NAME_PARTS: tuple[str, ...] = ("subsidy", "profit", "delay_mean", "diff", "delta",
                                      "net_")
#: KPIs in [0, 1] besides the ``*_share`` / ``*_share.<x>`` names.
UNIT_INTERVAL_KPIS: frozenset[str] = frozenset({"drt.soc_min", "choice_converged",
                                                "choice_changed_share_last"})

#: Below this many replications the CIs are flagged as unreliable.
MIN_RELIABLE_REPLICATIONS = 5

_ROUND_OFF = 1e-12


def kpi_bounds(name: str) -> tuple[float, float]:
    """Parameter space ``(low, high)`` of a KPI by its name (rule in the module docstring);
    ``(-inf, inf)`` for signed KPIs."""
    if name in SIGNED_KPIS or any(p in name for p in SIGNED_NAME_PARTS):
        return (-math.inf, math.inf)
    if name in UNIT_INTERVAL_KPIS or name.endswith("_share") or "_share." in name:
        return (0.0, 1.0)
    return (0.0, math.inf)


def few_replications_warning(n: int, lang: str = "en") -> str | None:
    """Warning text (without a "warning:" prefix) when ``n`` <
    :data:`MIN_RELIABLE_REPLICATIONS`, else ``None``."""
    if n >= MIN_RELIABLE_REPLICATIONS:
        return None
    if lang == "ja":
        return (f"反復回数が{n}回と少ないため、95%信頼区間は信頼できません "
                f"({MIN_RELIABLE_REPLICATIONS}回以上、例えば -r 20 を推奨)")
    return (f"only {n} replication(s): the 95% confidence intervals are unreliable "
            f"(use at least {MIN_RELIABLE_REPLICATIONS}, e.g. -r 20)")


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


def mean_ci(values: Sequence[float] | np.ndarray, confidence: float = 0.95, *,
            bounds: tuple[float, float] | None = None, name: str = "") -> Estimate:
    """Mean with a Student-t confidence interval; NaN values are ignored.

    ``bounds``: the KPI's parameter space ``(low, high)``; the interval is intersected with
    it (see the module docstring; ``kpi_bounds(name)`` gives it for a KPI). ``name`` only
    labels the warning when a value lies outside ``bounds`` (then nothing is truncated).
    Values equal up to round-off give ``std = half_width = 0`` exactly.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n == 0:
        nan = float("nan")
        return Estimate(nan, nan, nan, nan, nan, 0, confidence)
    if values_constant(x):
        m = float(x[0])
        if n < 2:
            nan = float("nan")
            return Estimate(m, nan, nan, nan, nan, n, confidence)
        return Estimate(m, m, m, 0.0, 0.0, n, confidence)
    m = float(x.mean())
    s = float(x.std(ddof=1))
    h = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * s / math.sqrt(n))
    lo, hi = m - h, m + h
    if bounds is not None:
        b_lo, b_hi = float(bounds[0]), float(bounds[1])
        tol = _ROUND_OFF * max(1.0, float(np.abs(x).max()))
        if (x < b_lo - tol).any() or (x > b_hi + tol).any():
            log.warning("KPI %s has replication values outside its declared range [%g, %g]; "
                        "its interval is not truncated (see metrics/stats.py kpi_bounds)",
                        name or "?", b_lo, b_hi)
        else:
            lo, hi = max(lo, b_lo), min(hi, b_hi)
    return Estimate(m, lo, hi, h, s, n, confidence)


def values_constant(x: np.ndarray) -> bool:
    """All (non-NaN) values equal up to floating-point round-off (module docstring)."""
    spread = float(x.max() - x.min())
    return spread <= _ROUND_OFF * max(1.0, float(np.abs(x).max()))


def paired_difference(a: Sequence[float], b: Sequence[float],
                      confidence: float = 0.95) -> Estimate:
    """CI of the mean of ``b_i - a_i`` (replication i of both used the same random numbers).

    Never truncated: a difference may have either sign."""
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if xa.shape != xb.shape:
        raise ValueError(f"paired samples must have the same length, got {xa.size} and {xb.size}")
    return mean_ci(xb - xa, confidence)


def aggregate_replications(kpis: Sequence[Mapping[str, float]], confidence: float = 0.95
                           ) -> dict[str, dict[str, float | int | None]]:
    """Per KPI: mean and CI, truncated to the KPI's parameter space (:func:`kpi_bounds`);
    keys sorted for stable output."""
    names = sorted({k for d in kpis for k in d})
    out: dict[str, dict[str, float | int | None]] = {}
    for k in names:
        vals = [float(d.get(k, float("nan"))) for d in kpis]
        est = mean_ci(vals, confidence, bounds=kpi_bounds(k), name=k).as_dict()
        out[k] = est
    return out
