"""Choropleth maps of zone KPIs (e.g. accessibility tables from ``metrics.access``).

Plots only draw: they take tables with ``lat``/``lon`` (zone centroid, WGS84) and a value
column and return ``(fig, ax)``; save them with :func:`tomakomai_maas.report._save.save_figure`.

How zones are drawn (``style``):

``"voronoi"`` (default)
    the Voronoi cell of each centroid (computed on a local equirectangular projection),
    clipped to the north-aligned square of the zone's area centred on the centroid (side
    ``sqrt(area_km2)``; 0.6 km when the area is unknown). For the embedded zone grid (600 m
    cells) this reproduces the square cells exactly; other zones get a compact cell no
    larger than their area instead of an unbounded one.
``"circles"``
    a disc of the zone's area around its centroid (the same disc the accessibility KPIs
    sample residents from).
``"polygons"``
    the zone polygons you pass as ``geometries`` (shapely geometries or GeoJSON-like
    mappings in lon/lat, aligned with the table rows), e.g. census 町丁 polygons.

Zones whose value is NaN are drawn light grey with a hatch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib_fontja  # noqa: F401 - registers the Japanese font with matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Polygon as MplPolygon
from matplotlib.ticker import MaxNLocator

from tomakomai_maas.demand.zones import DEFAULT_POINT_RADIUS_KM, local_xy_km, offset_latlon

__all__ = ["zone_geometries", "plot_zone_map", "plot_zone_maps", "ZONE_STYLES"]

ZONE_STYLES = ("voronoi", "circles", "polygons")
_NAN_COLOR = "#e0e0e0"


def _areas(zones: pd.DataFrame) -> np.ndarray:
    a = zones["area_km2"].to_numpy(float) if "area_km2" in zones.columns else \
        np.full(len(zones), np.nan)
    default = (2 * DEFAULT_POINT_RADIUS_KM) ** 2
    return np.where(np.isfinite(a) & (a > 0), a, default)


def _to_lonlat(geom: Any, lat0: float, lon0: float) -> Any:
    def tr(xy: np.ndarray) -> np.ndarray:
        lat, lon = offset_latlon(lat0, lon0, xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])
    return shapely.transform(geom, tr)


def zone_geometries(zones: pd.DataFrame, *, style: str = "voronoi",
                    geometries: Sequence[Any] | None = None) -> list[Any]:
    """Zone shapes in lon/lat (shapely), one per row of ``zones`` (see the module docstring)."""
    if style not in ZONE_STYLES:
        raise ValueError(f"style must be one of {', '.join(ZONE_STYLES)}, got {style!r}")
    if style == "polygons":
        if geometries is None or len(geometries) != len(zones):
            raise ValueError("style 'polygons' needs `geometries` with one geometry per zone")
        return [g if hasattr(g, "geom_type") else shapely.geometry.shape(g) for g in geometries]
    lat = zones["lat"].to_numpy(float)
    lon = zones["lon"].to_numpy(float)
    lat0, lon0 = float(np.mean(lat)), float(np.mean(lon))
    x, y = local_xy_km(lat, lon, lat0, lon0)
    area = _areas(zones)
    out = []
    if style == "circles":
        for xi, yi, a in zip(x, y, area, strict=True):
            disc = shapely.Point(xi, yi).buffer(math.sqrt(a / math.pi), quad_segs=16)
            out.append(_to_lonlat(disc, lat0, lon0))
        return out
    pts = shapely.MultiPoint(np.column_stack([x, y]))
    half = np.sqrt(area) / 2.0
    margin = float(half.max()) * 4
    box = shapely.box(x.min() - margin, y.min() - margin, x.max() + margin, y.max() + margin)
    if len(zones) >= 2:
        cells = list(shapely.voronoi_polygons(pts, extend_to=box, ordered=True).geoms)
    else:
        cells = [box]
    for xi, yi, h, cell in zip(x, y, half, cells, strict=True):
        square = shapely.box(xi - h, yi - h, xi + h, yi + h)
        out.append(_to_lonlat(cell.intersection(square), lat0, lon0))
    return out


def _patches(geom: Any) -> list[MplPolygon]:
    polys = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    return [MplPolygon(np.asarray(p.exterior.coords), closed=True) for p in polys
            if p.geom_type == "Polygon" and not p.is_empty]


def plot_zone_map(
    table: pd.DataFrame,
    column: str,
    *,
    style: str = "voronoi",
    geometries: Sequence[Any] | None = None,
    ax: Axes | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    diverging: bool = False,
    title: str | None = None,
    label: str | None = None,
    stops: pd.DataFrame | None = None,
    colorbar: bool = True,
) -> tuple[Figure, Axes]:
    """Draw ``table[column]`` per zone as a choropleth.

    Args:
        table: one row per zone with ``lat``, ``lon`` (and ``area_km2`` for voronoi/circles).
        column: the value to colour by (e.g. ``covered_500m_share``, ``tt_city_hospital_min``).
        style: ``voronoi``, ``circles`` or ``polygons`` (module docstring).
        diverging: centre the colour scale on 0 (for differences between scenarios).
        stops: optional table with ``lat``/``lon`` of stops, drawn as small black dots.
    """
    if column not in table.columns:
        raise ValueError(f"column {column!r} not in the table; columns: "
                         f"{', '.join(map(str, table.columns))}")
    if ax is None:
        fig, ax = _new_axes()
    else:
        fig = ax.figure  # type: ignore[assignment]
    geoms = zone_geometries(table, style=style, geometries=geometries)
    vals = table[column].to_numpy(float)
    finite = vals[np.isfinite(vals)]
    lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    if diverging:
        m = max(abs(lo), abs(hi), 1e-12)
        norm: Normalize = TwoSlopeNorm(vcenter=0.0, vmin=-m, vmax=m)
        cmap = cmap if cmap != "viridis" else "RdBu"
    else:
        norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1e-12)
    cm = colormaps[cmap]
    patches, colors, nan_patches = [], [], []
    for g, v in zip(geoms, vals, strict=True):
        ps = _patches(g)
        if np.isfinite(v):
            patches += ps
            colors += [cm(norm(v))] * len(ps)
        else:
            nan_patches += ps
    if patches:
        ax.add_collection(PatchCollection(patches, facecolor=colors, edgecolor="white",
                                          linewidth=0.5))
    if nan_patches:
        ax.add_collection(PatchCollection(nan_patches, facecolor=_NAN_COLOR, edgecolor="white",
                                          linewidth=0.5, hatch="//"))
    if stops is not None and len(stops):
        ax.scatter(stops["lon"], stops["lat"], s=6, c="black", zorder=3, label="stops")
    bounds = np.array([g.bounds for g in geoms if not g.is_empty])
    if len(bounds):
        ax.set_xlim(bounds[:, 0].min(), bounds[:, 2].max())
        ax.set_ylim(bounds[:, 1].min(), bounds[:, 3].max())
        ax.set_aspect(1.0 / math.cos(math.radians(float(np.mean(bounds[:, [1, 3]])))))
    if colorbar:
        from matplotlib.cm import ScalarMappable

        sm = ScalarMappable(norm=norm, cmap=cm)
        fig.colorbar(sm, ax=ax, shrink=0.8, label=label or column)
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(title if title is not None else column)
    return fig, ax


def plot_zone_maps(
    tables: Mapping[str, pd.DataFrame],
    column: str,
    *,
    style: str = "voronoi",
    geometries: Sequence[Any] | None = None,
    cmap: str = "viridis",
    diverging: bool = False,
    ncols: int | None = None,
    label: str | None = None,
) -> tuple[Figure, np.ndarray]:
    """Small multiples of one column across scenarios with a shared colour scale.

    Returns ``(fig, axes)`` (axes as a flat array, one per scenario, in input order). For
    differences, pass tables with a difference column
    (:func:`tomakomai_maas.metrics.access.compare_zones`) and ``diverging=True``.
    """
    if not tables:
        raise ValueError("plot_zone_maps needs at least one table")
    vals = np.concatenate([t[column].to_numpy(float) for t in tables.values()])
    vals = vals[np.isfinite(vals)]
    lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)
    n = len(tables)
    ncols = ncols or min(n, 3)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(5.0 * ncols, 4.5 * nrows), layout="constrained")
    axes = np.asarray(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, (name, t) in zip(axes, tables.items(), strict=False):
        plot_zone_map(t, column, style=style, geometries=geometries, ax=ax, cmap=cmap,
                      vmin=lo, vmax=hi, diverging=diverging, title=str(name), label=label,
                      colorbar=False)
    for ax in axes[n:]:
        ax.set_visible(False)
    from matplotlib.cm import ScalarMappable

    if diverging:
        m = max(abs(lo), abs(hi), 1e-12)
        norm: Normalize = TwoSlopeNorm(vcenter=0.0, vmin=-m, vmax=m)
        cmap = cmap if cmap != "viridis" else "RdBu"
    else:
        norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1e-12)
    fig.colorbar(ScalarMappable(norm=norm, cmap=colormaps[cmap]), ax=list(axes[:n]),
                 shrink=0.8, label=label or column)
    return fig, axes[:n]


def _new_axes() -> tuple[Figure, Axes]:
    fig = Figure(figsize=(8, 7), layout="constrained")
    ax = fig.add_subplot()
    return fig, ax
