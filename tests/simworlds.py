"""Hand-built Worlds for simulator and journey-planner tests (no files, no network)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence

import numpy as np

from tomakomai_maas.world import (
    Access,
    EnergyParams,
    JourneyParams,
    OpsParams,
    Request,
    Stop,
    TripSchedule,
    VehicleType,
    WeatherState,
    World,
)

BUS = VehicleType("bus", capacity=50, powertrain="diesel", fuel_l_per_km=0.3)
INF = math.inf


def make_stops(ids: Sequence[str]) -> dict[str, Stop]:
    """Stops on a schematic east-west line (coordinates are irrelevant to the simulator)."""
    return {s: Stop(s, s, 42.63, 141.6 + 0.001 * i, i) for i, s in enumerate(ids)}


def make_trip(
    trip_id: str,
    route_id: str,
    stop_ids: Sequence[str],
    dep0_s: float,
    leg_s: Sequence[float],
    *,
    dwell_s: float = 0.0,
    timepoint: Sequence[bool] | None = None,
    leg_m: Sequence[float] | None = None,
    vehicle_type: str = "bus",
    block_id: str | None = None,
    direction_id: int = 0,
) -> TripSchedule:
    """A trip departing its first stop at ``dep0_s``; scheduled dwell ``dwell_s`` elsewhere."""
    n = len(stop_ids)
    arr = [dep0_s]
    dep = [dep0_s]
    for k in range(1, n):
        a = dep[-1] + leg_s[k - 1]
        arr.append(a)
        dep.append(a + (dwell_s if k < n - 1 else 0.0))
    tp = tuple(timepoint) if timepoint is not None else (True,) * n
    return TripSchedule(
        trip_id=trip_id,
        route_id=route_id,
        route_name=route_id,
        direction_id=direction_id,
        vehicle_type=vehicle_type,
        stop_ids=tuple(stop_ids),
        arr_s=tuple(arr),
        dep_s=tuple(dep),
        timepoint=tp,
        leg_time_s=tuple(float(x) for x in leg_s),
        leg_dist_m=tuple(leg_m) if leg_m is not None else tuple(float(x) * 10 for x in leg_s),
        block_id=block_id,
    )


def line_trips(
    route_id: str,
    stop_ids: Sequence[str],
    first_dep_s: float,
    headway_s: float,
    n_trips: int,
    leg_s: Sequence[float],
    **kwargs,
) -> list[TripSchedule]:
    return [
        make_trip(
            f"{route_id}-{i:03d}", route_id, stop_ids, first_dep_s + i * headway_s, leg_s, **kwargs
        )  # fmt: skip
        for i in range(n_trips)
    ]


def stop_request(
    rid: str,
    t_s: float,
    origin: str,
    dest: str,
    *,
    access_walk_s: float = 0.0,
    egress_walk_s: float = 0.0,
    direct_walk_s: float = INF,
    mode: str = "pt",
) -> Request:
    """A request from near stop ``origin`` to near stop ``dest`` (walks in seconds)."""
    return Request(
        request_id=rid,
        depart_s=t_s,
        o_lat=0.0,
        o_lon=0.0,
        d_lat=0.0,
        d_lon=0.0,
        access=(Access(origin, access_walk_s, access_walk_s * 1.2),),
        egress=(Access(dest, egress_walk_s, egress_walk_s * 1.2),),
        direct_walk_s=direct_walk_s,
        mode=mode,
    )


def fixed(requests: Sequence[Request]) -> Callable[[np.random.Generator], list[Request]]:
    """Demand that ignores the generator (same requests every replication)."""
    reqs = list(requests)
    return lambda rng: list(reqs)


def poisson_demand(
    rate_per_s: float,
    start_s: float,
    end_s: float,
    od: Sequence[tuple[str, str]],
    *,
    prefix: str = "p",
) -> Callable[[np.random.Generator], list[Request]]:
    """Poisson arrivals over ``[start_s, end_s)``, each with an OD pair drawn uniformly."""

    def sample(rng: np.random.Generator) -> list[Request]:
        n = int(rng.poisson(rate_per_s * (end_s - start_s)))
        times = np.sort(rng.uniform(start_s, end_s, n))
        which = rng.integers(0, len(od), n)
        return [
            stop_request(f"{prefix}{i:05d}", float(t), *od[int(j)])
            for i, (t, j) in enumerate(zip(times, which, strict=True))
        ]

    return sample


def make_world(
    trips: Sequence[TripSchedule],
    *,
    demand: Callable[[np.random.Generator], list[Request]] | Sequence[Request] = (),
    stops: dict[str, Stop] | None = None,
    vehicle_types: dict[str, VehicleType] | None = None,
    transfers: dict[str, tuple[Access, ...]] | None = None,
    ops: OpsParams | None = None,
    journey: JourneyParams | None = None,
    energy: EnergyParams | None = None,
    weather_by_hour: tuple[WeatherState, ...] | None = None,
    name: str = "test",
) -> World:
    if stops is None:
        ids: list[str] = []
        for t in trips:
            for s in t.stop_ids:
                if s not in ids:
                    ids.append(s)
        stops = make_stops(ids)
    sample = demand if callable(demand) else fixed(demand)
    return World(
        name=name,
        start_s=0.0,
        end_s=86400.0,
        stops=stops,
        trips=tuple(trips),
        vehicle_types=vehicle_types if vehicle_types is not None else {"bus": BUS},
        sample_requests=sample,
        transfers=transfers or {},
        weather_by_hour=weather_by_hour or (WeatherState("clear"),) * 24,
        ops=ops or OpsParams(),
        journey=journey or JourneyParams(),
        energy=energy or EnergyParams(),
    )


# -- a medium world used by determinism tests (built inside worker processes) ---------------
def busy_world() -> World:
    """Two crossing lines with random leg times, transfers and Poisson demand."""
    a = ["A1", "A2", "X", "A4", "A5"]
    b = ["B1", "X", "B3", "B4"]
    trips = line_trips("A", a, 6 * 3600, 600, 30, [120, 150, 90, 200], dwell_s=20)
    trips += line_trips("B", b, 6 * 3600 + 60, 900, 20, [100, 140, 160], dwell_s=20,
                        block_id="blkB", vehicle_type="small")  # fmt: skip
    od = [("A1", "B4"), ("A2", "A5"), ("B1", "A5"), ("A1", "X"), ("B1", "B4")]
    return make_world(
        trips,
        demand=poisson_demand(0.15, 6 * 3600, 10 * 3600, od),
        vehicle_types={"bus": BUS, "small": VehicleType("small", capacity=8)},
        ops=OpsParams(link_time_cv=0.2, patience_s=900),
    )


def table_hash(seed: int) -> str:
    """sha256 over the sorted CSV bytes of every table of ``simulate(busy_world(), seed)``."""
    from tomakomai_maas.sim import simulate

    res = simulate(busy_world(), seed)
    h = hashlib.sha256()
    for name, df in sorted(res.tables.items()):
        h.update(name.encode())
        h.update(df.sort_values(list(df.columns)).to_csv(index=False).encode())
    return h.hexdigest()
