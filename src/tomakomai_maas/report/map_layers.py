"""What the comparison map draws besides the road network: lines along their roads and DRT.

Only geometry for drawing (no KPI is computed here):

``routed_line_patterns(world, G, speed_factor=...)``
    the most frequent stop sequence of each route and direction
    (:func:`tomakomai_maas.metrics.compare.line_patterns`) routed along the road graph: between
    consecutive stops the fastest drive path of the line's vehicle type (the oracle the World's
    ``leg_time_s``/``leg_dist_m`` came from: ``network.speed_factor`` and the vehicle type's
    ``cruise_speed_kph`` cap), drawn through the edges' ``geometry`` when they have one (as
    :mod:`tomakomai_maas.report.gis` ``lines`` layer does). Same columns as ``line_patterns``;
    a stop's point is its road node (the line stays on the road; the stop itself is drawn
    from ``world.stops``), points between stops have ``stop_id == ""``. A leg without a road
    path (or a stop whose node does not belong to ``G``: drawn at its own position) is
    straight.
``drt_map_data(world)``
    the World's on-demand service for the map: its area polygon (``None`` = the whole
    network, nothing to draw), virtual stops (stop-based service) and depots.

Paths come from :meth:`TravelTimes.path <tomakomai_maas.network.TravelTimes.path>` on oracles
built lazily (no all-pairs table; one Dijkstra per leg, cached), so a map stays cheap on large
graphs.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tomakomai_maas.world import World

__all__ = ["routed_line_patterns", "DrtMapData", "drt_map_data", "LINE_COLUMNS"]

LINE_COLUMNS = ("route_id", "route_name", "direction_id", "seq", "stop_id", "lat", "lon")
_EARTH_M = 6_371_008.8


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * _EARTH_M * math.asin(math.sqrt(min(1.0, a)))


class _Paths:
    """Fastest-path node sequences on ``G`` per speed cap (lazy oracles, cached paths)."""

    def __init__(self, G: Any, speed_factor: float) -> None:
        self.G = G
        self.speed_factor = speed_factor
        self.nodes = list(G.nodes)
        self._oracles: dict[float | None, Any] = {}
        self._paths: dict[tuple[float | None, int, int], list[int]] = {}

    def oracle(self, cap: float | None) -> Any:
        if cap not in self._oracles:
            from tomakomai_maas.network import SpeedSettings, TravelTimes

            self._oracles[cap] = TravelTimes(
                self.G, speeds=SpeedSettings(speed_factor=self.speed_factor, max_speed_kph=cap),
                full_table_max_nodes=0, row_cache_size=1)
        return self._oracles[cap]

    def path(self, cap: float | None, i: int, j: int) -> list[int]:
        """Node indices of the fastest path ``i -> j`` (``[]`` if none)."""
        key = (cap, i, j)
        if key not in self._paths:
            self._paths[key] = self.oracle(cap).path(i, j)
        return self._paths[key]

    def edge_coords(self, a: int, b: int) -> list[tuple[float, float]]:
        """(lon, lat) points of the shortest edge ``a -> b`` (its geometry when present)."""
        u, v = self.nodes[a], self.nodes[b]
        data = min(self.G[u][v].values(),
                   key=lambda d: float(d.get("length_m", d.get("length", 0.0)) or 0.0))
        geom = data.get("geometry")
        if geom is not None and hasattr(geom, "coords"):
            return [(float(x), float(y)) for x, y, *_ in geom.coords]
        return [(float(self.G.nodes[u]["x"]), float(self.G.nodes[u]["y"])),
                (float(self.G.nodes[v]["x"]), float(self.G.nodes[v]["y"]))]


def _stop_node(world: World, sid: str, paths: _Paths) -> int | None:
    """The stop's node index in ``G`` if it is the node the World snapped it to (same graph,
    same node order: the node lies ``snap_m`` from the stop), else ``None``."""
    s = world.stops[sid]
    if not (0 <= s.node < len(paths.nodes)):
        return None
    nd = paths.G.nodes[paths.nodes[s.node]]
    d = _haversine_m(s.lat, s.lon, float(nd["y"]), float(nd["x"]))
    return s.node if abs(d - float(s.snap_m)) <= max(1.0, 0.01 * float(s.snap_m)) else None


def _add(pts: list[tuple[str, float, float]], sid: str, lon: float, lat: float) -> None:
    """Append a point unless it repeats the last one (a stop's own point keeps its id)."""
    if pts and (pts[-1][1], pts[-1][2]) == (lon, lat):
        if sid and not pts[-1][0]:
            pts[-1] = (sid, lon, lat)
        return
    pts.append((sid, lon, lat))


def routed_line_patterns(world: World, G: Any, *, speed_factor: float = 1.0) -> pd.DataFrame:
    """Each route's most frequent stop pattern per direction, along the road (see module)."""
    pats: dict[tuple[str, int], Counter[tuple[str, ...]]] = {}
    vtype: dict[tuple[str, int, tuple[str, ...]], str] = {}
    names: dict[str, str] = {}
    for t in world.trips:
        pats.setdefault((t.route_id, t.direction_id), Counter())[t.stop_ids] += 1
        vtype.setdefault((t.route_id, t.direction_id, t.stop_ids), t.vehicle_type)
        names[t.route_id] = t.route_name
    paths = _Paths(G, speed_factor)
    rows: list[dict[str, Any]] = []
    for (rid, d) in sorted(pats):
        seq = max(pats[(rid, d)].items(), key=lambda kv: (kv[1], kv[0]))[0]
        vt = world.vehicle_types.get(vtype[(rid, d, seq)])
        cap = vt.cruise_speed_kph if vt is not None else None
        pts: list[tuple[str, float, float]] = []  # (stop_id or "", lon, lat)
        nodes = [_stop_node(world, sid, paths) for sid in seq]
        for k, sid in enumerate(seq):
            if k > 0 and nodes[k - 1] is not None and nodes[k] is not None:
                leg = paths.path(cap, nodes[k - 1], nodes[k])
                for e0, e1 in zip(leg[:-1], leg[1:], strict=False):
                    for lon, lat in paths.edge_coords(e0, e1):
                        _add(pts, "", lon, lat)
            if nodes[k] is not None:  # the stop's road node: the line stays on the road
                nd = G.nodes[paths.nodes[nodes[k]]]
                _add(pts, sid, float(nd["x"]), float(nd["y"]))
            else:
                _add(pts, sid, world.stops[sid].lon, world.stops[sid].lat)
        for i, (sid, lon, lat) in enumerate(pts):
            rows.append({"route_id": rid, "route_name": names[rid], "direction_id": d,
                         "seq": i, "stop_id": sid, "lat": lat, "lon": lon})
    return pd.DataFrame(rows, columns=list(LINE_COLUMNS))


@dataclass(frozen=True)
class DrtMapData:
    """The on-demand service as drawn on a map (``lat``/``lon`` in degrees)."""

    name: str
    area: tuple[tuple[float, float], ...] | None = None  # (lat, lon) polygon; None = everywhere
    stops: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["stop_id", "name", "lat", "lon"]))
    depots: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["vehicle_id", "lat", "lon"]))


def drt_map_data(world: World | None) -> DrtMapData | None:
    """The World's DRT service for the map, or ``None`` when it has none."""
    drt = getattr(world, "drt", None)
    if drt is None:
        return None
    stops = pd.DataFrame([{"stop_id": v.stop_id, "name": v.name, "lat": v.lat, "lon": v.lon}
                          for v in drt.virtual_stops], columns=["stop_id", "name", "lat", "lon"])
    seen: set[tuple[float, float]] = set()
    depots = []
    for v in drt.vehicles:
        p = (float(v.depot_lat), float(v.depot_lon))
        if all(math.isfinite(x) for x in p) and p not in seen:
            seen.add(p)
            depots.append({"vehicle_id": v.vehicle_id, "lat": p[0], "lon": p[1]})
    area = tuple((float(a), float(b)) for a, b in drt.area) if drt.area else None
    return DrtMapData(str(drt.name), area, stops,
                      pd.DataFrame(depots, columns=["vehicle_id", "lat", "lon"]))
