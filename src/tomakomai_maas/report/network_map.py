"""Map of a road network with landmarks (labels in Japanese and English).

Draws only: takes a graph and a landmarks table, returns ``(fig, ax)``. Japanese labels use
the IPAex Gothic font bundled with ``matplotlib-fontja``. Also the pieces other maps reuse:
``road_segments(G)`` (each road once, with its class style) and ``add_scale_bar(ax)`` (a
round-length km bar for maps in lon/lat degrees with the local aspect).
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib_fontja  # noqa: F401 - registers the Japanese font with matplotlib
import networkx as nx
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

__all__ = ["plot_network", "road_segments", "add_scale_bar", "scale_bar_km", "ROAD_STYLE"]

ROAD_STYLE: dict[str, tuple[float, str]] = {
    "motorway": (2.4, "#8c2d04"),
    "trunk": (2.2, "#d94801"),
    "primary": (2.0, "#f16913"),
    "secondary": (1.6, "#fd8d3c"),
    "tertiary": (1.3, "#6b6b6b"),
}
"""Line width and colour by ``highway`` class (links use their class); others: thin grey."""
_OTHER_STYLE = (0.8, "#9e9e9e")
_TITLES = {"ja": "道路ネットワーク", "en": "Road network"}


def _style(highway: Any) -> tuple[float, str]:
    classes = highway if isinstance(highway, list | tuple) else [highway]
    best = _OTHER_STYLE
    for h in classes:
        style = ROAD_STYLE.get(str(h).removesuffix("_link"))
        if style is not None and style[0] > best[0]:
            best = style
    return best


def _edge_coords(G: nx.MultiDiGraph, u: Any, v: Any, data: dict[str, Any]) -> list[tuple]:
    geom = data.get("geometry")
    if geom is not None and hasattr(geom, "coords"):
        return [(float(x), float(y)) for x, y, *_ in geom.coords]
    return [(float(G.nodes[u]["x"]), float(G.nodes[u]["y"])),
            (float(G.nodes[v]["x"]), float(G.nodes[v]["y"]))]


def road_segments(G: nx.MultiDiGraph) -> tuple[list[list[tuple]], list[float], list[str]]:
    """``(segments, widths, colours)``: every road of ``G`` once (a two-way road's two edges
    are one segment; points in (lon, lat), the edge geometry when present) with the line
    width and colour of its class (:data:`ROAD_STYLE`)."""
    segments, widths, colours = [], [], []
    seen: set[tuple[Any, Any, float]] = set()
    for u, v, d in G.edges(data=True):
        pair = (u, v) if repr(u) <= repr(v) else (v, u)
        key = (*pair, round(float(d.get("length_m", d.get("length", 0.0))), 1))
        if key in seen:  # a two-way road is drawn once
            continue
        seen.add(key)
        w, c = _style(d.get("highway"))
        segments.append(_edge_coords(G, u, v, d))
        widths.append(w)
        colours.append(c)
    return segments, widths, colours


def scale_bar_km(width_km: float) -> float:
    """Length of a scale bar for a map ``width_km`` wide: the largest 1, 2 or 5 × 10^k km
    not above a quarter of the width."""
    from tomakomai_maas.report.map_layers import nice_below

    return nice_below(width_km / 4.0)


def add_scale_bar(ax: Axes, *, loc: str = "lower left", zorder: float = 9) -> tuple[float, Any]:
    """Draw a km scale bar on a lon/lat map (call after the limits are set).

    The bar is :func:`scale_bar_km` of the map's east-west width at its middle latitude,
    near the ``loc`` corner (``"lower left"`` or ``"lower right"``), with its length
    written below (``"500 m"``, ``"2 km"``). Returns ``(km, line)``.
    """
    from matplotlib import patheffects

    from tomakomai_maas.demand.zones import KM_PER_DEG_LAT

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    k = KM_PER_DEG_LAT * math.cos(math.radians((y0 + y1) / 2.0))  # km per degree of lon
    km = scale_bar_km(abs(x1 - x0) * k)
    dx = km / k
    pad_x, pad_y = 0.04 * (x1 - x0), 0.05 * (y1 - y0)
    xa = x0 + pad_x if loc == "lower left" else x1 - pad_x - dx
    ya = y0 + pad_y
    halo = [patheffects.withStroke(linewidth=5, foreground="white")]
    (line,) = ax.plot([xa, xa + dx], [ya, ya], color="black", linewidth=2.5,
                      solid_capstyle="butt", zorder=zorder, path_effects=halo,
                      label="_scale_bar")
    label = f"{km * 1000:g} m" if km < 1 else f"{km:g} km"
    ax.annotate(label, (xa + dx / 2, ya), xytext=(0, 4), textcoords="offset points",
                ha="center", va="bottom", fontsize=8, zorder=zorder, path_effects=halo)
    return km, line


def plot_network(
    G: nx.MultiDiGraph,
    *,
    landmarks: pd.DataFrame | None = None,
    ax: Axes | None = None,
    lang: str = "ja",
    title: str | None = None,
    label_kinds: tuple[str, ...] | None = ("station", "poi"),
) -> tuple[Figure, Axes]:
    """Draw the road graph (width/colour by road class) and labelled landmark points.

    Args:
        G: road graph (nodes ``x``/``y`` in degrees; edge ``geometry`` used when present).
        landmarks: table with columns ``name``, ``name_en``, ``lat``, ``lon`` (see
            :func:`tomakomai_maas.network.load_landmarks`); only those inside the map are drawn.
        ax: axes to draw on; a new figure is made if ``None``.
        lang: ``"ja"`` labels ``名前`` over the English name, ``"en"`` English only.
        title: figure title; default names the graph's source.
        label_kinds: landmark ``kind`` values that get a text label (others are drawn as
            small unlabelled points); ``None`` labels every landmark.

    Returns:
        ``(fig, ax)``.
    """
    if lang not in _TITLES:
        raise ValueError(f"lang must be one of {', '.join(_TITLES)}, got {lang!r}")
    if ax is None:
        fig = Figure(figsize=(12, 8), layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    segments, widths, colours = road_segments(G)
    order = sorted(range(len(segments)), key=lambda k: widths[k])  # major roads on top
    ax.add_collection(LineCollection([segments[k] for k in order],
                                     linewidths=[widths[k] for k in order],
                                     colors=[colours[k] for k in order], capstyle="round",
                                     zorder=1))
    xs = [float(d["x"]) for _, d in G.nodes(data=True)] + [x for seg in segments for x, _ in seg]
    ys = [float(d["y"]) for _, d in G.nodes(data=True)] + [y for seg in segments for _, y in seg]
    if xs:
        pad_x = max(2e-4, 0.04 * (max(xs) - min(xs)))
        pad_y = max(2e-4, 0.04 * (max(ys) - min(ys)))
        x0, x1, y0, y1 = min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect(1.0 / math.cos(math.radians((y0 + y1) / 2)))
        if landmarks is not None and len(landmarks):
            inside = landmarks[landmarks["lon"].between(x0, x1)
                               & landmarks["lat"].between(y0, y1)]
            if label_kinds is None or "kind" not in inside.columns:
                labelled = inside
            else:
                labelled = inside[inside["kind"].isin(list(label_kinds))]
                rest = inside.drop(labelled.index)
                ax.scatter(rest["lon"], rest["lat"], s=10, color="#6baed6", edgecolor="none",
                           zorder=2)
            ax.scatter(labelled["lon"], labelled["lat"], s=28, color="#08519c",
                       edgecolor="white", linewidth=0.8, zorder=3)
            for row in labelled.itertuples(index=False):
                label = (f"{row.name}\n{row.name_en}" if lang == "ja" and row.name
                         else str(row.name_en or row.name))
                ax.annotate(label, (row.lon, row.lat), xytext=(4, 4),
                            textcoords="offset points", fontsize=7, zorder=4,
                            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                                  "alpha": 0.75})
    ax.set_xlabel("経度 longitude (°)" if lang == "ja" else "longitude (°)")
    ax.set_ylabel("緯度 latitude (°)" if lang == "ja" else "latitude (°)")
    src = G.graph.get("source", "")
    ax.set_title(title if title is not None else f"{_TITLES[lang]}: {src}".rstrip(": "))
    ax.tick_params(labelsize=7)
    ax.ticklabel_format(useOffset=False, style="plain")
    return fig, ax
