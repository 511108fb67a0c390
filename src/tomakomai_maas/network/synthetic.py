"""Synthetic road-like graphs for tests and benchmarks (no OSM needed)."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np

from tomakomai_maas.network._util import EARTH_RADIUS_M
from tomakomai_maas.network.speeds import SpeedSettings, add_edge_speeds

__all__ = ["grid_network"]

_CLASSES = (("residential", 0.70), ("tertiary", 0.15), ("secondary", 0.10), ("primary", 0.05))


def grid_network(
    rows: int,
    cols: int,
    *,
    spacing_m: float = 150.0,
    jitter_m: float = 0.0,
    seed: int = 0,
    origin: tuple[float, float] = (42.6398, 141.5968),
    speeds: SpeedSettings | None = None,
) -> nx.MultiDiGraph:
    """A ``rows x cols`` street grid south-east of ``origin`` (lat, lon), two-way streets.

    Each street (a whole row or column) gets a random road class (mostly ``residential``,
    some ``tertiary``/``secondary``/``primary``), so speeds vary as in a town. ``jitter_m``
    moves every node randomly (uniform in a square of that half-width), which makes edge
    lengths and travel times differ. Edges carry the same attributes as
    :func:`~tomakomai_maas.network.load_network` output. Deterministic for a given ``seed``.
    """
    if rows < 1 or cols < 1:
        raise ValueError(f"grid_network needs rows, cols >= 1, got {rows} x {cols}")
    rng = np.random.default_rng(seed)
    lat0, lon0 = origin
    m_per_deg_lat = math.pi * EARTH_RADIUS_M / 180.0
    m_per_deg_lon = m_per_deg_lat * math.cos(math.radians(lat0))
    names, probs = zip(*_CLASSES, strict=True)
    row_class = rng.choice(names, size=rows, p=probs)
    col_class = rng.choice(names, size=cols, p=probs)
    jitter = rng.uniform(-jitter_m, jitter_m, size=(rows, cols, 2)) if jitter_m > 0 else np.zeros(
        (rows, cols, 2))
    G = nx.MultiDiGraph(crs="epsg:4326", source=f"synthetic:grid-{rows}x{cols}-seed{seed}")
    for r in range(rows):
        for c in range(cols):
            y_m = -r * spacing_m + jitter[r, c, 0]
            x_m = c * spacing_m + jitter[r, c, 1]
            G.add_node(r * cols + c, y=lat0 + y_m / m_per_deg_lat, x=lon0 + x_m / m_per_deg_lon)

    def add(a: int, b: int, highway: str) -> None:
        ya, xa = G.nodes[a]["y"] * m_per_deg_lat, G.nodes[a]["x"] * m_per_deg_lon
        yb, xb = G.nodes[b]["y"] * m_per_deg_lat, G.nodes[b]["x"] * m_per_deg_lon
        length = float(math.hypot(ya - yb, xa - xb))
        for u, v in ((a, b), (b, a)):
            G.add_edge(u, v, length=length, highway=str(highway), oneway=False)

    for r in range(rows):
        for c in range(cols):
            n = r * cols + c
            if c + 1 < cols:
                add(n, n + 1, row_class[r])
            if r + 1 < rows:
                add(n, n + cols, col_class[c])
    return add_edge_speeds(G, speeds)
