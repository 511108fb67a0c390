"""GIS export of a run: layers, CRS, documented columns and flows consistent with the KPIs."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest

from tomakomai_maas.cli import main
from tomakomai_maas.metrics.access import drt_area
from tomakomai_maas.report.gis import (
    LAYER_COLUMNS,
    LAYERS,
    drt_areas_from_scenario,
    export_gis,
    gis_layers,
    load_run,
    write_layers,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("ttcache")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, cache):
    from tomakomai_maas.runner import run
    from tomakomai_maas.scenario.load import load_scenario

    sc = load_scenario(ROOT / "scenarios" / "station_buses_today.yaml")
    out = run(sc, replications=2, out_root=tmp_path_factory.mktemp("results"), run_id="gis",
              workers=1, cache_dir=cache)
    return out.path


@pytest.fixture(scope="module")
def kpis(run_dir):
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["kpis"]


@pytest.fixture(scope="module")
def gpkg(run_dir, cache, tmp_path_factory):
    path = tmp_path_factory.mktemp("gis") / "run.gpkg"
    counts = export_gis(run_dir, path, cache_dir=cache)
    return path, counts


def test_gpkg_layers_crs_and_columns(gpkg):
    path, counts = gpkg
    listed = gpd.list_layers(path)
    assert list(listed["name"]) == list(LAYERS)
    for name in LAYERS:
        gdf = gpd.read_file(path, layer=name)
        assert gdf.crs.to_epsg() == 4326, name
        assert set(LAYER_COLUMNS[name]) <= set(gdf.columns), name
        assert len(gdf) == counts[name]
    assert counts["drt_service_areas"] == 0  # the scenario has no DRT section
    assert counts["stops"] == 42 and counts["zones"] == 39


def test_flows_match_the_kpis(gpkg, kpis):
    path, _ = gpkg
    edges = gpd.read_file(path, layer="network_edges")
    # passenger-km on the road = load x leg road distance summed over legs (summary KPI)
    assert edges["pax_km"].sum() == pytest.approx(kpis["pax_km"]["mean"], rel=1e-6)
    assert edges["vehicle_km"].sum() == pytest.approx(kpis["vehicle_km"]["mean"], rel=1e-6)
    used = edges[edges["vehicle_passes"] > 0]
    assert used["vehicle_km"].to_numpy() == pytest.approx(
        (used["vehicle_passes"] * used["length_m"] / 1000).to_numpy())
    assert set(",".join(used["routes"]).split(",")) == {"av2023", "donan_15", "donan_25"}
    stops = gpd.read_file(path, layer="stops")
    assert stops["boardings"].sum() == pytest.approx(kpis["boardings"]["mean"])
    assert stops.geometry.geom_type.eq("Point").all()
    lines = gpd.read_file(path, layer="lines")
    assert sorted(zip(lines["route_id"], lines["direction_id"], strict=True)) == [
        ("av2023", 0), ("av2023", 1), ("donan_15", 0), ("donan_15", 1), ("donan_25", 0),
        ("donan_25", 1)]
    assert lines["boardings"].sum() == pytest.approx(kpis["boardings"]["mean"])
    # the line geometry follows the road: its length is the trip's road length
    lengths = lines.to_crs(6680).length  # JGD2011 / Japan Plane Rectangular CS XII (metres)
    assert lengths.to_numpy() == pytest.approx(lines["length_m"].to_numpy(), rel=0.02)
    zones = gpd.read_file(path, layer="zones")
    assert zones["covered_500m_share"].between(0, 1).all()
    assert "tt_city_hospital_min" in zones.columns


def test_geojson_folder_via_cli(run_dir, cache, tmp_path, capsys):
    out = tmp_path / "layers"
    assert main(["export-gis", str(run_dir), "-o", str(out), "--no-zones",
                 "--cache-dir", str(cache)]) == 0
    assert "network_edges" in capsys.readouterr().out
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(f"{n}.geojson" for n in LAYERS if n != "zones")
    for name in ("stops", "drt_service_areas"):
        gdf = gpd.read_file(out / f"{name}.geojson")
        assert gdf.crs.to_epsg() == 4326
    # re-exporting replaces the folder atomically
    assert main(["export-gis", str(run_dir), "-o", str(out), "--no-zones",
                 "--cache-dir", str(cache)]) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert out.stat().st_mode & 0o755 == 0o755  # a normal folder, not mkdtemp's private one
    # "-o flows.geojson" writes the folder "flows" (one GeoJSON file per layer)
    assert main(["export-gis", str(run_dir), "-o", str(tmp_path / "flows.geojson"),
                 "--no-zones", "--cache-dir", str(cache)]) == 0
    assert f"written: {tmp_path / 'flows'}" in capsys.readouterr().out
    assert (tmp_path / "flows" / "stops.geojson").is_file()
    assert not (tmp_path / "flows.geojson").exists()


def test_drt_areas_layer(run_dir, cache, tmp_path):
    run = load_run(run_dir, cache_dir=cache)
    area = drt_area([(42.632, 141.725), (42.642, 141.725), (42.642, 141.745), (42.632, 141.745)],
                    name="勇払", start_time="08:30", end_time="17:00")
    layers = gis_layers(run, zones=False, drt_areas=[area])
    assert "zones" not in layers
    path = write_layers(layers, tmp_path / "drt.gpkg")
    gdf = gpd.read_file(path, layer="drt_service_areas")
    assert gdf["name"].tolist() == ["勇払"]
    assert gdf["start_time"].tolist() == ["08:30:00"] and gdf["end_time"].tolist() == ["17:00:00"]
    # 0.010 deg lat x 0.020 deg lon at 42.64 N = 1.112 km x 1.637 km
    assert gdf["area_km2"].iloc[0] == pytest.approx(1.112 * 1.637, rel=0.01)


def test_drt_areas_from_scenario_shapes(tmp_path):
    ring = [[42.63, 141.72], [42.64, 141.72], [42.64, 141.74], [42.63, 141.74]]
    gj = {"type": "Polygon", "coordinates": [[[141.72, 42.63], [141.74, 42.63],
                                              [141.74, 42.64], [141.72, 42.63]]]}
    (tmp_path / "area.geojson").write_text(json.dumps({"type": "Feature", "geometry": gj,
                                                       "properties": {}}), encoding="utf-8")
    assert drt_areas_from_scenario({"name": "x"}) == []
    raw = {"drt": {
        "fleets": [{"name": "aitoma", "service_area": ring,
                    "hours": ["08:30-11:30", "15:00-17:00"]}],
        "zones": [{"id": "z2", "area": gj}, {"id": "z3", "polygon": "area.geojson"}],
        "broken": {"area": [[1, 2], [3, 4], [5, 6]]},  # collinear: skipped with a warning
    }}
    areas = drt_areas_from_scenario(raw, base=tmp_path)
    assert [a.name for a in areas] == ["aitoma", "z2", "z3"]
    assert (areas[0].start_s, areas[0].end_s) == (8.5 * 3600, 17 * 3600)
    assert areas[0].geometry.bounds == (141.72, 42.63, 141.74, 42.64)


def test_not_a_run_folder(tmp_path, capsys):
    assert main(["export-gis", str(tmp_path), "-o", str(tmp_path / "x.gpkg")]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_lines_layer_and_the_map_route_lines_alike(run_dir, cache):
    """One routing (map_layers.LineRouter): where a route's most frequent stop pattern is also
    its trip with the most stops, the GIS line and the map's line are the same points."""
    from collections import Counter

    from tomakomai_maas.report.map_layers import routed_line_patterns

    run = load_run(run_dir, cache_dir=cache)
    lines = gis_layers(run, zones=False)["lines"]
    drawn = routed_line_patterns(run.world, run.context.graph,
                                 speed_factor=run.scenario.network.speed_factor)
    compared = 0
    for row, geom in zip(lines.itertuples(), lines.geometry, strict=True):
        trips = [t for t in run.world.trips
                 if (t.route_id, t.direction_id) == (row.route_id, row.direction_id)]
        frequent = Counter(t.stop_ids for t in trips).most_common(1)[0][0]
        if len(frequent) != row.n_stops:
            continue
        d = drawn[(drawn["route_id"] == row.route_id)
                  & (drawn["direction_id"] == row.direction_id)].sort_values("seq")
        assert list(geom.coords) == pytest.approx(list(zip(d["lon"], d["lat"], strict=True)))
        compared += 1
    assert compared >= 2
