"""Accessibility and equity of a scenario's public transport, by zone and by age band.

``accessibility_table(world, zones, walk, ...)`` answers two planning questions per zone:

* **Coverage**: which share of the zone's residents lives within 300 m / 500 m
  (``AccessConfig.walk_thresholds_m``) walk of a stop *served on the day* (at least
  ``min_departures`` scheduled departures in the World's trips), or inside a DRT service
  area (:class:`DrtArea`) whose hours overlap the World's service window.
* **Travel time** from the zone centroid to 市立病院, 苫小牧駅, 沼ノ端駅 and イオンモール苫小牧
  (``landmarks.csv`` keys ``city_hospital``, ``tomakomai_station``, ``numanohata_station``,
  ``aeon_mall``), leaving at each of ``departure_times``:

  - **by public transport**: walk + wait + in-vehicle (+ transfers) of the itinerary with at
    least one ride that the journey planner (:class:`~tomakomai_maas.journey.JourneyPlanner`,
    minimum generalised cost over the World's timetabled trips) chooses, access and egress
    walks up to ``max_walk_m`` (default: the World's); NaN = no such itinerary;
  - **on foot**: walking all the way along the network, counted only up to
    ``max_direct_walk_m`` (default 1,000 m, ASSUMED: a ~14-min walk at 1.2 m/s);
  - **best**: the shorter of the two (nobody rides a 2-hour detour to a place a 10-minute
    walk away).

  DRT is not part of the travel times (the planner knows timetabled lines only). A zone whose
  centroid lies at the destination reaches it "on foot" in ~0 min and adds nothing to the
  public-transport figures.

Residents are represented by points: ``resident_points="centroid"`` puts all residents of a
zone at its centroid; ``"disc"`` (default) spreads them evenly over ``points_per_zone``
points of a sunflower (Vogel) spiral filling a disc of the zone's area (radius
``sqrt(area_km2/π)``; 0.3 km when the area is unknown), each point carrying the same share
of every age band (age groups are assumed to be spread alike inside a zone). The walk
distance from a point to a stop = straight line to the nearest walk-graph node + shortest
walk along the graph + the stop's snap distance; a point farther than ``max_snap_m`` from
the graph reaches nothing.

Zone table columns (one row per zone, zone file order; ``<d>`` = each threshold in metres
written as an integer, ``<dest>`` = each destination key):

=========================  ===============================================================
column                     meaning (unit)
=========================  ===============================================================
zone_id, name, lat, lon    from the zone table (lat/lon WGS84 degrees)
area_km2                   zone area (km²)
pop_total, pop_0_14,       residents (persons)
pop_15_64, pop_65p
pop_no_car                 residents without a car (only with car availability)
n_points                   resident points used
walk_to_stop_m             mean over points of the walk to the nearest served stop (m;
                           NaN when no point reaches one)
stop_<d>m_share            share of residents within <d> m of a served stop (0..1)
drt_share                  share of residents inside an active DRT service area (0..1)
covered_<d>m_share         share within <d> m of a served stop OR inside a DRT area (0..1)
covered_<d>m_pop           residents covered (persons); also ``_pop_65p`` and, with car
                           availability, ``_pop_no_car``
pt_tt_<dest>_min           by public transport, door to door incl. waits (min), mean over
                           the departure times with an itinerary; NaN if none
rides_<dest>               mean number of vehicles boarded by public transport
walk_<dest>_min            walking all the way (min); NaN beyond ``max_direct_walk_m``
tt_<dest>_min              best of the two (min), mean over departure times; NaN if neither
=========================  ===============================================================

``accessibility_summary(table)`` aggregates by band (``all``, ``0_14``, ``15_64``, ``65p``
and ``no_car`` when present): ``population``, the population-weighted coverage shares and
``walk_to_stop_m``; per destination ``pt_reach_<dest>_share`` (share of the band's residents
whose zone reaches it by public transport), ``pt_tt_<dest>_min`` (population-weighted mean over
those zones), ``reach_<dest>_share`` and ``tt_<dest>_min`` (the same by the best of public
transport and walking). ``compare_accessibility({name: table, ...})`` stacks the summaries of several scenarios
with the difference to a baseline; ``compare_zones({name: table, ...}, column)`` puts one
zone column of several scenarios side by side with ``delta_<name>`` columns (for maps).

Car availability (optional; Tomakomai car ownership is NOT FOUND in the facts file, §4): a
mapping band -> share of residents with a car (keys ``pop_0_14``/``0_14`` ...), or zone
columns ``car_avail_0_14``, ``car_avail_15_64``, ``car_avail_65p`` (shares 0..1).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tomakomai_maas.demand.zones import (
    AGE_BAND_COLUMNS,
    DEFAULT_POINT_RADIUS_KM,
    offset_latlon,
)
from tomakomai_maas.world import Access, Request, World

__all__ = [
    "AccessConfig",
    "AccessibilityConfig",
    "drt_areas_of_world",
    "scenario_accessibility",
    "scenario_zones",
    "household_car_shares",
    "accessibility_json",
    "DrtArea",
    "drt_area",
    "area_geometry",
    "time_of_day_s",
    "DEFAULT_DESTINATIONS",
    "resident_points",
    "served_stops",
    "accessibility_table",
    "accessibility_summary",
    "compare_accessibility",
    "compare_zones",
    "BANDS",
]

log = logging.getLogger(__name__)

DEFAULT_DESTINATIONS: tuple[str, ...] = ("city_hospital", "tomakomai_station",
                                         "numanohata_station", "aeon_mall")
"""Landmark keys of 市立病院, 苫小牧駅, 沼ノ端駅 and イオンモール苫小牧 (facts §3)."""

#: summary band -> population column of the zone table
BANDS: dict[str, str] = {"all": "pop_total", "0_14": "pop_0_14", "15_64": "pop_15_64",
                         "65p": "pop_65p", "no_car": "pop_no_car"}

_TIME_RE = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")
_GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))


def time_of_day_s(value: str) -> float:
    """``"HH:MM[:SS]"`` → seconds since midnight (hours may exceed 23, as in GTFS)."""
    m = _TIME_RE.match(str(value).strip())
    if not m:
        raise ValueError(f"time must look like 'HH:MM' or 'HH:MM:SS', got {value!r}")
    return float(int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0))


class AccessConfig(BaseModel):
    """Settings of the accessibility KPIs (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    walk_thresholds_m: list[float] = Field(default_factory=lambda: [300.0, 500.0],
                                           min_length=1)
    resident_points: Literal["centroid", "disc"] = "disc"
    points_per_zone: int = Field(19, ge=1, le=500, description="Points per zone ('disc').")
    departure_times: list[str] = Field(
        default_factory=lambda: ["10:30"], min_length=1,
        description="Departure times (HH:MM) for travel times; 10:30 is a chosen late-morning "
        "departure (e.g. a hospital visit) inside the AV trials' service hours "
        "(10:00-16:00), not a fact.")
    destinations: list[str] = Field(default_factory=lambda: list(DEFAULT_DESTINATIONS),
                                    description="Landmark keys (network/data/landmarks.csv).")
    max_walk_m: float | None = Field(None, gt=0, description="Access/egress walk limit for "
                                     "travel times (None = the World's journey.max_walk_m).")
    max_direct_walk_m: float = Field(1000.0, ge=0, description="Walking all the way counts "
                                     "as reaching a destination up to this distance (m; "
                                     "assumed: a ~14-min walk at 1.2 m/s).")
    min_departures: int = Field(1, ge=1, description="Departures a stop needs on the day to "
                                "count as served.")
    max_snap_m: float = Field(500.0, gt=0, description="Resident points farther than this "
                              "from the walk network reach nothing.")

    @field_validator("walk_thresholds_m")
    @classmethod
    def _pos(cls, v: list[float]) -> list[float]:
        if any(x <= 0 for x in v):
            raise ValueError(f"walk thresholds must be > 0 m, got {v}")
        return sorted(v)

    @field_validator("departure_times")
    @classmethod
    def _times(cls, v: list[str]) -> list[str]:
        for t in v:
            time_of_day_s(t)
        return v


class AccessibilityConfig(AccessConfig):
    """The scenario's ``accessibility:`` section: :class:`AccessConfig` plus where the zones
    come from. Computed once per run (it does not depend on the replication) and written to
    ``accessibility.csv`` / ``accessibility_summary.csv``; ``compare`` puts it side by side."""

    enabled: bool = Field(True, description="Compute the accessibility KPIs in run/compare.")
    zones_file: Path | None = Field(
        None, description="Zone file (.csv/.geojson, relative to the scenario file); default: "
        "the generated demand's zones (only its keep_zones when set), else the embedded zones "
        "when the network is the embedded one (otherwise no accessibility table).")

    def settings(self) -> AccessConfig:
        """The :class:`AccessConfig` part (what :func:`accessibility_table` takes)."""
        return AccessConfig(**{k: getattr(self, k) for k in AccessConfig.model_fields})


# --------------------------------------------------------------------------- DRT areas
@dataclass(frozen=True)
class DrtArea:
    """A DRT service area: a polygon in lon/lat (WGS84) and its service hours (seconds since
    midnight; ``None`` = all day).

    ``geometry=None`` means the whole road network (a DRT service without an area polygon).
    A stop-based service lists its ``virtual_stops`` (``(lat, lon)``) and ``max_walk_m``: a
    resident inside the area then counts as covered only if a virtual stop is within
    ``max_walk_m`` walk (the rule the simulation applies, ``no_stop_in_reach``).
    """

    geometry: Any  # shapely Polygon / MultiPolygon, x = lon, y = lat; None = everywhere
    name: str = ""
    start_s: float | None = None
    end_s: float | None = None
    virtual_stops: tuple[tuple[float, float], ...] = ()
    max_walk_m: float | None = None

    def active_during(self, start_s: float, end_s: float) -> bool:
        lo = -math.inf if self.start_s is None else self.start_s
        hi = math.inf if self.end_s is None else self.end_s
        return lo < end_s and hi > start_s


def area_geometry(obj: Any, *, latlon: bool | None = None) -> Any:
    """A polygon in lon/lat from a shapely geometry, a GeoJSON-like mapping (Polygon,
    MultiPolygon, Feature, FeatureCollection; positions ``[lon, lat]``) or a list of points.

    A plain list of points is ``[(lat, lon), ...]`` unless ``latlon=False``; when
    ``latlon`` is ``None`` the order is guessed from the values (a coordinate beyond ±90 is a
    longitude) and ``(lat, lon)`` is assumed when both fit.
    """
    if hasattr(obj, "geom_type"):
        return obj
    if isinstance(obj, Mapping):
        t = obj.get("type")
        if t == "Feature":
            return area_geometry(obj.get("geometry"), latlon=False)
        if t == "FeatureCollection":
            geoms = [area_geometry(f, latlon=False) for f in obj.get("features", [])]
            return shapely.union_all(geoms)
        if t in ("Polygon", "MultiPolygon"):
            return shapely.geometry.shape(obj)
        raise ValueError(f"GeoJSON type {t!r} is not an area (allowed: Polygon, MultiPolygon, "
                         "Feature, FeatureCollection)")
    if isinstance(obj, Sequence) and not isinstance(obj, str) and len(obj) >= 3:
        pts = [(float(c[0]), float(c[1])) for c in obj]
        if latlon is None:  # a first value beyond ±90 can only be a longitude
            latlon = not any(abs(a) > 90 for a, _ in pts)
        poly = shapely.Polygon([(b, a) for a, b in pts] if latlon else pts)
        if not poly.is_valid or poly.area <= 0:
            raise ValueError("DRT area polygon is invalid or has no area")
        return poly
    raise ValueError(f"cannot read a DRT area from {type(obj).__name__}: give a shapely "
                     "polygon, a GeoJSON Polygon/Feature or a list of (lat, lon) points")


def drt_area(obj: Any, *, name: str = "", start_time: str | None = None,
             end_time: str | None = None, latlon: bool | None = None) -> DrtArea:
    """A :class:`DrtArea` from any geometry :func:`area_geometry` accepts and HH:MM hours."""
    return DrtArea(area_geometry(obj, latlon=latlon), name,
                   None if start_time is None else time_of_day_s(start_time),
                   None if end_time is None else time_of_day_s(end_time))


# --------------------------------------------------------------------------- helpers
def resident_points(zones: pd.DataFrame, *, mode: str = "disc", n: int = 19
                    ) -> pd.DataFrame:
    """Resident points: columns ``zone_pos`` (row position in ``zones``), ``lat``, ``lon``,
    ``weight`` (share of the zone's residents; sums to 1 per zone)."""
    rows = []
    for pos, (lat0, lon0, area) in enumerate(zip(zones["lat"].to_numpy(float),
                                                 zones["lon"].to_numpy(float),
                                                 zones["area_km2"].to_numpy(float)
                                                 if "area_km2" in zones else
                                                 np.full(len(zones), np.nan), strict=True)):
        if mode == "centroid":
            rows.append((pos, lat0, lon0, 1.0))
            continue
        if mode != "disc":
            raise ValueError(f"resident_points mode must be 'centroid' or 'disc', got {mode!r}")
        r = math.sqrt(area / math.pi) if np.isfinite(area) and area > 0 \
            else DEFAULT_POINT_RADIUS_KM
        for k in range(n):
            rho = r * math.sqrt((k + 0.5) / n)
            th = k * _GOLDEN_ANGLE
            lat, lon = offset_latlon(lat0, lon0, rho * math.cos(th), rho * math.sin(th))
            rows.append((pos, lat, lon, 1.0 / n))
    return pd.DataFrame(rows, columns=["zone_pos", "lat", "lon", "weight"])


def served_stops(world: World, *, min_departures: int = 1) -> list[str]:
    """Stops with at least ``min_departures`` scheduled departures in ``world.trips``."""
    deps: dict[str, int] = {}
    for t in world.trips:
        for s in t.stop_ids[:-1]:
            deps[s] = deps.get(s, 0) + 1
    return sorted(s for s, n in deps.items() if n >= min_departures and s in world.stops)


def _band_cars(zones: pd.DataFrame, car: Mapping[str, float] | None) -> np.ndarray | None:
    """Residents without a car per zone, or None when car availability is not given."""
    cols = [f"car_avail_{c.removeprefix('pop_')}" for c in AGE_BAND_COLUMNS]
    if car is None and not all(c in zones.columns for c in cols):
        return None
    out = np.zeros(len(zones))
    for band, col in zip(AGE_BAND_COLUMNS, cols, strict=True):
        if car is not None:
            share = car.get(band, car.get(band.removeprefix("pop_")))
            if share is None:
                raise ValueError(f"car_availability misses {band!r}; give a share for each of "
                                 f"{list(AGE_BAND_COLUMNS)}")
            s = np.full(len(zones), float(share))
        else:
            s = zones[col].to_numpy(float)
        if np.any((s < 0) | (s > 1)):
            raise ValueError(f"car availability of {band} must be within 0..1")
        out += zones[band].to_numpy(float) * (1.0 - s)
    return out


def _fmt(d: float) -> str:
    return str(int(d)) if float(d).is_integer() else f"{d:g}".replace(".", "_")


# --------------------------------------------------------------------------- main
def accessibility_table(
    world: World,
    zones: pd.DataFrame,
    walk: Any,
    *,
    config: AccessConfig | None = None,
    drt_areas: Iterable[DrtArea] = (),
    car_availability: Mapping[str, float] | None = None,
    landmarks: pd.DataFrame | None = None,
    planner: Any = None,
) -> pd.DataFrame:
    """Per-zone coverage and travel-time KPIs (columns in the module docstring).

    Args:
        world: the scenario's World (stops snapped to ``walk``'s node indices, trips).
        zones: a zone table (:func:`~tomakomai_maas.demand.zones.load_zones`).
        walk: the walking :class:`~tomakomai_maas.network.TravelTimes` the World was built
            with (``BuildContext.walk_oracle``).
        config: thresholds, points, departure times, destinations.
        drt_areas: DRT service areas (:func:`drt_area`).
        car_availability: band -> share of residents with a car (optional).
        landmarks: landmark table (default: the package's ``landmarks.csv``).
        planner: a :class:`~tomakomai_maas.journey.JourneyPlanner` for ``world`` (built
            when omitted).
    """
    from tomakomai_maas.journey import JourneyPlanner
    from tomakomai_maas.network import load_landmarks

    cfg = config or AccessConfig()
    jp = world.journey
    max_walk = cfg.max_walk_m if cfg.max_walk_m is not None else jp.max_walk_m
    max_direct = cfg.max_direct_walk_m
    speed = jp.walk_speed_mps
    lm = landmarks if landmarks is not None else load_landmarks()
    lm_by_key = {str(k): (float(a), float(b)) for k, a, b in zip(lm["key"], lm["lat"], lm["lon"],
                                                                 strict=True)}
    unknown = [d for d in cfg.destinations if d not in lm_by_key]
    if unknown:
        raise ValueError(f"unknown destination landmark(s) {unknown}; known keys: "
                         f"{', '.join(sorted(lm_by_key))}")
    zones = zones.reset_index(drop=True)
    nz = len(zones)

    # ---- coverage
    served = served_stops(world, min_departures=cfg.min_departures)
    pts = resident_points(zones, mode=cfg.resident_points, n=cfg.points_per_zone)
    p_idx, p_snap = walk.snap_many(pts["lat"].to_numpy(), pts["lon"].to_numpy(),
                                   max_snap_m=math.inf)
    p_snap = np.where(p_snap <= cfg.max_snap_m, p_snap, np.inf)
    if served:
        s_nodes = np.array([world.stops[s].node for s in served], dtype=np.intp)
        s_snap = np.array([world.stops[s].snap_m for s in served], dtype=float)
        dmat = np.asarray(walk.dist_matrix_m(p_idx, s_nodes), dtype=float)
        nearest = (dmat + s_snap[None, :]).min(axis=1) + p_snap
    else:
        nearest = np.full(len(pts), np.inf)
    active = [a for a in drt_areas if a.active_during(world.start_s, world.end_s)]
    in_drt = np.zeros(len(pts), dtype=bool)
    reached = np.isfinite(p_snap)
    for a in active:
        inside = (reached.copy() if a.geometry is None else
                  shapely.contains_xy(a.geometry, pts["lon"].to_numpy(), pts["lat"].to_numpy()))
        if a.virtual_stops and a.max_walk_m is not None:
            v = np.asarray(a.virtual_stops, dtype=float)
            v_idx, v_snap = walk.snap_many(v[:, 0], v[:, 1], max_snap_m=math.inf)
            vd = np.asarray(walk.dist_matrix_m(p_idx, np.asarray(v_idx, dtype=np.intp)),
                            dtype=float)
            near = (vd + np.asarray(v_snap, dtype=float)[None, :]).min(axis=1) + p_snap
            inside &= near <= a.max_walk_m
        in_drt |= inside
    w = pts["weight"].to_numpy()
    zp = pts["zone_pos"].to_numpy()

    def zone_sum(x: np.ndarray) -> np.ndarray:
        return np.bincount(zp, weights=w * x, minlength=nz)

    out = pd.DataFrame({c: zones[c] for c in ("zone_id", "name", "lat", "lon", "area_km2",
                                              "pop_total", *AGE_BAND_COLUMNS)
                        if c in zones.columns})
    no_car = _band_cars(zones, car_availability)
    if no_car is not None:
        out["pop_no_car"] = no_car
    out["n_points"] = np.bincount(zp, minlength=nz).astype(np.int64)
    finite = np.isfinite(nearest)
    wsum = zone_sum(finite.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["walk_to_stop_m"] = np.where(wsum > 0, zone_sum(np.where(finite, nearest, 0.0)) /
                                         np.where(wsum > 0, wsum, 1.0), np.nan)
    for d in cfg.walk_thresholds_m:
        out[f"stop_{_fmt(d)}m_share"] = zone_sum((nearest <= d).astype(float))
    out["drt_share"] = zone_sum(in_drt.astype(float))
    for d in cfg.walk_thresholds_m:
        share = zone_sum(((nearest <= d) | in_drt).astype(float))
        out[f"covered_{_fmt(d)}m_share"] = share
        out[f"covered_{_fmt(d)}m_pop"] = share * zones["pop_total"].to_numpy(float)
        out[f"covered_{_fmt(d)}m_pop_65p"] = share * zones["pop_65p"].to_numpy(float)
        if no_car is not None:
            out[f"covered_{_fmt(d)}m_pop_no_car"] = share * no_car

    # ---- travel times from centroids: by public transport (>= 1 ride) and on foot
    planner = planner if planner is not None else JourneyPlanner(world)
    all_stops = sorted(world.stops)
    all_nodes = np.array([world.stops[s].node for s in all_stops], dtype=np.intp)
    all_snap = np.array([world.stops[s].snap_m for s in all_stops], dtype=float)
    c_idx, c_snap = walk.snap_many(zones["lat"].to_numpy(float), zones["lon"].to_numpy(float),
                                   max_snap_m=math.inf)
    deps = [time_of_day_s(t) for t in cfg.departure_times]
    for dest in cfg.destinations:
        dlat, dlon = lm_by_key[dest]
        d_idx, d_snap = walk.snap(dlat, dlon, max_snap_m=math.inf)
        egress_m = np.asarray(walk.dist_m(all_nodes, np.full(len(all_nodes), d_idx)),
                              dtype=float) + all_snap + d_snap
        egress = tuple(Access(all_stops[j], egress_m[j] / speed, egress_m[j])
                       for j in np.flatnonzero(egress_m <= max_walk))
        pt_tt = np.full(nz, np.nan)
        rides = np.full(nz, np.nan)
        walk_tt = np.full(nz, np.nan)
        best_tt = np.full(nz, np.nan)
        for z in range(nz):
            if c_snap[z] > cfg.max_snap_m:
                continue
            acc_m = np.asarray(walk.dist_m(np.full(len(all_nodes), c_idx[z]), all_nodes),
                               dtype=float) + all_snap + c_snap[z]
            access = tuple(Access(all_stops[j], acc_m[j] / speed, acc_m[j])
                           for j in np.flatnonzero(acc_m <= max_walk))
            direct_m = float(walk.dist_m(int(c_idx[z]), int(d_idx))) + c_snap[z] + d_snap
            on_foot = direct_m / speed / 60.0 if direct_m <= max_direct else math.nan
            walk_tt[z] = on_foot
            times, n_rides, best = [], [], []
            for t0 in deps:
                req = Request(f"{zones['zone_id'].iloc[z]}->{dest}@{t0:.0f}", t0,
                              float(zones["lat"].iloc[z]), float(zones["lon"].iloc[z]),
                              dlat, dlon, access, egress, direct_walk_s=math.inf)
                itin = planner.plan(req)
                pt = ((itin.arrive_s - t0) / 60.0 if itin is not None and itin.rides
                      else math.nan)
                if math.isfinite(pt):
                    times.append(pt)
                    n_rides.append(len(itin.rides))
                finite = [x for x in (pt, on_foot) if math.isfinite(x)]
                if finite:
                    best.append(min(finite))
            if times:
                pt_tt[z] = float(np.mean(times))
                rides[z] = float(np.mean(n_rides))
            if best:
                best_tt[z] = float(np.mean(best))
        out[f"pt_tt_{dest}_min"] = pt_tt
        out[f"rides_{dest}"] = rides
        out[f"walk_{dest}_min"] = walk_tt
        out[f"tt_{dest}_min"] = best_tt
    return out


# --------------------------------------------------------------------------- scenarios
def drt_areas_of_world(world: World) -> list[DrtArea]:
    """The DRT service of a built World as :class:`DrtArea` s (``[]`` without DRT).

    Hours span the first service window's start to the last one's end (``None`` = all day);
    a stop-based service carries its virtual stops and walk limit."""
    svc = world.drt
    if svc is None:
        return []
    geom = (shapely.Polygon([(lon, lat) for lat, lon in svc.area])
            if svc.area is not None else None)
    hours = svc.service_hours_s
    start = min(a for a, _ in hours) if hours else None
    end = max(b for _, b in hours) if hours else None
    stops: tuple[tuple[float, float], ...] = ()
    max_walk = None
    if svc.mode == "stop_based":
        stops = tuple((float(v.lat), float(v.lon)) for v in svc.virtual_stops)
        max_walk = float(svc.max_walk_m)
    return [DrtArea(geom, svc.name, start, end, stops, max_walk)]


def scenario_zones(sc: Any) -> pd.DataFrame | None:
    """Zones for a scenario's accessibility KPIs (see :class:`AccessibilityConfig`), or
    ``None`` when there are none to use. Without ``accessibility.zones_file`` the generated
    demand's zones are used, restricted to its study area (``keep_zones``) when it has one,
    so a scenario about the station area is not averaged over 沼ノ端 and 勇払."""
    from tomakomai_maas.demand.zones import load_zones

    cfg: AccessibilityConfig = sc.accessibility
    if cfg.zones_file is not None:
        return load_zones(cfg.zones_file)
    gen = sc.demand.generated
    zones = None
    if gen is not None and gen.zones_file is not None:
        zones = load_zones(gen.zones_file)
    elif str(sc.network.source).startswith("embedded:"):
        zones = load_zones()
    if zones is not None:
        if gen is not None and gen.keep_zones:  # the scenario's study area
            keep = set(gen.keep_zones)
            zones = zones[zones["zone_id"].astype(str).isin(keep)].reset_index(drop=True)
        return zones
    log.info("%s: no accessibility table: the network is not the embedded one and no zone "
             "file is given (accessibility.zones_file)", sc.name)
    return None


def scenario_accessibility(sc: Any, world: World, walk: Any) -> pd.DataFrame | None:
    """The zone table of :func:`accessibility_table` for a scenario, with its
    ``accessibility`` settings, its zones (:func:`scenario_zones`) and its DRT service; ``None``
    when disabled or without zones."""
    cfg: AccessibilityConfig = sc.accessibility
    if not cfg.enabled:
        return None
    zones = scenario_zones(sc)
    if zones is None:
        return None
    return accessibility_table(world, zones, walk, config=cfg.settings(),
                               drt_areas=drt_areas_of_world(world),
                               car_availability=household_car_shares(sc))


def household_car_shares(sc: Any) -> dict[str, float]:
    """Share of residents living in a household with a car, by age band, from the scenario's
    ``demand.generated.car_availability.household_car_prob`` (its defaults when the demand
    is not generated). These shares are ASSUMED (car ownership in Tomakomai was not found,
    facts §4); "without a car" = in a household without one, whatever the licence."""
    from tomakomai_maas.scenario.schema_demand import GeneratedDemandConfig

    gen = sc.demand.generated
    probs = (gen.car_availability if gen is not None else
             GeneratedDemandConfig().car_availability).household_car_prob
    return dict(zip(("0_14", "15_64", "65p"), (float(p) for p in probs), strict=True))


def accessibility_json(table: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """:func:`accessibility_summary` as ``{band: {metric: value}}`` (NaN → ``None``), rounded
    to 10 significant digits so summaries are byte-stable."""
    summ = accessibility_summary(table)
    out: dict[str, dict[str, float | None]] = {}
    for band, row in summ.iterrows():
        out[str(band)] = {str(k): (float(f"{v:.10g}") if np.isfinite(v) else None)
                          for k, v in row.items()}
    return out


# --------------------------------------------------------------------------- summaries
def _thresholds(table: pd.DataFrame) -> list[str]:
    return [m.group(1) for c in table.columns if (m := re.fullmatch(r"covered_(\w+?)m_share", c))]


def _dests(table: pd.DataFrame) -> list[str]:
    return [m.group(1) for c in table.columns if (m := re.fullmatch(r"tt_(.+)_min", c))
            and not c.startswith("pt_tt_")]


def accessibility_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Population-weighted KPIs by age band (rows ``all``, ``0_14``, ``15_64``, ``65p``,
    ``no_car`` when present; columns in the module docstring), indexed by ``band``."""
    rows = {}
    share_cols = ([f"stop_{d}m_share" for d in _thresholds(table)] + ["drt_share"]
                  + [f"covered_{d}m_share" for d in _thresholds(table)])
    for band, col in BANDS.items():
        if col not in table.columns:
            continue
        pop = table[col].to_numpy(float)
        total = float(pop.sum())
        r: dict[str, float] = {"population": total}
        for c in share_cols:
            r[c] = float((pop * table[c].to_numpy(float)).sum() / total) if total else np.nan
        x = table["walk_to_stop_m"].to_numpy(float)
        ok = np.isfinite(x)
        r["walk_to_stop_m"] = (float((pop[ok] * x[ok]).sum() / pop[ok].sum())
                               if pop[ok].sum() > 0 else np.nan)
        for dest in _dests(table):
            for pre in ("pt_", ""):
                if f"{pre}tt_{dest}_min" not in table.columns:
                    continue
                x = table[f"{pre}tt_{dest}_min"].to_numpy(float)
                ok = np.isfinite(x)
                r[f"{pre}tt_{dest}_min"] = (float((pop[ok] * x[ok]).sum() / pop[ok].sum())
                                            if pop[ok].sum() > 0 else np.nan)
                r[f"{pre}reach_{dest}_share"] = (float(pop[ok].sum() / total) if total
                                                 else np.nan)
        rows[band] = r
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "band"
    return out


def compare_accessibility(tables: Mapping[str, pd.DataFrame], *, baseline: str | None = None
                          ) -> pd.DataFrame:
    """Compare scenarios: long table with columns ``scenario, band, metric, value,
    baseline_value, delta`` (``delta = value − baseline_value``).

    ``tables`` maps a scenario name to its zone table (or to an already computed summary);
    ``baseline`` defaults to the first scenario.
    """
    if not tables:
        raise ValueError("compare_accessibility needs at least one table")
    names = list(tables)
    base = baseline if baseline is not None else names[0]
    if base not in tables:
        raise ValueError(f"baseline {base!r} not among the scenarios {names}")
    summ = {n: (t if "population" in t.columns else accessibility_summary(t))
            for n, t in tables.items()}
    long = []
    for n in names:
        s = summ[n].reset_index().melt(id_vars="band", var_name="metric", value_name="value")
        s.insert(0, "scenario", n)
        long.append(s)
    out = pd.concat(long, ignore_index=True)
    b = summ[base].reset_index().melt(id_vars="band", var_name="metric",
                                      value_name="baseline_value")
    out = out.merge(b, on=["band", "metric"], how="left")
    out["delta"] = out["value"] - out["baseline_value"]
    return out


def compare_zones(tables: Mapping[str, pd.DataFrame], column: str, *,
                  baseline: str | None = None) -> pd.DataFrame:
    """One zone column across scenarios: ``zone_id``, ``lat``, ``lon``, ``area_km2``, one
    column per scenario (its value) and ``delta_<scenario>`` (value − baseline) for the others.

    Zones are matched by ``zone_id`` (rows of the baseline table, in its order).
    """
    if not tables:
        raise ValueError("compare_zones needs at least one table")
    names = list(tables)
    base = baseline if baseline is not None else names[0]
    if base not in tables:
        raise ValueError(f"baseline {base!r} not among the scenarios {names}")
    keep = [c for c in ("zone_id", "name", "lat", "lon", "area_km2") if c in tables[base]]
    out = tables[base][keep].copy()
    for n in names:
        t = tables[n]
        if column not in t.columns:
            raise ValueError(f"scenario {n!r}: column {column!r} not in its table")
        out[n] = out["zone_id"].map(dict(zip(t["zone_id"], t[column], strict=True)))
    for n in names:
        if n != base:
            out[f"delta_{n}"] = out[n] - out[base]
    return out
