"""Traffic zones: the embedded central-Tomakomai zone system and user zone files.

A zone table (``pandas.DataFrame``, one row per zone, file order kept) has the columns of
:data:`ZONE_COLUMNS` with the dtypes of :data:`ZONE_DTYPES`:

=================  =====================================================================
column             meaning (units)
=================  =====================================================================
zone_id            unique identifier (str)
name, name_en      display names (str; ``name`` defaults to ``zone_id``)
lat, lon           centroid, WGS84 degrees
area_km2           zone area in km² (NaN = unknown; generation then uses
                   :data:`DEFAULT_POINT_RADIUS_KM`)
pop_total          residents (persons; fractional values allowed in user files)
pop_0_14 ...       residents by age band 0-14, 15-64, 65+ (sum = ``pop_total``)
households         households
jobs ... school    attraction weights in *relative units* (only ratios between zones of the
                   same column matter; see :data:`ATTRACTION_COLUMNS`)
=================  =====================================================================

User files (``load_zones(path)``):

* **CSV** with ``lat``/``lon`` centroid columns;
* **GeoJSON** FeatureCollection whose features are ``Point`` (the centroid) or ``Polygon`` /
  ``MultiPolygon`` (centroid and, if ``area_km2`` is not a property, area computed on a local
  equirectangular projection); attributes are the feature ``properties``.

Required: ``zone_id``, ``lat``/``lon`` (or a geometry) and ``pop_total``. Missing optional
columns get documented defaults: age bands split ``pop_total`` by the city's age structure
(:data:`TOMAKOMAI`), households = ``pop_total`` x the city's households/population ratio
(both *assumed* to hold in every zone), attraction columns 0 (a warning is logged). Every
problem found (file, row or feature, field, bad value, what is allowed) is collected and
raised once as :class:`~tomakomai_maas.errors.ScenarioError`.

The embedded file ``demand/data/zones_tomakomai_central.csv`` is documented in
``demand/data/README.md`` and built by ``demand/data/make_zones_csv.py``. Its zone split of
the population is an **assumption**: district populations were not found in public data.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tomakomai_maas.errors import ScenarioError

__all__ = [
    "CityFigures",
    "TOMAKOMAI",
    "EMBEDDED_COVERED_SHARE",
    "EMBEDDED_ZONES_PATH",
    "AGE_BAND_COLUMNS",
    "ATTRACTION_COLUMNS",
    "ZONE_COLUMNS",
    "ZONE_DTYPES",
    "REQUIRED_ZONE_COLUMNS",
    "DEFAULT_POINT_RADIUS_KM",
    "KM_PER_DEG_LAT",
    "STATION_LAT",
    "STATION_LON",
    "load_zones",
    "offset_latlon",
    "local_xy_km",
    "haversine_km",
    "zone_distance_km",
    "crow_fly_time_matrix",
    "nearest_zone",
]

log = logging.getLogger(__name__)

KM_PER_DEG_LAT = 6371.0088 * math.pi / 180.0
"""km per degree of latitude on the mean-radius sphere (used for all local projections)."""

STATION_LAT = 42.6397833
STATION_LON = 141.5967722
"""JR苫小牧駅 centroid (facts §3, Wikipedia); origin of the embedded zone grid."""


@dataclass(frozen=True)
class CityFigures:
    """Whole-city figures the zone totals are scaled from (facts §4)."""

    population: int
    pop_0_14: int
    pop_15_64: int
    pop_65p: int
    households: int
    population_source: str = ""
    households_source: str = ""

    @property
    def age_shares(self) -> tuple[float, float, float]:
        """Shares of the 0-14, 15-64, 65+ bands in the population."""
        p = float(self.population)
        return (self.pop_0_14 / p, self.pop_15_64 / p, self.pop_65p / p)

    @property
    def persons_per_household(self) -> float:
        """Population / households (mixed bases when the sources differ; see the sources)."""
        return self.population / self.households


TOMAKOMAI = CityFigures(
    population=165_590,
    pop_0_14=18_268,
    pop_15_64=96_370,
    pop_65p=50_952,
    households=79_738,
    population_source="住民基本台帳 2024-12-31 via 苫小牧民報, "
                      "https://fo.tomamin.co.jp/archives/102672 (facts §4)",
    households_source="2020 census via https://towncheck.jp/areas/01213/detail (facts §4); "
                      "different base and year from the population figure",
)
"""Tomakomai city figures (stated in the sources of facts §4; 65+ share 30.8 %)."""

EMBEDDED_COVERED_SHARE = 0.30
"""Share of the city's residents living in the embedded zones. **Assumed**: the zones cover the
~3x3 km core around JR苫小牧駅, the 国道36号 corridor to イオンモール苫小牧 / 沼ノ端 / 勇払 and the
港町 port area, i.e. a minority of the ~40 km long city (the large western and northern
residential districts are outside). District populations are NOT FOUND in public data."""

EMBEDDED_ZONES_PATH = Path(__file__).with_name("data") / "zones_tomakomai_central.csv"

AGE_BAND_COLUMNS = ("pop_0_14", "pop_15_64", "pop_65p")
ATTRACTION_COLUMNS = ("jobs", "retail", "hospital", "station", "port_market", "city_hall",
                      "school")
ZONE_COLUMNS = ("zone_id", "name", "name_en", "lat", "lon", "area_km2", "pop_total",
                *AGE_BAND_COLUMNS, "households", *ATTRACTION_COLUMNS)
ZONE_DTYPES: dict[str, str] = {c: "float64" for c in ZONE_COLUMNS}
ZONE_DTYPES.update({"zone_id": "str", "name": "str", "name_en": "str"})
REQUIRED_ZONE_COLUMNS = ("zone_id", "lat", "lon", "pop_total")

DEFAULT_POINT_RADIUS_KM = 0.3
"""Radius of the disc used to scatter trip ends when a zone's area is unknown (assumed)."""

_MAX_PROBLEMS = 50


# --------------------------------------------------------------------------- geometry
def offset_latlon(lat0: float, lon0: float, dx_km: float, dy_km: float) -> tuple[float, float]:
    """Point ``dx_km`` east and ``dy_km`` north of ``(lat0, lon0)`` (local equirectangular)."""
    lat = lat0 + dy_km / KM_PER_DEG_LAT
    lon = lon0 + dx_km / (KM_PER_DEG_LAT * math.cos(math.radians(lat0)))
    return lat, lon


def local_xy_km(lat: Any, lon: Any, lat0: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    """East/north offsets in km of points from ``(lat0, lon0)`` (local equirectangular)."""
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    x = (lon - lon0) * KM_PER_DEG_LAT * math.cos(math.radians(lat0))
    y = (lat - lat0) * KM_PER_DEG_LAT
    return x, y


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance in km (broadcasts like numpy)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2.0 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def zone_distance_km(zones: pd.DataFrame) -> np.ndarray:
    """Centroid-to-centroid great-circle distances, ``float64[n_zones, n_zones]``."""
    lat = zones["lat"].to_numpy(float)
    lon = zones["lon"].to_numpy(float)
    return haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])


def crow_fly_time_matrix(zones: pd.DataFrame, *, speed_kph: float = 20.0,
                         circuity: float = 1.3) -> np.ndarray:
    """Placeholder zone-to-zone travel times in minutes from straight-line distances.

    ``time = distance x circuity / speed``. The intrazonal time uses the mean distance
    between two random points of a disc of the zone's area (``0.905 r``, r = equivalent
    radius; :data:`DEFAULT_POINT_RADIUS_KM` when the area is unknown). Both ``speed_kph``
    (20 km/h door-to-door) and ``circuity`` (1.3) are **assumed** defaults; use road-network
    skims from the TravelTimes oracle for studies.
    """
    if speed_kph <= 0 or circuity <= 0:
        raise ValueError(f"speed_kph and circuity must be > 0, got {speed_kph}, {circuity}")
    d = zone_distance_km(zones)
    area = zones["area_km2"].to_numpy(float)
    r = np.where(np.isfinite(area) & (area > 0), np.sqrt(np.abs(area) / math.pi),
                 DEFAULT_POINT_RADIUS_KM)
    np.fill_diagonal(d, 0.905 * r)
    return d * circuity / speed_kph * 60.0


def nearest_zone(zones: pd.DataFrame, lat: float, lon: float) -> int:
    """Row position of the zone whose centroid is nearest to ``(lat, lon)``."""
    d = haversine_km(zones["lat"].to_numpy(float), zones["lon"].to_numpy(float), lat, lon)
    return int(np.argmin(d))


# --------------------------------------------------------------------------- loading
def load_zones(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load a zone table (columns :data:`ZONE_COLUMNS`); ``None`` = the embedded zones.

    Accepts ``.csv`` (centroid ``lat``/``lon`` columns) and ``.geojson``/``.json``
    (FeatureCollection of Point/Polygon/MultiPolygon features). Raises
    :class:`~tomakomai_maas.errors.ScenarioError` listing every problem (file, row or
    feature, field, value, what is allowed).
    """
    p = EMBEDDED_ZONES_PATH if path is None else Path(path)
    if not p.is_file():
        raise ScenarioError(f"{p}: zone file not found (allowed: a .csv with lat/lon columns "
                            "or a .geojson FeatureCollection)")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        raw, labels = _read_csv(p)
    elif suffix in (".geojson", ".json"):
        raw, labels = _read_geojson(p)
    else:
        raise ScenarioError(f"{p}: unknown zone file type {p.suffix!r}; allowed: .csv, "
                            ".geojson, .json")
    return _validate(raw, labels, p)


def _read_csv(p: Path) -> tuple[pd.DataFrame, list[str]]:
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{p}: cannot parse zone CSV: {exc}") from exc
    df.columns = [str(c).strip() for c in df.columns]
    return df, [f"row {i + 2}" for i in range(len(df))]


def _read_geojson(p: Path) -> tuple[pd.DataFrame, list[str]]:
    try:
        doc = json.loads(p.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{p}: cannot parse GeoJSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" \
            or not isinstance(doc.get("features"), list):
        raise ScenarioError(f"{p}: type: expected a GeoJSON FeatureCollection with a "
                            "'features' list")
    rows: list[dict[str, Any]] = []
    labels: list[str] = []
    problems: list[str] = []
    for k, feat in enumerate(doc["features"]):
        props = feat.get("properties") if isinstance(feat, dict) else None
        props = dict(props) if isinstance(props, dict) else {}
        label = f"feature {k}" + (f" (zone_id {props['zone_id']!r})" if "zone_id" in props
                                  else "")
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        row = {key: ("" if v is None else str(v)) for key, v in props.items()}
        if geom is None:
            if not ("lat" in props and "lon" in props):
                problems.append(f"{p}: {label}, geometry: missing (allowed: Point, Polygon, "
                                "MultiPolygon, or lat/lon properties)")
        else:
            try:
                lat, lon, area = _geometry_centroid(geom)
            except ValueError as exc:
                problems.append(f"{p}: {label}, geometry: {exc}")
            else:
                row["lat"], row["lon"] = repr(float(lat)), repr(float(lon))
                if area is not None and row.get("area_km2", "") == "":
                    row["area_km2"] = repr(float(area))
        rows.append(row)
        labels.append(label)
    if problems:
        raise ScenarioError(f"{p}: {len(problems)} problem(s) in the zone file",
                            problems[:_MAX_PROBLEMS])
    df = pd.DataFrame(rows, dtype=str).fillna("")
    return df, labels


def _geometry_centroid(geom: Any) -> tuple[float, float, float | None]:
    """(lat, lon, area_km2 or None) of a GeoJSON Point/Polygon/MultiPolygon."""
    if not isinstance(geom, dict):
        raise ValueError("not a GeoJSON geometry object")
    gtype = geom.get("type")
    coords = geom.get("coordinates")
    if gtype == "Point":
        lon, lat = _position(coords)
        return lat, lon, None
    if gtype == "Polygon":
        polys = [coords]
    elif gtype == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise ValueError("MultiPolygon has no polygons")
        polys = coords
    else:
        raise ValueError(f"type {gtype!r} not supported (allowed: Point, Polygon, "
                         "MultiPolygon)")
    # Reference point for the local projection: first vertex of the first ring.
    first = _ring(polys[0][0] if isinstance(polys[0], list) and polys[0] else None)
    lon0, lat0 = first[0]
    total_a = 0.0
    sx = sy = 0.0
    for poly in polys:
        if not isinstance(poly, list) or not poly:
            raise ValueError("polygon has no rings")
        for j, ring_coords in enumerate(poly):
            ring = _ring(ring_coords)
            x, y = local_xy_km(ring[:, 1], ring[:, 0], lat0, lon0)
            cross = x[:-1] * y[1:] - x[1:] * y[:-1]
            a = 0.5 * cross.sum()
            if a == 0.0:
                raise ValueError("a polygon ring has zero area")
            cx = ((x[:-1] + x[1:]) * cross).sum() / (6.0 * a)
            cy = ((y[:-1] + y[1:]) * cross).sum() / (6.0 * a)
            sign = 1.0 if j == 0 else -1.0  # holes subtract
            total_a += sign * abs(a)
            sx += sign * abs(a) * cx
            sy += sign * abs(a) * cy
    if total_a <= 0:
        raise ValueError("polygon area is not positive (holes larger than the shell?)")
    lat, lon = offset_latlon(lat0, lon0, sx / total_a, sy / total_a)
    return float(lat), float(lon), float(total_a)


def _position(c: Any) -> tuple[float, float]:
    if not (isinstance(c, list | tuple) and len(c) >= 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in c[:2])):
        raise ValueError(f"position {c!r} is not [lon, lat]")
    lon, lat = float(c[0]), float(c[1])
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError(f"position {c!r} is outside lon [-180, 180] / lat [-90, 90]")
    return lon, lat


def _ring(c: Any) -> np.ndarray:
    if not isinstance(c, list) or len(c) < 4:
        raise ValueError("a polygon ring needs at least 4 positions (closed)")
    pts = np.array([_position(v) for v in c], dtype=float)
    if not np.allclose(pts[0], pts[-1]):
        pts = np.vstack([pts, pts[:1]])
    return pts


def _validate(raw: pd.DataFrame, labels: list[str], p: Path) -> pd.DataFrame:
    problems: list[str] = []
    missing = [c for c in REQUIRED_ZONE_COLUMNS if c not in raw.columns]
    if missing:
        raise ScenarioError(f"{p}: missing column(s) {missing}; required: "
                            f"{list(REQUIRED_ZONE_COLUMNS)} (GeoJSON: a geometry replaces "
                            "lat/lon)")
    if len(raw) == 0:
        raise ScenarioError(f"{p}: the zone file has no zones")
    n = len(raw)
    out = pd.DataFrame(index=pd.RangeIndex(n))

    ids = raw["zone_id"].astype(str).str.strip()
    seen: dict[str, str] = {}
    for i, z in enumerate(ids):
        if z == "" or z.lower() == "nan":
            problems.append(f"{p}: {labels[i]}, zone_id: empty (a unique identifier is required)")
        elif z in seen:
            problems.append(f"{p}: {labels[i]}, zone_id: {z!r} duplicates {seen[z]}")
        else:
            seen[z] = labels[i]
    out["zone_id"] = ids
    out["name"] = raw["name"].astype(str) if "name" in raw.columns else ids
    out["name_en"] = raw["name_en"].astype(str) if "name_en" in raw.columns else ""

    def number(col: str, lo: float, hi: float, allowed: str, *, required: bool) -> np.ndarray:
        if col not in raw.columns:
            return np.full(n, np.nan)
        text = raw[col].astype(str).str.strip()
        vals = pd.to_numeric(text.replace("", np.nan), errors="coerce").to_numpy(float)
        for i in range(n):
            v = vals[i]
            blank = text.iloc[i] == "" or text.iloc[i].lower() == "nan"
            if blank and not required:
                continue
            if not (np.isfinite(v) and lo <= v <= hi):
                problems.append(f"{p}: {labels[i]}, {col}: {raw[col].iloc[i]!r} is not "
                                f"{allowed}")
        return vals

    out["lat"] = number("lat", -90, 90, "a latitude in [-90, 90]", required=True)
    out["lon"] = number("lon", -180, 180, "a longitude in [-180, 180]", required=True)
    out["area_km2"] = number("area_km2", 1e-9, math.inf, "a positive area in km2 (or blank)",
                             required=False)
    nonneg = "a non-negative number"
    out["pop_total"] = number("pop_total", 0, math.inf, nonneg, required=True)

    present = [c for c in AGE_BAND_COLUMNS if c in raw.columns]
    if present and len(present) < len(AGE_BAND_COLUMNS):
        absent = [c for c in AGE_BAND_COLUMNS if c not in raw.columns]
        problems.append(f"{p}: columns {absent}: give all age bands {list(AGE_BAND_COLUMNS)} "
                        "or none (none = split pop_total by the city's age structure)")
    elif present:
        for c in AGE_BAND_COLUMNS:
            out[c] = number(c, 0, math.inf, nonneg, required=True)
        band_sum = out[list(AGE_BAND_COLUMNS)].sum(axis=1).to_numpy()
        for i in np.flatnonzero(np.abs(band_sum - out["pop_total"].to_numpy()) > 0.5):
            problems.append(f"{p}: {labels[i]}, pop_total: {out['pop_total'].iloc[i]:g} differs "
                            f"from pop_0_14 + pop_15_64 + pop_65p = {band_sum[i]:g}")
    else:
        total = out["pop_total"].to_numpy()
        s0, s1, s2 = TOMAKOMAI.age_shares
        out["pop_0_14"] = total * s0
        out["pop_65p"] = total * s2
        out["pop_15_64"] = total - out["pop_0_14"] - out["pop_65p"]
        log.info("%s: no age-band columns; split pop_total by the city age structure "
                 "(%.3f/%.3f/%.3f, assumed uniform across zones)", p, s0, s1, s2)

    if "households" in raw.columns:
        out["households"] = number("households", 0, math.inf, nonneg, required=True)
    else:
        out["households"] = out["pop_total"] / TOMAKOMAI.persons_per_household
        log.info("%s: no households column; households = pop_total / %.3f (city ratio, "
                 "assumed)", p, TOMAKOMAI.persons_per_household)

    absent_attr = [c for c in ATTRACTION_COLUMNS if c not in raw.columns]
    for c in ATTRACTION_COLUMNS:
        out[c] = number(c, 0, math.inf, nonneg, required=False) if c in raw.columns \
            else np.zeros(n)
        out[c] = out[c].fillna(0.0)
    if absent_attr:
        log.warning("%s: attraction column(s) %s missing, set to 0; purposes that use them "
                    "need other columns", p, absent_attr)

    if problems:
        raise ScenarioError(f"{p}: {len(problems)} problem(s) in the zone file",
                            problems[:_MAX_PROBLEMS])
    return out[list(ZONE_COLUMNS)].astype(ZONE_DTYPES)
