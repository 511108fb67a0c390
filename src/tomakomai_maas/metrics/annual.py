"""Annual (or whole-period) totals from simulated day types and a service calendar.

A scenario simulates *one* service day; a year is made of day classes (weekday, Saturday,
Sunday/holiday; optionally by season, e.g. winter Dec–Mar). Give the operating days (a list
of dates, or any object with ``operating_days()`` such as the scenario's
``CalendarConfig``), an :class:`AnnualConfig` that classifies each date, and per day class
the replication KPI dicts of a run of that day type. Then for every additive KPI ``x``::

    annual(x)   = Σ_c  D_c · mean_c(x)                 D_c = operating days of class c
    var(annual) = Σ_c  D_c² · s_c² / n_c               s_c² = replication variance, n_c runs

i.e. the day classes are treated as **independent** simulations (no covariance between day
types, even when they share seeds) and every day of a class as an independent draw of the
class mean. The CI is ``annual ± t_{(1+conf)/2, ν} · sqrt(var)`` with Welch–Satterthwaite
degrees of freedom ``ν = var² / Σ_c (D_c² s_c²/n_c)² / (n_c − 1)`` (reduces to the usual
``t_{n−1}`` interval of :func:`~tomakomai_maas.metrics.stats.mean_ci` × D with one class). A
class with fewer than 2 replications gives a NaN interval. The day-to-day variance
(weather, demand) is only what the replications sample; a calendar of identical days is not
made uncertain by counting it.

Day classification (:func:`classify_days`): a date in ``holidays`` is ``holiday``; other
dates take ``weekday_day_types[weekday]`` (default mon–fri → ``weekday``, sat →
``saturday``, sun → ``holiday``, as 道南バス runs weekday and 土日祝 timetables, facts §2.1).
The season is the first :class:`SeasonConfig` whose months contain the date (``""`` when
none). The class key is ``"<season>.<day_type>"`` for a date in a season, else
``"<day_type>"``; runs given for a class key are used first, then runs for the bare day type
(so one weekday run can stand for every season), else :class:`ValueError` lists what is
missing. National holidays are **not** computed: list them in ``holidays``.

Output of :func:`annual_totals` (one row per KPI, ``DataFrame`` indexed by ``kpi``):

==============  ======================================================================
column          meaning
==============  ======================================================================
total           annual (period) total, unit of the per-day KPI (e.g. ``co2_kg``)
std_error       sqrt(var) from the formula above
ci_low/ci_high  confidence interval (NaN when a class has < 2 replications), truncated to
                the KPI's parameter space × days
half_width      half the untruncated interval
dof             Welch–Satterthwaite degrees of freedom
days            operating days counted
per_day_mean    total / days
==============  ======================================================================

Plus ratio rows computed from totals (no interval): ``farebox_ratio`` =
revenue_total_yen/cost_total_yen, ``subsidy_per_passenger_yen``,
``co2_g_per_pax_km``. ``riders`` is the annual total of ``total_boardings`` (all modes, bus
+ DRT; ``boardings`` for runs without it; ridership counts of facts §2.2 are boardings).
Intervals are truncated to the KPI's parameter space like the per-day ones
(:func:`~tomakomai_maas.metrics.stats.kpi_bounds`: a total of a non-negative KPI has
``ci_low >= 0``), and a class whose replications are all equal adds no variance.

Which calendar days one run stands for (:func:`calendar_coverage`)
-----------------------------------------------------------------
The rule of ``docs/calibration.md`` (:func:`tomakomai_maas.calibrate.calendar_strata`): the
model knows two kinds of day, **weekday** (Mon–Fri, ``service.day_type: weekday``) and
**weekend** (Sat/Sun, ``service.day_type: saturday`` or ``holiday``: weekend trip rates and
timetables); national holidays are not known to the model and count by their weekday. A run
of one day type therefore stands for the operating days of its stratum only; the other
stratum's days are **not simulated**, and totals over them are not extrapolated from the
wrong kind of day (``runner.calendar_totals`` reports ``days_covered`` and
``days_not_simulated`` instead).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator
from scipy import stats

from tomakomai_maas.metrics.stats import kpi_bounds, values_constant

__all__ = [
    "SeasonConfig",
    "AnnualConfig",
    "classify_days",
    "day_counts",
    "annual_totals",
    "ANNUAL_KPIS",
    "ANNUAL_COLUMNS",
    "day_stratum",
    "stratum_of_day_type",
    "CalendarCoverage",
    "calendar_coverage",
]

log = logging.getLogger(__name__)

DayType = Literal["weekday", "saturday", "holiday"]
WeekdayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Additive per-day KPIs annualised by default (those present in the runs are used).
ANNUAL_KPIS: tuple[str, ...] = (
    "requests", "served", "boardings", "vehicle_km", "pax_km", "energy_kwh", "fuel_l",
    "co2_kg", "total_boardings", "total_vehicle_km", "total_pax_km", "total_energy_kwh",
    "total_fuel_l", "total_co2_kg", "takeovers", "trips_cancelled", "cost_total_yen",
    "revenue_total_yen", "revenue_fare_yen", "subsidy_required_yen", "passengers",
    "vehicle_hours",
)
ANNUAL_COLUMNS: tuple[str, ...] = ("total", "std_error", "ci_low", "ci_high", "half_width",
                                   "dof", "days", "per_day_mean")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class SeasonConfig(_Model):
    """A season: the months (1–12) it covers, e.g. winter ``[12, 1, 2, 3]``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    months: list[int] = Field(min_length=1)

    @field_validator("months")
    @classmethod
    def _months(cls, v: list[int]) -> list[int]:
        bad = [m for m in v if not 1 <= m <= 12]
        if bad:
            raise ValueError(f"months {bad} not in 1..12")
        return v


def _default_weekday_types() -> dict[str, str]:
    return {"mon": "weekday", "tue": "weekday", "wed": "weekday", "thu": "weekday",
            "fri": "weekday", "sat": "saturday", "sun": "holiday"}


class AnnualConfig(_Model):
    """How operating days are classified and how intervals are computed."""

    holidays: list[dt.date] = Field(default_factory=list,
                                    description="Dates run as 'holiday' (national holidays).")
    weekday_day_types: dict[WeekdayName, DayType] = Field(default_factory=_default_weekday_types)
    seasons: list[SeasonConfig] = Field(default_factory=list)
    confidence: float = Field(0.95, gt=0, lt=1)
    kpis: list[str] | None = Field(None, description="KPIs to annualise (default ANNUAL_KPIS "
                                   "present in the runs).")

    @field_validator("weekday_day_types")
    @classmethod
    def _all_days(cls, v: dict[str, str]) -> dict[str, str]:
        missing = [d for d in _WEEKDAYS if d not in v]
        if missing:
            raise ValueError(f"weekday_day_types misses {missing}; give all of {list(_WEEKDAYS)}")
        return v


Stratum = Literal["weekday", "weekend"]


def day_stratum(day: dt.date) -> Stratum:
    """``weekday`` for Mon–Fri (national holidays included), ``weekend`` for Sat/Sun."""
    return "weekday" if day.weekday() < 5 else "weekend"


def stratum_of_day_type(day_type: str) -> Stratum:
    """The stratum a run of ``service.day_type`` stands for (saturday/holiday: weekend)."""
    if day_type not in ("weekday", "saturday", "holiday"):
        raise ValueError(f"day_type {day_type!r}; allowed: weekday, saturday, holiday")
    return "weekday" if day_type == "weekday" else "weekend"


class CalendarCoverage(BaseModel):
    """Operating days a run of one day type stands for, and those it does not."""

    model_config = ConfigDict(frozen=True)

    stratum: Stratum
    days: list[dt.date]
    covered: list[dt.date]
    not_simulated: dict[str, int]

    @property
    def complete(self) -> bool:
        return not any(self.not_simulated.values())


def calendar_coverage(days: Iterable[dt.date] | Any, day_type: str) -> CalendarCoverage:
    """Split operating ``days`` into those of the simulated ``day_type``'s stratum and the
    count of the others by stratum (rule in the module docstring)."""
    all_days = _dates(days)
    stratum = stratum_of_day_type(day_type)
    covered = [d for d in all_days if day_stratum(d) == stratum]
    other: dict[str, int] = {}
    for d in all_days:
        if day_stratum(d) != stratum:
            other[day_stratum(d)] = other.get(day_stratum(d), 0) + 1
    return CalendarCoverage(stratum=stratum, days=all_days, covered=covered,
                            not_simulated=dict(sorted(other.items())))


def _dates(days: Iterable[dt.date] | Any) -> list[dt.date]:
    if hasattr(days, "operating_days"):
        days = days.operating_days()
    out = sorted(set(days))
    for d in out:
        if not isinstance(d, dt.date):
            raise TypeError(f"operating days must be datetime.date, got {d!r}")
    return out


def classify_days(days: Iterable[dt.date] | Any, config: AnnualConfig | None = None
                  ) -> pd.DataFrame:
    """One row per operating day: ``date``, ``day_type``, ``season``, ``key`` (sorted by date)."""
    cfg = config or AnnualConfig()
    hol = set(cfg.holidays)
    rows = []
    for d in _dates(days):
        day_type = "holiday" if d in hol else cfg.weekday_day_types[_WEEKDAYS[d.weekday()]]
        season = next((s.name for s in cfg.seasons if d.month in s.months), "")
        key = f"{season}.{day_type}" if season else day_type
        rows.append((d, day_type, season, key))
    return pd.DataFrame(rows, columns=["date", "day_type", "season", "key"])


def day_counts(days: Iterable[dt.date] | Any, config: AnnualConfig | None = None
               ) -> dict[str, int]:
    """Operating days per class key (sorted keys)."""
    df = classify_days(days, config)
    return {str(k): int(v) for k, v in sorted(df.groupby("key").size().items())}


def _runs_for(key: str, day_type: str, runs: Mapping[str, Sequence[Mapping[str, float]]]
              ) -> tuple[str, Sequence[Mapping[str, float]]] | None:
    if key in runs:
        return key, runs[key]
    if day_type in runs:
        return day_type, runs[day_type]
    return None


def annual_totals(days: Iterable[dt.date] | Any,
                  runs: Mapping[str, Sequence[Mapping[str, float]]],
                  config: AnnualConfig | None = None) -> pd.DataFrame:
    """Annual totals with confidence intervals (see the module docstring).

    Args:
        days: operating dates, or an object with ``operating_days()`` (``CalendarConfig``).
        runs: class key (``"weekday"``, ``"winter.saturday"``, ...) or bare day type ->
            the per-replication KPI dicts of a run of that day class.
        config: classification, confidence and the KPI list.

    Raises:
        ValueError: a day class has no runs (lists the missing keys and the given ones).
    """
    cfg = config or AnnualConfig()
    cls = classify_days(days, cfg)
    groups: list[tuple[int, Sequence[Mapping[str, float]]]] = []
    missing = []
    used: dict[str, int] = {}
    for (key, day_type), sub in cls.groupby(["key", "day_type"], sort=True):
        found = _runs_for(str(key), str(day_type), runs)
        if found is None or not len(found[1]):
            missing.append(f"{key} ({len(sub)} days)")
            continue
        used[found[0]] = used.get(found[0], 0) + len(sub)
        groups.append((len(sub), found[1]))
    if missing:
        raise ValueError(f"no runs for day class(es) {', '.join(missing)}; runs were given for "
                         f"{', '.join(sorted(runs)) or 'nothing'} (keys are '<day_type>' or "
                         f"'<season>.<day_type>')")
    unused = sorted(set(runs) - set(used))
    if unused:
        log.info("runs for %s not used by this calendar", ", ".join(unused))
    present = {k for _, reps in groups for r in reps for k in r}
    names = list(cfg.kpis) if cfg.kpis is not None else [k for k in ANNUAL_KPIS if k in present]
    n_days = int(len(cls))
    rows = {}
    for name in names:
        total = 0.0
        var = 0.0
        terms = []
        ok = True
        for d, reps in groups:
            x = np.asarray([float(r.get(name, np.nan)) for r in reps], dtype=float)
            x = x[~np.isnan(x)]
            if x.size == 0:
                total = math.nan
                ok = False
                break
            const = values_constant(x)
            total += d * (float(x[0]) if const else float(x.mean()))
            if x.size < 2:
                ok = False
                continue
            v = 0.0 if const else d * d * float(x.var(ddof=1)) / x.size
            var += v
            terms.append((v, x.size - 1))
        se = math.sqrt(var) if ok else math.nan
        if ok and var > 0:
            dof = var * var / sum(v * v / k for v, k in terms if v > 0)
            h = float(stats.t.ppf(0.5 + cfg.confidence / 2, dof)) * se
        elif ok:
            dof, h = math.inf, 0.0
        else:
            dof, h = math.nan, math.nan
        lo_b, hi_b = kpi_bounds(name)
        lo, hi = total - h, total + h
        if math.isfinite(lo):
            lo, hi = max(lo, lo_b * n_days), min(hi, hi_b * n_days)
        rows[name] = (total, se, lo, hi, h, dof, n_days,
                      total / n_days if n_days else math.nan)
    out = pd.DataFrame.from_dict(rows, orient="index", columns=list(ANNUAL_COLUMNS))
    out.index.name = "kpi"

    def ratio(num: str, den: str, scale: float = 1.0) -> float:
        if num in out.index and den in out.index and out.at[den, "total"]:
            return float(out.at[num, "total"]) * scale / float(out.at[den, "total"])
        return math.nan

    nan = math.nan
    if "total_boardings" in out.index:
        out.loc["riders"] = out.loc["total_boardings"]
    elif "boardings" in out.index:
        out.loc["riders"] = out.loc["boardings"]
    extra = {
        "farebox_ratio": ratio("revenue_total_yen", "cost_total_yen"),
        "subsidy_per_passenger_yen": ratio("subsidy_required_yen", "passengers"),
        "co2_g_per_pax_km": ratio("co2_kg", "pax_km", 1000.0),
    }
    for name, val in extra.items():
        if not math.isnan(val):
            out.loc[name] = [val, nan, nan, nan, nan, nan, n_days, nan]
    return out
