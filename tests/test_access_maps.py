"""Choropleth maps of zone KPIs: geometry of the zone shapes and that plots only draw."""

from __future__ import annotations

import math

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
