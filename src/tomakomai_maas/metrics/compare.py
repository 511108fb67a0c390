"""Compare scenarios with common random numbers: KPI table, paired differences, what changed.

``compare([sc_a, sc_b, ...], replications=20, out_dir=...)`` runs every scenario with the SAME
replication seeds (replication *i* of every scenario uses seed ``base_seed + i``; the base is
``seed=`` or the first scenario's seed), so differences are paired and have small variance.
The first scenario is the **baseline**.

Tables (all long/tidy, one row per scenario × KPI):

``kpi_table``      scenario, kpi, mean, ci_low, ci_high, half_width, std, n (the interval
                   truncated to the KPI's parameter space, :func:`~tomakomai_maas.metrics.
                   stats.kpi_bounds`; ``half_width`` is the untruncated t half-width)
``differences``    scenario, baseline, kpi, baseline_mean, mean, diff, ci_low, ci_high,
                   half_width, n, rel_diff (diff / baseline_mean), significant (CI excludes 0);
                   a difference at floating-point round-off level is reported as exactly 0
``changes``        scenario, field, baseline, value — fields of the resolved scenarios that
                   differ from the baseline (names, titles, descriptions, assumptions, seeds,
                   replications and output settings are not listed)
``accessibility``  scenario, band, metric, value, baseline_value, delta — coverage and
                   travel-time KPIs by age band (:mod:`tomakomai_maas.metrics.access`;
                   deterministic, no CI); each result's zone table is
                   ``ScenarioResult.accessibility``

Derived KPI (per replication, added here because it only exists for comparisons):
``co2_g_per_boarding`` = ``total_co2_kg`` · 1000 / ``total_boardings`` (all modes: buses, AV
line and DRT; NaN without boardings): CO2 per passenger boarding.

Sweeps (:func:`sweep`) run one scenario over a grid of ``--set`` overrides with the same
seeds at every point; :func:`sweep_table` gives one row per point × KPI.

The plot-data helpers turn simulator tables into the plain frames the plots draw (plots
never compute): :func:`wait_cdf`, :func:`boardings_by_hour`, :func:`occupancy_by_hour`,
:func:`mode_shares`, :func:`stop_boardings`, :func:`drt_stop_boardings`,
:func:`line_patterns`.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tomakomai_maas.executors import Executor, LocalExecutor, SerialExecutor
from tomakomai_maas.metrics.kpi import KPI_NAMES
from tomakomai_maas.metrics.stats import kpi_bounds, mean_ci, paired_difference
from tomakomai_maas.rng import replication_seed
from tomakomai_maas.scenario.load import resolved_dict
from tomakomai_maas.scenario.schema import Scenario
from tomakomai_maas.world import World

__all__ = [
    "ScenarioResult",
    "Comparison",
    "compare",
    "add_derived_kpis",
    "kpi_order",
    "kpi_table",
    "differences_table",
    "scenario_changes",
    "accessibility_comparison",
    "ACCESS_COLUMNS",
    "demand_cautions",
    "diff_resolved",
    "cost_kpi",
    "wait_cdf",
    "boardings_by_hour",
    "occupancy_by_hour",
    "mode_shares",
    "stop_boardings",
    "drt_stop_boardings",
    "line_patterns",
    "SweepPoint",
    "SweepResult",
    "parse_grid",
    "grid_points",
    "sweep",
    "sweep_table",
    "KPI_COLUMNS",
    "DIFF_COLUMNS",
    "CHANGE_COLUMNS",
    "IGNORED_FIELDS",
]

log = logging.getLogger(__name__)

KPI_COLUMNS = ("scenario", "kpi", "mean", "ci_low", "ci_high", "half_width", "std", "n")
DIFF_COLUMNS = ("scenario", "baseline", "kpi", "baseline_mean", "mean", "diff", "ci_low",
                "ci_high", "half_width", "n", "rel_diff", "significant")
CHANGE_COLUMNS = ("scenario", "field", "baseline", "value")
#: Top-level scenario fields left out of the "what changed" table.
IGNORED_FIELDS = ("name", "title", "description", "assumptions", "seed", "replications",
                  "output", "source_file")
ABSENT = "(absent)"


@dataclass
class ScenarioResult:
    """One scenario's replications: per-replication KPIs (in seed order) and tables."""

    label: str
    scenario: Scenario
    seeds: list[int]
    kpis: list[dict[str, float]]
    tables: dict[str, pd.DataFrame]
    world: World | None = None
    path: Path | None = None
    accessibility: pd.DataFrame | None = None  # zone table (metrics.access), if computed


@dataclass
class Comparison:
    """Results of :func:`compare`; the first result is the baseline."""

    results: list[ScenarioResult]
    base_seed: int
    replications: int
    confidence: float = 0.95
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def labels(self) -> list[str]:
        return [r.label for r in self.results]

    @property
    def baseline(self) -> ScenarioResult:
        return self.results[0]

    @property
    def kpi_table(self) -> pd.DataFrame:
        if "kpis" not in self._cache:
            self._cache["kpis"] = kpi_table(self.results, self.confidence)
        return self._cache["kpis"]

    @property
    def differences(self) -> pd.DataFrame:
        if "diff" not in self._cache:
            self._cache["diff"] = differences_table(self.results, self.confidence)
        return self._cache["diff"]

    @property
    def changes(self) -> pd.DataFrame:
        if "changes" not in self._cache:
            self._cache["changes"] = scenario_changes(self.results)
        return self._cache["changes"]

    @property
    def cautions(self) -> list[dict[str, Any]]:
        """What makes differences mix more than the supply change: :func:`demand_cautions`
        (computed, and logged, once)."""
        if "cautions" not in self._cache:
            self._cache["cautions"] = demand_cautions(self.results)
        return self._cache["cautions"]

    @property
    def accessibility(self) -> pd.DataFrame:
        """:func:`accessibility_comparison` of the scenarios that have a zone table (empty
        frame with :data:`ACCESS_COLUMNS` when none has)."""
        if "access" not in self._cache:
            self._cache["access"] = accessibility_comparison(self.results)
        return self._cache["access"]


class _Capture(Executor):
    """Wraps an executor to keep the World and per-replication results runner.run produced."""

    name = "capture"

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.world: World | None = None
        self.results: list[Any] = []

    def map(self, fn: Callable[..., Any], jobs: Sequence[tuple[Any, ...]], *,
            progress: Callable[[int, int], None] | None = None) -> list[Any]:
        self.world = jobs[0][0] if jobs else None
        self.results = self.inner.map(fn, jobs, progress=progress)
        return self.results


def compare(scenarios: Sequence[Scenario], *, replications: int | None = None,
            seed: int | None = None, out_dir: Path | None = None,
            executor: Executor | None = None, workers: int | None = None,
            write_tables: bool = True, run_id: str = "run",
            progress: Callable[[str, int, int], None] | None = None) -> Comparison:
    """Run every scenario with the same replication seeds and collect the results.

    Args:
        scenarios: the scenarios; the first is the baseline. Duplicate names get ``-2``,
            ``-3``, ... appended so every run has its own folder.
        replications: replications per scenario (default: the baseline's ``replications``).
        seed: base seed (default: the baseline's ``seed``); replication *i* of every
            scenario uses ``base + i``.
        out_dir: if given, each scenario's run folder is written to
            ``out_dir/runs/<scenario>/<run_id>/`` by :func:`tomakomai_maas.runner.run`.
            Without it nothing is written.
        executor: where the replications run (default: a local process pool of
            ``workers``).
        progress: ``progress(label, done, total)`` after each replication.

    Returns:
        A :class:`Comparison`.
    """
    if not scenarios:
        raise ValueError("compare needs at least one scenario")
    base = scenarios[0]
    n = int(replications if replications is not None else base.replications)
    if n < 1:
        raise ValueError(f"replications must be >= 1, got {n}")
    base_seed = int(seed if seed is not None else base.seed)
    seeds = [replication_seed(base_seed, i) for i in range(n)]
    own = executor is None
    ex = executor if executor is not None else (
        SerialExecutor() if workers == 1 else LocalExecutor(workers))
    results: list[ScenarioResult] = []
    try:
        for sc in _unique_names(scenarios):
            prog = (None if progress is None
                    else (lambda d, t, _name=sc.name: progress(_name, d, t)))
            results.append(_run_one(sc, seeds, base_seed, out_dir, ex, write_tables, run_id,
                                    prog))
    finally:
        if own:
            ex.close()
    return Comparison(results, base_seed, n)


def _run_one(sc: Scenario, seeds: list[int], base_seed: int, out_dir: Path | None,
             ex: Executor, write_tables: bool, run_id: str,
             progress: Callable[[int, int], None] | None) -> ScenarioResult:
    from tomakomai_maas.metrics.access import scenario_accessibility
    from tomakomai_maas.runner import run, simulate_replications
    from tomakomai_maas.scenario.build import BuildContext, build

    cap = _Capture(ex)
    path = None
    if out_dir is not None:
        out = run(sc, replications=len(seeds), seed=base_seed, out_root=Path(out_dir) / "runs",
                  run_id=run_id, write_tables=write_tables, progress=progress, executor=cap,
                  force=True)  # the comparison folder was checked (report/outdir.py)
        path = out.path
        tables = out.tables
        access = out.accessibility
    else:
        ctx = BuildContext()
        world = build(sc, context=ctx)
        simulate_replications(world, seeds, progress=progress, executor=cap)
        tables = _concat([t for _, t in cap.results])
        access = scenario_accessibility(sc, world, ctx.walk_oracle)
    if len(cap.results) != len(seeds):
        raise RuntimeError(f"{sc.name}: expected {len(seeds)} replication results from the "
                           f"executor, got {len(cap.results)}")
    kpis = [add_derived_kpis(k) for k, _ in cap.results]
    return ScenarioResult(sc.name, sc, list(seeds), kpis, tables, cap.world, path, access)


#: Relative difference in generated travellers above which scenarios model different demand.
DEMAND_TOLERANCE = 0.01


def demand_cautions(results: Sequence[ScenarioResult]) -> list[dict[str, Any]]:
    """Scenarios whose generated demand differs from the baseline's, so their differences mix
    demand and supply: ``{"scenario", "baseline", "kpi", "value", "baseline_value",
    "study_area"}`` per scenario whose mean ``travellers`` (or ``requests`` without generated
    demand) differs by more than :data:`DEMAND_TOLERANCE`; ``study_area`` says whether the
    generated demand's ``keep_zones`` differ (the usual cause). Mode-choice levers change
    who rides, not who travels, so they raise no caution."""
    if len(results) < 2:
        return []
    base = results[0]

    def demand(r: ScenarioResult) -> tuple[str, float]:
        key = "travellers" if all("travellers" in k for k in r.kpis) else "requests"
        vals = [float(k.get(key, math.nan)) for k in r.kpis]
        return key, float(np.mean(vals)) if vals else math.nan

    def zones(r: ScenarioResult) -> tuple[str, ...] | None:
        gen = r.scenario.demand.generated
        return tuple(gen.keep_zones) if gen is not None and gen.keep_zones else None

    bkey, bval = demand(base)
    out = []
    for r in results[1:]:
        key, val = demand(r)
        if key != bkey:
            continue
        if math.isfinite(val) and math.isfinite(bval) and bval > 0 \
                and abs(val - bval) / bval > DEMAND_TOLERANCE:
            out.append({"scenario": r.label, "baseline": base.label, "kpi": key,
                        "value": val, "baseline_value": bval,
                        "study_area": zones(r) != zones(base)})
            log.warning("%s models other demand than %s (%s %.0f vs %.0f%s): its differences "
                        "mix demand and supply", r.label, base.label, key, val, bval,
                        "; other study area (keep_zones)" if out[-1]["study_area"] else "")
    return out


#: Columns of :func:`accessibility_comparison` (long: one row per scenario × band × metric).
ACCESS_COLUMNS = ("scenario", "band", "metric", "value", "baseline_value", "delta")


def accessibility_comparison(results: Sequence[ScenarioResult]) -> pd.DataFrame:
    """Accessibility by age band across scenarios (:func:`~tomakomai_maas.metrics.access.
    compare_accessibility`; the baseline is the first scenario with a zone table). The
    values are deterministic (timetables, walk network, zones), so they have no CI.

    Scenarios whose accessibility settings (thresholds, departure times, destinations, walk
    limits, zones) differ from the baseline's are compared anyway, with a warning."""
    from tomakomai_maas.metrics.access import compare_accessibility

    have = [r for r in results if r.accessibility is not None]
    if not have:
        return pd.DataFrame(columns=list(ACCESS_COLUMNS))
    base = have[0].scenario.accessibility.model_dump(exclude={"enabled"})
    for r in have[1:]:
        other = r.scenario.accessibility.model_dump(exclude={"enabled"})
        diff = sorted(k for k in base if base[k] != other[k])
        if diff:
            log.warning("accessibility of %s uses other settings than %s (%s): its "
                        "differences mix scenario and method", r.label, have[0].label,
                        ", ".join(diff))
    tables = {r.label: r.accessibility for r in have}
    out = compare_accessibility(tables, baseline=have[0].label)
    return out[list(ACCESS_COLUMNS)].reset_index(drop=True)


def _concat(per_rep: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Per-replication tables → one table per name with a leading ``replication`` column."""
    out: dict[str, pd.DataFrame] = {}
    for name in sorted({n for t in per_rep for n in t}):
        frames = [t[name].assign(replication=i) for i, t in enumerate(per_rep) if name in t]
        df = pd.concat(frames, ignore_index=True)
        out[name] = df[["replication", *[c for c in df.columns if c != "replication"]]]
    return out


def _unique_names(scenarios: Sequence[Scenario]) -> list[Scenario]:
    seen: Counter[str] = Counter()
    out = []
    for sc in scenarios:
        seen[sc.name] += 1
        if seen[sc.name] > 1:
            new = f"{sc.name}-{seen[sc.name]}"
            log.warning("two scenarios are named %r; the second is labelled %r", sc.name, new)
            sc = sc.model_copy(update={"name": new})
        out.append(sc)
    return out


# ----------------------------------------------------------------------------- KPIs

def add_derived_kpis(kpis: Mapping[str, float]) -> dict[str, float]:
    """Return a copy of one replication's KPIs with ``co2_g_per_boarding`` added.

    All modes: ``total_co2_kg`` / ``total_boardings`` (:func:`tomakomai_maas.metrics.kpi.
    total_kpis`, computed from the parts when a KPI dict predates them), so the CO2 of the
    DRT fleet is divided by the DRT passengers too.
    """
    from tomakomai_maas.metrics.kpi import total_kpis

    out = dict(kpis)
    tot = total_kpis(out) if "total_co2_kg" not in out else out
    b = float(tot.get("total_boardings", float("nan")))
    co2 = float(tot.get("total_co2_kg", float("nan")))
    out["co2_g_per_boarding"] = co2 * 1000.0 / b if b > 0 else float("nan")
    return out


def kpi_order(names: Sequence[str] | set[str]) -> list[str]:
    """KPIs in a stable reading order: the documented KPIs first, then the rest sorted."""
    names = set(names)
    first = [k for k in (*KPI_NAMES, "co2_g_per_boarding") if k in names]
    return first + sorted(names - set(first))


def kpi_table(results: Sequence[ScenarioResult], confidence: float = 0.95) -> pd.DataFrame:
    """Mean and CI of every KPI per scenario (columns :data:`KPI_COLUMNS`)."""
    names = kpi_order({k for r in results for d in r.kpis for k in d})
    rows = []
    for r in results:
        for k in names:
            e = mean_ci([float(d.get(k, float("nan"))) for d in r.kpis], confidence,
                        bounds=kpi_bounds(k), name=k)
            rows.append({"scenario": r.label, "kpi": k, "mean": e.mean, "ci_low": e.ci_low,
                         "ci_high": e.ci_high, "half_width": e.half_width, "std": e.std,
                         "n": e.n})
    return pd.DataFrame(rows, columns=list(KPI_COLUMNS))


def differences_table(results: Sequence[ScenarioResult], confidence: float = 0.95
                      ) -> pd.DataFrame:
    """Paired differences (scenario − baseline) per KPI (columns :data:`DIFF_COLUMNS`)."""
    if not results:
        return pd.DataFrame(columns=list(DIFF_COLUMNS))
    base = results[0]
    names = kpi_order({k for r in results for d in r.kpis for k in d})
    rows = []
    for r in results[1:]:
        if len(r.kpis) != len(base.kpis):
            raise ValueError(f"{r.label} has {len(r.kpis)} replications, the baseline "
                             f"{len(base.kpis)}: paired differences need the same seeds")
        for k in names:
            a = [float(d.get(k, float("nan"))) for d in base.kpis]
            b = [float(d.get(k, float("nan"))) for d in r.kpis]
            e = paired_difference(a, b, confidence)
            ma, mb = _nanmean(a), _nanmean(b)
            e = _round_off(e, ma)
            rel = e.mean / ma if ma and math.isfinite(ma) and math.isfinite(e.mean) else math.nan
            sig = bool(e.n >= 2 and math.isfinite(e.ci_low) and (e.ci_low > 0 or e.ci_high < 0))
            rows.append({"scenario": r.label, "baseline": base.label, "kpi": k,
                         "baseline_mean": ma, "mean": mb, "diff": e.mean, "ci_low": e.ci_low,
                         "ci_high": e.ci_high, "half_width": e.half_width, "n": e.n,
                         "rel_diff": rel, "significant": sig})
    return pd.DataFrame(rows, columns=list(DIFF_COLUMNS))


def _round_off(e: Any, scale: float) -> Any:
    """A difference that is floating-point round-off (same value summed in another order)
    is reported as exactly 0."""
    tol = 1e-9 * (1.0 + (abs(scale) if math.isfinite(scale) else 0.0))
    ends = [e.mean, e.ci_low, e.ci_high]
    if all(math.isfinite(v) and abs(v) <= tol for v in ends):
        from dataclasses import replace

        return replace(e, mean=0.0, ci_low=0.0, ci_high=0.0, half_width=0.0, std=0.0)
    return e


def _nanmean(x: Sequence[float]) -> float:
    a = np.asarray(x, dtype=float)
    a = a[~np.isnan(a)]
    return float(a.mean()) if a.size else math.nan


def cost_kpi(names: Sequence[str] | set[str]) -> str | None:
    """The per-passenger cost KPI to plot, if any: the first ``cost_*`` KPI with ``per_`` in
    its name (e.g. ``cost_yen_per_pax``), else ``None`` (then only CO2 is plotted)."""
    cands = sorted(k for k in names if k.startswith("cost_") and "per_" in k)
    return cands[0] if cands else None


# ----------------------------------------------------------------------------- what changed

def diff_resolved(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Differences between two resolved scenario values as ``(path, a, b)``.

    Mappings are compared key by key, lists of mappings item by item (an item present on one
    side only is one row holding the whole item), other lists and scalars as values. A missing
    side is :data:`ABSENT`.
    """
    out: list[tuple[str, Any, Any]] = []
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        keys = list(a) + [k for k in b if k not in a]
        for k in keys:
            p = f"{path}.{k}" if path else str(k)
            if k not in a:
                out.append((p, ABSENT, b[k]))
            elif k not in b:
                out.append((p, a[k], ABSENT))
            else:
                out.extend(diff_resolved(a[k], b[k], p))
        return out
    if (isinstance(a, list) and isinstance(b, list)
            and any(isinstance(x, Mapping | list) for x in (*a, *b))):
        for i in range(max(len(a), len(b))):
            p = f"{path}[{i}]"
            if i >= len(a):
                out.append((p, ABSENT, b[i]))
            elif i >= len(b):
                out.append((p, a[i], ABSENT))
            else:
                out.extend(diff_resolved(a[i], b[i], p))
        return out
    if a != b:
        out.append((path, a, b))
    return out


def _show(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))


def scenario_changes(results: Sequence[ScenarioResult]) -> pd.DataFrame:
    """Fields of each scenario's resolved form that differ from the baseline's."""
    if not results:
        return pd.DataFrame(columns=list(CHANGE_COLUMNS))

    def resolved(r: ScenarioResult) -> dict[str, Any]:
        d = resolved_dict(r.scenario)
        return {k: v for k, v in d.items() if k not in IGNORED_FIELDS}

    base = resolved(results[0])
    rows = []
    for r in results[1:]:
        for p, va, vb in diff_resolved(base, resolved(r)):
            rows.append({"scenario": r.label, "field": p, "baseline": _show(va),
                         "value": _show(vb)})
    return pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))


# ----------------------------------------------------------------------------- plot data

def _n_reps(tables: Mapping[str, pd.DataFrame]) -> int:
    for df in tables.values():
        if "replication" in df.columns and len(df):
            return int(df["replication"].max()) + 1
    return 1


def wait_cdf(trips: pd.DataFrame) -> pd.DataFrame:
    """Empirical CDF of the wait of served riders (not walk-only), pooled over replications.

    Columns ``wait_min`` (sorted) and ``cum_share`` (= rank / count, in (0, 1]).
    """
    riders = trips[(trips["status"] == "served") & (trips["mode"] != "walk")]
    w = np.sort(riders["wait_min"].to_numpy(dtype=float))
    w = w[~np.isnan(w)]
    share = np.arange(1, w.size + 1, dtype=float) / w.size if w.size else np.array([])
    return pd.DataFrame({"wait_min": w, "cum_share": share})


def boardings_by_hour(vehicle_stops: pd.DataFrame, *, replications: int | None = None,
                      confidence: float = 0.95) -> pd.DataFrame:
    """Boardings per hour of day (by vehicle arrival time at the stop), mean per replication.

    Columns ``hour``, ``boardings`` (mean over replications), ``ci_low``, ``ci_high``. Hours
    without boardings in a replication count as 0.
    """
    vs = vehicle_stops
    if not len(vs):
        return pd.DataFrame(columns=["hour", "boardings", "ci_low", "ci_high"])
    n = replications if replications is not None else _n_reps({"vs": vs})
    rep = vs["replication"] if "replication" in vs.columns else pd.Series(0, index=vs.index)
    hour = (vs["arr_s"].to_numpy(dtype=float) // 3600).astype(int)
    df = pd.DataFrame({"rep": rep.to_numpy(), "hour": hour, "b": vs["boardings"].to_numpy()})
    per = df.groupby(["hour", "rep"])["b"].sum().unstack("rep").reindex(columns=range(n))
    per = per.fillna(0.0)
    rows = []
    for h, vals in per.iterrows():
        e = mean_ci(vals.to_numpy(dtype=float), confidence, bounds=(0.0, math.inf))
        rows.append({"hour": int(h), "boardings": e.mean, "ci_low": e.ci_low,
                     "ci_high": e.ci_high})
    return pd.DataFrame(rows, columns=["hour", "boardings", "ci_low", "ci_high"])


def occupancy_by_hour(vehicle_stops: pd.DataFrame) -> pd.DataFrame:
    """Mean load of vehicles leaving a stop, by hour of departure (pooled over replications).

    Columns ``hour``, ``mean_load`` (passengers on board), ``departures`` (stop departures
    averaged over).
    """
    vs = vehicle_stops[vehicle_stops["dep_s"].notna()] if len(vehicle_stops) else vehicle_stops
    if not len(vs):
        return pd.DataFrame(columns=["hour", "mean_load", "departures"])
    hour = (vs["dep_s"].to_numpy(dtype=float) // 3600).astype(int)
    g = pd.DataFrame({"hour": hour, "load": vs["load_dep"].to_numpy(dtype=float)}).groupby("hour")
    out = g["load"].agg(["mean", "size"]).reset_index()
    out.columns = ["hour", "mean_load", "departures"]
    return out


def mode_shares(trips: pd.DataFrame) -> pd.DataFrame:
    """Share of requests by ``trips.mode`` (pooled over replications).

    Columns ``mode``, ``count``, ``share``; sorted by descending share, then mode.
    """
    if not len(trips):
        return pd.DataFrame(columns=["mode", "count", "share"])
    c = trips["mode"].astype(str).value_counts()
    out = pd.DataFrame({"mode": c.index.astype(str), "count": c.to_numpy(dtype=int)})
    out["share"] = out["count"] / out["count"].sum()
    return out.sort_values(["share", "mode"], ascending=[False, True],
                           kind="mergesort").reset_index(drop=True)


def stop_boardings(stops_table: pd.DataFrame, world: World,
                   *, replications: int | None = None) -> pd.DataFrame:
    """Mean boardings per day at every stop of the World, with its position.

    Columns ``stop_id``, ``name``, ``lat``, ``lon``, ``boardings`` (mean per replication).
    """
    n = replications if replications is not None else _n_reps({"s": stops_table})
    tot = (stops_table.groupby("stop_id")["boardings"].sum() / max(n, 1)
           if len(stops_table) else pd.Series(dtype=float))
    rows = [{"stop_id": s.stop_id, "name": s.name, "lat": s.lat, "lon": s.lon,
             "boardings": float(tot.get(s.stop_id, 0.0))} for s in world.stops.values()]
    return pd.DataFrame(rows, columns=["stop_id", "name", "lat", "lon", "boardings"])


def drt_stop_boardings(drt_requests: pd.DataFrame | None, world: World,
                       *, replications: int | None = None) -> pd.DataFrame:
    """Mean DRT boardings and alightings per day at every virtual stop of the World.

    Columns ``stop_id``, ``name``, ``lat``, ``lon``, ``boardings`` (passengers ``n_pax`` of
    served bookings picked up there, ``o_stop``), ``alightings`` (dropped off there,
    ``d_stop``), both summed over replications / ``replications`` (default: from the
    table's ``replication`` column). Empty without virtual stops (door-to-door service:
    its pick-up points are road nodes, not named places).
    """
    cols = ["stop_id", "name", "lat", "lon", "boardings", "alightings"]
    svc = getattr(world, "drt", None)
    vstops = list(svc.virtual_stops) if svc is not None else []
    if not vstops:
        return pd.DataFrame(columns=cols)
    up = down = pd.Series(dtype=float)
    if drt_requests is not None and len(drt_requests):
        n = replications if replications is not None else _n_reps({"r": drt_requests})
        served = drt_requests[drt_requests["status"] == "served"]
        pax = served["n_pax"].astype(float)
        up = pax.groupby(served["o_stop"].astype(str)).sum() / max(n, 1)
        down = pax.groupby(served["d_stop"].astype(str)).sum() / max(n, 1)
    rows = [{"stop_id": v.stop_id, "name": v.name, "lat": float(v.lat), "lon": float(v.lon),
             "boardings": float(up.get(v.stop_id, 0.0)),
             "alightings": float(down.get(v.stop_id, 0.0))} for v in vstops]
    return pd.DataFrame(rows, columns=cols)


def line_patterns(world: World) -> pd.DataFrame:
    """The most frequent stop sequence of each route and direction, with stop positions.

    Columns ``route_id``, ``route_name``, ``direction_id``, ``seq``, ``stop_id``, ``lat``,
    ``lon``; sorted by route, direction, seq.
    """
    pats: dict[tuple[str, int], Counter[tuple[str, ...]]] = {}
    names: dict[str, str] = {}
    for t in world.trips:
        pats.setdefault((t.route_id, t.direction_id), Counter())[t.stop_ids] += 1
        names[t.route_id] = t.route_name
    rows = []
    for (rid, d) in sorted(pats):
        seq = max(pats[(rid, d)].items(), key=lambda kv: (kv[1], kv[0]))[0]
        for i, sid in enumerate(seq):
            s = world.stops[sid]
            rows.append({"route_id": rid, "route_name": names[rid], "direction_id": d,
                         "seq": i, "stop_id": sid, "lat": s.lat, "lon": s.lon})
    return pd.DataFrame(rows, columns=["route_id", "route_name", "direction_id", "seq",
                                       "stop_id", "lat", "lon"])


# ----------------------------------------------------------------------------- sweeps

@dataclass(frozen=True)
class SweepPoint:
    """One grid point: parameter values (parsed) and the ``--set`` overrides that make it."""

    index: int
    params: dict[str, Any]
    overrides: tuple[str, ...]


@dataclass
class SweepResult:
    """Per-point replication KPIs (same seeds at every point) and the sweep table."""

    points: list[SweepPoint]
    seeds: list[int]
    kpis: list[list[dict[str, float]]]
    confidence: float = 0.95

    @property
    def table(self) -> pd.DataFrame:
        return sweep_table(self)


def parse_grid(specs: Sequence[str]) -> list[tuple[str, list[str]]]:
    """``["operations.dwell_per_boarding_s=2,3,4", "demand.scale=1,1.5"]`` →
    ``[("operations.dwell_per_boarding_s", ["2", "3", "4"]), ("demand.scale", ["1", "1.5"])]``.
    """
    from tomakomai_maas.errors import ScenarioError

    out: list[tuple[str, list[str]]] = []
    problems = []
    for spec in specs:
        key, sep, vals = spec.partition("=")
        values = [v.strip() for v in vals.split(",")] if sep else []
        if not sep or not key.strip() or not values or any(v == "" for v in values):
            problems.append(f"--grid {spec!r}: expected KEY=V1,V2,... e.g. "
                            "--grid demand.scale=1,1.5")
            continue
        if key.strip() in [k for k, _ in out]:
            problems.append(f"--grid {key.strip()} given twice")
            continue
        out.append((key.strip(), values))
    if problems:
        raise ScenarioError("invalid sweep grid", problems)
    return out


def grid_points(grid: Sequence[tuple[str, Sequence[str]]]) -> list[SweepPoint]:
    """Cartesian product of the grid (first key varies slowest)."""
    import itertools

    import yaml

    keys = [k for k, _ in grid]
    points = []
    for i, combo in enumerate(itertools.product(*[v for _, v in grid])):
        params = {}
        for k, raw in zip(keys, combo, strict=True):
            try:
                params[k] = yaml.safe_load(raw)
            except yaml.YAMLError:
                params[k] = raw
        points.append(SweepPoint(i, params, tuple(f"{k}={v}" for k, v in
                                                  zip(keys, combo, strict=True))))
    return points


def sweep(path: str | Path, grid: Sequence[tuple[str, Sequence[str]]], *,
          overrides: Sequence[str] = (), replications: int | None = None,
          seed: int | None = None, executor: Executor | None = None,
          workers: int | None = None, progress: Callable[[int, int], None] | None = None,
          confidence: float = 0.95) -> SweepResult:
    """Run a scenario at every grid point with the same replication seeds.

    Every point is built first (so a bad value fails before anything runs), then all
    ``(world, seed)`` jobs go to the executor at once. Point *p* gets
    ``overrides + point.overrides``; replication *i* uses seed ``base + i`` everywhere.
    """
    from tomakomai_maas.runner import _one_replication
    from tomakomai_maas.scenario.build import build
    from tomakomai_maas.scenario.load import load_scenario

    points = grid_points(grid)
    scenarios = [load_scenario(path, [*overrides, *p.overrides]) for p in points]
    n = int(replications if replications is not None else scenarios[0].replications)
    base = int(seed if seed is not None else scenarios[0].seed)
    seeds = [replication_seed(base, i) for i in range(n)]
    worlds = [build(sc) for sc in scenarios]
    jobs = [(w, s) for w in worlds for s in seeds]
    own = executor is None
    ex = executor if executor is not None else (
        SerialExecutor() if workers == 1 else LocalExecutor(workers))
    try:
        res = ex.map(_one_replication, jobs, progress=progress)
    finally:
        if own:
            ex.close()
    kpis = [[add_derived_kpis(k) for k, _ in res[i * n:(i + 1) * n]] for i in range(len(points))]
    return SweepResult(points, seeds, kpis, confidence)


def sweep_table(result: SweepResult) -> pd.DataFrame:
    """One row per point × KPI: parameters, mean and CI, and the paired difference from the
    first point (``diff``, ``diff_ci_low``, ``diff_ci_high``)."""
    keys = list(result.points[0].params) if result.points else []
    names = kpi_order({k for per in result.kpis for d in per for k in d})
    rows = []
    first = result.kpis[0] if result.kpis else []
    for p, per in zip(result.points, result.kpis, strict=True):
        for k in names:
            vals = [float(d.get(k, float("nan"))) for d in per]
            e = mean_ci(vals, result.confidence, bounds=kpi_bounds(k), name=k)
            dd = _round_off(paired_difference([float(d.get(k, float("nan"))) for d in first],
                                              vals, result.confidence), e.mean)
            rows.append({"point": p.index, **p.params, "kpi": k, "mean": e.mean,
                         "ci_low": e.ci_low, "ci_high": e.ci_high, "half_width": e.half_width,
                         "std": e.std, "n": e.n, "diff": dd.mean, "diff_ci_low": dd.ci_low,
                         "diff_ci_high": dd.ci_high})
    cols = ["point", *keys, "kpi", "mean", "ci_low", "ci_high", "half_width", "std", "n",
            "diff", "diff_ci_low", "diff_ci_high"]
    return pd.DataFrame(rows, columns=cols)
