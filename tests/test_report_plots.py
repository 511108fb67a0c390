"""Comparison plots draw exactly the values of the tables they are given (Agg backend)."""

from __future__ import annotations

import io
import math
import warnings

import matplotlib

matplotlib.use("Agg")

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from tomakomai_maas.metrics import compare as mc  # noqa: E402
from tomakomai_maas.report import plots  # noqa: E402
from tomakomai_maas.report.labels import KPI_LABELS, TEXT, kpi_label, text  # noqa: E402


@pytest.fixture(autouse=True)
def _missing_glyphs_are_errors():
    """A label that the font cannot draw (e.g. Japanese without IPAex Gothic) fails the test."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from.*")
        yield


def _render(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)  # drawing text triggers glyph checks
    return buf.getvalue()


def _kpi_table() -> pd.DataFrame:
    rows = []
    for s, m, h in (("base", 2.0, 0.3), ("av_more", 2.6, 0.2), ("one_rep", 1.5, math.nan)):
        for k, scale in (("wait_mean_min", 1.0), ("co2_g_per_boarding", 50.0),
                         ("cost_yen_per_pax", 100.0)):
            rows.append({"scenario": s, "kpi": k, "mean": m * scale,
                         "ci_low": (m - h) * scale, "ci_high": (m + h) * scale,
                         "half_width": h * scale, "std": 1.0, "n": 5})
    return pd.DataFrame(rows, columns=list(mc.KPI_COLUMNS))


def _bars(ax) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def _whiskers(ax) -> list[tuple[float, float, float]]:
    """(x, low, high) of every error bar drawn on ``ax``."""
    out = []
    for c in ax.containers:
        if isinstance(c, ErrorbarContainer):
            for seg in c.lines[2][0].get_segments():
                (x0, y0), (_, y1) = seg
                out.append((float(x0), float(min(y0, y1)), float(max(y0, y1))))
    return sorted(out)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_kpi_bars_heights_and_whiskers_equal_the_table(lang: str) -> None:
    kt = _kpi_table()
    fig, ax = plots.plot_kpi_bars(kt, "wait_mean_min", lang=lang)
    rows = kt[kt["kpi"] == "wait_mean_min"].reset_index(drop=True)
    bars = _bars(ax)
    assert len(bars) == len(rows)
    for i, (bar, r) in enumerate(zip(bars, rows.itertuples(), strict=True)):
        assert bar.get_x() + bar.get_width() / 2 == pytest.approx(i)
        assert bar.get_height() == pytest.approx(r.mean, rel=1e-12)
    # whiskers only where the CI is defined, ends = ci_low / ci_high
    expected = sorted((float(i), r.ci_low, r.ci_high) for i, r in enumerate(rows.itertuples())
                      if not math.isnan(r.ci_low))
    assert _whiskers(ax) == pytest.approx(expected, rel=1e-12)
    assert [t.get_text() for t in ax.get_xticklabels()] == list(rows["scenario"])
    assert ax.get_title() == kpi_label("wait_mean_min", lang)
    _render(fig)


def test_kpi_overview_has_one_panel_per_present_kpi() -> None:
    kt = _kpi_table()
    fig, axes = plots.plot_kpi_overview(kt, ["wait_mean_min", "not_a_kpi", "co2_g_per_boarding"],
                                        lang="ja", ncols=2)
    visible = [a for a in axes if a.get_visible()]
    assert [a.get_title() for a in visible] == [kpi_label("wait_mean_min", "ja"),
                                                kpi_label("co2_g_per_boarding", "ja")]
    _render(fig)


def test_co2_cost_plots_cost_only_when_a_cost_kpi_exists() -> None:
    kt = _kpi_table()
    assert mc.cost_kpi(set(kt["kpi"])) == "cost_yen_per_pax"
    fig, axes = plots.plot_co2_cost(kt, cost_kpi=mc.cost_kpi(set(kt["kpi"])), lang="ja")
    assert len(axes) == 2
    heights = [b.get_height() for b in _bars(axes[1])]
    assert heights == pytest.approx(list(kt[kt["kpi"] == "cost_yen_per_pax"]["mean"]))
    _render(fig)
    no_cost = kt[~kt["kpi"].str.startswith("cost_")]
    assert mc.cost_kpi(set(no_cost["kpi"])) is None
    fig, axes = plots.plot_co2_cost(no_cost, cost_kpi=None, lang="en")
    assert len(axes) == 1
    assert [b.get_height() for b in _bars(axes[0])] == pytest.approx(
        list(no_cost[no_cost["kpi"] == "co2_g_per_boarding"]["mean"]))


def _trips() -> pd.DataFrame:
    return pd.DataFrame({
        "replication": [0, 0, 0, 1, 1, 1],
        "status": ["served", "served", "gave_up", "served", "served", "served"],
        "mode": ["pt", "walk", "pt", "pt", "pt", "drt"],
        "wait_min": [3.0, 0.0, 30.0, 1.0, 2.0, 5.0],
    })


def test_wait_cdf_draws_the_prepared_ecdf() -> None:
    cdf = mc.wait_cdf(_trips())
    # served riders that did not only walk: waits 3, 1, 2, 5
    assert list(cdf["wait_min"]) == [1.0, 2.0, 3.0, 5.0]
    assert list(cdf["cum_share"]) == [0.25, 0.5, 0.75, 1.0]
    fig, ax = plots.plot_wait_cdf({"a": cdf, "b": cdf.assign(wait_min=cdf["wait_min"] * 2)},
                                  lang="ja")
    lines = ax.get_lines()
    assert len(lines) == 2
    assert list(lines[0].get_xdata()) == [1.0, 2.0, 3.0, 5.0]
    assert list(lines[0].get_ydata()) == [0.25, 0.5, 0.75, 1.0]
    assert list(lines[1].get_xdata()) == [2.0, 4.0, 6.0, 10.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    _render(fig)


def _vehicle_stops() -> pd.DataFrame:
    # replication 0: 2 boardings at 7h, 4 at 8h; replication 1: 6 at 8h; loads leaving stops
    return pd.DataFrame({
        "replication": [0, 0, 0, 1, 1],
        "arr_s": [7.2 * 3600, 8.1 * 3600, 8.5 * 3600, 8.2 * 3600, 9.0 * 3600],
        "dep_s": [7.2 * 3600, 8.1 * 3600, math.nan, 8.2 * 3600, 9.0 * 3600],
        "boardings": [2, 4, 0, 6, 0],
        "load_dep": [2, 6, 0, 6, 3],
    })


def test_boardings_and_occupancy_by_hour() -> None:
    vs = _vehicle_stops()
    bh = mc.boardings_by_hour(vs, replications=2)
    assert list(bh["hour"]) == [7, 8, 9]
    assert list(bh["boardings"]) == [1.0, 5.0, 0.0]  # (2+0)/2, (4+6)/2, 0
    occ = mc.occupancy_by_hour(vs)
    assert list(occ["hour"]) == [7, 8, 9]
    assert list(occ["mean_load"]) == [2.0, 6.0, 3.0]  # departures only (NaN dep dropped)
    for fn, frames, col in ((plots.plot_boardings_by_hour, {"x": bh}, "boardings"),
                            (plots.plot_occupancy, {"x": occ}, "mean_load")):
        fig, ax = fn(frames, lang="ja")
        (line,) = ax.get_lines()
        assert list(line.get_xdata()) == [7.0, 8.0, 9.0]
        assert list(line.get_ydata()) == list(frames["x"][col])
        _render(fig)


def test_mode_shares_segments_equal_shares() -> None:
    shares = {"a": mc.mode_shares(_trips()),
              "b": pd.DataFrame({"mode": ["pt"], "count": [3], "share": [1.0]})}
    a = shares["a"].set_index("mode")["share"]
    assert a.to_dict() == pytest.approx({"pt": 4 / 6, "walk": 1 / 6, "drt": 1 / 6})
    fig, ax = plots.plot_mode_shares(shares, lang="ja")
    bars = _bars(ax)
    # one bar per scenario per mode; scenario "a" is the top row (largest y)
    top = max(b.get_y() for b in bars)
    drawn = {round(b.get_x(), 12): b.get_width() for b in bars
             if b.get_y() == top and b.get_width() > 0}
    assert sorted(drawn.values()) == pytest.approx(sorted(a.to_numpy()))
    assert sum(drawn.values()) == pytest.approx(1.0)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert list(shares["a"]["mode"]) == ["pt", "drt", "walk"]  # by share, then name
    assert legend == [text("mode.pt", "ja"), text("mode.drt", "ja"), text("mode.walk", "ja")]
    _render(fig)


def _graph() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(source="test")
    pts = {1: (141.60, 42.63), 2: (141.61, 42.63), 3: (141.61, 42.64)}
    for n, (x, y) in pts.items():
        G.add_node(n, x=x, y=y)
    G.add_edge(1, 2, highway="primary", length=800.0)
    G.add_edge(2, 3, highway="residential", length=1100.0)
    return G


def test_scenario_map_draws_lines_through_stops_and_demand_circles() -> None:
    lines = pd.DataFrame({"route_id": ["r1"] * 3, "route_name": ["Route 1"] * 3,
                          "direction_id": [0] * 3, "seq": [0, 1, 2],
                          "stop_id": ["a", "b", "c"], "lat": [42.63, 42.63, 42.64],
                          "lon": [141.60, 141.61, 141.61]})
    demand = pd.DataFrame({"stop_id": ["a", "b", "c"], "name": ["駅前", "B", "C"],
                           "lat": [42.63, 42.63, 42.64], "lon": [141.60, 141.61, 141.61],
                           "boardings": [10.0, 5.0, 0.0]})
    fig, ax = plots.plot_scenario_map(_graph(), lines, demand, lang="ja", max_marker_size=400,
                                      direction_offset_m=0)  # on the road itself
    route = [ln for ln in ax.get_lines() if ln.get_label() == "Route 1"]
    assert len(route) == 1
    assert list(route[0].get_xdata()) == [141.60, 141.61, 141.61]
    assert list(route[0].get_ydata()) == [42.63, 42.63, 42.64]
    (circles,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert circles.get_offsets().tolist() == [[141.60, 42.63], [141.61, 42.63],
                                              [141.61, 42.64]]
    sizes = circles.get_sizes()
    assert sizes[0] == pytest.approx(400) and sizes[1] == pytest.approx(200)  # area ∝ demand
    assert sizes[2] < sizes[1]
    assert any(isinstance(c, LineCollection) for c in ax.collections)  # the road network
    _render(fig)


def test_sweep_plot_means_and_whiskers() -> None:
    table = pd.DataFrame({
        "point": [0, 1, 2, 3], "x": [2.0, 4.0, 2.0, 4.0], "g": [1, 1, 2, 2],
        "kpi": ["served_share"] * 4, "mean": [0.9, 0.8, 0.85, 0.7],
        "ci_low": [0.85, 0.75, 0.8, 0.6], "ci_high": [0.95, 0.85, 0.9, 0.8]})
    fig, ax = plots.plot_sweep(table, "served_share", "x", group="g", lang="ja")
    lines = [ln for ln in ax.get_lines() if ln.get_label().startswith("g =")]
    assert [list(ln.get_ydata()) for ln in lines] == [[0.9, 0.8], [0.85, 0.7]]
    assert _whiskers(ax) == pytest.approx(sorted([(2.0, 0.85, 0.95), (4.0, 0.75, 0.85),
                                                  (2.0, 0.8, 0.9), (4.0, 0.6, 0.8)]))
    _render(fig)


def test_every_label_renders_in_both_languages() -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 30))
    ax = fig.add_subplot()
    y = 0.0
    for key in (*KPI_LABELS, "boardings.donan_15"):
        for lang in ("ja", "en"):
            ax.text(0, y, kpi_label(key, lang))
            y += 1
    for key in TEXT:
        for lang in ("ja", "en"):
            ax.text(0, y, text(key, lang))
            y += 1
    ax.set_ylim(0, y)
    _render(fig)
    with pytest.raises(ValueError, match="lang must be one of"):
        kpi_label("served", "fr")
    assert kpi_label("some_new_kpi", "ja") == "some_new_kpi"


def test_plots_reject_unknown_language() -> None:
    with pytest.raises(ValueError, match="ja, en"):
        plots.plot_kpi_bars(_kpi_table(), "wait_mean_min", lang="de")
    assert np.isfinite(1.0)


def test_scenario_map_legend_names_each_route_once() -> None:
    rows = []
    for rid, name in (("r1", "Route 1"), ("r2", ""), ("r3", "Loop"), ("r4", "Loop")):
        for d in (0, 1):
            for i, (lon, lat) in enumerate([(141.60, 42.63), (141.61, 42.63)][:: 1 - 2 * d]):
                rows.append({"route_id": rid, "route_name": name, "direction_id": d, "seq": i,
                             "stop_id": "", "lat": lat, "lon": lon})
    lines = pd.DataFrame(rows)
    demand = pd.DataFrame(columns=["stop_id", "name", "lat", "lon", "boardings"])
    fig, ax = plots.plot_scenario_map(_graph(), lines, demand, lang="en")
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    # a name when it is unique; the id for a route without a name or beside a shared name
    assert texts[:4] == ["Route 1", "r2", "Loop (r3)", "Loop (r4)"]
    assert texts[4] == text("direction_note", "en")
    _render(fig)
