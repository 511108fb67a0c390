"""Origin-destination demand for timetabled lines: trips from a CSV and stop-to-stop rates.

Stop-to-stop rates come in two arrival behaviours. *Random* arrivals reach the stop at
Poisson times (the textbook case: mean wait = headway / 2 for regular headways).
*Timetable-aware* arrivals model riders of infrequent services who know the timetable: the
wish to travel arises at a Poisson time, and the rider reaches the stop a uniform
``[0, arrival_margin]`` before the next scheduled departure that serves their stop pair.

Both kinds are picklable callables ``sample(rng) -> list[Request]`` (the World's
``sample_requests``). They draw only from the generator they are given (the "demand" stream),
so two scenarios with the same demand settings and seed draw the same demand (common random
numbers). No simpy here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tomakomai_maas.errors import ScenarioError
from tomakomai_maas.world import Access, Request

__all__ = [
    "TRIPS_CSV_COLUMNS",
    "read_trips_csv",
    "FixedRequests",
    "StopRate",
    "PoissonStopDemand",
    "CompositeDemand",
]

#: Required columns of a demand trips CSV (optional: request_id, purpose, pax_class).
TRIPS_CSV_COLUMNS = ("depart_time", "o_lat", "o_lon", "d_lat", "d_lon")


def read_trips_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check a trips CSV; returns columns request_id, depart_s, o_lat, ..., purpose.

    ``depart_time`` is ``HH:MM[:SS]``. Coordinates are WGS84 degrees.
    """
    from tomakomai_maas.scenario.schema import parse_time_s

    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{path}: demand trips CSV not found (demand.trips_csv)")
    try:
        df = pd.read_csv(path, dtype={"request_id": str, "depart_time": str, "purpose": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ScenarioError(f"{path}: cannot parse demand CSV: {exc}") from exc
    missing = [c for c in TRIPS_CSV_COLUMNS if c not in df.columns]
    if missing:
        raise ScenarioError(f"{path}: missing column(s) {missing}; required: "
                            f"{list(TRIPS_CSV_COLUMNS)}")
    problems: list[str] = []
    depart = []
    for i, v in enumerate(df["depart_time"].astype(str)):
        try:
            depart.append(parse_time_s(v))
        except ValueError:
            problems.append(f"{path}: row {i + 2}, depart_time: {v!r} is not HH:MM[:SS]")
            depart.append(np.nan)
    for col, lo, hi in (("o_lat", -90, 90), ("d_lat", -90, 90), ("o_lon", -180, 180),
                        ("d_lon", -180, 180)):
        vals = pd.to_numeric(df[col], errors="coerce")
        for i in np.flatnonzero(~vals.between(lo, hi).to_numpy()):
            problems.append(f"{path}: row {i + 2}, {col}: {df[col].iloc[i]!r} is not a number "
                            f"in [{lo}, {hi}]")
    if problems:
        raise ScenarioError(f"{path}: {len(problems)} problem(s) in the demand CSV", problems[:50])
    out = pd.DataFrame({
        "request_id": (df["request_id"].astype(str) if "request_id" in df.columns
                       else [f"csv{i:06d}" for i in range(len(df))]),
        "depart_s": np.asarray(depart, dtype=float),
        "o_lat": df["o_lat"].astype(float), "o_lon": df["o_lon"].astype(float),
        "d_lat": df["d_lat"].astype(float), "d_lon": df["d_lon"].astype(float),
        "purpose": df["purpose"].astype(str) if "purpose" in df.columns else "",
    })
    return out


@dataclass(frozen=True)
class FixedRequests:
    """Deterministic demand (e.g. from a trips CSV): the same requests every replication."""

    requests: tuple[Request, ...]

    def __call__(self, rng: np.random.Generator) -> list[Request]:
        return list(self.requests)


@dataclass(frozen=True)
class StopRate:
    """Poisson arrivals of ``per_hour`` passengers from one stop to another in a time window."""

    from_stop: str
    to_stop: str
    per_hour: float
    start_s: float
    end_s: float
    o_lat: float
    o_lon: float
    d_lat: float
    d_lon: float
    #: Scheduled departures from ``from_stop`` of trips that later serve ``to_stop`` (sorted).
    #: Empty = random arrivals at the stop; else timetable-aware arrivals (see module doc).
    departures_s: tuple[float, ...] = ()
    arrival_margin_s: float = 300.0


@dataclass(frozen=True)
class PoissonStopDemand:
    """Stop-to-stop Poisson demand; passengers start and end at stops (no walk)."""

    rates: tuple[StopRate, ...]
    prefix: str = "sr"

    def __call__(self, rng: np.random.Generator) -> list[Request]:
        out: list[Request] = []
        for k, r in enumerate(self.rates):
            span_h = max(0.0, (r.end_s - r.start_s) / 3600.0)
            n = int(rng.poisson(r.per_hour * span_h))
            times = np.sort(rng.uniform(r.start_s, r.end_s, size=n))
            margins = rng.uniform(0.0, r.arrival_margin_s, size=n)
            if r.departures_s:
                deps = np.asarray(r.departures_s, dtype=float)
                k_next = np.searchsorted(deps, times, side="left")
                ok = k_next < len(deps)  # nobody wants a trip after the last departure
                times = np.sort(deps[k_next[ok]] - margins[ok])
            acc = (Access(r.from_stop, 0.0, 0.0),)
            egr = (Access(r.to_stop, 0.0, 0.0),)
            for i, t in enumerate(times):
                out.append(Request(
                    request_id=f"{self.prefix}{k:03d}-{i:05d}", depart_s=float(t),
                    o_lat=r.o_lat, o_lon=r.o_lon, d_lat=r.d_lat, d_lon=r.d_lon,
                    access=acc, egress=egr, direct_walk_s=float("inf"),
                ))
        out.sort(key=lambda q: (q.depart_s, q.request_id))
        return out


@dataclass(frozen=True)
class CompositeDemand:
    """Several demand sources drawn in a fixed order from one generator."""

    parts: tuple[Callable[[np.random.Generator], list[Request]], ...]

    def __call__(self, rng: np.random.Generator) -> list[Request]:
        out: list[Request] = []
        for p in self.parts:
            out.extend(p(rng))
        out.sort(key=lambda q: (q.depart_s, q.request_id))
        return out

