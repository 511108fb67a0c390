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

Zones whose value is NaN are drawn light grey with a hatch (in the legend: ``nan_label``,
e.g. "not reachable" for travel times). For context the maps can draw the road network
faintly over the zones, the served stops as dots and DRT service areas as dashed outlines,
with a legend in Japanese or English (``lang``) and a km scale bar instead of degree ticks.
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
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch as MplPatch
from matplotlib.patches import Polygon as MplPolygon
from matplotlib.ticker import MaxNLocator

from tomakomai_maas.demand.zones import DEFAULT_POINT_RADIUS_KM, local_xy_km, offset_latlon
from tomakomai_maas.report.labels import check_lang, text
from tomakomai_maas.report.network_map import add_scale_bar, road_segments

__all__ = ["zone_geometries", "plot_zone_map", "plot_zone_maps", "ZONE_STYLES"]

ZONE_STYLES = ("voronoi", "circles", "polygons")
_NAN_COLOR = "#e0e0e0"
_ROAD_COLOR = "#303030"
_ROAD_ALPHA = 0.3
_DRT_COLOR = "#ff7f0e"  # the DRT colour of the scenario map (report.plots)


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


def _context_handles(*, roads: bool, stops: bool, drt: bool, nan: bool, lang: str,
                     nan_label: str | None) -> list[Any]:
    """Legend entries of the map's context layers (hatched zones, roads, stops, DRT)."""
    h: list[Any] = []
    if nan:
        h.append(MplPatch(facecolor=_NAN_COLOR, edgecolor="white", hatch="//",
                          label=nan_label or text("no_value", lang)))
    if roads:
        h.append(Line2D([], [], color=_ROAD_COLOR, alpha=_ROAD_ALPHA, linewidth=1.0,
                        label=text("roads", lang)))
    if stops:
        h.append(Line2D([], [], marker="o", linestyle="", markersize=3.5, color="black",
                        label=text("served_stops", lang)))
    if drt:
        h.append(Line2D([], [], color=_DRT_COLOR, linestyle="--", linewidth=1.5,
                        label=text("drt_area", lang)))
    return h


def _draw_zone_map(table: pd.DataFrame, column: str, *, ax: Axes, style: str,
                   geometries: Sequence[Any] | None, norm: Normalize, cmap: Any,
                   title: str, stops: pd.DataFrame | None, roads: Any,
                   drt_areas: Sequence[Any] | None, scale_bar: bool, lang: str
                   ) -> dict[str, bool]:
    """Draw one map on ``ax``; returns which context layers it drew (``roads``, ``stops``,
    ``drt``, ``nan``: hatched zones)."""
    geoms = zone_geometries(table, style=style, geometries=geometries)
    vals = table[column].to_numpy(float)
    patches, colors, nan_patches = [], [], []
    for g, v in zip(geoms, vals, strict=True):
        ps = _patches(g)
        if np.isfinite(v):
            patches += ps
            colors += [cmap(norm(v))] * len(ps)
        else:
            nan_patches += ps
    if patches:
        ax.add_collection(PatchCollection(patches, facecolor=colors, edgecolor="white",
                                          linewidth=0.5, zorder=1))
    if nan_patches:
        ax.add_collection(PatchCollection(nan_patches, facecolor=_NAN_COLOR, edgecolor="white",
                                          linewidth=0.5, hatch="//", zorder=1))
    has_roads = roads is not None
    if has_roads:  # faint, over the zones so streets show through every colour
        segments = roads if isinstance(roads, list) else road_segments(roads)[0]
        ax.add_collection(LineCollection(segments, colors=_ROAD_COLOR, linewidths=0.4,
                                         alpha=_ROAD_ALPHA, zorder=2))
    has_stops = stops is not None and len(stops) > 0
    if has_stops:
        ax.scatter(stops["lon"], stops["lat"], s=5, c="black", edgecolors="none", zorder=3,
                   label="stops")
    areas = [a for a in (drt_areas or []) if a is not None and not a.is_empty]
    for a in areas:
        for poly in (list(a.geoms) if hasattr(a, "geoms") else [a]):
            x, y = poly.exterior.xy
            ax.plot(np.asarray(x), np.asarray(y), color=_DRT_COLOR, linestyle="--",
                    linewidth=1.5, zorder=4)
    bounds = np.array([g.bounds for g in geoms if not g.is_empty])
    if len(bounds):
        pad_x = 0.03 * (bounds[:, 2].max() - bounds[:, 0].min())
        pad_y = 0.03 * (bounds[:, 3].max() - bounds[:, 1].min())
        ax.set_xlim(bounds[:, 0].min() - pad_x, bounds[:, 2].max() + pad_x)
        ax.set_ylim(bounds[:, 1].min() - pad_y, bounds[:, 3].max() + pad_y)
        ax.set_aspect(1.0 / math.cos(math.radians(float(np.mean(bounds[:, [1, 3]])))))
    if scale_bar and len(bounds):  # a km bar instead of degree ticks
        add_scale_bar(ax)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.set_xlabel(text("longitude", lang))
        ax.set_ylabel(text("latitude", lang))
    ax.set_title(title)
    return {"roads": has_roads, "stops": has_stops, "drt": bool(areas),
            "nan": bool(nan_patches)}


def _norm(lo: float, hi: float, cmap: str, diverging: bool) -> tuple[Normalize, str]:
    if diverging:
        m = max(abs(lo), abs(hi), 1e-12)
        return TwoSlopeNorm(vcenter=0.0, vmin=-m, vmax=m), (cmap if cmap != "viridis"
                                                            else "RdBu")
    return Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1e-12), cmap


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
    roads: Any = None,
    drt_areas: Sequence[Any] | None = None,
    lang: str = "ja",
    scale_bar: bool = True,
    nan_label: str | None = None,
    legend: bool = True,
) -> tuple[Figure, Axes]:
    """Draw ``table[column]`` per zone as a choropleth, with the map's context.

    Args:
        table: one row per zone with ``lat``, ``lon`` (and ``area_km2`` for voronoi/circles).
        column: the value to colour by (e.g. ``covered_500m_share``, ``tt_city_hospital_min``).
        style: ``voronoi``, ``circles`` or ``polygons`` (module docstring).
        diverging: centre the colour scale on 0 (for differences between scenarios).
        stops: optional table with ``lat``/``lon`` of (served) stops, drawn as small black dots.
        roads: optional road graph (or a list of (lon, lat) segments): drawn faintly over
            the zones.
        drt_areas: optional DRT service area polygons (shapely, lon/lat): dashed outlines.
        lang: ``ja`` or ``en``, for the legend (roads, stops, DRT area, the hatched zones).
        scale_bar: a km scale bar instead of degree ticks.
        nan_label: legend text of the hatched zones (value NaN); default "no value".
        legend: a legend of the context layers (below the map) when any is drawn.
    """
    check_lang(lang)
    if column not in table.columns:
        raise ValueError(f"column {column!r} not in the table; columns: "
                         f"{', '.join(map(str, table.columns))}")
    if ax is None:
        fig, ax = _new_axes()
    else:
        fig = ax.figure  # type: ignore[assignment]
    vals = table[column].to_numpy(float)
    finite = vals[np.isfinite(vals)]
    lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    norm, cmap = _norm(lo, hi, cmap, diverging)
    cm = colormaps[cmap]
    drawn = _draw_zone_map(table, column, ax=ax, style=style, geometries=geometries,
                           norm=norm, cmap=cm, title=title if title is not None else column,
                           stops=stops, roads=roads, drt_areas=drt_areas, scale_bar=scale_bar,
                           lang=lang)
    handles = _context_handles(**drawn, lang=lang, nan_label=nan_label)
    if colorbar:
        from matplotlib.cm import ScalarMappable

        sm = ScalarMappable(norm=norm, cmap=cm)
        fig.colorbar(sm, ax=ax, shrink=0.8, label=label or column)
    if legend and handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02),
                  ncols=min(len(handles), 2), fontsize=8, frameon=False)
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
    roads: Any = None,
    stops: Mapping[str, pd.DataFrame] | None = None,
    drt_areas: Mapping[str, Sequence[Any]] | None = None,
    lang: str = "ja",
    scale_bar: bool = True,
    nan_label: str | None = None,
) -> tuple[Figure, np.ndarray]:
    """Small multiples of one column across scenarios with a shared colour scale.

    Returns ``(fig, axes)`` (axes as a flat array, one per scenario, in input order). For
    differences, pass tables with a difference column
    (:func:`tomakomai_maas.metrics.access.compare_zones`) and ``diverging=True``.
    ``roads`` is drawn on every map; ``stops`` and ``drt_areas`` are per map (keyed like
    ``tables``). One legend below the maps explains the context layers and hatched zones.
    """
    check_lang(lang)
    if not tables:
        raise ValueError("plot_zone_maps needs at least one table")
    vals = np.concatenate([t[column].to_numpy(float) for t in tables.values()])
    vals = vals[np.isfinite(vals)]
    lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)
    n = len(tables)
    ncols = ncols or min(n, 3)
    nrows = math.ceil(n / ncols)
    lat_all = np.concatenate([t["lat"].to_numpy(float) for t in tables.values()])
    lon_all = np.concatenate([t["lon"].to_numpy(float) for t in tables.values()])
    x, y = local_xy_km(lat_all, lon_all, float(np.nanmean(lat_all)), float(np.nanmean(lon_all)))
    span_x, span_y = float(np.nanmax(x) - np.nanmin(x)), float(np.nanmax(y) - np.nanmin(y))
    aspect = min(max((span_y + 1.0) / (span_x + 1.0), 0.45), 1.4)  # height / width of a map
    fig = Figure(figsize=(5.0 * ncols + 1.0, (5.0 * aspect + 0.7) * nrows + 0.5),
                 layout="constrained")
    axes = np.asarray(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    norm, cmap = _norm(lo, hi, cmap, diverging)
    segments = road_segments(roads)[0] if roads is not None else None
    drawn = {"roads": False, "stops": False, "drt": False, "nan": False}
    for ax, (name, t) in zip(axes, tables.items(), strict=False):
        if column not in t.columns:
            raise ValueError(f"column {column!r} not in the table of {name!r}")
        one = _draw_zone_map(t, column, ax=ax, style=style, geometries=geometries, norm=norm,
                             cmap=colormaps[cmap], title=str(name),
                             stops=(stops or {}).get(name), roads=segments,
                             drt_areas=(drt_areas or {}).get(name), scale_bar=scale_bar,
                             lang=lang)
        drawn = {k: v or one[k] for k, v in drawn.items()}
    handles = _context_handles(**drawn, lang=lang, nan_label=nan_label)
    for ax in axes[n:]:
        ax.set_visible(False)
    from matplotlib.cm import ScalarMappable

    fig.colorbar(ScalarMappable(norm=norm, cmap=colormaps[cmap]), ax=list(axes[:n]),
                 shrink=0.8, label=label or column)
    if handles:
        fig.legend(handles=handles, loc="outside lower center",
                   ncols=min(len(handles), 4), fontsize=8, frameon=False)
    return fig, axes[:n]


def _new_axes() -> tuple[Figure, Axes]:
    fig = Figure(figsize=(8, 7), layout="constrained")
    ax = fig.add_subplot()
    return fig, ax
