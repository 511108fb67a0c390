"""Benchmark the DRT insertion dispatcher: pruned vs exhaustive on the same day of requests.

A synthetic city: random points in a square, Manhattan distances driven at a fixed speed
(times satisfy the triangle inequality, like shortest paths). A service day of requests
(80 % immediate, 20 % prebooked 1-24 h ahead; parties of 1-3) is dispatched one request at a
time by cheapest insertion; between requests every vehicle executes its plan with
``dispatch.advance`` (only vehicles whose next event is due are touched). The same day is run
with the pruned engine; a sample of the requests (all of them for ``--size small``) is also
given to an exhaustive engine (``prune=False``) on the same vehicle states: the results must be
identical (asserted) and the ratio of their times is the pruning speed-up.

    python benchmarks/bench_dispatch.py                 # 2,000 nodes, 10,000 requests, 50 vehicles
    python benchmarks/bench_dispatch.py --size large    # 100,000 requests, 500 vehicles
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import numpy as np

from tomakomai_maas.dispatch import (
    Assignment,
    DispatchConfig,
    DrtRequest,
    InsertionEngine,
    MatrixTravelTimes,
    Rejection,
    VehicleState,
    advance,
    apply_assignment,
    get_dispatch_policy,
    make_request,
    next_event_s,
)

SIZES = {
    "small": dict(nodes=500, requests=1_000, vehicles=10, compare_every=1),
    "default": dict(nodes=2_000, requests=10_000, vehicles=50, compare_every=10),
    "large": dict(nodes=2_000, requests=100_000, vehicles=500, compare_every=500),
}
SPEED_MPS = 25 / 3.6
DAY = (6 * 3600.0, 22 * 3600.0)


def make_city(n_nodes: int, rng: np.random.Generator, side_m: float) -> MatrixTravelTimes:
    xy = rng.uniform(0.0, side_m, size=(n_nodes, 2))
    dist = np.abs(xy[:, None, 0] - xy[None, :, 0]) + np.abs(xy[:, None, 1] - xy[None, :, 1])
    return MatrixTravelTimes(dist / SPEED_MPS, dist)


def make_requests(n: int, n_nodes: int, tt: MatrixTravelTimes,
                  rng: np.random.Generator) -> list[DrtRequest]:
    t_pick = np.sort(rng.uniform(*DAY, size=n))
    o = rng.integers(0, n_nodes, size=n)
    d = (o + rng.integers(1, n_nodes, size=n)) % n_nodes
    pre = rng.random(n) < 0.2
    lead = rng.uniform(3600.0, 24 * 3600.0, size=n)
    pax = rng.choice([1, 2, 3], p=[0.7, 0.2, 0.1], size=n)
    direct = tt.time_s(o, d)
    out = [
        make_request(
            f"r{k:06d}", int(o[k]), int(d[k]), float(direct[k]),
            t_request_s=float(t_pick[k] - lead[k]) if pre[k] else float(t_pick[k]),
            earliest_pickup_s=float(t_pick[k]), n_pax=int(pax[k]), max_wait_s=900.0,
            detour_alpha=1.5, detour_beta_s=300.0, board_s=30.0, alight_s=20.0,
            prebooked=bool(pre[k]),
        )
        for k in range(n)
    ]
    out.sort(key=lambda r: (r.t_request_s, r.request_id))
    return out


@dataclass
class RunResult:
    dispatch_s: float
    total_s: float
    rows: int
    served: int
    n_stops_done: int
    compared: int
    pruned_s: float  # time of the pruned engine on the compared requests
    unpruned_s: float  # time of the exhaustive engine on the same requests and states
    unpruned_rows: int
    bound_skipped: int = 0  # candidates skipped by the cost bound (engines that have it)


def outcome(res: Assignment | Rejection) -> tuple:
    if isinstance(res, Assignment):
        return (res.request_id, res.vehicle_id, res.stops, res.cost_s)
    return (res.request_id, res.reason, res.detail, res.vehicle_id)


def run_day(requests: list[DrtRequest], fleet: list[VehicleState], tt: MatrixTravelTimes, *,
            config: DispatchConfig, compare_every: int) -> RunResult:
    """Dispatch the day with the pruned engine; every ``compare_every``-th request (0 = none)
    is also given to an exhaustive (unpruned) engine on the same vehicle states, timed, and
    the two results must be identical."""
    engine = InsertionEngine(tt, config=config, prune=True)
    full = InsertionEngine(tt, config=config, prune=False)
    vehicles = list(fleet)
    due = np.array([next_event_s(v, tt) for v in vehicles])
    t_dispatch = t_pruned = t_full = 0.0
    n_done = served = compared = 0
    t0 = time.perf_counter()
    for q, r in enumerate(requests):
        now = r.t_request_s
        for k in np.flatnonzero(due <= now).tolist():
            vehicles[k], done = advance(vehicles[k], now, tt)
            n_done += len(done)
            due[k] = next_event_s(vehicles[k], tt)
        t1 = time.perf_counter()
        res = engine.insert(r, vehicles, now_s=now)
        dt = time.perf_counter() - t1
        t_dispatch += dt
        if compare_every and q % compare_every == 0:
            t2 = time.perf_counter()
            ref = full.insert(r, vehicles, now_s=now)
            t_full += time.perf_counter() - t2
            t_pruned += dt
            compared += 1
            if outcome(ref) != outcome(res):
                raise AssertionError(f"pruned and exhaustive differ on {r.request_id}: "
                                     f"{outcome(res)} != {outcome(ref)}")
        if isinstance(res, Assignment):
            k = int(res.vehicle_id[1:])
            vehicles[k] = apply_assignment(vehicles[k], res)
            due[k] = next_event_s(vehicles[k], tt)
            served += 1
    total = time.perf_counter() - t0 - t_full
    return RunResult(t_dispatch, total, engine.n_evaluated_rows, served, n_done, compared,
                     t_pruned, t_full, full.n_evaluated_rows,
                     getattr(engine, "n_bound_skipped", 0))


def run_batch(requests: list[DrtRequest], fleet: list[VehicleState], tt: MatrixTravelTimes, *,
              config: DispatchConfig, interval_s: float) -> tuple[int, float]:
    """Batch policy on the same day (requests grouped by ``interval_s`` of t_request)."""
    policy = get_dispatch_policy("batch_lsa")(tt, config=config, batch_interval_s=interval_s)
    vehicles = list(fleet)
    due = np.array([next_event_s(v, tt) for v in vehicles])
    served = 0
    t0 = time.perf_counter()
    i = 0
    while i < len(requests):
        slot = math.floor(requests[i].t_request_s / interval_s)
        j = i
        while j < len(requests) and math.floor(requests[j].t_request_s / interval_s) == slot:
            j += 1
        now = (slot + 1) * interval_s
        for k in np.flatnonzero(due <= now).tolist():
            vehicles[k], _ = advance(vehicles[k], now, tt)
            due[k] = next_event_s(vehicles[k], tt)
        res = policy.dispatch(requests[i:j], vehicles, now_s=now)
        for k, (a, b) in enumerate(zip(vehicles, res.vehicles, strict=True)):
            if a is not b:
                due[k] = next_event_s(b, tt)
        vehicles = list(res.vehicles)
        served += len(res.assignments)
        i = j
    return served, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="default")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--side-km", type=float, default=8.0, help="side of the square city")
    ap.add_argument("--compare-every", type=int, default=None,
                    help="also run the exhaustive engine on every N-th request (0: never)")
    ap.add_argument("--batch", action="store_true", help="also time the batch_lsa policy")
    args = ap.parse_args(argv)
    size = SIZES[args.size]
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    tt = make_city(size["nodes"], rng, args.side_km * 1000.0)
    requests = make_requests(size["requests"], size["nodes"], tt, rng)
    starts = rng.integers(0, size["nodes"], size=size["vehicles"])
    fleet = [VehicleState(f"v{k}", 4, int(starts[k]), DAY[0], depot=int(starts[k]))
             for k in range(size["vehicles"])]
    config = DispatchConfig()
    print(f"size={args.size}: {size['nodes']} nodes, {len(requests)} requests, "
          f"{len(fleet)} vehicles (capacity 4); setup {time.perf_counter() - t0:.1f} s")

    every = args.compare_every if args.compare_every is not None else size["compare_every"]
    res = run_day(requests, fleet, tt, config=config, compare_every=every)
    n = len(requests)
    print(f"pruned insertion: {n / res.dispatch_s:8.0f} requests/s dispatch only "
          f"({res.dispatch_s:.1f} s), {n / res.total_s:8.0f} requests/s incl. advancing "
          f"({res.total_s:.1f} s)")
    print(f"  served {res.served}/{n} ({res.served / n:.1%}), {res.n_stops_done} stops executed, "
          f"{res.rows / n:.0f} candidate insertions evaluated per request"
          + (f" ({res.bound_skipped / n:.0f} skipped by the cost bound)" if res.bound_skipped
             else ""))
    if res.compared:
        print(f"exhaustive (prune=False) on {res.compared} of the requests, same vehicle states: "
              f"identical results; {res.unpruned_s:.1f} s vs {res.pruned_s:.2f} s pruned "
              f"-> pruning speed-up {res.unpruned_s / res.pruned_s:.1f}x "
              f"({res.unpruned_rows / res.compared:.0f} candidates per request)")
    if args.batch:
        served, wall = run_batch(requests, fleet, tt, config=config, interval_s=30.0)
        print(f"batch_lsa : {n / wall:9.0f} requests/s incl. advancing ({wall:.2f} s), "
              f"served {served}/{n} ({served / n:.1%}) with 30 s batches")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
