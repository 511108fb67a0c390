"""Benchmark the network layer: TravelTimes build time and look-up throughput vs networkx.

Run:  python benchmarks/bench_network.py            (about a minute on 2 cores)
      python benchmarks/bench_network.py --quick    (smaller graphs, a few seconds)

Every speed-up is a ratio against ``networkx.shortest_path_length(weight="travel_time_s")``
measured in the same run on the same pairs, so figures from different machines compare.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable

import networkx as nx
import numpy as np

from tomakomai_maas.errors import NetworkError
from tomakomai_maas.network import TravelTimes, grid_network, load_network


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, what: str, value: str, note: str = "") -> None:
        self.rows.append((what, value, note))
        print(f"  {what:<52} {value:>16}  {note}", flush=True)


def nx_pairs_per_s(G: nx.MultiDiGraph, ids: np.ndarray, pairs: np.ndarray) -> tuple[float, list]:
    out = []
    t0 = time.perf_counter()
    for a, b in pairs:
        try:
            out.append(nx.shortest_path_length(G, ids[a], ids[b], weight="travel_time_s"))
        except nx.NetworkXNoPath:
            out.append(np.inf)
    dt = time.perf_counter() - t0
    return len(pairs) / dt, out


def bench_graph(label: str, G: nx.MultiDiGraph, table: Table, *, nx_pairs: int,
                oracle_pairs: int, seed: int, full_table_max_nodes: int,
                hot_sources: int) -> None:
    rng = np.random.default_rng(seed)
    n = G.number_of_nodes()
    print(f"\n{label}: {n:,} nodes, {G.number_of_edges():,} edges", flush=True)
    build_s, tt = timed(lambda: TravelTimes(G, full_table_max_nodes=full_table_max_nodes))
    assert isinstance(tt, TravelTimes)
    mode = "full table" if tt.full_table else "lazy rows"
    table.add(f"{label}: TravelTimes build ({mode})", f"{build_s:.3f} s")
    if tt.full_table:
        mb = 2 * n * n * 4 / 1e6
        table.add(f"{label}: table memory (time + dist, float32)", f"{mb:,.1f} MB")

    ids = tt.node_ids
    ref_pairs = rng.integers(0, n, size=(nx_pairs, 2))
    if not tt.full_table:  # lazy: draw pairs from a hot set of sources (LRU-resident rows)
        hot = rng.choice(n, size=min(hot_sources, n), replace=False)
        ref_pairs[:, 0] = rng.choice(hot, size=nx_pairs)
    nx_rate, nx_vals = nx_pairs_per_s(G, ids, ref_pairs)
    table.add(f"{label}: networkx shortest_path_length", f"{nx_rate:,.0f} pairs/s",
              f"({nx_pairs} pairs, baseline)")

    # correctness on the same pairs
    got = tt.time_s(ref_pairs[:, 0], ref_pairs[:, 1])
    err = np.nanmax(np.abs(got.astype(float) - np.asarray(nx_vals, float))
                    / np.maximum(1.0, np.asarray(nx_vals, float)))
    table.add(f"{label}: max relative error vs networkx", f"{err:.1e}")

    if tt.full_table:
        src = rng.integers(0, n, size=oracle_pairs)
    else:
        # cold rows: the first look-ups compute the hot sources' rows
        cold_s, _ = timed(lambda: tt.time_s(hot, np.zeros_like(hot)))
        table.add(f"{label}: lazy rows computed (cold)", f"{len(hot) / cold_s:,.0f} rows/s",
                  f"({len(hot)} sources, dijkstra + distance)")
        src = rng.choice(hot, size=oracle_pairs)
        lim_s, _ = timed(lambda: tt.within_s(int(hot[0]), 300.0), repeat=3)
        table.add(f"{label}: within_s(300 s) radius search", f"{lim_s * 1e3:.2f} ms",
                  f"(full row: {cold_s / len(hot) * 1e3:.2f} ms)")
    dst = rng.integers(0, n, size=oracle_pairs)
    vec_s, _ = timed(lambda: tt.time_s(src, dst), repeat=3)
    vec_rate = oracle_pairs / vec_s
    table.add(f"{label}: oracle time_s vectorised", f"{vec_rate:,.0f} pairs/s",
              f"x{vec_rate / nx_rate:,.0f} vs networkx")
    k = min(20_000, oracle_pairs)
    sc_s, _ = timed(lambda: [tt.time_s(int(a), int(b)) for a, b in zip(src[:k], dst[:k],
                                                                        strict=True)])
    sc_rate = k / sc_s
    table.add(f"{label}: oracle time_s scalar loop", f"{sc_rate:,.0f} pairs/s",
              f"x{sc_rate / nx_rate:,.0f} vs networkx")
    p_s, _ = timed(lambda: [tt.path(int(a), int(b)) for a, b in ref_pairs[:50]])
    table.add(f"{label}: path() reconstruction", f"{p_s / 50 * 1e3:.2f} ms/path")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small graphs, fewer pairs")
    ap.add_argument("--grid", type=int, nargs=2, default=(140, 143), metavar=("ROWS", "COLS"),
                    help="synthetic lazy-row grid (default 140 x 143 = 20,020 nodes)")
    ap.add_argument("--full-grid", type=int, nargs=2, default=(70, 70), metavar=("ROWS", "COLS"),
                    help="synthetic full-table grid (default 70 x 70 = 4,900 nodes)")
    ap.add_argument("--nx-pairs", type=int, default=300)
    ap.add_argument("--pairs", type=int, default=1_000_000, help="oracle look-ups")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.quick:
        args.grid, args.full_grid, args.nx_pairs, args.pairs = (40, 50), (30, 30), 100, 100_000
    table = Table()
    print("network benchmark (ratios are against networkx in this same run)")

    try:
        load_s, G = timed(lambda: load_network())
    except NetworkError as exc:
        print(f"\nembedded network skipped: {exc}")
    else:
        assert isinstance(G, nx.MultiDiGraph)
        table.add("embedded: load_network() (parse OSM XML + speeds)", f"{load_s:.3f} s")
        bench_graph("embedded", G, table, nx_pairs=args.nx_pairs, oracle_pairs=args.pairs,
                    seed=args.seed, full_table_max_nodes=5000, hot_sources=256)

    r, c = args.full_grid
    Gf = grid_network(r, c, jitter_m=40.0, seed=args.seed)
    bench_graph(f"grid {r}x{c}", Gf, table, nx_pairs=args.nx_pairs, oracle_pairs=args.pairs,
                seed=args.seed, full_table_max_nodes=5000, hot_sources=256)

    r, c = args.grid
    gen_s, Gl = timed(lambda: grid_network(r, c, jitter_m=40.0, seed=args.seed))
    print(f"\n(synthetic {r}x{c} grid generated in {gen_s:.2f} s)")
    bench_graph(f"grid {r}x{c}", Gl, table, nx_pairs=max(20, args.nx_pairs // 3),
                oracle_pairs=args.pairs, seed=args.seed,
                full_table_max_nodes=min(5000, Gl.number_of_nodes() - 1), hot_sources=256)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
