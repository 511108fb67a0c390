"""Choropleth maps of zone KPIs: geometry of the zone shapes and that plots only draw."""

from __future__ import annotations

import io
import math
import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from tomakomai_maas.demand.zones import KM_PER_DEG_LAT, load_zones, offset_latlon
from tomakomai_maas.report._save import save_figure
from tomakomai_maas.report.choropleth import plot_zone_map, plot_zone_maps, zone_geometries


def _km2(g, lat0: float) -> float:
    return g.area * KM_PER_DEG_LAT ** 2 * math.cos(math.radians(lat0))


def _grid(n: int = 3, side_km: float = 0.6) -> pd.DataFrame:
    rows = []
    for i in range(n):
        for j in range(n):
            lat, lon = offset_latlon(42.64, 141.60, j * side_km, -i * side_km)
            rows.append({"zone_id": f"G{i}{j}", "lat": lat, "lon": lon,
                         "area_km2": side_km ** 2, "value": float(i * n + j)})
    return pd.DataFrame(rows)


def test_voronoi_cells_of_a_grid_are_its_squares():
    z = _grid()
    cells = zone_geometries(z, style="voronoi")
    for g, lat in zip(cells, z["lat"], strict=True):
        assert _km2(g, lat) == pytest.approx(0.36, rel=2e-3)
    # neighbouring cells touch but do not overlap
    assert cells[0].intersection(cells[1]).area == pytest.approx(0, abs=1e-12)
    assert cells[0].distance(cells[1]) < 1e-5  # degrees (~1 m): they touch


def test_circles_have_the_zone_area_and_polygons_pass_through():
    z = _grid(2)
    for g, lat in zip(zone_geometries(z, style="circles"), z["lat"], strict=True):
        assert _km2(g, lat) == pytest.approx(0.36, rel=5e-3)
    polys = [shapely.Point(lon, lat).buffer(0.001) for lat, lon in zip(z["lat"], z["lon"],
                                                                       strict=True)]
    assert zone_geometries(z, style="polygons", geometries=polys) == polys
    with pytest.raises(ValueError, match="one geometry per zone"):
        zone_geometries(z, style="polygons")
    with pytest.raises(ValueError, match="style must be one of"):
        zone_geometries(z, style="hexagons")


def test_embedded_zones_voronoi_cells_do_not_exceed_zone_areas():
    z = load_zones()
    cells = zone_geometries(z)
    areas = np.array([_km2(g, lat) for g, lat in zip(cells, z["lat"], strict=True)])
    assert np.all(areas <= z["area_km2"].to_numpy() * 1.002)
    assert np.all(areas > 0.3 * z["area_km2"].to_numpy())


def test_maps_draw_and_save(tmp_path):
    z = _grid()
    z.loc[4, "value"] = np.nan  # drawn grey and hatched
    fig, ax = plot_zone_map(z, "value", stops=pd.DataFrame({"lat": [42.64], "lon": [141.6]}),
                            title="被覆率")
    assert len(ax.collections) == 3  # values, NaN zones, stops
    assert save_figure(fig, tmp_path / "map.png").stat().st_size > 1000
    b = z.assign(value=z["value"] + 1)
    fig2, axes = plot_zone_maps({"a": z, "b": b}, "value")
    assert [a.get_title() for a in axes] == ["a", "b"]
    fig3, _ = plot_zone_map(z.assign(d=z["value"] - 4), "d", diverging=True, style="circles")
    save_figure(fig3, tmp_path / "diff.svg")
    with pytest.raises(ValueError, match="not in the table"):
        plot_zone_map(z, "nope")


# ---------------------------------------------------------------- context of the maps
def _roads() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(source="test")
    for n, (x, y) in {1: (141.600, 42.640), 2: (141.607, 42.640), 3: (141.607, 42.635)}.items():
        G.add_node(n, x=x, y=y)
    for u, v in ((1, 2), (2, 1), (2, 3)):  # a two-way road (drawn once) and a one-way one
        G.add_edge(u, v, length_m=500.0, highway="residential")
    return G


def _legend_texts(legend) -> list[str]:
    return [t.get_text() for t in legend.get_texts()]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_zone_map_draws_roads_stops_drt_outline_and_explains_them(lang):
    from matplotlib.collections import LineCollection

    from tomakomai_maas.report.labels import text

    z = _grid()
    z.loc[4, "value"] = np.nan
    stops = pd.DataFrame({"lat": [42.638, 42.636], "lon": [141.602, 141.605]})
    area = shapely.Polygon([(141.601, 42.634), (141.609, 42.634), (141.609, 42.639)])
    fig, ax = plot_zone_map(z, "value", roads=_roads(), stops=stops, drt_areas=[area],
                            lang=lang, nan_label=text("unreachable", lang))
    (roads,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert sorted(map(lambda seg: seg.tolist(), roads.get_segments())) == [
        [[141.6, 42.64], [141.607, 42.64]], [[141.607, 42.64], [141.607, 42.635]]]
    dots = [c for c in ax.collections if c.get_offsets().tolist() == stops[["lon", "lat"]]
            .values.tolist()]
    assert len(dots) == 1  # the served stops
    outline = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert [list(zip(ln.get_xdata(), ln.get_ydata(), strict=True)) for ln in outline] == [
        list(area.exterior.coords)]
    legend = ax.get_legend()
    assert _legend_texts(legend) == [text(k, lang) for k in
                                     ("unreachable", "roads", "served_stops", "drt_area")]
    assert legend.legend_handles[0].get_hatch() == "//"  # the hatched zones are explained
    assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0  # a scale bar instead
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing from.*")
        fig.savefig(io.BytesIO(), format="png", dpi=50)


def test_zone_map_without_context_has_no_legend_and_nan_default_label():
    z = _grid()
    fig, ax = plot_zone_map(z, "value")
    assert ax.get_legend() is None  # nothing to explain
    z.loc[0, "value"] = np.nan
    fig, ax = plot_zone_map(z, "value", lang="en")
    assert _legend_texts(ax.get_legend()) == ["no value"]


def test_small_multiples_share_one_legend_and_draw_each_scenarios_stops():
    z = _grid()
    b = z.assign(value=np.where(z["value"] > 6, np.nan, z["value"]))
    stops = {"b": pd.DataFrame({"lat": [42.638], "lon": [141.602]})}
    fig, axes = plot_zone_maps({"a": z, "b": b}, "value", roads=_roads(), stops=stops,
                               lang="en", nan_label="not reachable")
    assert [len([c for c in ax.collections if c.get_offsets().tolist() == [[141.602, 42.638]]])
            for ax in axes] == [0, 1]
    (legend,) = fig.legends
    assert _legend_texts(legend) == ["not reachable", "roads", "served stops"]
    assert all(ax.get_legend() is None for ax in axes)


def test_scale_bar_has_a_round_length_in_km():
    from matplotlib.figure import Figure

    from tomakomai_maas.demand.zones import haversine_km
    from tomakomai_maas.report.network_map import add_scale_bar

    ax = Figure().add_subplot()
    ax.set_xlim(141.55, 141.75)  # 0.2° of longitude at 42.64°N: 16.4 km wide
    ax.set_ylim(42.60, 42.68)
    km, line = add_scale_bar(ax)
    assert km == 2.0  # the largest 1-2-5 length up to a quarter of the width (4.1 km)
    (x0, x1), (y0, y1) = line.get_xdata(), line.get_ydata()
    assert y0 == y1 and float(haversine_km(y0, x0, y1, x1)) == pytest.approx(2.0, rel=1e-3)
    assert [t.get_text() for t in ax.texts] == ["2 km"]
    ax2 = Figure().add_subplot()
    ax2.set_xlim(141.60, 141.62)  # 1.6 km wide -> 200 m
    ax2.set_ylim(42.63, 42.64)
    assert add_scale_bar(ax2)[0] == pytest.approx(0.2)
    assert [t.get_text() for t in ax2.texts] == ["200 m"]
