"""Run a scenario: build the World, simulate replications, write results atomically.

Results go to ``<output.dir>/<scenario>/<run-id>/``::

    summary.json    KPIs: mean, 95% CI and per-replication values (byte-identical for the
                    same scenario and seed: no timestamps, sorted keys, sorted rows)
    manifest.json   resolved scenario, seeds, versions, git commit, wall time, status/error
    scenario.resolved.yaml   the scenario with every default applied
    trips.csv, legs.csv, vehicle_trips.csv, vehicle_stops.csv, stops.csv (or .parquet),
                    with a ``replication`` column (schemas: ``tomakomai_maas.sim.tables``)
    accessibility.csv, accessibility_summary.csv
                    coverage and travel times per zone / by age band (the same for every
                    replication; ``tomakomai_maas.metrics.access``), also in summary.json
                    under ``accessibility``; absent without zones or when disabled

Everything is written into a temporary sibling folder and renamed at the end, so a failed run
never leaves half a result and never overwrites a good one (a failed run leaves
``<run-id>.failed/manifest.json`` with the error).

Run ids: the default is the start time (``20250131-143000``); when that folder exists (or a
run started in the same second is still writing it) ``-2``, ``-3``, ... is appended, so
every run gets its own folder. An explicit ``run_id`` that exists already is an error unless
``force=True`` (then the new result replaces it, still atomically, at the end).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import math
import os
import platform
import shutil
import subprocess
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from tomakomai_maas.errors import OutputError
from tomakomai_maas.metrics.access import (
    accessibility_json,
    accessibility_summary,
    scenario_accessibility,
)
from tomakomai_maas.metrics.kpi import summarise
from tomakomai_maas.metrics.stats import aggregate_replications
from tomakomai_maas.rng import replication_seed
from tomakomai_maas.scenario.build import BuildContext, build
from tomakomai_maas.scenario.load import resolved_dict
from tomakomai_maas.scenario.schema import Scenario
from tomakomai_maas.world import World

__all__ = ["RunOutput", "run", "simulate_replications", "write_json", "TABLE_NAMES"]

log = logging.getLogger(__name__)

TABLE_NAMES = ("trips", "legs", "vehicle_trips", "vehicle_stops", "stops")
_DEPENDENCIES = ("numpy", "scipy", "pandas", "pyarrow", "networkx", "osmnx", "simpy",
                 "matplotlib", "pydantic", "gtfs-kit")


@dataclass(frozen=True)
class RunOutput:
    """Where a run was written and what it found."""

    path: Path
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    accessibility: pd.DataFrame | None = None


def _one_replication(world: World, seed: int) -> tuple[dict[str, float], dict[str, pd.DataFrame]]:
    from tomakomai_maas.demand.feedback import simulate_with_choice
    from tomakomai_maas.sim import simulate

    choice = simulate_with_choice(world, seed)  # None unless demand.generated (mode choice)
    if choice is not None:
        return {**summarise(choice.tables, world), **choice.kpis}, choice.tables
    result = simulate(world, seed)
    tables = dict(result.tables)
    return summarise(tables, world), tables


def simulate_replications(world: World, seeds: Sequence[int], *, workers: int | None = None,
                          progress: Callable[[int, int], None] | None = None,
                          executor: Any = None,
                          ) -> list[tuple[dict[str, float], dict[str, pd.DataFrame]]]:
    """Run ``simulate(world, seed)`` for every seed (process pool when ``workers > 1``).

    ``executor``: a :class:`tomakomai_maas.executors.Executor` (e.g. Dask) to run the
    ``(world, seed)`` jobs on instead; ``workers`` is then ignored.
    Results are returned in seed order and do not depend on the number of workers.
    """
    if executor is not None:
        return executor.map(_one_replication, [(world, s) for s in seeds], progress=progress)
    n = len(seeds)
    workers = min(n, workers if workers is not None else (os.cpu_count() or 1))
    out: list[Any] = []
    if workers <= 1 or n <= 1:
        for k, s in enumerate(seeds):
            out.append(_one_replication(world, s))
            if progress:
                progress(k + 1, n)
        return out
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_one_replication, world, s) for s in seeds]
        for k, f in enumerate(futures):
            out.append(f.result())
            if progress:
                progress(k + 1, n)
    return out


def run(sc: Scenario, *, replications: int | None = None, seed: int | None = None,
        out_root: Path | None = None, run_id: str | None = None, workers: int | None = None,
        cache_dir: Path | None = None, write_tables: bool = True,
        progress: Callable[[int, int], None] | None = None, executor: Any = None,
        force: bool = False) -> RunOutput:
    """Build, simulate and write one scenario run; returns the run folder and summary.

    ``executor``: see :func:`simulate_replications`. ``run_id``: the run folder's name
    (default: the start time, made unique); ``force``: replace an existing run of that id
    (otherwise an :class:`~tomakomai_maas.errors.OutputError`, before anything runs).
    """
    t0 = time.perf_counter()
    n = int(replications if replications is not None else sc.replications)
    base_seed = int(seed if seed is not None else sc.seed)
    seeds = [replication_seed(base_seed, i) for i in range(n)]
    root = Path(out_root if out_root is not None else sc.output.dir) / sc.name
    rid, tmp = _reserve_run_dir(root, run_id, force=force)
    final = root / rid
    manifest: dict[str, Any] = {
        "scenario": sc.name, "run_id": rid, "seed": base_seed, "replication_seeds": seeds,
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "versions": _versions(), "git_commit": _git_commit(), "platform": platform.platform(),
        "python": platform.python_version(), "resolved_scenario": resolved_dict(sc),
    }
    try:
        ctx = BuildContext()
        world = build(sc, cache_dir=cache_dir, context=ctx)
        reps = simulate_replications(world, seeds, workers=workers, progress=progress,
                                     executor=executor)
        access = scenario_accessibility(sc, world, ctx.walk_oracle)
        kpis = [k for k, _ in reps]
        summary = {
            "scenario": sc.name,
            "title": sc.title,
            "seed": base_seed,
            "replications": n,
            "replication_seeds": seeds,
            "kpis": aggregate_replications(kpis),
        }
        if sc.service.calendar is not None:
            summary["calendar_totals"] = calendar_totals(sc, kpis)
        if access is not None:
            summary["accessibility"] = accessibility_json(access)
        tables = _concat_tables([t for _, t in reps])
        write_json(tmp / "summary.json", summary)
        if access is not None:
            access.to_csv(tmp / "accessibility.csv", index=False, float_format="%.10g")
            accessibility_summary(access).to_csv(tmp / "accessibility_summary.csv",
                                                 float_format="%.10g")
        (tmp / "scenario.resolved.yaml").write_text(
            yaml.safe_dump(resolved_dict(sc), allow_unicode=True, sort_keys=False),
            encoding="utf-8")
        if write_tables:
            for name, df in tables.items():
                _write_table(df, tmp / name, sc.output.table_format)
        manifest.update(status="ok", wall_time_s=round(time.perf_counter() - t0, 3))
        write_json(tmp / "manifest.json", manifest)
    except BaseException as exc:
        manifest.update(status="failed", error=f"{type(exc).__name__}: {exc}",
                        traceback=traceback.format_exc(),
                        wall_time_s=round(time.perf_counter() - t0, 3))
        failed = root / f"{rid}.failed"
        shutil.rmtree(failed, ignore_errors=True)
        failed.mkdir(parents=True, exist_ok=True)
        write_json(failed / "manifest.json", manifest)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists() and force:
        old = root / f".{rid}.old-{os.getpid()}"
        final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        try:
            tmp.rename(final)
        except OSError as exc:  # another run of the same id finished first
            raise OutputError(f"{final} was written by another run while this one ran; this "
                              f"run's results are kept in {tmp}") from exc
    log.info("wrote %s", final)
    return RunOutput(final, summary, tables, access)


def calendar_totals(sc: Scenario, kpis: Sequence[dict[str, float]]) -> dict[str, Any]:
    """Totals over the operating days of ``service.calendar`` that the simulated day stands
    for, with CIs from the replications (``summary.json`` ``calendar_totals``).

    One run simulates one kind of day: a ``weekday`` run stands for the calendar's Mon–Fri
    days, a ``saturday``/``holiday`` run for its Sat/Sun days (the strata of
    ``docs/calibration.md``; :func:`tomakomai_maas.metrics.annual.calendar_coverage`).
    Totals count only those days (``days_covered``); the others are listed by stratum in
    ``days_not_simulated`` and are NOT extrapolated from the wrong kind of day: run the
    scenario again with ``--set service.day_type=saturday`` (or ``weekday``) for them.
    ``complete`` says whether the totals cover the whole calendar.
    """
    from tomakomai_maas.metrics.annual import AnnualConfig, annual_totals, calendar_coverage
    from tomakomai_maas.scenario.schema import WEEKDAYS

    assert sc.service.calendar is not None
    day_type = sc.service.day_type
    cov = calendar_coverage(sc.service.calendar.operating_days(), day_type)
    days = cov.days
    out: dict[str, Any] = {
        "operating_days": len(days),
        "first_day": days[0].isoformat() if days else None,
        "last_day": days[-1].isoformat() if days else None,
        "day_type": day_type,
        "stratum": cov.stratum,
        "days_covered": len(cov.covered),
        "days_not_simulated": cov.not_simulated,
        "complete": cov.complete,
        "rule": ("totals over the operating days of the simulated stratum only (weekday = "
                 "Mon-Fri incl. national holidays, weekend = Sat/Sun; docs/calibration.md); "
                 "days of the other stratum are not simulated and not included"),
        "kpis": {},
    }
    if cov.covered:
        cfg = AnnualConfig(weekday_day_types={d: day_type for d in WEEKDAYS})
        table = annual_totals(cov.covered, {day_type: list(kpis)}, cfg)
        out["kpis"] = {str(k): {c: row[c] for c in ("total", "ci_low", "ci_high", "half_width",
                                                    "per_day_mean")}
                       for k, row in table.iterrows()}
    return out


def write_json(path: Path, data: Any) -> None:
    """Deterministic JSON: sorted keys, NaN/inf as null, UTF-8, trailing newline."""
    text = json.dumps(_clean(data), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str | bytes):  # numpy scalars
        x = x.item()
    if isinstance(x, float):
        if not math.isfinite(x):
            return None
        return float(f"{x:.12g}")
    return x


def _concat_tables(per_rep: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    names = [n for n in TABLE_NAMES if any(n in t for t in per_rep)]
    names += sorted({n for t in per_rep for n in t} - set(names))
    for name in names:
        frames = []
        for i, t in enumerate(per_rep):
            if name in t:
                df = t[name].copy()
                df.insert(0, "replication", i)
                frames.append(df)
        out[name] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out


def _write_table(df: pd.DataFrame, stem: Path, fmt: str) -> None:
    if fmt == "parquet":
        df.to_parquet(stem.with_suffix(".parquet"), index=False)
    else:
        df.to_csv(stem.with_suffix(".csv"), index=False, float_format="%.6g")


def _versions() -> dict[str, str]:
    out = {}
    for name in ("tomakomai-maas", *_DEPENDENCIES):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None


_RUN_ID_HELP = ("a run id is a folder name: no '/' and not starting with '.'")


def _reserve_run_dir(root: Path, run_id: str | None, *, force: bool) -> tuple[str, Path]:
    """The run id and its new temporary folder under ``root`` (see the module docstring).

    Auto ids are reserved by creating ``.<id>.tmp`` (atomic: of two runs started in the same
    second, the second finds it and takes ``<id>-2``); an id whose run or failed run exists
    is skipped, so nothing already written is replaced.
    """
    make_output_dir(root)
    if run_id is not None:
        if (not run_id.strip() or "/" in run_id or os.sep in run_id
                or run_id.startswith(".")):
            raise OutputError(f"run id {run_id!r}: {_RUN_ID_HELP}")
        final = root / run_id
        if final.exists() and not force:
            raise OutputError(
                f"run id {run_id!r}: {final} exists already (an earlier run); choose another "
                "--run-id, leave it out for a new timestamped folder, or add --force to "
                "replace that run")
        tmp = root / f".{run_id}.tmp-{os.getpid()}"
        tmp.mkdir(exist_ok=True)
        return run_id, tmp
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for k in itertools.count(1):
        rid = stamp if k == 1 else f"{stamp}-{k}"
        if (root / rid).exists() or (root / f"{rid}.failed").exists():
            continue
        tmp = root / f".{rid}.tmp"
        try:
            tmp.mkdir()
        except FileExistsError:  # a run started in the same second is writing it
            continue
        return rid, tmp
    raise AssertionError("unreachable")  # pragma: no cover


def make_output_dir(root: Path) -> None:
    """``root`` as a folder, or an :class:`OutputError` saying which part of it is a file."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (root, *root.parents) if p.exists() and not p.is_dir()),
                       None)
        if blocker is not None:
            raise OutputError(f"cannot write results under {root}: {blocker} is a file, not a "
                              "folder; give a folder for the results (-o/--out, or output.dir "
                              "in the scenario)") from exc
        raise OutputError(f"cannot create the results folder {root}: "
                          f"{exc.strerror or exc}") from exc
