"""Benchmark DRT through the simpy model: a full service day of requests and vehicles.

Two networks: the embedded central-Tomakomai network (1,200 nodes, full travel-time tables;
every node may be an origin or destination) and a synthetic ~20,000-node street grid
(``network.grid_network``) whose lazy oracle feeds a dense table over 2,000 "address" nodes
where trips start and end and vehicles are based. Both use the table type ``build_drt`` gives
every DRT service (:class:`tomakomai_maas.drt_world.SubsetTravelTimes`, exact Dijkstra times).

A day 06:00-22:00: requests uniform in time, random origin/destination among the nodes
(at least 500 m apart), 80 % immediate / 20 % pre-booked 1-24 h ahead, parties of 1-3,
max wait 15 min, max ride 1.5 x direct + 5 min, 30 s boarding / 20 s alighting; sedans of
4 seats on one shift 05:30-22:30 from random depots. Everything runs inside
``tomakomai_maas.sim.simulate`` (simpy events, plans executed leg by leg, tables built).

The dispatch policy is cheapest insertion with pruning (the production ``insertion``
policy's engine), wrapped so that every N-th request is also dispatched by the exhaustive
engine (``prune=False``) **on the same request and the same vehicle states, in the same
run**; the outcomes must be identical (asserted: same vehicle, positions and cost, or the
same rejection reason and detail), and the ratio of their times is the pruning speed-up.

    python benchmarks/bench_drt.py                    # 10,000 requests, 50 vehicles, both networks
    python benchmarks/bench_drt.py --size large       # 100,000 requests, 500 vehicles (not in CI)
    python benchmarks/bench_drt.py --size small --network embedded
    python benchmarks/bench_drt.py --size large --network embedded --hours 2   # 06:00-08:00

``--hours H`` keeps the size's request rate and fleet but simulates only the first H hours
of the day (``requests x H / 16``), for a quicker look at the large case.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from tomakomai_maas.dispatch import (
    Assignment,
    DispatchResult,
    InsertionEngine,
    apply_assignment,
    register_dispatch_policy,
)
from tomakomai_maas.drt_world import (
    DrtService,
    DrtTrip,
    DrtVehicle,
    FixedDrtTrips,
    SubsetTravelTimes,
)
from tomakomai_maas.rng import stream
from tomakomai_maas.sim import simulate
from tomakomai_maas.supply.vehicles import VEHICLE_TYPES
from tomakomai_maas.world import Request, World

SIZES = {
    "small": dict(requests=1_000, vehicles=10, compare_every=20),
    "default": dict(requests=10_000, vehicles=50, compare_every=100),
    "large": dict(requests=100_000, vehicles=500, compare_every=2_000),
}
DAY = (6 * 3600.0, 22 * 3600.0)
DAY_HOURS = (DAY[1] - DAY[0]) / 3600.0
MATSIM_RATE = 280_000 / (20 * 60)  # ~230 requests/s (MATSim DRT, 6,000 vehicles, laptop)


@dataclass
class _Stats:
    calls: int = 0
    dispatch_s: float = 0.0
    compared: int = 0
    sample_pruned_s: float = 0.0
    sample_exhaustive_s: float = 0.0
    compare_overhead_s: float = 0.0  # everything the comparison added to the run
    rows_pruned: int = 0
    rows_exhaustive: int = 0
    mismatches: list = field(default_factory=list)
    engine: object = None  # the pruned engine (its counters are reported)


STATS = _Stats()
COMPARE_EVERY = [0]
PROGRESS = {"every": 0, "t0": 0.0}


def _same(a, b) -> bool:
    if isinstance(a, Assignment) != isinstance(b, Assignment):
        return False
    if isinstance(a, Assignment):
        return ((a.vehicle_id, a.pickup_index, a.dropoff_index) ==
                (b.vehicle_id, b.pickup_index, b.dropoff_index)
                and math.isclose(a.cost_s, b.cost_s, rel_tol=1e-9, abs_tol=1e-6))
    return (a.reason, a.detail, a.vehicle_id) == (b.reason, b.detail, b.vehicle_id)


@register_dispatch_policy("bench_insertion")
class ComparedInsertion:
    """Cheapest insertion (pruned); every N-th request also exhaustively, compared."""

    batch_interval_s = 0.0

    def __init__(self, tt, *, config=None, prune: bool = True) -> None:
        self.pruned = InsertionEngine(tt, config=config, prune=True)
        self.exhaustive = InsertionEngine(tt, config=config, prune=False)
        STATS.engine = self.pruned

    def dispatch(self, requests, vehicles, *, now_s=None) -> DispatchResult:
        fleet = list(vehicles)
        index = {v.vehicle_id: k for k, v in enumerate(fleet)}
        done, rejected = [], []
        every = COMPARE_EVERY[0]
        for r in requests:
            STATS.calls += 1
            if PROGRESS["every"] and STATS.calls % PROGRESS["every"] == 0:
                el = time.perf_counter() - PROGRESS["t0"]
                print(f"    ... {STATS.calls:,} requests dispatched in {el:.0f} s "
                      f"(dispatcher {STATS.dispatch_s:.0f} s, comparisons "
                      f"{STATS.compare_overhead_s:.0f} s)", file=sys.stderr, flush=True)
            rows0 = self.pruned.n_evaluated_rows
            t0 = time.perf_counter()
            res = self.pruned.insert(r, fleet, now_s=now_s)
            dt = time.perf_counter() - t0
            STATS.dispatch_s += dt
            if every and STATS.calls % every == 0:
                now = r.t_request_s if now_s is None else now_s
                t_sync = time.perf_counter()
                self.exhaustive._fleet.sync(fleet, now)  # bring its cache up to date, untimed
                rows1 = self.exhaustive.n_evaluated_rows
                t1 = time.perf_counter()
                ref = self.exhaustive.insert(r, fleet, now_s=now_s)
                t2 = time.perf_counter()
                STATS.sample_exhaustive_s += t2 - t1
                STATS.compare_overhead_s += t2 - t_sync
                STATS.sample_pruned_s += dt
                STATS.rows_pruned += self.pruned.n_evaluated_rows - rows0
                STATS.rows_exhaustive += self.exhaustive.n_evaluated_rows - rows1
                STATS.compared += 1
                if not _same(res, ref):
                    STATS.mismatches.append((r.request_id, res, ref))
            if isinstance(res, Assignment):
                k = index[res.vehicle_id]
                fleet[k] = apply_assignment(fleet[k], res)
                done.append(res)
            else:
                rejected.append(res)
        return DispatchResult(tuple(done), tuple(rejected), tuple(fleet))


def embedded_network() -> tuple[object, np.ndarray, str]:
    from tomakomai_maas.network import TravelTimes, load_network

    G = load_network()
    base = TravelTimes(G, cache_dir=None)
    tt = SubsetTravelTimes(base, np.arange(base.n))  # what build_drt gives a whole-network area
    return tt, np.arange(tt.n), f"embedded central Tomakomai ({tt.n:,} nodes, full tables)"


def grid_20k(rng: np.random.Generator, n_addresses: int = 2_000) -> tuple[object, np.ndarray, str]:
    from tomakomai_maas.network import TravelTimes, grid_network

    G = grid_network(140, 143, spacing_m=60.0, jitter_m=10.0, seed=1)
    base = TravelTimes(G, cache_dir=None)
    addresses = np.sort(rng.choice(base.n, size=n_addresses, replace=False))
    t0 = time.perf_counter()
    tt = SubsetTravelTimes(base, addresses)
    return tt, addresses, (f"synthetic grid ({base.n:,} nodes, {G.number_of_edges():,} edges; "
                           f"{n_addresses:,} address nodes, subset table built in "
                           f"{time.perf_counter() - t0:.1f} s)")


def make_world(tt, nodes: np.ndarray, n_req: int, n_veh: int, seed: int,
               day: tuple[float, float] = DAY) -> World:
    rng = stream(seed, "bench-drt")
    n = nodes.size
    o = nodes[rng.integers(0, n, size=3 * n_req)]
    d = nodes[rng.integers(0, n, size=3 * n_req)]
    far = np.asarray(tt.dist_m(o, d), dtype=float)
    ok = np.flatnonzero((far >= 500) & np.isfinite(np.asarray(tt.time_s(o, d), float))
                        & np.isfinite(np.asarray(tt.time_s(d, o), float)))[:n_req]
    if ok.size < n_req:
        raise SystemExit("not enough connected origin/destination pairs")
    o, d = o[ok], d[ok]
    t = np.sort(rng.uniform(*day, size=n_req))
    pre = rng.random(n_req) < 0.2
    lead = rng.uniform(3600.0, 24 * 3600.0, size=n_req)
    pax = rng.choice([1, 2, 3], p=[0.8, 0.15, 0.05], size=n_req)
    trips = tuple(
        DrtTrip(Request(f"r{k:06d}", float(t[k]), 0.0, 0.0, 0.0, 0.0, (), (), mode="drt"),
                float(t[k] - lead[k]) if pre[k] else float(t[k]), bool(pre[k]), int(pax[k]),
                int(o[k]), int(d[k]))
        for k in range(n_req))
    sedan = VEHICLE_TYPES["drt_sedan"]
    depots = nodes[rng.integers(0, n, size=n_veh)]
    vehicles = tuple(DrtVehicle(f"v{k:03d}", sedan, 4, int(depots[k]), 5.5 * 3600, 22.5 * 3600)
                     for k in range(n_veh))
    svc = DrtService("bench", tt, vehicles, demand=FixedDrtTrips(trips),
                     service_nodes=frozenset(int(x) for x in nodes), max_wait_s=900.0,
                     detour_alpha=1.5, detour_beta_s=300.0, board_s=30.0, alight_s=20.0,
                     min_booking_lead_s=0.0, dispatch_policy="bench_insertion",
                     shift_end_at_depot=True)
    return World(name="bench-drt", start_s=0.0, end_s=86400.0, stops={}, trips=(),
                 vehicle_types={"drt_sedan": sedan}, sample_requests=lambda rng: [], drt=svc)


def run(label: str, tt, nodes: np.ndarray, size: dict, seed: int, every: int,
        hours: float = DAY_HOURS) -> float:
    global STATS
    STATS = _Stats()
    COMPARE_EVERY[0] = every
    t0 = time.perf_counter()
    world = make_world(tt, nodes, size["requests"], size["vehicles"], seed,
                       (DAY[0], DAY[0] + hours * 3600.0))
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    PROGRESS.update(every=max(size["requests"] // 10, 1), t0=t0)
    res = simulate(world, seed)
    wall = time.perf_counter() - t0 - STATS.compare_overhead_s  # the production path only
    n = size["requests"]
    df = res.drt_requests
    served = float((df["status"] == "served").mean())
    print(f"\n{label}")
    print(f"  {n:,} requests, {size['vehicles']} vehicles; trips built in {setup:.1f} s")
    print(f"  simulate(): {wall:7.1f} s = {n / wall:7.0f} requests/s end to end "
          f"({len(res.events):,} log events, {res.counters['simpy_events']:,} simpy events, "
          f"tables included; the exhaustive comparisons, {STATS.compare_overhead_s:.1f} s, "
          f"are not counted)")
    print(f"  dispatcher: {STATS.dispatch_s:7.1f} s = {n / STATS.dispatch_s:7.0f} requests/s "
          f"(pruned insertion only); rest of the model {wall - STATS.dispatch_s:.1f} s")
    rej = df.loc[df["status"] == "rejected", "reject_reason"].value_counts().to_dict()
    eng = STATS.engine
    fa = getattr(eng, "_fleet", None)
    if fa is not None and hasattr(fa, "n_rebuilt"):
        print(f"  per request: {fa.n_rebuilt / n:.1f} vehicle rows rebuilt, "
              f"{fa.n_shifted / n:.1f} shifted (waiting vehicles); "
              f"{eng.n_evaluated_rows / n:,.0f} candidate insertions simulated, "
              f"{eng.n_bound_skipped / n:,.0f} skipped by the cost bound")
    print(f"  served {served:.1%}, mean wait {df.loc[df.status == 'served', 'wait_min'].mean():.1f}"
          f" min, shared {df.loc[df.status == 'served', 'shared'].mean():.0%}; rejected {rej}")
    if STATS.compared:
        if STATS.mismatches:
            rid, a, b = STATS.mismatches[0]
            raise AssertionError(f"pruned and exhaustive insertion differ on {rid}: {a} vs {b}")
        sp = STATS.sample_exhaustive_s / STATS.sample_pruned_s
        print(f"  pruning: {STATS.compared} requests (every {every}th) also dispatched "
              f"exhaustively on the same vehicle states -> identical outcomes (asserted); "
              f"{STATS.sample_exhaustive_s:.2f} s vs {STATS.sample_pruned_s:.3f} s -> "
              f"speed-up {sp:.1f}x ({STATS.rows_exhaustive / STATS.compared:,.0f} vs "
              f"{STATS.rows_pruned / STATS.compared:,.0f} candidate insertions per request)")
    return n / wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="default")
    ap.add_argument("--network", choices=["embedded", "grid", "both"], default="both")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--compare-every", type=int, default=None,
                    help="also dispatch every N-th request exhaustively (0: never)")
    ap.add_argument("--hours", type=float, default=DAY_HOURS,
                    help=f"simulate only the first H hours of the {DAY_HOURS:.0f}-hour day, at "
                         "the size's request rate (default: all)")
    args = ap.parse_args(argv)
    if not 0 < args.hours <= DAY_HOURS:
        ap.error(f"--hours must be in (0, {DAY_HOURS:.0f}], got {args.hours}")
    logging.basicConfig(level=logging.WARNING)
    size = dict(SIZES[args.size])
    size["requests"] = max(1, round(size["requests"] * args.hours / DAY_HOURS))
    every = size["compare_every"] if args.compare_every is None else args.compare_every
    rng = np.random.default_rng(args.seed)
    rates = {}
    if args.network in ("embedded", "both"):
        t0 = time.perf_counter()
        tt, nodes, label = embedded_network()
        label += f"; network + oracle {time.perf_counter() - t0:.1f} s"
        rates["embedded"] = run(label, tt, nodes, size, args.seed, every, args.hours)
    if args.network in ("grid", "both"):
        t0 = time.perf_counter()
        tt, nodes, label = grid_20k(rng)
        label += f"; setup {time.perf_counter() - t0:.1f} s"
        rates["grid"] = run(label, tt, nodes, size, args.seed, every, args.hours)
    print(f"\nreference: MATSim DRT ~{MATSIM_RATE:.0f} requests/s (280,000 requests, 6,000 "
          "vehicles, ~20 min on a laptop, incl. its traffic simulation)")
    for name, r in rates.items():
        print(f"  {name}: {r:,.0f} requests/s end to end = {r / MATSIM_RATE:.2f} x MATSim")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
