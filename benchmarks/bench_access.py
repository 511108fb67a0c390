"""Benchmark the accessibility KPIs (``metrics.access.accessibility_table``).

Run:  python benchmarks/bench_access.py            (~10 s on 2 cores)
      python benchmarks/bench_access.py --quick    (100 zones, one departure)
      python benchmarks/bench_access.py --zones 2000 --departures 5   (a large zone file)

Scenario: ``today_2025`` (routes 15 and 25 on the embedded network). Zones: a regular grid of
``--zones`` zones over the network's bounding box (synthetic, 100 residents each), resident
points as in a run (19 per zone).

*Coverage* (walk distance from every resident point to the nearest served stop) is compared with
the straightforward way to write it: one ``networkx.single_source_dijkstra_path_length`` per
resident point (cut off at the largest threshold) on the same walk graph, timed in the same run
on a sample of points and scaled to all points; the printed ratio is baseline time / our time,
and the shares of points within each threshold must agree exactly on the sample.
*Travel times* (journey planner per zone × destination × departure) have no baseline; their
throughput is printed.
"""

from __future__ import annotations

import argparse
import math
import time

import networkx as nx
import numpy as np
import pandas as pd

from tomakomai_maas.metrics.access import AccessConfig, accessibility_table, resident_points
from tomakomai_maas.metrics.access import served_stops as served_stop_ids
from tomakomai_maas.scenario.build import BuildContext, build
from tomakomai_maas.scenario.load import load_scenario


def grid_zones(G: nx.MultiDiGraph, n: int) -> pd.DataFrame:
    """``n`` (about) square zones over the bounding box of ``G``, 100 residents each."""
    lats = np.array([d["y"] for _, d in G.nodes(data=True)])
    lons = np.array([d["x"] for _, d in G.nodes(data=True)])
    k = max(1, int(round(math.sqrt(n))))
    la = np.linspace(lats.min(), lats.max(), k)
    lo = np.linspace(lons.min(), lons.max(), k)
    km_lat = (lats.max() - lats.min()) * 111.2 / max(k - 1, 1)
    km_lon = (lons.max() - lons.min()) * 111.2 * math.cos(math.radians(lats.mean())) / max(k - 1, 1)
    rows = [{"zone_id": f"G{i}_{j}", "name": f"G{i}_{j}", "lat": a, "lon": b,
             "area_km2": km_lat * km_lon, "pop_total": 100, "pop_0_14": 12, "pop_15_64": 57,
             "pop_65p": 31} for i, a in enumerate(la) for j, b in enumerate(lo)]
    return pd.DataFrame(rows)


def baseline_nearest(walk, pts: pd.DataFrame, served: list[str], world, cutoff_m: float
                     ) -> np.ndarray:
    """Nearest served stop per point with one networkx Dijkstra per point."""
    Gx = nx.from_scipy_sparse_array(walk._len_csr, create_using=nx.DiGraph)
    idx, snap = walk.snap_many(pts["lat"].to_numpy(), pts["lon"].to_numpy(), max_snap_m=math.inf)
    stop_nodes = {world.stops[s].node: world.stops[s].snap_m for s in served}
    out = np.full(len(pts), np.inf)
    for k, (i, sn) in enumerate(zip(idx, snap, strict=True)):
        dist = nx.single_source_dijkstra_path_length(Gx, int(i), cutoff=cutoff_m, weight="weight")
        best = min((d + stop_nodes[n] for n, d in dist.items() if n in stop_nodes),
                   default=np.inf)
        out[k] = best + sn
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 zones, 1 departure")
    ap.add_argument("--zones", type=int, default=400)
    ap.add_argument("--departures", type=int, default=3)
    ap.add_argument("--baseline-points", type=int, default=300,
                    help="resident points timed with the networkx baseline")
    args = ap.parse_args()
    n_zones = 100 if args.quick else args.zones
    n_dep = 1 if args.quick else args.departures

    sc = load_scenario("scenarios/today_2025.yaml")
    ctx = BuildContext()
    world = build(sc, context=ctx)
    walk = ctx.walk_oracle
    zones = grid_zones(ctx.graph, n_zones)
    deps = [f"{8 + 2 * i:02d}:00" for i in range(n_dep)]
    cfg = AccessConfig(departure_times=deps)
    print(f"today_2025 on {ctx.graph.number_of_nodes():,} nodes; {len(zones)} zones x "
          f"{cfg.points_per_zone} points; {len(cfg.destinations)} destinations x {n_dep} "
          "departure(s)", flush=True)

    cover_only = AccessConfig(departure_times=["09:00"], destinations=[])
    t0 = time.perf_counter()
    accessibility_table(world, zones, walk, config=cover_only)
    cover_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = accessibility_table(world, zones, walk, config=cfg)
    full_s = time.perf_counter() - t0
    n_plans = len(zones) * len(cfg.destinations) * n_dep
    tt_s = max(full_s - cover_s, 1e-9)

    pts = resident_points(zones, n=cfg.points_per_zone)
    served = served_stop_ids(world)
    sample = pts.sample(n=min(args.baseline_points, len(pts)), random_state=1)
    t0 = time.perf_counter()
    base = baseline_nearest(walk, sample, served, world, max(cfg.walk_thresholds_m))
    base_s = (time.perf_counter() - t0) * len(pts) / len(sample)
    ours = np.asarray(walk.dist_matrix_m(
        walk.snap_many(sample["lat"].to_numpy(), sample["lon"].to_numpy(),
                       max_snap_m=math.inf)[0],
        np.array([world.stops[s].node for s in served])), dtype=float)
    snap = walk.snap_many(sample["lat"].to_numpy(), sample["lon"].to_numpy(),
                          max_snap_m=math.inf)[1]
    ours = (ours + np.array([world.stops[s].snap_m for s in served])[None, :]).min(axis=1) + snap
    for d in cfg.walk_thresholds_m:  # float32 tables vs float64 Dijkstra: compare at 0.5 m
        a, b = ours <= d, base <= d
        near = np.abs(ours - d) < 0.5
        assert np.array_equal(a[~near], b[~near]), f"coverage within {d} m differs"

    print(f"  coverage, {len(pts):,} points:        {cover_s:8.2f} s")
    print(f"  baseline (networkx per point):  {base_s:8.2f} s  (scaled from {len(sample)} "
          "points)")
    print(f"  coverage speed-up:              {base_s / cover_s:8.1f} x networkx")
    print(f"  travel times, {n_plans:,} plans:      {tt_s:8.2f} s = {n_plans / tt_s:,.0f} "
          "plans/s")
    print(f"  whole table:                    {full_s:8.2f} s  "
          f"(covered within 500 m: {table['covered_500m_share'].mean():.1%} of zones' points)")


if __name__ == "__main__":
    main()
