"""Simulated against observed: every figure the facts file publishes that a run can reproduce.

``observed_vs_simulated(results)`` returns one row per (scenario, observation) whose route the
scenario runs, with the simulated mean and 95% CI over replications, the observed value or
range, a verdict, the source (``docs/tomakomai_facts.md`` section) and the role of the
observation (``calibrated``: the model was fitted to it; ``check``: an independent
comparison). The comparison report shows it as its first table.

Verdict (column ``verdict``; ``agrees`` is True/False only for a conclusive comparison, else
None), in this order:

``n/a (days not simulated)``
    a whole-period figure (riders over a trial) needs every operating day of the period, but
    the run stands only for the days of its day type (weekday = Mon–Fri, weekend = Sat/Sun;
    the rule of ``docs/calibration.md``, :func:`tomakomai_maas.metrics.annual.
    calendar_coverage`). The period total is then **not** extrapolated from one kind of day
    (a weekday run × 26 days mixes weekend days in at weekday rates); the simulated columns
    are empty and ``note`` says which days are missing. When the run covers every day,
    total = operating days × mean per day, as in the calibration.
``n/a (calibrated)``
    the model was fitted to this figure: agreement is by construction, not evidence, so it is
    never marked as agreeing (the simulated value is still shown).
``inconclusive``
    fewer than 2 replications (no interval), or the CI half-width exceeds
    :data:`MAX_REL_HALF_WIDTH` (25 %) of the observed value (midpoint of its range): the
    interval is too wide for an overlap to mean anything. More replications help.
``agrees`` / ``disagrees``
    the observed range overlaps / does not overlap the 95 % CI (the mean when the CI is
    degenerate, e.g. a deterministic timetable count).

Columns (:data:`OBSERVED_COLUMNS`): scenario, quantity, route_id, observed_low,
observed_high, simulated_mean, ci_low, ci_high, agrees, verdict, role, source, note.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from tomakomai_maas.metrics.annual import calendar_coverage
from tomakomai_maas.metrics.stats import mean_ci

__all__ = ["Observation", "OBSERVATIONS", "OBSERVED_COLUMNS", "observed_vs_simulated",
           "MAX_REL_HALF_WIDTH", "VERDICTS", "verdict"]

#: A comparison whose CI half-width exceeds this share of the observed value is inconclusive.
MAX_REL_HALF_WIDTH = 0.25
#: Every verdict, in the order of precedence of the module docstring.
VERDICTS = ("n/a (days not simulated)", "n/a (calibrated)", "inconclusive", "agrees",
            "disagrees")

Kind = Literal["round_trips", "one_way_min", "period_riders"]


@dataclass(frozen=True)
class Observation:
    """A published figure about one route (see ``docs/tomakomai_facts.md``)."""

    quantity: str
    route_id: str
    kind: Kind
    low: float
    high: float
    source: str
    role: Literal["check", "calibrated"] = "check"
    #: period_riders only: the observation's period; applies to scenarios whose
    #: service.calendar spans exactly this period
    period: tuple[dt.date, dt.date] | None = None


OBSERVATIONS: tuple[Observation, ...] = (
    Observation("round trips per day, 15 有珠の沢線 (weekday)", "donan_15", "round_trips", 12, 12,
                "facts §2.1 (naoro.org, 2024-25)"),
    Observation("round trips per day, 25 勇払線 (weekday)", "donan_25", "round_trips", 11, 11,
                "facts §2.1 (naoro.org, 2024-25)"),
    Observation("round trips per day, AV trial 2023", "av2023", "round_trips", 5, 5,
                "facts §1.2 (NHK / HTB / 苫小牧民報)"),
    Observation("round trips per day, AV winter trial 2024-25", "av2024w", "round_trips", 3, 3,
                "facts §1.4 (苫小牧民報: 10:00, 11:30, 14:00)"),
    Observation("AV one-way time, station → market (min)", "av2023", "one_way_min", 25, 30,
                "facts §1.2 (~30 min, 苫小牧民報); §1.4 (~25 min, blog)"),
    Observation("AV one-way time, station → market (min)", "av2024w", "one_way_min", 25, 30,
                "facts §1.2 (~30 min, 苫小牧民報); §1.4 (~25 min, blog)"),
    Observation("riders over the 2023 trial (延べ)", "av2023", "period_riders", 1359, 1359,
                "facts §1.2 (1,359 riders, 2023-09-20 – 10-15)", role="calibrated",
                period=(dt.date(2023, 9, 20), dt.date(2023, 10, 15))),
)

OBSERVED_COLUMNS = ("scenario", "quantity", "route_id", "observed_low", "observed_high",
                    "simulated_mean", "ci_low", "ci_high", "agrees", "verdict", "role",
                    "source", "note")


def verdict(ob: Observation, est: Any) -> str:
    """Verdict of a simulated estimate (``mean``, ``ci_low``, ``ci_high``, ``half_width``,
    ``n``) against an observation (the rules of the module docstring, except days)."""
    if ob.role == "calibrated":
        return "n/a (calibrated)"
    observed = (ob.low + ob.high) / 2.0
    h = est.half_width
    if est.n < 2 or not np.isfinite(h) or h > MAX_REL_HALF_WIDTH * abs(observed):
        return "inconclusive"
    lo = est.ci_low if np.isfinite(est.ci_low) else est.mean
    hi = est.ci_high if np.isfinite(est.ci_high) else est.mean
    return "agrees" if lo <= ob.high and hi >= ob.low else "disagrees"


def _per_replication(vt: pd.DataFrame, route: str, kind: Kind, n_rep: int) -> np.ndarray:
    """One value per replication (replications with no trip of the route give 0 / NaN)."""
    ran = vt[(vt["route_id"] == route) & ~vt["cancelled"].astype(bool)]
    reps = ran["replication"] if "replication" in ran.columns else pd.Series(0, index=ran.index)
    out = np.full(n_rep, 0.0 if kind == "round_trips" else np.nan)
    if kind == "round_trips":
        counts = ran.groupby(reps).size()
        for r, c in counts.items():
            out[int(r)] = c / 2.0
    else:  # one_way_min: scheduled-direction trips from first departure to last arrival
        mins = ((ran["actual_arr_s"] - ran["actual_dep_s"]) / 60.0).groupby(reps).mean()
        for r, m in mins.items():
            out[int(r)] = float(m)
    return out


def observed_vs_simulated(results: Sequence[Any],
                          observations: Sequence[Observation] = OBSERVATIONS) -> pd.DataFrame:
    """The table described in the module docstring.

    ``results`` are objects with ``label``, ``scenario`` (a Scenario), ``kpis`` (one dict per
    replication) and ``tables`` (with ``vehicle_trips`` holding a ``replication`` column), e.g.
    :class:`tomakomai_maas.metrics.compare.ScenarioResult`.
    """
    rows = []
    for res in results:
        vt = res.tables.get("vehicle_trips")
        if vt is None or not len(vt):
            continue
        n_rep = max(1, len(res.kpis))
        routes = set(vt["route_id"].astype(str))
        cal = res.scenario.service.calendar
        for ob in observations:
            if ob.route_id not in routes:
                continue
            note = ""
            if ob.kind == "period_riders":
                if cal is None or (ob.period is not None
                                   and (cal.start_date, cal.end_date) != ob.period):
                    continue
                cov = calendar_coverage(cal.operating_days(), res.scenario.service.day_type)
                if not cov.complete:
                    missing = ", ".join(f"{n} {s} days" for s, n in cov.not_simulated.items())
                    nan = float("nan")
                    rows.append({
                        "scenario": res.label, "quantity": ob.quantity,
                        "route_id": ob.route_id, "observed_low": ob.low,
                        "observed_high": ob.high, "simulated_mean": nan, "ci_low": nan,
                        "ci_high": nan, "agrees": None, "verdict": "n/a (days not simulated)",
                        "role": ob.role, "source": ob.source,
                        "note": (f"the run ({res.scenario.service.day_type}) stands for "
                                 f"{len(cov.covered)} of {len(cov.days)} operating days; "
                                 f"{missing} not simulated (docs/calibration.md combines "
                                 "weekday and weekend runs)"),
                    })
                    continue
                vals = np.array([k.get(f"boardings.{ob.route_id}", np.nan) for k in res.kpis])
                vals = vals * len(cov.days)
                note = f"{len(cov.days)} operating days × riders per day"
            else:
                vals = _per_replication(vt, ob.route_id, ob.kind, n_rep)
            est = mean_ci(vals, bounds=(0.0, np.inf))
            v = verdict(ob, est)
            rows.append({
                "scenario": res.label, "quantity": ob.quantity, "route_id": ob.route_id,
                "observed_low": ob.low, "observed_high": ob.high,
                "simulated_mean": est.mean, "ci_low": est.ci_low, "ci_high": est.ci_high,
                "agrees": {"agrees": True, "disagrees": False}.get(v), "verdict": v,
                "role": ob.role, "source": ob.source, "note": note,
            })
    out = pd.DataFrame(rows, columns=list(OBSERVED_COLUMNS))
    out["agrees"] = pd.Series([r["agrees"] for r in rows], index=out.index, dtype=object)
    return out
