"""What the comparison map draws besides the road network: lines along their roads and DRT.

Only geometry for drawing (no KPI is computed here):

``routed_line_patterns(world, G, speed_factor=...)``
    the most frequent stop sequence of each route and direction
    (:func:`tomakomai_maas.metrics.compare.line_patterns`) routed along the road graph: between
    consecutive stops the fastest drive path of the line's vehicle type (the oracle the World's
    ``leg_time_s``/``leg_dist_m`` came from: ``network.speed_factor`` and the vehicle type's
    ``cruise_speed_kph`` cap), drawn through the edges' ``geometry`` when they have one.
    Same columns as ``line_patterns``;
    a stop's point is its road node (the line stays on the road; the stop itself is drawn
    from ``world.stops``), points between stops have ``stop_id == ""``. A leg without a road
    path (or a stop whose node does not belong to ``G``: drawn at its own position) is
    straight.
``drt_map_data(world, boardings=None)``
    the World's on-demand service for the map: its area polygon (``None`` = the whole
    network, nothing to draw), virtual stops (stop-based service; with their boardings per
    day when given) and depots.
``offset_polyline(lon, lat, offset_m)``
    a line moved sideways to the left of its direction of travel (the map draws the two
    directions of a line side by side, as traffic keeps left in Japan).
``size_legend_values(top)``
    round reference values for the legend of circle sizes.

Routing is :class:`LineRouter`, shared with the GIS export's ``lines`` layer
(:mod:`tomakomai_maas.report.gis`): paths come from :meth:`TravelTimes.path
<tomakomai_maas.network.TravelTimes.path>` on the run's drive oracles or on oracles built
lazily from ``G`` (no all-pairs table; one Dijkstra per leg, cached), so a map stays cheap
on large graphs.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tomakomai_maas.world import World

__all__ = ["routed_line_patterns", "LineRouter", "vehicle_cap", "DrtMapData", "drt_map_data",
           "LINE_COLUMNS", "offset_polyline", "nice_below", "size_legend_values"]

LINE_COLUMNS = ("route_id", "route_name", "direction_id", "seq", "stop_id", "lat", "lon")
_EARTH_M = 6_371_008.8


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * _EARTH_M * math.asin(math.sqrt(min(1.0, a)))


def vehicle_cap(world: World, vehicle_type: str) -> float | None:
    """The speed cap (km/h) of a vehicle type in ``world`` (``None``: unknown type / no cap)."""
    vt = world.vehicle_types.get(vehicle_type)
    return vt.cruise_speed_kph if vt is not None else None


class LineRouter:
    """Road paths of timetabled lines on ``G``: the one routing of the map and the GIS export.

    Between consecutive stops the fastest drive path of the line's vehicle type
    (``oracle(cap)``), drawn through the edges' ``geometry`` when present. ``oracles``: the
    drive oracles of the run (``BuildContext.drive_oracles``, keyed by speed cap; a cap
    not among them uses the first); without them oracles are built lazily from ``G`` with
    ``speed_factor`` (no all-pairs table, one Dijkstra per leg, cached paths).
    """

    def __init__(self, G: Any, *, speed_factor: float = 1.0,
                 oracles: Mapping[float | None, Any] | None = None) -> None:
        self.G = G
        self.speed_factor = speed_factor
        self._given = dict(oracles) if oracles else None
        self._oracles: dict[float | None, Any] = {}
        self._paths: dict[tuple[int, int, int], list[int]] = {}

    def oracle(self, cap: float | None) -> Any:
        if self._given is not None:
            return self._given[cap] if cap in self._given else next(iter(self._given.values()))
        if cap not in self._oracles:
            from tomakomai_maas.network import SpeedSettings, TravelTimes

            self._oracles[cap] = TravelTimes(
                self.G, speeds=SpeedSettings(speed_factor=self.speed_factor, max_speed_kph=cap),
                full_table_max_nodes=0, row_cache_size=1)
        return self._oracles[cap]

    def path(self, oracle: Any, i: int, j: int) -> list[int]:
        """Oracle node indices of the fastest path ``i -> j`` (``[]`` if none)."""
        key = (id(oracle), int(i), int(j))
        if key not in self._paths:
            self._paths[key] = list(oracle.path(int(i), int(j)))
        return self._paths[key]

    def _node_id(self, oracle: Any, i: int) -> Any:
        x = oracle.node_ids[i]
        return x.item() if hasattr(x, "item") else x

    def edge_coords(self, oracle: Any, a: int, b: int) -> list[tuple[float, float]]:
        """(lon, lat) points of the shortest edge ``a -> b`` (its geometry when present)."""
        u, v = self._node_id(oracle, a), self._node_id(oracle, b)
        data = min(self.G[u][v].values(),
                   key=lambda d: float(d.get("length_m", d.get("length", 0.0)) or 0.0))
        geom = data.get("geometry")
        if geom is not None and hasattr(geom, "coords"):
            return [(float(x), float(y)) for x, y, *_ in geom.coords]
        return [(float(self.G.nodes[u]["x"]), float(self.G.nodes[u]["y"])),
                (float(self.G.nodes[v]["x"]), float(self.G.nodes[v]["y"]))]

    def stop_node(self, world: World, sid: str, oracle: Any) -> int | None:
        """The stop's oracle node index if it is the node the World snapped it to (same
        graph, same node order: the node lies ``snap_m`` from the stop), else ``None``."""
        s = world.stops[sid]
        if not (0 <= s.node < len(oracle.node_ids)):
            return None
        nid = self._node_id(oracle, s.node)
        if nid not in self.G.nodes:
            return None
        nd = self.G.nodes[nid]
        d = _haversine_m(s.lat, s.lon, float(nd["y"]), float(nd["x"]))
        return s.node if abs(d - float(s.snap_m)) <= max(1.0, 0.01 * float(s.snap_m)) else None

    def route(self, world: World, stop_ids: Sequence[str], cap: float | None
              ) -> list[tuple[str, float, float]]:
        """``(stop_id or "", lon, lat)`` along the road through ``stop_ids``: a stop's point is
        its road node (a stop whose node is not in ``G`` is drawn at its own position), the
        points between stops have ``""``; a leg without a road path is straight."""
        oracle = self.oracle(cap)
        pts: list[tuple[str, float, float]] = []
        nodes = [self.stop_node(world, sid, oracle) for sid in stop_ids]
        for k, sid in enumerate(stop_ids):
            a, b = (nodes[k - 1], nodes[k]) if k > 0 else (None, None)
            if a is not None and b is not None:
                leg = self.path(oracle, a, b)
                for e0, e1 in zip(leg[:-1], leg[1:], strict=False):
                    for lon, lat in self.edge_coords(oracle, e0, e1):
                        _add(pts, "", lon, lat)
            if nodes[k] is not None:  # the stop's road node: the line stays on the road
                nd = self.G.nodes[self._node_id(oracle, nodes[k])]
                _add(pts, sid, float(nd["x"]), float(nd["y"]))
            else:
                _add(pts, sid, world.stops[sid].lon, world.stops[sid].lat)
        return pts


def _add(pts: list[tuple[str, float, float]], sid: str, lon: float, lat: float) -> None:
    """Append a point unless it repeats the last one (a stop's own point keeps its id)."""
    if pts and (pts[-1][1], pts[-1][2]) == (lon, lat):
        if sid and not pts[-1][0]:
            pts[-1] = (sid, lon, lat)
        return
    pts.append((sid, lon, lat))


def routed_line_patterns(world: World, G: Any, *, speed_factor: float = 1.0,
                         router: LineRouter | None = None) -> pd.DataFrame:
    """Each route's most frequent stop pattern per direction, along the road (see module)."""
    pats: dict[tuple[str, int], Counter[tuple[str, ...]]] = {}
    vtype: dict[tuple[str, int, tuple[str, ...]], str] = {}
    names: dict[str, str] = {}
    for t in world.trips:
        pats.setdefault((t.route_id, t.direction_id), Counter())[t.stop_ids] += 1
        vtype.setdefault((t.route_id, t.direction_id, t.stop_ids), t.vehicle_type)
        names[t.route_id] = t.route_name
    router = router or LineRouter(G, speed_factor=speed_factor)
    rows: list[dict[str, Any]] = []
    for (rid, d) in sorted(pats):
        seq = max(pats[(rid, d)].items(), key=lambda kv: (kv[1], kv[0]))[0]
        pts = router.route(world, seq, vehicle_cap(world, vtype[(rid, d, seq)]))
        for i, (sid, lon, lat) in enumerate(pts):
            rows.append({"route_id": rid, "route_name": names[rid], "direction_id": d,
                         "seq": i, "stop_id": sid, "lat": lat, "lon": lon})
    return pd.DataFrame(rows, columns=list(LINE_COLUMNS))


def offset_polyline(lon: Any, lat: Any, offset_m: float, *, miter_limit: float = 4.0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The polyline moved ``offset_m`` metres to the **left** of its direction of travel.

    Traffic in Japan keeps left, so with a positive offset the two directions of a line on
    the same road are drawn side by side, each on its own side (negative: to the right).
    Computed on a local equirectangular projection (metres) of the polyline: every segment
    becomes the parallel segment at distance ``|offset_m|``; at a bend the two parallels
    meet at their intersection (mitre), or, for a turn so sharp that the mitre would reach
    farther than ``miter_limit`` × the offset (a U-turn), both segment ends are kept
    (bevel). Repeated points are dropped first. Returns ``(lon, lat)`` arrays.
    """
    from tomakomai_maas.demand.zones import local_xy_km, offset_latlon

    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if lon.size == 0:
        return lon.copy(), lat.copy()
    keep = np.ones(lon.size, dtype=bool)
    keep[1:] = (np.diff(lon) != 0) | (np.diff(lat) != 0)
    lon, lat = lon[keep], lat[keep]
    if lon.size < 2 or offset_m == 0:
        return lon.copy(), lat.copy()
    lat0, lon0 = float(np.mean(lat)), float(np.mean(lon))
    x, y = local_xy_km(lat, lon, lat0, lon0)
    p = np.column_stack([x, y]) * 1000.0  # metres
    t = np.diff(p, axis=0)
    t /= np.linalg.norm(t, axis=1)[:, None]
    n = np.column_stack([-t[:, 1], t[:, 0]])  # left normals
    d = float(offset_m)
    out = [p[0] + d * n[0]]
    for i in range(1, len(p) - 1):
        m = n[i - 1] + n[i]
        cos_half = float(np.linalg.norm(m)) / 2.0  # cos of half the turn angle
        if cos_half >= 1.0 / miter_limit:
            out.append(p[i] + d * m / (2.0 * cos_half ** 2))
        else:  # bevel: both segments end at their own parallel
            out += [p[i] + d * n[i - 1], p[i] + d * n[i]]
    out.append(p[-1] + d * n[-1])
    q = np.asarray(out) / 1000.0
    la, lo = offset_latlon(lat0, lon0, q[:, 0], q[:, 1])
    return np.asarray(lo, dtype=float), np.asarray(la, dtype=float)


def nice_below(x: float) -> float:
    """The largest number 1, 2 or 5 × 10^k not above ``x`` (``x`` > 0)."""
    if not (x > 0 and math.isfinite(x)):
        raise ValueError(f"nice_below needs a positive finite number, got {x!r}")
    k = math.floor(math.log10(x))
    for m in (5.0, 2.0, 1.0):
        v = m * 10.0 ** k
        if v <= x * (1 + 1e-12):
            return float(f"{v:.12g}")
    return float(f"{10.0 ** (k - 1) * 5:.12g}")  # pragma: no cover - float edge


def size_legend_values(top: float) -> list[float]:
    """Reference values for a legend of marker sizes: round numbers (1, 2, 5 × 10^k) at
    most ``top``, about ``top``, ``top``/3 and ``top``/10, largest first, no repeats
    (``[]`` when ``top`` is not positive)."""
    if not (top > 0 and math.isfinite(top)):
        return []
    vals: list[float] = []
    for f in (1.0, 3.0, 10.0):
        v = nice_below(top / f)
        if v not in vals:
            vals.append(v)
    return vals


@dataclass(frozen=True)
class DrtMapData:
    """The on-demand service as drawn on a map (``lat``/``lon`` in degrees).

    ``stops`` has ``stop_id``, ``name``, ``lat``, ``lon`` and, when the run's tables were
    given, ``boardings`` (mean per day, :func:`tomakomai_maas.metrics.compare.
    drt_stop_boardings`)."""

    name: str
    area: tuple[tuple[float, float], ...] | None = None  # (lat, lon) polygon; None = everywhere
    stops: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["stop_id", "name", "lat", "lon"]))
    depots: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["vehicle_id", "lat", "lon"]))


def drt_map_data(world: World | None, boardings: pd.DataFrame | None = None
                 ) -> DrtMapData | None:
    """The World's DRT service for the map, or ``None`` when it has none.

    ``boardings``: a :func:`~tomakomai_maas.metrics.compare.drt_stop_boardings` frame; its
    ``boardings`` are joined to the virtual stops by ``stop_id`` (0 for a stop not in it).
    """
    drt = getattr(world, "drt", None)
    if drt is None:
        return None
    stops = pd.DataFrame([{"stop_id": v.stop_id, "name": v.name, "lat": v.lat, "lon": v.lon}
                          for v in drt.virtual_stops], columns=["stop_id", "name", "lat", "lon"])
    if boardings is not None:
        per = dict(zip(boardings["stop_id"].astype(str), boardings["boardings"].astype(float),
                       strict=True))
        stops["boardings"] = [per.get(str(s), 0.0) for s in stops["stop_id"]]
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
