"""Zone system: embedded totals, landmark anchoring, user CSV/GeoJSON files and their errors."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tomakomai_maas.demand.zones import (
    ATTRACTION_COLUMNS,
    EMBEDDED_COVERED_SHARE,
    EMBEDDED_ZONES_PATH,
    TOMAKOMAI,
    ZONE_COLUMNS,
    ZONE_DTYPES,
    crow_fly_time_matrix,
    load_zones,
    nearest_zone,
    offset_latlon,
)
from tomakomai_maas.errors import ScenarioError


@pytest.fixture(scope="module")
def zones() -> pd.DataFrame:
    return load_zones()


def test_city_figures_are_consistent():
    assert TOMAKOMAI.pop_0_14 + TOMAKOMAI.pop_15_64 + TOMAKOMAI.pop_65p == TOMAKOMAI.population
    assert round(100 * TOMAKOMAI.pop_65p / TOMAKOMAI.population, 1) == 30.8


def test_embedded_schema(zones):
    assert tuple(zones.columns) == ZONE_COLUMNS
    assert {c: str(t) for c, t in zones.dtypes.items()} == ZONE_DTYPES
    assert 20 <= len(zones) <= 60
    assert zones["zone_id"].is_unique


def test_embedded_totals_match_city_figures_times_share(zones):
    s = EMBEDDED_COVERED_SHARE
    assert zones["pop_0_14"].sum() == round(TOMAKOMAI.pop_0_14 * s)
    assert zones["pop_15_64"].sum() == round(TOMAKOMAI.pop_15_64 * s)
    assert zones["pop_65p"].sum() == round(TOMAKOMAI.pop_65p * s)
    assert zones["pop_total"].sum() == pytest.approx(TOMAKOMAI.population * s, abs=1.5)
    assert zones["households"].sum() == round(TOMAKOMAI.households * s)
    bands = zones[["pop_0_14", "pop_15_64", "pop_65p"]].sum(axis=1)
    np.testing.assert_array_equal(bands.to_numpy(), zones["pop_total"].to_numpy())
    # the covered age structure equals the city's (uniform-structure assumption)
    aging = zones["pop_65p"].sum() / zones["pop_total"].sum()
    assert aging == pytest.approx(TOMAKOMAI.pop_65p / TOMAKOMAI.population, abs=1e-4)


def test_yufutsu_anchored_on_900_households(zones):
    hh = zones.set_index("zone_id").loc[["E10", "E11"], "households"].sum()
    assert hh == pytest.approx(900, abs=2)


@pytest.mark.parametrize(("lat", "lon", "zone", "column"), [
    (42.6397833, 141.5967722, "C33", "station"),      # JR苫小牧駅
    (42.63406, 141.60553, "C44", "city_hall"),         # 市役所
    (42.65194, 141.60333, "C14", "hospital"),          # 市立病院
    (42.63472, 141.58972, "C42", "jobs"),              # 王子製紙
    (42.65639, 141.64194, "E03", "retail"),            # イオンモール苫小牧
    (42.6721944, 141.6933917, "E06", None),            # JR沼ノ端駅
    (42.63750, 141.73389, "E10", None),                # JR勇払駅
])
def test_landmarks_fall_in_their_zone_and_anchor_attraction(zones, lat, lon, zone, column):
    assert zones["zone_id"].iloc[nearest_zone(zones, lat, lon)] == zone
    if column is not None:
        assert zones.set_index("zone_id")[column].idxmax() == zone


def test_assumed_market_is_south_east_of_station_and_2_5_to_3_km_by_road(zones):
    z = zones.set_index("zone_id")
    assert z["port_market"].idxmax() == "P3"
    assert z.loc["P3", "lat"] < z.loc["C33", "lat"] - 0.012
    assert z.loc["P3", "lon"] > z.loc["C33", "lon"] + 0.015
    t = crow_fly_time_matrix(zones, speed_kph=60.0, circuity=1.3)  # km = minutes at 60 km/h
    ids = list(zones["zone_id"])
    assert 2.5 <= t[ids.index("C33"), ids.index("P3")] <= 3.0


def test_market_zone_is_centred_on_the_network_market_point(zones):
    from tomakomai_maas.network.landmarks import load_landmarks

    lm = load_landmarks().set_index("key")
    z = zones.set_index("zone_id")
    assert z.loc["P3", "lat"] == pytest.approx(lm.loc["port_market", "lat"], abs=1e-7)
    assert z.loc["P3", "lon"] == pytest.approx(lm.loc["port_market", "lon"], abs=1e-7)


def test_embedded_csv_is_the_generator_output(zones):
    path = EMBEDDED_ZONES_PATH.with_name("make_zones_csv.py")
    spec = importlib.util.spec_from_file_location("make_zones_csv", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    built = mod.build_zones().astype(ZONE_DTYPES)
    pd.testing.assert_frame_equal(built, zones, check_exact=False, rtol=1e-9)


def test_crow_fly_matrix_is_symmetric_with_positive_diagonal(zones):
    t = crow_fly_time_matrix(zones)
    np.testing.assert_allclose(t, t.T)
    assert (np.diag(t) > 0).all()


# ----------------------------------------------------------------------------- user files
def _write_csv(tmp_path: Path, text: str, name: str = "z.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_user_csv_minimal_columns_get_documented_defaults(tmp_path):
    p = _write_csv(tmp_path, "zone_id,lat,lon,pop_total,jobs\nA,42.64,141.60,1000,5\n"
                             "B,42.65,141.61,500,0\n")
    z = load_zones(p)
    assert tuple(z.columns) == ZONE_COLUMNS
    assert z["name"].tolist() == ["A", "B"]
    s0, _, s2 = TOMAKOMAI.age_shares
    assert z.loc[0, "pop_0_14"] == pytest.approx(1000 * s0)
    assert z.loc[0, "pop_65p"] == pytest.approx(1000 * s2)
    np.testing.assert_allclose(z[["pop_0_14", "pop_15_64", "pop_65p"]].sum(axis=1),
                               z["pop_total"])
    assert z.loc[1, "households"] == pytest.approx(500 / TOMAKOMAI.persons_per_household)
    assert math.isnan(z.loc[0, "area_km2"])
    assert (z["retail"] == 0).all()


def test_user_csv_full_columns_roundtrip(tmp_path, zones):
    p = tmp_path / "copy.csv"
    zones.to_csv(p, index=False)
    pd.testing.assert_frame_equal(load_zones(p), zones)


def test_user_csv_bad_values_name_file_row_and_field(tmp_path):
    p = _write_csv(tmp_path, "zone_id,lat,lon,pop_total\nA,42.64,141.60,1000\n"
                             "B,95,141.61,500\nA,42.64,east,-3\n")
    with pytest.raises(ScenarioError) as ei:
        load_zones(p)
    msg = str(ei.value)
    assert "z.csv" in msg
    assert "row 3, lat: '95' is not a latitude in [-90, 90]" in msg
    assert "row 4, lon: 'east' is not a longitude" in msg
    assert "row 4, pop_total: '-3' is not a non-negative number" in msg
    assert "row 4, zone_id: 'A' duplicates row 2" in msg


def test_user_csv_missing_required_column(tmp_path):
    p = _write_csv(tmp_path, "zone_id,lat,lon\nA,42.64,141.60\n")
    with pytest.raises(ScenarioError, match=r"z\.csv: missing column\(s\) \['pop_total'\]"):
        load_zones(p)


def test_user_csv_band_sum_mismatch_and_partial_bands(tmp_path):
    p = _write_csv(tmp_path, "zone_id,lat,lon,pop_total,pop_0_14,pop_15_64,pop_65p\n"
                             "A,42.64,141.60,100,10,60,20\n")
    with pytest.raises(ScenarioError, match=r"row 2, pop_total: 100 differs from .* = 90"):
        load_zones(p)
    p2 = _write_csv(tmp_path, "zone_id,lat,lon,pop_total,pop_0_14\nA,42.64,141.60,100,10\n",
                    "partial.csv")
    with pytest.raises(ScenarioError, match=r"give all age bands"):
        load_zones(p2)


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(ScenarioError, match=r"nope\.csv: zone file not found"):
        load_zones(tmp_path / "nope.csv")
    p = _write_csv(tmp_path, "x", "zones.xlsx")
    with pytest.raises(ScenarioError, match=r"unknown zone file type '\.xlsx'; allowed"):
        load_zones(p)


def _square(lat0: float, lon0: float, side_km: float) -> list[list[float]]:
    pts = [offset_latlon(lat0, lon0, dx, dy) for dx, dy in
           ((0, 0), (side_km, 0), (side_km, side_km), (0, side_km), (0, 0))]
    return [[lon, lat] for lat, lon in pts]


def _fc(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def test_geojson_points_and_polygons(tmp_path):
    lat0, lon0 = 42.64, 141.60
    ring = _square(lat0, lon0, 1.0)
    hole = _square(*offset_latlon(lat0, lon0, 0.25, 0.25), 0.5)
    doc = _fc([
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [141.61, 42.65]},
         "properties": {"zone_id": "pt", "pop_total": 100, "name": "点"}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": {"zone_id": "sq", "pop_total": 200, "retail": 3}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring, hole]},
         "properties": {"zone_id": "holed", "pop_total": 0}},
        {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]},
         "properties": {"zone_id": "multi", "pop_total": 5, "area_km2": 9.0}},
    ])
    p = tmp_path / "z.geojson"
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    z = load_zones(p).set_index("zone_id")
    assert (z.loc["pt", "lat"], z.loc["pt", "lon"]) == (42.65, 141.61)
    assert z.loc["pt", "name"] == "点"
    assert math.isnan(z.loc["pt", "area_km2"])
    clat, clon = offset_latlon(lat0, lon0, 0.5, 0.5)
    assert z.loc["sq", "lat"] == pytest.approx(clat, abs=1e-6)
    assert z.loc["sq", "lon"] == pytest.approx(clon, abs=1e-6)
    assert z.loc["sq", "area_km2"] == pytest.approx(1.0, rel=1e-3)
    assert z.loc["sq", "retail"] == 3
    assert z.loc["holed", "area_km2"] == pytest.approx(0.75, rel=1e-3)
    assert z.loc["holed", "lat"] == pytest.approx(clat, abs=1e-6)  # symmetric hole
    assert z.loc["multi", "area_km2"] == 9.0  # property wins over the computed area


def test_geojson_errors_name_feature_and_field(tmp_path):
    doc = _fc([
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
         "properties": {"zone_id": "line", "pop_total": 1}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [141.6, 142.0]},
         "properties": {"zone_id": "far", "pop_total": 1}},
        {"type": "Feature", "geometry": None, "properties": {"zone_id": "nogeom"}},
    ])
    p = tmp_path / "bad.geojson"
    p.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ScenarioError) as ei:
        load_zones(p)
    msg = str(ei.value)
    assert "bad.geojson: 3 problem(s)" in msg
    assert "feature 0 (zone_id 'line'), geometry: type 'LineString' not supported" in msg
    assert "feature 1 (zone_id 'far'), geometry: position" in msg
    assert "feature 2 (zone_id 'nogeom'), geometry: missing" in msg


def test_geojson_property_errors_and_bad_json(tmp_path):
    doc = _fc([{"type": "Feature", "geometry": {"type": "Point", "coordinates": [141.6, 42.6]},
                "properties": {"zone_id": "a", "pop_total": "many"}}])
    p = tmp_path / "props.geojson"
    p.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"feature 0 \(zone_id 'a'\), pop_total: 'many' is "
                                            r"not a non-negative number"):
        load_zones(p)
    p2 = tmp_path / "broken.json"
    p2.write_text("{not json", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"broken\.json: cannot parse GeoJSON"):
        load_zones(p2)
    p3 = tmp_path / "notfc.geojson"
    p3.write_text(json.dumps({"type": "Feature"}), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"expected a GeoJSON FeatureCollection"):
        load_zones(p3)


def test_attraction_columns_constant_matches_brief():
    assert ATTRACTION_COLUMNS == ("jobs", "retail", "hospital", "station", "port_market",
                                  "city_hall", "school")
