"""Comparison plots. They only draw: every value comes from a table made in ``metrics``.

Each function takes tables (see :mod:`tomakomai_maas.metrics.compare` for the columns),
returns ``(fig, ax)`` (``ax`` is an array of axes for multi-panel figures) and can draw on a
given ``ax``. Labels are Japanese (``lang="ja"``, IPAex Gothic from ``matplotlib-fontja``) or
English (``"en"``). Scenarios keep one colour across all plots (their order in the table).
Save with :func:`tomakomai_maas.report._save.save_figure`.

=======================  ==================================================================
function                 draws
=======================  ==================================================================
plot_kpi_bars            one KPI per scenario: bar = mean, whisker = 95% CI
plot_kpi_overview        a grid of plot_kpi_bars
plot_wait_cdf            empirical CDF of waits (``wait_cdf`` frames)
plot_boardings_by_hour   boardings per hour of day (``boardings_by_hour`` frames)
plot_occupancy           mean load over the day (``occupancy_by_hour`` frames)
plot_mode_shares         stacked shares by mode (``mode_shares`` frames)
plot_co2_cost            CO2 per passenger and, if present, a ``cost_*`` KPI
plot_scenario_map        road network + lines (along the roads) + DRT area and stops +
                         stop boardings as circles
plot_sweep               a KPI against a swept parameter, with CI whiskers
=======================  ==================================================================
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib_fontja  # noqa: F401 - registers the Japanese font with matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from tomakomai_maas.report.labels import check_lang, kpi_label, text

__all__ = [
    "scenario_colours",
    "plot_kpi_bars",
    "plot_kpi_overview",
    "plot_wait_cdf",
    "plot_boardings_by_hour",
    "plot_occupancy",
    "plot_mode_shares",
    "plot_co2_cost",
    "plot_scenario_map",
    "plot_sweep",
    "HEADLINE_KPIS",
]

#: KPIs of the overview figure of a comparison.
HEADLINE_KPIS = ("pt_served_share", "total_boardings", "wait_mean_min", "journey_mean_min",
                 "on_time_share", "co2_g_per_boarding")

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")
_STOP_COLOUR = "#08306b"
_MODE_COLOURS = {"pt": "#1f77b4", "bus": "#1f77b4", "av_bus": "#17becf", "walk": "#9e9e9e",
                 "drt": "#ff7f0e", "car": "#d62728", "car_driver": "#d62728",
                 "car_passenger": "#f4a6a6", "bike": "#2ca02c", "taxi": "#9467bd"}
_OTHER_MODE_COLOURS = ("#8c564b", "#e377c2", "#bcbd22", "#7f7f7f")  # never a mode's colour


def scenario_colours(labels: Sequence[str]) -> dict[str, str]:
    """One colour per scenario, by position (cycles after 10)."""
    return {lab: _PALETTE[i % len(_PALETTE)] for i, lab in enumerate(labels)}


def _new(ax: Axes | None, figsize: tuple[float, float] = (7, 4)) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _scenarios(table: pd.DataFrame, scenarios: Sequence[str] | None) -> list[str]:
    if scenarios is not None:
        return list(scenarios)
    return list(dict.fromkeys(table["scenario"].astype(str)))


def _finite(x: Any) -> bool:
    return x is not None and isinstance(x, int | float | np.floating) and math.isfinite(x)


def plot_kpi_bars(kpi_table: pd.DataFrame, kpi: str, *, scenarios: Sequence[str] | None = None,
                  lang: str = "ja", ax: Axes | None = None, title: str | None = None
                  ) -> tuple[Figure, Axes]:
    """Bars of ``kpi``'s mean per scenario with whiskers from ``ci_low`` to ``ci_high``.

    ``kpi_table`` has the columns of :data:`tomakomai_maas.metrics.compare.KPI_COLUMNS`.
    Bar *i* is scenario *i* (in ``scenarios`` order, default the table's order); a scenario
    whose CI is undefined (one replication) gets no whisker.
    """
    check_lang(lang)
    fig, ax = _new(ax, (4.2, 3.2))
    labels = _scenarios(kpi_table, scenarios)
    rows = kpi_table[kpi_table["kpi"] == kpi].set_index("scenario")
    colours = scenario_colours(labels)
    means = [float(rows.at[s, "mean"]) if s in rows.index else math.nan for s in labels]
    x = np.arange(len(labels))
    ax.bar(x, np.nan_to_num(means, nan=0.0), color=[colours[s] for s in labels], width=0.6,
           zorder=2)
    for i, s in enumerate(labels):
        if s not in rows.index:
            continue
        lo, hi = rows.at[s, "ci_low"], rows.at[s, "ci_high"]
        if _finite(lo) and _finite(hi):
            ax.errorbar([i], [means[i]], yerr=[[means[i] - lo], [hi - means[i]]], fmt="none",
                        ecolor="black", elinewidth=1.2, capsize=5, zorder=3)
    ax.set_xticks(x, labels, rotation=20 if len(labels) > 2 else 0, ha="right"
                  if len(labels) > 2 else "center", fontsize=8)
    ax.set_title(title if title is not None else kpi_label(kpi, lang), fontsize=10)
    ax.grid(axis="y", color="#e0e0e0", zorder=0)
    ax.set_axisbelow(True)
    return fig, ax


def plot_kpi_overview(kpi_table: pd.DataFrame, kpis: Sequence[str] = HEADLINE_KPIS, *,
                      scenarios: Sequence[str] | None = None, lang: str = "ja",
                      ncols: int = 3) -> tuple[Figure, np.ndarray]:
    """A grid of :func:`plot_kpi_bars`, one panel per KPI present in the table."""
    present = [k for k in kpis if kpi_table.loc[kpi_table["kpi"] == k, "mean"].notna().any()]
    n = max(len(present), 1)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(3.8 * ncols, 3.0 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax, k in zip(axes, present, strict=False):
        plot_kpi_bars(kpi_table, k, scenarios=scenarios, lang=lang, ax=ax)
    for ax in axes[len(present):]:
        ax.set_visible(False)
    return fig, axes


def plot_wait_cdf(cdfs: Mapping[str, pd.DataFrame], *, lang: str = "ja",
                  ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Step lines of ``cum_share`` against ``wait_min``, one per scenario (in mapping order)."""
    check_lang(lang)
    fig, ax = _new(ax)
    colours = scenario_colours(list(cdfs))
    for label, df in cdfs.items():
        if len(df):
            ax.step(df["wait_min"].to_numpy(float), df["cum_share"].to_numpy(float),
                    where="post", color=colours[label], label=label, linewidth=1.6)
    ax.set_xlabel(text("wait_min", lang))
    ax.set_ylabel(text("cum_share", lang))
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_title(text("wait_cdf", lang))
    ax.grid(color="#e0e0e0")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="lower right")
    return fig, ax


def _hourly(frames: Mapping[str, pd.DataFrame], col: str, *, ylabel: str, title: str,
            ax: Axes | None, band: bool, lang: str = "ja") -> tuple[Figure, Axes]:
    fig, ax = _new(ax)
    colours = scenario_colours(list(frames))
    shaded = False
    for label, df in frames.items():
        if not len(df):
            continue
        h = df["hour"].to_numpy(float)
        y = df[col].to_numpy(float)
        ax.plot(h, y, marker="o", markersize=3.5, color=colours[label], label=label)
        if band and {"ci_low", "ci_high"} <= set(df.columns):
            lo, hi = df["ci_low"].to_numpy(float), df["ci_high"].to_numpy(float)
            ok = np.isfinite(lo) & np.isfinite(hi)
            if ok.any():
                ax.fill_between(h[ok], np.maximum(lo[ok], 0.0), hi[ok], color=colours[label],
                                alpha=0.15, linewidth=0)
                shaded = True
    if shaded:  # say what the shading is
        from matplotlib.patches import Patch

        ax.add_artist(ax.legend(handles=[Patch(color="#999999", alpha=0.3,
                                               label=text("ci95_band", lang))],
                                loc="upper left", fontsize=8, frameon=False))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_xticks(range(0, 25, 2))
    ax.set_xlim(-0.5, 24.5)
    ax.set_ylim(bottom=0)
    ax.grid(color="#e0e0e0")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return fig, ax


def plot_boardings_by_hour(by_hour: Mapping[str, pd.DataFrame], *, lang: str = "ja",
                           ax: Axes | None = None, band: bool = True) -> tuple[Figure, Axes]:
    """Mean ``boardings`` per ``hour``, one line per scenario (shaded CI when ``band``)."""
    check_lang(lang)
    fig, ax = _hourly(by_hour, "boardings", ylabel=text("boardings_per_hour", lang),
                      title=text("boardings_by_hour", lang), ax=ax, band=band, lang=lang)
    ax.set_xlabel(text("hour", lang))
    return fig, ax


def plot_occupancy(occupancy: Mapping[str, pd.DataFrame], *, lang: str = "ja",
                   ax: Axes | None = None) -> tuple[Figure, Axes]:
    """``mean_load`` of departing vehicles per ``hour``, one line per scenario."""
    check_lang(lang)
    fig, ax = _hourly(occupancy, "mean_load", ylabel=text("mean_load", lang),
                      title=text("occupancy", lang), ax=ax, band=False, lang=lang)
    ax.set_xlabel(text("hour", lang))
    return fig, ax


def plot_mode_shares(shares: Mapping[str, pd.DataFrame], *, lang: str = "ja",
                     ax: Axes | None = None) -> tuple[Figure, Axes]:
    """One horizontal 100% bar per scenario, stacked by mode (segment width = ``share``)."""
    check_lang(lang)
    fig, ax = _new(ax, (7, 1.2 + 0.55 * max(len(shares), 1)))
    modes: list[str] = []
    for df in shares.values():
        modes += [m for m in df["mode"].astype(str) if m not in modes]
    labels = list(shares)
    y = np.arange(len(labels))[::-1]
    others = iter(_OTHER_MODE_COLOURS * (len(modes) + 1))
    colour = {m: _MODE_COLOURS.get(m) or next(others) for m in modes}
    for m in modes:
        widths, lefts = [], []
        for lab in labels:
            df = shares[lab].set_index("mode")
            prior = [mm for mm in modes[:modes.index(m)] if mm in df.index]
            lefts.append(float(df.loc[prior, "share"].sum()) if prior else 0.0)
            widths.append(float(df.at[m, "share"]) if m in df.index else 0.0)
        ax.barh(y, widths, left=lefts, color=colour[m], height=0.6,
                label=text(f"mode.{m}", lang), edgecolor="white")
        for yi, w, left in zip(y, widths, lefts, strict=True):
            if w >= 0.06:
                ax.text(left + w / 2, yi, f"{w:.0%}", ha="center", va="center", fontsize=8,
                        color="white")
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel(text("share", lang))
    ax.set_title(text("mode_shares", lang))
    ax.legend(fontsize=8, ncols=max(len(modes), 1), loc="upper center",
              bbox_to_anchor=(0.5, -0.35 if len(labels) < 3 else -0.2), frameon=False)
    return fig, ax


def plot_co2_cost(kpi_table: pd.DataFrame, *, co2_kpi: str = "co2_g_per_boarding",
                  cost_kpi: str | None = None, scenarios: Sequence[str] | None = None,
                  lang: str = "ja") -> tuple[Figure, np.ndarray]:
    """CO2 per passenger (and ``cost_kpi`` beside it when given) as KPI bars with CIs.

    Pass ``cost_kpi=tomakomai_maas.metrics.compare.cost_kpi(names)``; with ``None`` only CO2
    is drawn.
    """
    kpis = [co2_kpi] + ([cost_kpi] if cost_kpi else [])
    fig = Figure(figsize=(4.4 * len(kpis), 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(kpis), squeeze=False).ravel())
    for ax, k in zip(axes, kpis, strict=True):
        plot_kpi_bars(kpi_table, k, scenarios=scenarios, lang=lang, ax=ax)
    fig.suptitle(text("co2_cost", lang) if cost_kpi else kpi_label(co2_kpi, lang), fontsize=11)
    return fig, axes


def _route_labels(lines: pd.DataFrame) -> dict[str, str]:
    """Legend label per route: its name (with the id when the name is missing or shared)."""
    names = {str(r): str(n) for r, n in zip(lines["route_id"], lines["route_name"],
                                            strict=True)}
    count = Counter(names.values())
    return {r: (n if n and count[n] == 1 else (f"{n} ({r})" if n and n != r else r))
            for r, n in names.items()}


def _along(lon: np.ndarray, lat: np.ndarray, frac: float) -> tuple[int, float]:
    """Segment index and position in it at ``frac`` of the polyline's length (degrees, with
    the local aspect)."""
    k = math.cos(math.radians(float(np.mean(lat))))
    seg = np.hypot(np.diff(lon) * k, np.diff(lat))
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    target = frac * cum[-1]
    i = int(min(max(np.searchsorted(cum, target, side="right") - 1, 0), len(seg) - 1))
    return i, (target - cum[i]) / seg[i] if seg[i] > 0 else 0.0


def plot_scenario_map(G: Any, lines: pd.DataFrame, stop_demand: pd.DataFrame, *,
                      landmarks: pd.DataFrame | None = None, lang: str = "ja",
                      title: str | None = None, ax: Axes | None = None,
                      max_marker_size: float = 400.0, drt: Any = None,
                      direction_offset_m: float | None = None, max_stop_labels: int = 12,
                      scale_bar: bool = True) -> tuple[Figure, Axes]:
    """The road network with the scenario's lines, its DRT service and its demand at stops.

    Args:
        G: road graph (drawn in greys with
            :func:`tomakomai_maas.report.network_map.plot_network`, so lines stand out).
        lines: one polyline per route and direction (``lat``/``lon`` in ``seq`` order), one
            colour per route, labelled with its route name in the legend:
            :func:`tomakomai_maas.report.map_layers.routed_line_patterns` (along the roads)
            or ``line_patterns`` (straight between stops). Each direction is drawn
            ``direction_offset_m`` to the left of its travel direction
            (:func:`~tomakomai_maas.report.map_layers.offset_polyline`; traffic keeps left),
            so the two directions of a line lie side by side, with arrowheads at a third and
            two thirds of its length. Default offset: 0.35% of the map's width (about 3
            pixels on the report's map); 0 draws the lines on the road itself.
        stop_demand: ``stop_boardings`` frame; marker area ∝ ``boardings`` (the largest gets
            ``max_marker_size`` points²; stops without boardings are drawn as small dots).
            A second legend shows circles for round numbers of boardings per day
            (:func:`~tomakomai_maas.report.map_layers.size_legend_values`) at the same scale.
        landmarks: optional landmark table for the base map.
        drt: optional :class:`~tomakomai_maas.report.map_layers.DrtMapData`: the service area
            as a shaded polygon (none when the area is the whole network), virtual stops as
            squares and depots as dark squares, in the DRT colour. When its ``stops`` have
            ``boardings``, a square's area uses the same scale as the bus stops' circles.
            Virtual stops are labelled with their names when there are at most
            ``max_stop_labels`` of them.
        scale_bar: draw a km scale bar (lower left) instead of degree ticks.

    The map zooms to the stops, lines and DRT area (with a margin).
    """
    from matplotlib.patches import Patch

    from tomakomai_maas.report.map_layers import offset_polyline, size_legend_values
    from tomakomai_maas.report.network_map import add_scale_bar, plot_network

    check_lang(lang)
    if ax is None:
        fig = Figure(figsize=(9, 7), layout="constrained")
        ax = fig.add_subplot()
    fig, ax = plot_network(G, landmarks=landmarks, ax=ax, lang=lang,
                           title=title if title is not None else text("network_map", lang))
    for coll in ax.collections:  # grey, faded base map: the lines and demand stand out
        coll.set_alpha(0.45)
        if isinstance(coll, LineCollection):
            coll.set_color("#8c8c8c")
    drt_c = _MODE_COLOURS["drt"]
    vstops = drt.stops if drt is not None else pd.DataFrame(columns=["lon", "lat"])
    # -- the view: stops, lines and the DRT service, with a margin
    pts_lon = [lines["lon"].to_numpy(float), stop_demand["lon"].to_numpy(float),
               vstops["lon"].to_numpy(float)]
    pts_lat = [lines["lat"].to_numpy(float), stop_demand["lat"].to_numpy(float),
               vstops["lat"].to_numpy(float)]
    if drt is not None:
        pts_lon += [drt.depots["lon"].to_numpy(float)]
        pts_lat += [drt.depots["lat"].to_numpy(float)]
        if drt.area:
            pts_lon.append(np.asarray([p[1] for p in drt.area], float))
            pts_lat.append(np.asarray([p[0] for p in drt.area], float))
    lon, lat = np.concatenate(pts_lon), np.concatenate(pts_lat)
    ok = np.isfinite(lon) & np.isfinite(lat)
    width_m = 0.0
    if ok.any():
        lon, lat = lon[ok], lat[ok]
        pad_x = max(0.004, 0.15 * (lon.max() - lon.min()))
        pad_y = max(0.003, 0.15 * (lat.max() - lat.min()))
        x0, x1 = lon.min() - pad_x, lon.max() + pad_x
        y0, y1 = lat.min() - pad_y, lat.max() + pad_y
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect(1.0 / math.cos(math.radians((y0 + y1) / 2)))
        width_m = (x1 - x0) * 111_195.0 * math.cos(math.radians((y0 + y1) / 2))
    offset = direction_offset_m if direction_offset_m is not None else 0.0035 * width_m

    extra: list[Any] = []  # legend entries after the lines
    # -- sizes: one scale (points² per boarding) for bus stops and DRT points
    b = stop_demand["boardings"].to_numpy(float) if len(stop_demand) else np.empty(0)
    vb = (vstops["boardings"].to_numpy(float) if "boardings" in vstops.columns
          else np.empty(0))
    both = np.concatenate([b, vb])
    top = float(np.nanmax(both)) if np.isfinite(both).any() else 0.0

    def area(x: np.ndarray, empty: float) -> np.ndarray:
        return np.where(x > 0, max_marker_size * x / top, empty) if top > 0 else \
            np.full(x.size, empty)

    if drt is not None:
        name = f"{text('drt_area', lang)}: {drt.name}"
        if drt.area:
            la, lo = (np.asarray([p[i] for p in drt.area], float) for i in (0, 1))
            ax.fill(lo, la, facecolor=drt_c, alpha=0.13, edgecolor="none", zorder=3)
            ax.plot(np.append(lo, lo[0]), np.append(la, la[0]), color=drt_c, linewidth=1.8,
                    linestyle="--", zorder=4)
            extra.append(Patch(facecolor=drt_c, alpha=0.35, edgecolor=drt_c, linestyle="--",
                               label=name))
        else:
            extra.append(Patch(facecolor="none", edgecolor="none",
                               label=f"{name} ({text('drt_whole_network', lang)})"))
        if len(vstops):
            lo, la = vstops["lon"].to_numpy(float), vstops["lat"].to_numpy(float)
            sized = vb.size > 0
            ax.scatter(lo, la, marker="s", s=area(vb, 24.0) if sized else 34,
                       facecolor=(drt_c if sized else "white"), alpha=0.75 if sized else 1.0,
                       edgecolor=drt_c if not sized else "white", linewidth=1.2 if sized
                       else 1.6, zorder=7,
                       label=text("drt_stops_sized" if sized else "drt_stops", lang))
            if len(vstops) <= max_stop_labels:
                from matplotlib import patheffects

                halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
                for row in vstops.itertuples(index=False):
                    ax.annotate(str(row.name or row.stop_id), (row.lon, row.lat),
                                xytext=(-6, -6), textcoords="offset points", fontsize=7,
                                color="#7f2704", ha="right", va="top", zorder=8,
                                path_effects=halo,
                                gid="drt_stop_label")
        if len(drt.depots):
            lo, la = drt.depots["lon"].to_numpy(float), drt.depots["lat"].to_numpy(float)
            ax.scatter(lo, la, marker="s", s=44, facecolor="#7f2704", edgecolor="white",
                       linewidth=0.8, zorder=7, label=text("drt_depot", lang))
    routes = list(dict.fromkeys(lines["route_id"].astype(str))) if len(lines) else []
    colours = {r: _PALETTE[i % len(_PALETTE)] for i, r in enumerate(routes)}
    names = _route_labels(lines) if len(lines) else {}
    seen: set[str] = set()
    for (rid, _d), df in lines.groupby(["route_id", "direction_id"], sort=True):
        df = df.sort_values("seq")
        lab = None if str(rid) in seen else names[str(rid)]
        seen.add(str(rid))
        lo, la = offset_polyline(df["lon"].to_numpy(float), df["lat"].to_numpy(float),
                                 offset)
        c = colours[str(rid)]
        ax.plot(lo, la, color=c, linewidth=2.2, alpha=0.85, solid_capstyle="round",
                solid_joinstyle="round", label=lab, zorder=5)
        if lo.size >= 2:
            for frac in (1 / 3, 2 / 3):
                i, f = _along(lo, la, frac)
                px, py = lo[i] + f * (lo[i + 1] - lo[i]), la[i] + f * (la[i + 1] - la[i])
                ax.annotate("", xy=(px + 0.01 * (lo[i + 1] - lo[i]),
                                    py + 0.01 * (la[i + 1] - la[i])), xytext=(px, py),
                            arrowprops={"arrowstyle": "-|>,head_length=0.5,head_width=0.3",
                                        "fc": c, "ec": "white", "lw": 0.6,
                                        "mutation_scale": 16, "shrinkA": 0, "shrinkB": 0},
                            zorder=5.5, gid="direction_arrow")
    if routes:
        extra.insert(0, Line2D([], [], color="#555555", linewidth=1.5, marker=">",
                               markersize=5, label=text("direction_note", lang)))
    if len(stop_demand):
        ax.scatter(stop_demand["lon"].to_numpy(float), stop_demand["lat"].to_numpy(float),
                   s=area(b, 6.0), color=_STOP_COLOUR, alpha=0.45, edgecolor="white",
                   linewidth=0.8, zorder=6)
    handles = [h for h in ax.get_legend_handles_labels()[0]]
    handles += extra
    if len(stop_demand):
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=9,
                              color=_STOP_COLOUR, alpha=0.45,
                              label=f"{text('stop_boardings', lang)}: max {top:.0f}"))
    values = size_legend_values(top)
    if values:  # marker sizes for round numbers of boardings per day, at the map's scale
        square = not (b > 0).any()  # only DRT points are sized
        sizes = [Line2D([], [], marker="s" if square else "o", linestyle="",
                        color=drt_c if square else _STOP_COLOUR, alpha=0.45,
                        markeredgecolor="white", markersize=math.sqrt(max_marker_size * v / top),
                        label=f"{v:g}") for v in values]
        size_legend = ax.legend(handles=sizes, title=text("size_legend", lang),
                                loc="upper right", bbox_to_anchor=(1.0, -0.01), ncols=len(sizes),
                                fontsize=8, title_fontsize=8, columnspacing=1.6,
                                borderpad=0.8, frameon=False)
        ax.add_artist(size_legend)
        size_legend.set_clip_on(False)  # add_artist clips to the axes; it lies below them
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.01),
              ncols=2 if len(handles) > 3 else 1, frameon=False)
    if scale_bar and width_m > 0:  # the bar gives the scale: no degree ticks
        add_scale_bar(ax)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
    return fig, ax


def plot_sweep(sweep_table: pd.DataFrame, kpi: str, x: str, *, group: str | None = None,
               lang: str = "ja", ax: Axes | None = None) -> tuple[Figure, Axes]:
    """``kpi`` mean (markers + line) against parameter ``x`` with CI whiskers.

    ``sweep_table`` has one row per grid point × KPI with columns ``kpi``, ``mean``,
    ``ci_low``, ``ci_high``, ``x`` and (optionally) ``group``: one line per value of
    ``group``. Non-numeric ``x`` values are placed at 0, 1, 2, ... in first-seen order.
    """
    check_lang(lang)
    fig, ax = _new(ax, (6, 4))
    rows = sweep_table[sweep_table["kpi"] == kpi]
    xs_all = list(dict.fromkeys(rows[x].tolist()))
    numeric = all(isinstance(v, int | float | np.integer | np.floating)
                  and not isinstance(v, bool) for v in xs_all)
    pos = {v: (float(v) if numeric else float(i)) for i, v in enumerate(xs_all)}
    groups = list(dict.fromkeys(rows[group].tolist())) if group else [None]
    for i, g in enumerate(groups):
        sub = rows if g is None else rows[rows[group] == g]
        sub = sub.assign(_x=[pos[v] for v in sub[x]]).sort_values("_x", kind="mergesort")
        xv = sub["_x"].to_numpy(float)
        m = sub["mean"].to_numpy(float)
        lo = sub["ci_low"].to_numpy(float)
        hi = sub["ci_high"].to_numpy(float)
        c = _PALETTE[i % len(_PALETTE)]
        ax.plot(xv, m, marker="o", color=c, label=None if g is None else f"{group} = {g}")
        ok = np.isfinite(lo) & np.isfinite(hi)
        if ok.any():
            ax.errorbar(xv[ok], m[ok], yerr=[m[ok] - lo[ok], hi[ok] - m[ok]], fmt="none",
                        ecolor=c, capsize=4, elinewidth=1.1)
    if not numeric:
        ax.set_xticks([pos[v] for v in xs_all], [str(v) for v in xs_all])
    elif all(float(v).is_integer() for v in xs_all):  # fleet sizes etc.: whole-number ticks
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(x)
    ax.set_ylabel(kpi_label(kpi, lang))
    ax.set_title(f"{text('sweep', lang)}: {kpi_label(kpi, lang)}", fontsize=10)
    ax.grid(color="#e0e0e0")
    if group:
        ax.legend(fontsize=8)
    return fig, ax
