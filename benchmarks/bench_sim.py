"""Benchmark: simulation core events/s vs raw simpy timeouts measured in the same run.

A synthetic full day: 50 lines x 15 stops every 15 min (06:00-22:00, blocks of 3 vehicles per
line, 5 autonomous lines), all lines crossing at one central stop, ~20 000 requests.

    python benchmarks/bench_sim.py [--lines 50] [--requests 20000] [--seed 1]

Prints the phases (demand, planning, simpy run, tables), the model's simpy events/s and
logged events/s, and the ratio against a bare simpy loop doing the same number of
``env.timeout`` events. Timings are informative only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import simpy

from tomakomai_maas.journey import JourneyPlanner
from tomakomai_maas.rng import stream
from tomakomai_maas.sim.core import _plan, validate_world
from tomakomai_maas.sim.model import Model
from tomakomai_maas.sim.tables import build_tables
from tomakomai_maas.world import (
    Access,
    OpsParams,
    Request,
    Stop,
    TripSchedule,
    VehicleType,
    World,
)

N_STOPS = 15
CENTRAL = 7  # position of the shared central stop on every line
LEG_S = 120.0
HEADWAY_S = 900.0


def stop_id(line: int, k: int) -> str:
    return "CENTRAL" if k == CENTRAL else f"L{line:02d}_{k:02d}"


def build_world(n_lines: int, n_requests: int) -> World:
    stops: dict[str, Stop] = {}
    trips: list[TripSchedule] = []
    for line in range(n_lines):
        ids = [stop_id(line, k) for k in range(N_STOPS)]
        for k, s in enumerate(ids):
            stops.setdefault(s, Stop(s, s, 42.6 + 0.001 * line, 141.6 + 0.001 * k, len(stops)))
        vtype = "av" if line % 10 == 0 else "bus"
        t = 6 * 3600.0 + 37.0 * line
        i = 0
        while t < 22 * 3600.0:
            arr = tuple(t + k * (LEG_S + 20.0) for k in range(N_STOPS))
            dep = tuple(a + (20.0 if 0 < k < N_STOPS - 1 else 0.0) for k, a in enumerate(arr))
            trips.append(TripSchedule(
                trip_id=f"L{line:02d}-{i:03d}", route_id=f"L{line:02d}", route_name=f"Line {line}",
                direction_id=0, vehicle_type=vtype, stop_ids=tuple(ids), arr_s=arr, dep_s=dep,
                timepoint=tuple(k % 4 == 0 for k in range(N_STOPS)),
                leg_time_s=(LEG_S,) * (N_STOPS - 1), leg_dist_m=(600.0,) * (N_STOPS - 1),
                block_id=f"L{line:02d}/v{i % 3}",
            ))  # fmt: skip
            t += HEADWAY_S
            i += 1
    # walking transfers between neighbouring lines' stops 3 and 11
    transfers: dict[str, tuple[Access, ...]] = {}
    for line in range(n_lines):
        for k in (3, 11):
            other = stop_id((line + 1) % n_lines, k)
            transfers[stop_id(line, k)] = (Access(other, 180.0, 200.0),)

    def sample(rng: np.random.Generator) -> list[Request]:
        n = int(rng.poisson(n_requests))
        times = np.sort(rng.uniform(6 * 3600, 21 * 3600, n))
        o_line = rng.integers(0, n_lines, n)
        d_line = np.where(rng.random(n) < 0.5, o_line, rng.integers(0, n_lines, n))
        o_k = rng.integers(0, N_STOPS - 1, n)
        d_k = rng.integers(1, N_STOPS, n)
        walks = rng.uniform(0, 300, (n, 2))
        out = []
        for i in range(n):
            ok, dk = int(o_k[i]), int(d_k[i])
            if int(o_line[i]) == int(d_line[i]) and dk <= ok:
                ok, dk = dk - 1, ok + 1 if ok + 1 < N_STOPS else ok
            o = stop_id(int(o_line[i]), ok)
            d = stop_id(int(d_line[i]), dk)
            out.append(Request(
                request_id=f"r{i:06d}", depart_s=float(times[i]), o_lat=0, o_lon=0, d_lat=0,
                d_lon=0, access=(Access(o, walks[i, 0], walks[i, 0] * 1.2),),
                egress=(Access(d, walks[i, 1], walks[i, 1] * 1.2),), direct_walk_s=3600.0,
            ))  # fmt: skip
        return out

    return World(
        name="bench",
        start_s=0.0,
        end_s=86400.0,
        stops=stops,
        trips=tuple(trips),
        vehicle_types={
            "bus": VehicleType("bus", capacity=60, fuel_l_per_km=0.3),
            "av": VehicleType(
                "av",
                capacity=20,
                powertrain="ev",
                automation_level=2,
                energy_kwh_per_km=1.0,
                battery_kwh=100.0,
                takeover_rate_per_km=0.5,
                takeover_penalty_s=20.0,
                sudden_stop_rate_per_km=0.2,
                sudden_stop_penalty_s=10.0,
            ),
        },  # fmt: skip
        sample_requests=sample,
        transfers=transfers,
        ops=OpsParams(link_time_cv=0.15),
    )


def raw_simpy_timeouts(n: int) -> float:
    """Seconds for a bare simpy process to yield ``n`` timeouts."""
    env = simpy.Environment()

    def proc():
        for _ in range(n):
            yield env.timeout(1.0)

    env.process(proc())
    t = time.perf_counter()
    env.run()
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=50)
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    t = time.perf_counter()
    world = build_world(args.lines, args.requests)
    validate_world(world)
    requests = world.sample_requests(stream(args.seed, "demand"))
    t_demand = time.perf_counter() - t

    t = time.perf_counter()
    planner = JourneyPlanner(world)
    t_planner_build = time.perf_counter() - t
    t = time.perf_counter()
    itins = _plan(requests, planner, world)
    t_plan = time.perf_counter() - t

    t = time.perf_counter()
    model = Model(world, args.seed, requests, itins)
    model.run()
    t_sim = time.perf_counter() - t
    n_simpy = model.n_simpy_events()
    n_log = len(model.events)

    t = time.perf_counter()
    tables = build_tables(model.events, world, requests, itins)
    t_tables = time.perf_counter() - t

    t_raw = raw_simpy_timeouts(n_simpy)
    model_rate = n_simpy / t_sim
    raw_rate = n_simpy / t_raw
    status = tables["trips"]["status"].value_counts().to_dict()

    print(f"world: {args.lines} lines x {N_STOPS} stops, {len(world.trips)} trips, "
          f"{len(requests)} requests, {planner.n_connections} connections")  # fmt: skip
    print(f"statuses: {status}")
    print(f"demand+world build  {t_demand:8.2f} s")
    print(f"planner build       {t_planner_build:8.2f} s")
    print(f"planning            {t_plan:8.2f} s  ({len(requests) / t_plan:,.0f} requests/s)")
    print(f"simulation (simpy)  {t_sim:8.2f} s  {n_simpy:,} simpy events, {n_log:,} logged events")
    print(f"tables              {t_tables:8.2f} s")
    print(f"model:     {model_rate:12,.0f} simpy events/s ({n_log / t_sim:,.0f} logged events/s)")
    print(f"raw simpy: {raw_rate:12,.0f} timeouts/s (same count, bare loop)")
    print(f"ratio model/raw events per second: {model_rate / raw_rate:.3f} "
          f"(model is {raw_rate / model_rate:.1f}x slower than bare timeouts)")  # fmt: skip


if __name__ == "__main__":
    main()
