"""Export a run to GIS layers (GeoPackage or GeoJSON), in WGS84 (EPSG:4326).

``export_gis(run_dir, "out.gpkg")`` rebuilds the World from the run folder's
``scenario.resolved.yaml`` (road graph, oracles, feeds), reads the run's tables
(``vehicle_stops``, ``vehicle_trips``, ``stops``; CSV or Parquet) and ``summary.json`` (number
of replications), and writes the layers below. Per-day values are **means over the run's
replications** (sum over replications / number of replications).

Flows are mapped onto the road: every stop-to-stop leg of a timetabled trip is routed with
the drive oracle of its vehicle type (the one that gave the leg's ``leg_dist_m``; the path
from :meth:`TravelTimes.path`), and the leg's vehicle pass and departing load
(``vehicle_stops.load_dep``) are added to every edge of that path. So the sum of
``pax_km`` over edges equals the ``pax_km`` KPI (load × leg road distance) up to float
rounding, and the same for ``vehicle_km`` over legs actually driven.

Layers and attributes (name — unit):

``network_edges`` (LineString; one feature per directed road edge of the graph; parallel
edges collapsed to the shortest)
    ``u``, ``v`` — OSM node ids; ``highway`` — road class(es) joined by ``;``; ``name`` —
    street name; ``length_m`` — m; ``vehicle_passes`` — vehicles/day; ``pax_load`` —
    passengers passing over the edge per day (sum of on-board loads); ``pax_km`` —
    passenger-km/day on the edge; ``vehicle_km`` — vehicle-km/day on the edge; ``routes`` —
    route_ids using the edge, joined by ``,``.
``stops`` (Point)
    ``stop_id``, ``name``; ``routes`` — route_ids calling, joined by ``,``; ``departures`` —
    scheduled departures/day; ``boardings``, ``alightings``, ``denied``, ``gave_up`` —
    passengers/day; ``max_queue`` — passengers (mean over replications of the day's
    maximum); ``snap_m`` — m from the stop to its road node.
``lines`` (LineString; one per route and direction, along the road path of its trip with
the most stops, routed like the comparison map: :class:`~tomakomai_maas.report.map_layers.
LineRouter`)
    ``route_id``, ``route_name``, ``direction_id``; ``vehicle_type``; ``trips_per_day`` —
    scheduled trips; ``n_stops``; ``length_m`` — m (road length of that trip);
    ``first_departure``, ``last_departure`` — HH:MM:SS; ``boardings`` — passengers/day;
    ``vehicle_km`` — km/day driven (run trips).
``drt_service_areas`` (Polygon/MultiPolygon; empty when the scenario has none)
    ``name``; ``start_time``, ``end_time`` — HH:MM:SS or ``""`` (all day); ``area_km2`` — km².
    Read from the resolved scenario's ``drt`` section when present: any mapping/list under it
    whose key is one of ``area``, ``areas``, ``polygon``, ``service_area``,
    ``service_areas``, ``geometry``, ``boundary`` and that holds a GeoJSON geometry/Feature,
    a list of ``[lat, lon]`` points or a path to a ``.geojson`` file; hours from sibling
    ``start_time``/``end_time`` (or ``hours``/``service_hours`` windows, first start to last
    end).
``zones`` (Polygon; only when zones are available: the embedded zones for an embedded
network, or a zone file given; Voronoi cells as in
:func:`tomakomai_maas.report.choropleth.zone_geometries`)
    the columns of :func:`tomakomai_maas.metrics.access.accessibility_table` (see that module:
    ``pop_*`` persons, ``*_share`` 0..1, ``walk_to_stop_m`` m, ``tt_<dest>_min`` minutes,
    ``rides_<dest>`` vehicles boarded), computed with that layer's DRT areas.

GeoJSON output writes **one file per layer** into a folder (``<folder>/<layer>.geojson``).
Output is written to a temporary sibling and renamed, so a failed export never leaves a
half-written file.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import yaml

from tomakomai_maas.errors import ScenarioError
from tomakomai_maas.metrics.access import (
    AccessConfig,
    DrtArea,
    accessibility_table,
    drt_area,
    drt_areas_of_world,
    scenario_zones,
    time_of_day_s,
)

__all__ = [
    "LAYERS",
    "LAYER_COLUMNS",
    "RunData",
    "load_run",
    "drt_areas_from_scenario",
    "edge_flows",
    "gis_layers",
    "geojson_folder",
    "write_layers",
    "export_gis",
]

log = logging.getLogger(__name__)

LAYERS: tuple[str, ...] = ("network_edges", "stops", "lines", "drt_service_areas", "zones")
#: Fixed columns per layer (``zones`` columns depend on the access settings).
LAYER_COLUMNS: dict[str, tuple[str, ...]] = {
    "network_edges": ("u", "v", "highway", "name", "length_m", "vehicle_passes", "pax_load",
                      "pax_km", "vehicle_km", "routes"),
    "stops": ("stop_id", "name", "routes", "departures", "boardings", "alightings", "denied",
              "gave_up", "max_queue", "snap_m"),
    "lines": ("route_id", "route_name", "direction_id", "vehicle_type", "trips_per_day",
              "n_stops", "length_m", "first_departure", "last_departure", "boardings",
              "vehicle_km"),
    "drt_service_areas": ("name", "start_time", "end_time", "area_km2"),
    "zones": ("zone_id", "name", "pop_total", "pop_65p"),
}
CRS = "EPSG:4326"
_EMPTY_TYPES = {"network_edges": "LineString", "stops": "Point", "lines": "LineString",
                "drt_service_areas": "Polygon", "zones": "Polygon"}
_AREA_KEYS = ("area", "areas", "polygon", "service_area", "service_areas", "geometry",
              "boundary")
_ID_COLUMNS = ("trip_id", "vehicle_id", "route_id", "stop_id", "name", "request_id",
               "from_stop", "to_stop", "vehicle_type")


@dataclass
class RunData:
    """A run folder loaded back: scenario, World, build context and mean-able tables."""

    path: Path
    scenario: Any
    raw: dict[str, Any]
    world: Any
    context: Any
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    replications: int = 1


def _read_table(run_dir: Path, name: str) -> pd.DataFrame | None:
    pq = run_dir / f"{name}.parquet"
    if pq.is_file():
        return pd.read_parquet(pq)
    csv = run_dir / f"{name}.csv"
    if not csv.is_file():
        return None
    df = pd.read_csv(csv, dtype={c: str for c in _ID_COLUMNS})
    for c in _ID_COLUMNS:
        if c in df.columns:
            df[c] = df[c].fillna("")
    return df


def load_run(run_dir: str | os.PathLike[str], *, cache_dir: Path | None = None) -> RunData:
    """Rebuild the World of a run folder and read its tables.

    Raises:
        ScenarioError: the folder has no ``scenario.resolved.yaml`` or it does not build.
    """
    from tomakomai_maas.scenario.build import BuildContext, build
    from tomakomai_maas.scenario.load import scenario_from_dict

    run = Path(run_dir)
    spath = run / "scenario.resolved.yaml"
    if not spath.is_file():
        raise ScenarioError(f"{run}: not a run folder (no scenario.resolved.yaml); give a "
                            "folder written by 'tomakomai-maas run', e.g. results/<scenario>/"
                            "<run-id>")
    try:
        raw = yaml.safe_load(spath.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{spath}: not valid YAML: {exc}") from exc
    sc = scenario_from_dict(raw, source=spath)
    ctx = BuildContext()
    world = build(sc, cache_dir=cache_dir, context=ctx)
    tables = {n: t for n in ("vehicle_stops", "vehicle_trips", "stops", "trips")
              if (t := _read_table(run, n)) is not None}
    reps = 1
    summary = run / "summary.json"
    if summary.is_file():
        reps = int(json.loads(summary.read_text(encoding="utf-8")).get("replications", 1))
    elif "vehicle_trips" in tables and "replication" in tables["vehicle_trips"]:
        reps = int(tables["vehicle_trips"]["replication"].nunique()) or 1
    return RunData(run, sc, raw, world, ctx, tables, max(reps, 1))


# --------------------------------------------------------------------------- DRT areas
def _hours(d: Mapping[str, Any]) -> tuple[str | None, str | None]:
    if "start_time" in d or "end_time" in d:
        s, e = d.get("start_time"), d.get("end_time")
        return (None if s is None else str(s), None if e is None else str(e))
    for key in ("hours", "service_hours", "windows", "time_windows"):
        w = d.get(key)
        if not isinstance(w, list) or not w:
            continue
        pairs = []
        for x in w:
            if isinstance(x, str) and "-" in x:
                pairs.append(tuple(p.strip() for p in x.split("-", 1)))
            elif isinstance(x, Mapping) and "start_time" in x:
                pairs.append((str(x["start_time"]), str(x.get("end_time", "24:00"))))
            elif isinstance(x, list | tuple) and len(x) == 2:
                pairs.append((str(x[0]), str(x[1])))
        if pairs:
            return (min((p[0] for p in pairs), key=time_of_day_s),
                    max((p[1] for p in pairs), key=time_of_day_s))
    return None, None


def _area_value(val: Any, base: Path) -> Any:
    if isinstance(val, str) and val.lower().endswith((".geojson", ".json")):
        p = Path(val) if Path(val).is_absolute() else base / val
        return json.loads(p.read_text(encoding="utf-8"))
    return val


def drt_areas_from_scenario(raw: Mapping[str, Any], *, base: Path | None = None
                            ) -> list[DrtArea]:
    """DRT service areas found in a (resolved) scenario dict's ``drt`` section (see the
    module docstring); ``[]`` when there is none. Unreadable areas are skipped with a
    warning."""
    section = raw.get("drt") if isinstance(raw, Mapping) else None
    if not section:
        return []
    base = base or Path.cwd()
    found: list[DrtArea] = []

    geo_types = ("Polygon", "MultiPolygon", "Feature", "FeatureCollection")

    def add(val: Any, name: str, hours: tuple[str | None, str | None], where: str) -> None:
        try:
            found.append(drt_area(_area_value(val, base), name=name, start_time=hours[0],
                                  end_time=hours[1]))
        except (ValueError, TypeError, OSError, KeyError, IndexError) as exc:
            log.warning("drt area at %s not read: %s", where, exc)

    def area_value(val: Any, name: str, hours: tuple[str | None, str | None],
                   where: str) -> None:
        if isinstance(val, str) or (isinstance(val, Mapping) and val.get("type") in geo_types):
            add(val, name, hours, where)
        elif isinstance(val, Mapping):
            visit(val, where)
        elif isinstance(val, list) and val and _is_point(val[0]):
            add(val, name, hours, where)
        elif isinstance(val, list):
            for k, v in enumerate(val):
                area_value(v, f"{name}[{k}]", hours, f"{where}[{k}]")

    def visit(obj: Any, path: str) -> None:
        if isinstance(obj, Mapping):
            if obj.get("type") in geo_types:
                add(obj, path, (None, None), path)
                return
            name = str(obj.get("name") or obj.get("id") or path)
            hours = _hours(obj)
            for key, val in obj.items():
                if key in _AREA_KEYS and val is not None:
                    area_value(val, name, hours, f"{path}.{key}")
                elif isinstance(val, Mapping | list):
                    visit(val, f"{path}.{key}")
        elif isinstance(obj, list):
            for k, v in enumerate(obj):
                if isinstance(v, Mapping | list) and not _is_point(v):
                    visit(v, f"{path}[{k}]")

    visit(section, "drt")
    return found


def _is_point(x: Any) -> bool:
    return isinstance(x, list | tuple) and len(x) in (2, 3) and all(
        isinstance(v, int | float) for v in x)


# --------------------------------------------------------------------------- flows
class _Router:
    """Cached road paths (oracle node-index pairs) and edge lengths per drive oracle."""

    def __init__(self, world: Any, ctx: Any) -> None:
        self.world = world
        self.ctx = ctx
        self._paths: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
        self._len: dict[tuple[int, int, int], float] = {}

    def oracle_for(self, vehicle_type: str) -> Any:
        cap = self.world.vehicle_types[vehicle_type].cruise_speed_kph
        if cap in self.ctx.drive_oracles:
            return self.ctx.drive_oracles[cap]
        return next(iter(self.ctx.drive_oracles.values()))

    def path(self, oracle: Any, i: int, j: int) -> list[tuple[int, int]]:
        key = (id(oracle), int(i), int(j))
        p = self._paths.get(key)
        if p is None:
            nodes = oracle.path(i, j)
            p = self._paths[key] = list(zip(nodes[:-1], nodes[1:], strict=True))
        return p

    def length(self, oracle: Any, a: int, b: int) -> float:
        key = (id(oracle), a, b)
        v = self._len.get(key)
        if v is None:
            v = self._len[key] = float(oracle.path_length_m([a, b]))
        return v


def edge_flows(run: RunData) -> pd.DataFrame:
    """Per directed edge (oracle node indices ``a``, ``b``): ``vehicle_passes``,
    ``pax_load``, ``pax_km``, ``vehicle_km`` per day (means over replications), ``length_m``
    and ``routes``."""
    world, n = run.world, run.replications
    router = _Router(world, run.context)
    vs = run.tables.get("vehicle_stops")
    agg: dict[tuple[str, int], tuple[float, float]] = {}
    if vs is not None and len(vs):
        driven = vs[vs["dep_s"].notna()]
        g = driven.groupby(["trip_id", "stop_index"], sort=True)
        for (tid, k), passes, load in zip(g.size().index, g.size().to_numpy(),
                                          g["load_dep"].sum().to_numpy(), strict=True):
            agg[(str(tid), int(k))] = (float(passes) / n, float(load) / n)
    acc: dict[tuple[int, int], list[Any]] = {}
    for trip in world.trips:
        oracle = router.oracle_for(trip.vehicle_type)
        for k in range(len(trip.stop_ids) - 1):
            passes, load = agg.get((trip.trip_id, k), (0.0, 0.0))
            a = world.stops[trip.stop_ids[k]].node
            b = world.stops[trip.stop_ids[k + 1]].node
            for e in router.path(oracle, a, b):
                length = router.length(oracle, *e)
                rec = acc.setdefault(e, [0.0, 0.0, 0.0, 0.0, length, set()])
                rec[0] += passes
                rec[1] += load
                rec[2] += load * length / 1000.0
                rec[3] += passes * length / 1000.0
                rec[5].add(trip.route_id)
    rows = [(a, b, r[0], r[1], r[2], r[3], r[4], ",".join(sorted(r[5])))
            for (a, b), r in sorted(acc.items())]
    return pd.DataFrame(rows, columns=["a", "b", "vehicle_passes", "pax_load", "pax_km",
                                       "vehicle_km", "length_m", "routes"])


# --------------------------------------------------------------------------- layers
def _join(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, list | tuple | set):
        return ";".join(str(v) for v in x)
    return str(x)


def _edge_geometry(G: Any, u: Any, v: Any, data: Mapping[str, Any]) -> Any:
    geom = data.get("geometry")
    if geom is not None and hasattr(geom, "coords"):
        return geom
    return shapely.LineString([(G.nodes[u]["x"], G.nodes[u]["y"]),
                               (G.nodes[v]["x"], G.nodes[v]["y"])])


def _nid(ids: np.ndarray, i: int) -> Any:
    x = ids[i]
    return x.item() if hasattr(x, "item") else x


def _edges_layer(run: RunData, flows: pd.DataFrame) -> Any:
    import geopandas as gpd

    G = run.context.graph
    oracle = next(iter(run.context.drive_oracles.values()), run.context.walk_oracle)
    ids = oracle.node_ids
    by_uv = {(_nid(ids, a), _nid(ids, b)): r
             for a, b, r in zip(flows["a"], flows["b"], flows.itertuples(index=False),
                                strict=True)}
    best: dict[tuple[Any, Any], tuple[float, Mapping[str, Any]]] = {}
    for u, v, d in G.edges(data=True):
        length = float(d.get("length_m", d.get("length", 0.0)))
        if (u, v) not in best or length < best[(u, v)][0]:
            best[(u, v)] = (length, d)
    rows, geoms = [], []
    for (u, v), (length, d) in best.items():
        f = by_uv.get((u, v))
        rows.append({
            "u": u, "v": v, "highway": _join(d.get("highway")), "name": _join(d.get("name")),
            "length_m": float(f.length_m) if f is not None else length,
            "vehicle_passes": f.vehicle_passes if f is not None else 0.0,
            "pax_load": f.pax_load if f is not None else 0.0,
            "pax_km": f.pax_km if f is not None else 0.0,
            "vehicle_km": f.vehicle_km if f is not None else 0.0,
            "routes": f.routes if f is not None else "",
        })
        geoms.append(_edge_geometry(G, u, v, d))
    df = pd.DataFrame(rows, columns=list(LAYER_COLUMNS["network_edges"]))
    missing = set(by_uv) - set(best)
    if missing:
        log.warning("%d flow edges not found in the graph (ignored)", len(missing))
    return gpd.GeoDataFrame(df, geometry=geoms, crs=CRS)


def _mean_by(df: pd.DataFrame | None, key: str, cols: Sequence[str], n: int) -> pd.DataFrame:
    if df is None or not len(df):
        return pd.DataFrame(columns=[key, *cols])
    return (df.groupby(key, sort=True)[list(cols)].sum() / n).reset_index()


def _stops_layer(run: RunData) -> Any:
    import geopandas as gpd

    world = run.world
    routes: dict[str, set[str]] = {}
    deps: dict[str, int] = {}
    for t in world.trips:
        for k, s in enumerate(t.stop_ids):
            routes.setdefault(s, set()).add(t.route_id)
            if k < len(t.stop_ids) - 1:
                deps[s] = deps.get(s, 0) + 1
    cols = ("boardings", "alightings", "denied", "gave_up", "max_queue")
    st = run.tables.get("stops")
    m = _mean_by(st, "stop_id", [c for c in cols if st is not None and c in st.columns],
                 run.replications).set_index("stop_id")
    rows, geoms = [], []
    for sid, s in world.stops.items():
        r = {"stop_id": sid, "name": s.name, "routes": ",".join(sorted(routes.get(sid, ()))),
             "departures": deps.get(sid, 0)}
        for c in cols:
            r[c] = float(m.at[sid, c]) if sid in m.index and c in m.columns else 0.0
        r["snap_m"] = float(s.snap_m)
        rows.append(r)
        geoms.append(shapely.Point(s.lon, s.lat))
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=list(LAYER_COLUMNS["stops"])),
                            geometry=geoms, crs=CRS)


def _hms(t: float) -> str:
    t = int(round(t))
    return f"{t // 3600:02d}:{(t % 3600) // 60:02d}:{t % 60:02d}"


def _lines_layer(run: RunData) -> Any:
    import geopandas as gpd

    from tomakomai_maas.report.map_layers import LineRouter, vehicle_cap

    world = run.world
    # the map's routing (report/map_layers.py) on the run's own drive oracles
    router = LineRouter(run.context.graph, oracles=run.context.drive_oracles)
    vt = run.tables.get("vehicle_trips")
    ran = vt[~vt["cancelled"].astype(bool)] if vt is not None and len(vt) else None
    groups: dict[tuple[str, int], list[Any]] = {}
    for t in world.trips:
        groups.setdefault((t.route_id, t.direction_id), []).append(t)
    rows, geoms = [], []
    for (rid, did), trips in sorted(groups.items()):
        rep = sorted(trips, key=lambda t: (-len(t.stop_ids), t.dep_s[0], t.trip_id))[0]
        coords = [(lon, lat) for _, lon, lat in
                  router.route(world, rep.stop_ids, vehicle_cap(world, rep.vehicle_type))]
        if len(coords) < 2:
            s = world.stops[rep.stop_ids[0]]
            coords = [(s.lon, s.lat), (s.lon, s.lat)]
        sel = ran[(ran["route_id"] == rid) & (ran["direction_id"] == did)] \
            if ran is not None else None
        rows.append({
            "route_id": rid, "route_name": rep.route_name, "direction_id": int(did),
            "vehicle_type": rep.vehicle_type, "trips_per_day": len(trips),
            "n_stops": len(rep.stop_ids), "length_m": float(sum(rep.leg_dist_m)),
            "first_departure": _hms(min(t.dep_s[0] for t in trips)),
            "last_departure": _hms(max(t.dep_s[0] for t in trips)),
            "boardings": float(sel["boardings"].sum()) / run.replications
            if sel is not None else 0.0,
            "vehicle_km": float(sel["km"].sum()) / run.replications if sel is not None else 0.0,
        })
        geoms.append(shapely.LineString(coords))
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=list(LAYER_COLUMNS["lines"])),
                            geometry=geoms, crs=CRS)


def _drt_layer(areas: Sequence[DrtArea]) -> Any:
    import geopandas as gpd

    from tomakomai_maas.demand.zones import KM_PER_DEG_LAT

    rows = []
    for a in areas:
        lat0 = a.geometry.centroid.y
        km2 = a.geometry.area * KM_PER_DEG_LAT ** 2 * math.cos(math.radians(lat0))
        rows.append({"name": a.name,
                     "start_time": "" if a.start_s is None else _hms(a.start_s),
                     "end_time": "" if a.end_s is None else _hms(a.end_s),
                     "area_km2": float(km2)})
    df = pd.DataFrame(rows, columns=list(LAYER_COLUMNS["drt_service_areas"]))
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([a.geometry for a in areas], crs=CRS),
                            crs=CRS)


def _zones_layer(run: RunData, zones: pd.DataFrame, areas: Sequence[DrtArea],
                 access_config: AccessConfig | None) -> Any:
    import geopandas as gpd

    from tomakomai_maas.report.choropleth import zone_geometries

    if access_config is None:  # the scenario's own settings (its accessibility section)
        access_config = run.scenario.accessibility.settings()
    table = accessibility_table(run.world, zones, run.context.walk_oracle,
                                config=access_config, drt_areas=areas)
    return gpd.GeoDataFrame(table, geometry=zone_geometries(table, style="voronoi"), crs=CRS)


def gis_layers(run: RunData, *, zones: pd.DataFrame | str | os.PathLike[str] | bool | None = None,
               access_config: AccessConfig | None = None,
               drt_areas: Sequence[DrtArea] | None = None) -> dict[str, Any]:
    """Build the layers (``GeoDataFrame`` per name in :data:`LAYERS`; ``zones`` only when
    available).

    ``zones``: a zone table or file; ``None`` = the scenario's accessibility zones
    (:func:`~tomakomai_maas.metrics.access.scenario_zones`: ``accessibility.zones_file``, the
    generated demand's zones, or the embedded zones with the embedded network); ``False`` = no
    zones layer. ``access_config`` default: the scenario's ``accessibility`` settings.
    ``drt_areas`` default: from the scenario; the zones' DRT coverage uses the built DRT
    service (:func:`~tomakomai_maas.metrics.access.drt_areas_of_world`), as ``run`` does.
    """
    from tomakomai_maas.demand.zones import load_zones

    areas = list(drt_areas) if drt_areas is not None else drt_areas_from_scenario(
        run.raw, base=run.path)
    layers = {
        "network_edges": _edges_layer(run, edge_flows(run)),
        "stops": _stops_layer(run),
        "lines": _lines_layer(run),
        "drt_service_areas": _drt_layer(areas),
    }
    ztab: pd.DataFrame | None = None
    if isinstance(zones, pd.DataFrame):
        ztab = zones
    elif zones is None:
        ztab = scenario_zones(run.scenario)
        if ztab is None:
            log.info("no zones layer: the network is not the embedded one and no zone file "
                     "was given")
    elif zones is not False and zones is not True:
        ztab = load_zones(zones)
    if ztab is not None:
        cover = drt_areas_of_world(run.world) if drt_areas is None else list(drt_areas)
        layers["zones"] = _zones_layer(run, ztab, cover, access_config)
    return layers


def geojson_folder(output: str | os.PathLike[str]) -> Path:
    """The folder GeoJSON layers go to: ``output`` without a ``.geojson`` suffix (``-o
    flows.geojson`` writes ``flows/<layer>.geojson``; one GeoJSON file holds one layer)."""
    out = Path(output)
    return out.with_suffix("") if out.suffix.lower() == ".geojson" else out


def write_layers(layers: Mapping[str, Any], output: str | os.PathLike[str], *,
                 fmt: str = "gpkg") -> Path:
    """Write layers to a GeoPackage (one layer each) or a folder of GeoJSON files
    (:func:`geojson_folder`), atomically (temporary sibling, then rename); returns the path
    written."""
    out = Path(output)
    if fmt not in ("gpkg", "geojson"):
        raise ValueError(f"format must be 'gpkg' or 'geojson', got {fmt!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "gpkg":
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".gpkg", dir=out.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        tmp.unlink()
        try:
            for name, gdf in layers.items():
                extra = {"geometry_type": _EMPTY_TYPES.get(name, "Unknown")} \
                    if not len(gdf) else {}
                gdf.to_file(tmp, layer=name, driver="GPKG", **extra)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
        return out
    out = geojson_folder(out)
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmpdir.chmod(0o777 & ~umask)  # mkdtemp makes it private; a results folder is not
    try:
        for name, gdf in layers.items():
            gdf.to_file(tmpdir / f"{name}.geojson", driver="GeoJSON")
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            tmpdir.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmpdir.rename(out)
    finally:
        if tmpdir.exists():
            shutil.rmtree(tmpdir, ignore_errors=True)
    return out


def export_gis(run_dir: str | os.PathLike[str], output: str | os.PathLike[str], *,
               fmt: str | None = None,
               zones: pd.DataFrame | str | os.PathLike[str] | bool | None = None,
               access_config: AccessConfig | None = None,
               cache_dir: Path | None = None) -> dict[str, int]:
    """Export a run folder to ``output`` (see the module docstring); returns features per
    layer. ``fmt`` defaults to ``gpkg`` for a ``.gpkg`` suffix, else ``geojson``."""
    out = Path(output)
    fmt = fmt or ("gpkg" if out.suffix.lower() == ".gpkg" else "geojson")
    run = load_run(run_dir, cache_dir=cache_dir)
    layers = gis_layers(run, zones=zones, access_config=access_config)
    write_layers(layers, out, fmt=fmt)
    counts = {name: int(len(gdf)) for name, gdf in layers.items()}
    log.info("wrote %s: %s", out, ", ".join(f"{k} {v}" for k, v in counts.items()))
    return counts
