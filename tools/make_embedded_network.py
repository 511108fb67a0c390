#!/usr/bin/env python3
"""Generate the embedded, schematic OSM road network of Tomakomai.

Reads ``tools/network_spec.yaml`` (landmarks, corridors, street grids) and writes

* ``src/tomakomai_maas/network/data/tomakomai_central.osm`` - OSM XML 0.6, parseable by
  ``osmnx.graph_from_xml``;
* ``src/tomakomai_maas/network/data/landmarks.csv`` - the anchor points.

The output is deterministic: same spec -> byte-identical files (node ids are derived from the
node position, so unchanged nodes keep their id when the spec is edited; coordinates are
written with 7 decimals; there are no timestamps).

How the geometry is built
-------------------------
1. Every position is converted to metres on a local tangent plane centred on the first
   landmark (JR Tomakomai Station).  Spec positions are either published lat/lon, a landmark
   key, or ``[u, v]`` metres in a named *frame* (origin + bearing; ``u`` along the bearing,
   ``v`` 90 degrees to its left).
2. Corridors are polylines; grids are families of straight streets along/across the frame
   axis, clipped to a polygon minus exclusion polygons (factory site, rail corridor, water).
3. Street ends lying within a few metres of another street are snapped onto it; all
   crossings become shared nodes (every road is at grade unless tagged ``bridge``/``no_junction``).
4. A few grid blocks are removed (seeded) to break the chessboard look, but only when the
   driving graph stays strongly connected.
5. Checks: strongly connected directed graph, no isolated piece, every *published* landmark
   has a junction or dead-end node within 50 m.  Any failure aborts without writing.

Usage::

    python tools/make_embedded_network.py                      # regenerate package data
    python tools/make_embedded_network.py --out-osm /tmp/x.osm --out-landmarks /tmp/l.csv
    python tools/make_embedded_network.py --plot /tmp/network.png   # also draw a map
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = ROOT / "tools" / "network_spec.yaml"
DATA_DIR = ROOT / "src" / "tomakomai_maas" / "network" / "data"
DEFAULT_OSM = DATA_DIR / "tomakomai_central.osm"
DEFAULT_LANDMARKS = DATA_DIR / "landmarks.csv"

EARTH_RADIUS_M = 6_371_008.8
MERGE_TOL_M = 2.0  # points closer than this become one node
SNAP_TOL_M = 6.0  # street ends closer than this to another street are snapped onto it
MIN_PIECE_M = 25.0  # clipped grid pieces shorter than this are dropped
CONSOLIDATE_M = 10.0  # junctions closer than this along a street become one node
LANDMARK_COLUMNS = ["key", "name", "name_en", "lat", "lon", "kind", "confidence", "source"]
TAG_ORDER_FIRST = ("highway",)


class SpecError(ValueError):
    """The network spec is inconsistent (message names the offending item)."""


# --------------------------------------------------------------------------- geometry
@dataclass(frozen=True)
class Plane:
    """Equirectangular local tangent plane around (lat0, lon0); x east, y north, metres."""

    lat0: float
    lon0: float

    def to_xy(self, lat: float, lon: float) -> tuple[float, float]:
        k = math.pi / 180.0 * EARTH_RADIUS_M
        return ((lon - self.lon0) * k * math.cos(math.radians(self.lat0)), (lat - self.lat0) * k)

    def to_latlon(self, x: float, y: float) -> tuple[float, float]:
        k = math.pi / 180.0 * EARTH_RADIUS_M
        return (self.lat0 + y / k, self.lon0 + x / (k * math.cos(math.radians(self.lat0))))


@dataclass(frozen=True)
class Frame:
    """Origin + bearing (degrees clockwise from north). u along bearing, v to its left."""

    ox: float
    oy: float
    bearing_deg: float

    def to_xy(self, u: float, v: float) -> tuple[float, float]:
        b = math.radians(self.bearing_deg)
        eu = (math.sin(b), math.cos(b))
        ev = (-math.cos(b), math.sin(b))
        return (self.ox + u * eu[0] + v * ev[0], self.oy + u * eu[1] + v * ev[1])

    def to_uv(self, x: float, y: float) -> tuple[float, float]:
        b = math.radians(self.bearing_deg)
        dx, dy = x - self.ox, y - self.oy
        return (dx * math.sin(b) + dy * math.cos(b), -dx * math.cos(b) + dy * math.sin(b))


def point_in_polygon(p: tuple[float, float], poly: list[tuple[float, float]]) -> bool:
    x, y = p
    inside = False
    n = len(poly)
    for i in range(n):
        x1, y1 = poly[i]
        x2, y2 = poly[(i + 1) % n]
        if (y1 > y) != (y2 > y):
            xc = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            if xc > x:
                inside = not inside
    return inside


def seg_line_params(a, b, poly) -> list[float]:
    """Parameters t in (0, 1) where segment a->b crosses the polygon boundary."""
    out = []
    dx, dy = b[0] - a[0], b[1] - a[1]
    n = len(poly)
    for i in range(n):
        c, d = poly[i], poly[(i + 1) % n]
        ex, ey = d[0] - c[0], d[1] - c[1]
        den = dx * ey - dy * ex
        if abs(den) < 1e-12:
            continue
        t = ((c[0] - a[0]) * ey - (c[1] - a[1]) * ex) / den
        s = ((c[0] - a[0]) * dy - (c[1] - a[1]) * dx) / den
        if 0.0 < t < 1.0 and -1e-12 <= s <= 1.0 + 1e-12:
            out.append(t)
    return out


def clip_segment(a, b, clip, excludes) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    ts = {0.0, 1.0}
    for poly in [clip, *excludes]:
        ts.update(seg_line_params(a, b, poly))
    ts_sorted = sorted(ts)
    pieces = []
    for t0, t1 in zip(ts_sorted, ts_sorted[1:], strict=False):
        tm = 0.5 * (t0 + t1)
        mid = (a[0] + tm * (b[0] - a[0]), a[1] + tm * (b[1] - a[1]))
        if point_in_polygon(mid, clip) and not any(point_in_polygon(mid, e) for e in excludes):
            p0 = (a[0] + t0 * (b[0] - a[0]), a[1] + t0 * (b[1] - a[1]))
            p1 = (a[0] + t1 * (b[0] - a[0]), a[1] + t1 * (b[1] - a[1]))
            if pieces and pieces[-1][1] == p0:
                pieces[-1] = (pieces[-1][0], p1)
            else:
                pieces.append((p0, p1))
    return [(p, q) for p, q in pieces if math.dist(p, q) >= MIN_PIECE_M]


def project_on_segment(p, a, b) -> tuple[float, tuple[float, float], float]:
    dx, dy = b[0] - a[0], b[1] - a[1]
    L2 = dx * dx + dy * dy
    t = 0.0 if L2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / L2))
    q = (a[0] + t * dx, a[1] + t * dy)
    return t, q, math.dist(p, q)


# --------------------------------------------------------------------------- model
@dataclass
class Road:
    """One named street polyline (becomes one or more OSM ways)."""

    rid: str
    points: list[tuple[float, float]]
    tags: dict[str, str]
    droppable: bool = False
    junctions: bool = True  # False: crosses others without sharing nodes (bridges)
    snap_m: float = SNAP_TOL_M  # how far this road's ends may be moved onto another road
    inserts: dict[int, list[tuple[float, tuple[float, float]]]] = field(
        default_factory=lambda: defaultdict(list)
    )


class NodeRegistry:
    """Deduplicates points within MERGE_TOL_M using a spatial hash."""

    def __init__(self) -> None:
        self.xy: list[tuple[float, float]] = []
        self._cells: dict[tuple[int, int], list[int]] = defaultdict(list)

    def get(self, p: tuple[float, float]) -> int:
        cx, cy = int(math.floor(p[0] / 10.0)), int(math.floor(p[1] / 10.0))
        best, best_d = -1, MERGE_TOL_M
        for i in (cx - 1, cx, cx + 1):
            for j in (cy - 1, cy, cy + 1):
                for n in self._cells[(i, j)]:
                    d = math.dist(self.xy[n], p)
                    if d <= best_d:
                        best, best_d = n, d
        if best >= 0:
            return best
        self.xy.append(p)
        self._cells[(cx, cy)].append(len(self.xy) - 1)
        return len(self.xy) - 1


class Spec:
    def __init__(self, raw: dict) -> None:
        self.raw = raw
        lms = raw["landmarks"]
        first = lms[0]
        if "lat" not in first:
            raise SpecError("landmarks[0] must have published lat/lon (it defines the plane)")
        self.plane = Plane(float(first["lat"]), float(first["lon"]))
        self.landmark_xy: dict[str, tuple[float, float]] = {}
        self.frames: dict[str, Frame] = {}
        # published landmarks first (frames may depend on them), then frames, then the rest
        for lm in lms:
            if "lat" in lm:
                self.landmark_xy[lm["key"]] = self.plane.to_xy(float(lm["lat"]), float(lm["lon"]))
        for name, fr in raw["frames"].items():
            ox, oy = self.resolve(fr["origin"], None)
            b = fr["bearing_deg"]
            if isinstance(b, dict):  # bearing from one point towards another
                tx, ty = self.resolve(b["towards"], None)
                fx, fy = self.resolve(b.get("from", fr["origin"]), None)
                b = math.degrees(math.atan2(tx - fx, ty - fy)) % 360.0
            self.frames[name] = Frame(ox, oy, float(b))
        for lm in lms:
            if "lat" not in lm:
                if "at" not in lm:
                    raise SpecError(f"landmark {lm['key']!r}: needs lat/lon or 'at'")
                self.landmark_xy[lm["key"]] = self.resolve(lm["at"], lm.get("frame", "rail"))

    def resolve(self, wp, frame: str | None) -> tuple[float, float]:
        """Waypoint -> plane xy. Forms: 'landmark_key', [u, v], {frame: [u, v]}, {latlon: [..]}."""
        if isinstance(wp, str):
            if wp not in self.landmark_xy:
                raise SpecError(f"unknown landmark key {wp!r} (known: {sorted(self.landmark_xy)})")
            return self.landmark_xy[wp]
        if isinstance(wp, list | tuple) and len(wp) == 2:
            if frame is None or frame not in self.frames:
                raise SpecError(f"waypoint {wp!r} needs a known frame, got {frame!r}")
            return self.frames[frame].to_xy(float(wp[0]), float(wp[1]))
        if isinstance(wp, dict) and len(wp) == 1:
            (k, val), = wp.items()
            if k == "latlon":
                return self.plane.to_xy(float(val[0]), float(val[1]))
            return self.resolve(list(val), k)
        raise SpecError(f"bad waypoint {wp!r}; use a landmark key, [u, v], {{frame: [u, v]}}"
                        " or {latlon: [lat, lon]}")


def road_tags(base: dict, classes: dict) -> dict[str, str]:
    tags: dict[str, str] = {}
    cls = base.get("class")
    if cls is not None:
        if cls not in classes:
            raise SpecError(f"unknown road class {cls!r}; known: {sorted(classes)}")
        tags.update({k: str(v) for k, v in classes[cls].items()})
    for k, v in base.items():
        if k in {"class", "points", "id", "no_junction", "snap_m", "frame", "name_source"}:
            continue
        tags[k] = str(v)
    tags["source"] = "tomakomai-maas schematic (assumed geometry)"
    tags["tomakomai_maas:name_source"] = str(base.get("name_source", "assumed"))
    return tags


def expand_values(spec_vals) -> list[float]:
    if isinstance(spec_vals, dict):
        start, stop, step = spec_vals["start"], spec_vals["stop"], spec_vals["step"]
        n = int(round((stop - start) / step))
        vals = [start + i * step for i in range(n + 1)]
        skip = set(spec_vals.get("skip", []))
        return [float(v) for v in vals if v not in skip]
    return [float(v) for v in spec_vals]


def build_roads(spec: Spec) -> list[Road]:
    raw = spec.raw
    classes = raw["classes"]
    roads: list[Road] = []
    for c in raw["corridors"]:
        frame = c.get("frame", "rail")
        pts = [spec.resolve(w, frame) for w in c["points"]]
        roads.append(Road(c["id"], pts, road_tags(c, classes), droppable=False,
                          junctions=not c.get("no_junction", False),
                          snap_m=float(c.get("snap_m", SNAP_TOL_M))))
    for lm in raw["landmarks"]:
        if "gate" not in lm:
            continue
        gate = spec.resolve(lm["gate"], lm.get("frame", "rail"))
        tags = road_tags({"class": "access", "name": f"{lm['name']}入口(仮称)",
                          "name:en": f"{lm['name_en']} entrance (placeholder)"}, classes)
        roads.append(Road(f"gate:{lm['key']}", [spec.landmark_xy[lm["key"]], gate], tags))
    for g in raw["grids"]:
        fr = spec.frames[g.get("frame", "rail")]
        clip = [fr.to_xy(*p) for p in g["clip"]]
        excludes = [[fr.to_xy(*p) for p in poly] for poly in g.get("exclude", [])]
        us, vs = expand_values(g["u_lines"]), expand_values(g["v_lines"])
        umin, umax = min(p[0] for p in g["clip"]), max(p[0] for p in g["clip"])
        vmin, vmax = min(p[1] for p in g["clip"]), max(p[1] for p in g["clip"])
        for axis, values in (("along", vs), ("across", us)):
            templ = g[axis]
            oneway = {float(k): d for k, d in (templ.get("oneway") or {}).items()}
            for i, val in enumerate(values, start=1):
                if axis == "along":  # street parallel to the frame axis, constant v
                    a, b = fr.to_xy(umin - 1, val), fr.to_xy(umax + 1, val)
                else:  # constant u
                    a, b = fr.to_xy(val, vmin - 1), fr.to_xy(val, vmax + 1)
                direction = oneway.get(val)
                for k, (p, q) in enumerate(clip_segment(a, b, clip, excludes)):
                    if direction == "backward":
                        p, q = q, p
                    tags = road_tags({kk: vv for kk, vv in templ.items() if kk != "oneway"},
                                     classes)
                    fmt = {"area": g["area"], "area_en": g["area_en"], "i": i}
                    tags["name"] = templ["name"].format(**fmt)
                    tags["name:en"] = templ["name:en"].format(**fmt)
                    if direction:
                        tags["oneway"] = "yes"
                        tags["lanes"] = "1"
                    roads.append(Road(f"{g['id']}:{axis}:{val:g}:{k}", [p, q], tags,
                                      droppable=direction is None))
    return roads


def snap_endpoints(roads: list[Road]) -> None:
    """Move street ends that stop near (or slightly past) another street onto it."""
    for ri, r in enumerate(roads):
        tol = r.snap_m
        for end in (0, -1):
            p = r.points[end]
            best = None
            for rj, other in enumerate(roads):
                if rj == ri or not other.junctions or not r.junctions:
                    continue
                for k in range(len(other.points) - 1):
                    a, b = other.points[k], other.points[k + 1]
                    if (min(a[0], b[0]) - tol > p[0] or max(a[0], b[0]) + tol < p[0]
                            or min(a[1], b[1]) - tol > p[1] or max(a[1], b[1]) + tol < p[1]):
                        continue
                    t, q, d = project_on_segment(p, a, b)
                    if d <= tol and (best is None or d < best[0]):
                        best = (d, rj, k, t, q)
            if best is not None and best[0] > 1e-9:
                _, rj, k, t, q = best
                r.points[end] = q
                roads[rj].inserts[k].append((t, q))
            elif best is not None:
                _, rj, k, t, q = best
                roads[rj].inserts[k].append((t, q))


def add_crossings(roads: list[Road]) -> None:
    segs = []
    for ri, r in enumerate(roads):
        for k in range(len(r.points) - 1):
            segs.append((ri, k, r.points[k], r.points[k + 1]))
    cell = 300.0
    grid: dict[tuple[int, int], list[int]] = defaultdict(list)
    for si, (_, _, a, b) in enumerate(segs):
        for i in range(int(math.floor(min(a[0], b[0]) / cell)),
                       int(math.floor(max(a[0], b[0]) / cell)) + 1):
            for j in range(int(math.floor(min(a[1], b[1]) / cell)),
                           int(math.floor(max(a[1], b[1]) / cell)) + 1):
                grid[(i, j)].append(si)
    seen = set()
    for members in grid.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                s1, s2 = members[x], members[y]
                if (s1, s2) in seen:
                    continue
                seen.add((s1, s2))
                r1, k1, a, b = segs[s1]
                r2, k2, c, d = segs[s2]
                if r1 == r2 or not roads[r1].junctions or not roads[r2].junctions:
                    continue
                dx, dy = b[0] - a[0], b[1] - a[1]
                ex, ey = d[0] - c[0], d[1] - c[1]
                den = dx * ey - dy * ex
                la, lc = math.hypot(dx, dy), math.hypot(ex, ey)
                if abs(den) < 1e-9 * la * lc:  # parallel: refuse collinear overlaps
                    _, _, dist_c = project_on_segment(c, a, b)
                    _, _, dist_d = project_on_segment(d, a, b)
                    if dist_c < 0.5 and dist_d < 0.5 and min(la, lc) > 1.0:
                        raise SpecError(f"roads {roads[r1].rid!r} and {roads[r2].rid!r} overlap")
                    continue
                t = ((c[0] - a[0]) * ey - (c[1] - a[1]) * ex) / den
                s = ((c[0] - a[0]) * dy - (c[1] - a[1]) * dx) / den
                eps_t, eps_s = 1e-6 / max(la, 1e-9), 1e-6 / max(lc, 1e-9)
                if -eps_t <= t <= 1 + eps_t and -eps_s <= s <= 1 + eps_s:
                    q = (a[0] + t * dx, a[1] + t * dy)
                    roads[r1].inserts[k1].append((min(max(t, 0.0), 1.0), q))
                    roads[r2].inserts[k2].append((min(max(s, 0.0), 1.0), q))


def node_sequences(roads: list[Road], reg: NodeRegistry) -> list[list[int]]:
    seqs = []
    for r in roads:
        seq: list[int] = []
        for k in range(len(r.points) - 1):
            pts = [(0.0, r.points[k])] + sorted(r.inserts.get(k, []))
            for _, p in pts:
                n = reg.get(p)
                if not seq or seq[-1] != n:
                    seq.append(n)
        n = reg.get(r.points[-1])
        if seq[-1] != n:
            seq.append(n)
        seqs.append(seq)
    return seqs


def consolidate(seqs: list[list[int]], n_nodes: int, xy) -> list[list[int]]:
    """Merge junctions joined by a street piece shorter than CONSOLIDATE_M.

    Oblique crossings (e.g. grid streets meeting 国道36号 at 15 degrees) otherwise leave
    slivers a few metres long. The node created first (corridor vertices and landmarks come
    first) represents the cluster, so published points never move.
    """
    parent = list(range(n_nodes))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for seq in seqs:
        for a, b in zip(seq, seq[1:], strict=False):
            if math.dist(xy[a], xy[b]) < CONSOLIDATE_M:
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    out = []
    for seq in seqs:
        new: list[int] = []
        for n in seq:
            r = find(n)
            if not new or new[-1] != r:
                new.append(r)
        out.append(new)
    return out


# --------------------------------------------------------------------------- graph checks
def directed_edges(seq: list[int], oneway: bool) -> list[tuple[int, int]]:
    e = list(zip(seq, seq[1:], strict=False))
    return e if oneway else e + [(v, u) for u, v in e]


def build_digraph(pieces):
    import networkx as nx

    g = nx.MultiDiGraph()
    for pid, (seq, oneway) in pieces.items():
        for u, v in directed_edges(seq, oneway):
            g.add_edge(u, v, key=pid)
    return g


def split_at_junctions(seq: list[int], counts: dict[int, int]) -> list[list[int]]:
    pieces, cur = [], [seq[0]]
    for n in seq[1:]:
        cur.append(n)
        if counts[n] >= 2 and n != seq[-1]:
            pieces.append(cur)
            cur = [n]
    pieces.append(cur)
    return pieces


def drop_blocks(roads, seqs, fraction: float, seed: int):
    """Remove ~fraction of droppable grid pieces while the graph stays strongly connected."""
    import networkx as nx

    counts: dict[int, int] = defaultdict(int)
    for seq in seqs:
        for n in set(seq):
            counts[n] += 1
    for seq in seqs:  # way ends count as junction-ish (keep them)
        counts[seq[0]] += 1
        counts[seq[-1]] += 1
    pieces = {}
    owner = []
    for ri, (r, seq) in enumerate(zip(roads, seqs, strict=True)):
        for pi, piece in enumerate(split_at_junctions(seq, counts)):
            pieces[(ri, pi)] = (piece, r.tags.get("oneway") == "yes")
            owner.append((ri, pi))
    g = build_digraph(pieces)
    if not nx.is_strongly_connected(g):
        return pieces, 0
    candidates = [pid for pid in owner if roads[pid[0]].droppable]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(candidates))
    target = int(round(fraction * len(candidates)))
    dropped = 0
    for idx in order:
        if dropped >= target:
            break
        pid = candidates[int(idx)]
        seq, oneway = pieces[pid]
        if len(seq) != 2 and any(counts[n] >= 2 for n in seq[1:-1]):
            continue
        edges = directed_edges(seq, oneway)
        for u, v in edges:
            g.remove_edge(u, v, key=pid)
        # never create a new dead end: both ends must keep >= 3 neighbours... or 0 pieces
        ends_ok = all(len(set(g.successors(n)) | set(g.predecessors(n))) >= 2
                      for n in (seq[0], seq[-1]))
        isolated = [n for n in seq if g.degree(n) == 0]
        g.remove_nodes_from(isolated)
        if ends_ok and nx.is_strongly_connected(g):
            del pieces[pid]
            dropped += 1
        else:
            for n in isolated:
                g.add_node(n)
            for u, v in edges:
                g.add_edge(u, v, key=pid)
    return pieces, dropped


def merge_pieces(roads, pieces) -> list[tuple[int, list[int]]]:
    """Re-join consecutive kept pieces of each road into ways."""
    by_road: dict[int, list[tuple[int, list[int]]]] = defaultdict(list)
    for (ri, pi), (seq, _) in pieces.items():
        by_road[ri].append((pi, seq))
    ways = []
    for ri in sorted(by_road):
        parts = sorted(by_road[ri])
        cur_pi, cur = parts[0][0], list(parts[0][1])
        for pi, seq in parts[1:]:
            if pi == cur_pi + 1 and seq[0] == cur[-1]:
                cur.extend(seq[1:])
            else:
                ways.append((ri, cur))
                cur = list(seq)
            cur_pi = pi
        ways.append((ri, cur))
    return ways


# --------------------------------------------------------------------------- output
def fmt_coord(v: float) -> str:
    return f"{v:.7f}"


def node_id(lat: float, lon: float) -> int:
    """Positive id derived from the position (1e-5 degree cells, ~1 m).

    A node keeps its id when other parts of the spec change, ids sort south-to-north, and
    they stay below 2**53 so they survive a round trip through float columns.
    """
    return round((lat + 90.0) * 1e5) * 100_000_000 + round((lon + 180.0) * 1e5)


def write_osm(path: Path, plane: Plane, node_xy, roads, ways) -> dict:
    used = sorted({n for _, seq in ways for n in seq})
    latlon = {n: plane.to_latlon(*node_xy[n]) for n in used}
    new_id = {n: node_id(*latlon[n]) for n in used}
    if len(set(new_id.values())) != len(new_id):
        raise SpecError("two nodes share a 1e-5 degree cell; move them apart")
    order = sorted(used, key=new_id.__getitem__)
    lats = [latlon[n][0] for n in used]
    lons = [latlon[n][1] for n in used]
    out = io.StringIO()
    out.write("<?xml version='1.0' encoding='UTF-8'?>\n")
    out.write('<osm version="0.6" generator="tomakomai-maas tools/make_embedded_network.py">\n')
    out.write("  <!-- Schematic road network of Tomakomai, hand-digitised around public landmark "
              "coordinates. NOT survey-grade and NOT OpenStreetMap data. See README.md. -->\n")
    out.write(f'  <bounds minlat="{fmt_coord(min(lats))}" minlon="{fmt_coord(min(lons))}" '
              f'maxlat="{fmt_coord(max(lats))}" maxlon="{fmt_coord(max(lons))}"/>\n')
    for n in order:
        lat, lon = latlon[n]
        out.write(f'  <node id="{new_id[n]}" version="1" lat="{fmt_coord(lat)}" '
                  f'lon="{fmt_coord(lon)}"/>\n')
    for wid, (ri, seq) in enumerate(ways, start=1):
        out.write(f'  <way id="{wid}" version="1">\n')
        for n in seq:
            out.write(f'    <nd ref="{new_id[n]}"/>\n')
        tags = roads[ri].tags
        keys = sorted(tags, key=lambda k: (k not in TAG_ORDER_FIRST, k))
        for k in keys:
            out.write(f'    <tag k="{escape(k)}" v="{escape(tags[k], {chr(34): "&quot;"})}"/>\n')
        out.write("  </way>\n")
    out.write("</osm>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue().encode("utf-8"))
    return {"nodes": len(order), "ways": len(ways), "bytes": len(out.getvalue().encode())}


def write_landmarks(path: Path, spec: Spec) -> None:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(LANDMARK_COLUMNS)
    for lm in spec.raw["landmarks"]:
        lat, lon = spec.plane.to_latlon(*spec.landmark_xy[lm["key"]])
        if "lat" in lm:
            lat, lon = float(lm["lat"]), float(lm["lon"])
        conf = lm["confidence"]
        if conf not in {"published", "assumed"}:
            raise SpecError(f"landmark {lm['key']!r}: confidence must be published|assumed")
        if conf == "published" and "lat" not in lm:
            raise SpecError(f"landmark {lm['key']!r}: published landmarks need lat/lon")
        w.writerow([lm["key"], lm["name"], lm["name_en"], fmt_coord(lat), fmt_coord(lon),
                    lm["kind"], conf, lm["source"]])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue().encode("utf-8"))


# --------------------------------------------------------------------------- checks
def check_network(spec: Spec, node_xy, roads, ways) -> dict:
    import networkx as nx

    g = nx.MultiDiGraph()
    for ri, seq in ways:
        for u, v in directed_edges(seq, roads[ri].tags.get("oneway") == "yes"):
            g.add_edge(u, v)
    problems = []
    if not nx.is_strongly_connected(g):
        comps = sorted(nx.strongly_connected_components(g), key=len)
        problems.append(f"driving graph not strongly connected: {len(comps)} components, "
                        f"smallest at {[node_xy[n] for n in list(comps[0])[:3]]}")
    und = nx.Graph(g.to_undirected())
    kept = [n for n in und if und.degree(n) != 2]  # survives osmnx simplification
    kept_xy = np.array([node_xy[n] for n in kept])
    far = {}
    for lm in spec.raw["landmarks"]:
        p = np.array(spec.landmark_xy[lm["key"]])
        d = float(np.min(np.hypot(*(kept_xy - p).T)))
        far[lm["key"]] = d
        if lm["confidence"] == "published" and d > 50.0:
            problems.append(f"published landmark {lm['key']!r} is {d:.0f} m from a junction")
    if problems:
        raise SpecError("network checks failed:\n  " + "\n  ".join(problems))
    core = spec.raw.get("core_half_size_m", 1500.0)
    inter = sum(1 for n in und if und.degree(n) >= 3
                and abs(node_xy[n][0]) <= core and abs(node_xy[n][1]) <= core)
    lengths = [math.dist(node_xy[u], node_xy[v]) for u, v in und.edges()]
    return {"core_intersections": inter, "min_edge_m": min(lengths), "landmark_gap_m": far}


def plot(path: Path, spec: Spec, node_xy, roads, ways) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width = {"trunk": 2.2, "primary": 1.8, "secondary": 1.5, "tertiary": 1.1}
    colour = {"trunk": "tab:red", "primary": "tab:orange", "secondary": "tab:green",
              "tertiary": "tab:blue"}
    fig, axes = plt.subplots(1, 2, figsize=(22, 11))
    for ax, zoom in zip(axes, (False, True), strict=True):
        for ri, seq in ways:
            hw = roads[ri].tags["highway"]
            ll = [spec.plane.to_latlon(*node_xy[n]) for n in seq]
            ax.plot([p[1] for p in ll], [p[0] for p in ll], color=colour.get(hw, "0.45"),
                    lw=width.get(hw, 0.6), ls="--" if roads[ri].tags.get("oneway") else "-")
        for rail in spec.raw.get("rail_lines", []):
            ll = [spec.plane.to_latlon(*spec.resolve(w, rail.get("frame", "rail")))
                  for w in rail["points"]]
            ax.plot([p[1] for p in ll], [p[0] for p in ll], color="k", lw=1, ls=(0, (6, 3)))
        for lm in spec.raw["landmarks"]:
            lat, lon = spec.plane.to_latlon(*spec.landmark_xy[lm["key"]])
            pub = lm["confidence"] == "published"
            ax.plot(lon, lat, "o" if pub else "^", color="k" if pub else "m", ms=5)
            if not zoom or abs(spec.landmark_xy[lm["key"]][0]) < 2500:
                ax.annotate(lm["key"], (lon, lat), fontsize=6)
        ax.set_aspect(1 / math.cos(math.radians(spec.plane.lat0)))
        if zoom:
            c = spec.raw.get("core_half_size_m", 1500.0)
            la0, lo0 = spec.plane.to_latlon(-c, -c)
            la1, lo1 = spec.plane.to_latlon(c, c)
            ax.set_xlim(lo0, lo1)
            ax.set_ylim(la0, la1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


# --------------------------------------------------------------------------- main
def generate(spec_path: Path, out_osm: Path, out_landmarks: Path, plot_path: Path | None):
    spec = Spec(yaml.safe_load(spec_path.read_text(encoding="utf-8")))
    roads = build_roads(spec)
    snap_endpoints(roads)
    add_crossings(roads)
    reg = NodeRegistry()
    seqs = consolidate(node_sequences(roads, reg), len(reg.xy), reg.xy)
    keep = [i for i, seq in enumerate(seqs) if len(seq) >= 2]
    roads, seqs = [roads[i] for i in keep], [seqs[i] for i in keep]
    drop = spec.raw.get("drop_blocks", {"fraction": 0.0, "seed": 0})
    pieces, dropped = drop_blocks(roads, seqs, float(drop["fraction"]), int(drop["seed"]))
    ways = merge_pieces(roads, pieces)
    stats = check_network(spec, reg.xy, roads, ways)
    stats.update(write_osm(out_osm, spec.plane, reg.xy, roads, ways))
    write_landmarks(out_landmarks, spec)
    stats["dropped_blocks"] = dropped
    if plot_path is not None:
        plot(plot_path, spec, reg.xy, roads, ways)
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    ap.add_argument("--out-osm", type=Path, default=DEFAULT_OSM)
    ap.add_argument("--out-landmarks", type=Path, default=DEFAULT_LANDMARKS)
    ap.add_argument("--plot", type=Path, default=None, help="also save a PNG map here")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    try:
        stats = generate(args.spec, args.out_osm, args.out_landmarks, args.plot)
    except SpecError as exc:
        print(f"error: {args.spec}: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        gaps = stats.pop("landmark_gap_m")
        print(f"wrote {args.out_osm} and {args.out_landmarks}")
        for k, v in stats.items():
            print(f"  {k}: {v:.1f}" if isinstance(v, float) else f"  {k}: {v}")
        print("  landmark -> nearest junction/dead-end node (m):")
        for k, d in gaps.items():
            print(f"    {k:28s} {d:7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
