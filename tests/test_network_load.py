"""Loading road networks from files (OSM XML, compressed, GraphML) and the error messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import networkx as nx
import pytest

from fixtures.network.osmxml import MINI_OSM, grid_node, mini_nodes, mini_ways, write_osm
from tomakomai_maas.errors import NetworkError
from tomakomai_maas.network import SpeedSettings, load_network, network_info
from tomakomai_maas.network.load import embedded_path, is_drivable, parse_source


@pytest.fixture(scope="module")
def mini():
    return load_network(MINI_OSM)


def _check_graph(G: nx.MultiDiGraph) -> None:
    assert G.number_of_nodes() == 13
    assert G.number_of_edges() == 36
    for _, d in G.nodes(data=True):
        assert 141.5 < d["x"] < 141.7 and 42.6 < d["y"] < 42.7
    for _, _, d in G.edges(data=True):
        assert d["length_m"] == pytest.approx(float(d["length"]))
        assert d["travel_time_s"] == pytest.approx(d["length_m"] / (d["speed_kph"] / 3.6))
        assert d["speed_kph"] > 0


def test_osm_xml(mini):
    _check_graph(mini)
    assert mini.graph["source"] == str(MINI_OSM)


@pytest.mark.parametrize("name", ["mini.osm.gz", "mini.osm.bz2", "mini.osm.xml", "mini.xml"])
def test_compressed_and_suffix_variants(tmp_path, name):
    path = write_osm(tmp_path / name)
    G = load_network(str(path))
    _check_graph(G)
    assert G.graph["source"] == str(path)


def test_graphml_roundtrip(tmp_path, mini):
    import osmnx as ox

    path = tmp_path / "mini.graphml"
    ox.save_graphml(mini, path)
    G = load_network(path)
    _check_graph(G)
    assert G.graph["source"] == str(path)
    for u, v, k, d in mini.edges(keys=True, data=True):
        assert G.edges[u, v, k]["travel_time_s"] == pytest.approx(d["travel_time_s"])


def test_non_roads_are_dropped(mini):
    highways = {d["highway"] for _, _, d in mini.edges(data=True)}
    assert "footway" not in highways
    assert not {960, 961, 970, 971, 972, 973} & set(mini.nodes)
    services = [d for _, _, d in mini.edges(data=True) if d["highway"] == "service"]
    assert services and all(d.get("service") != "parking_aisle" for d in services)


def test_simplification_splits_where_speed_changes(mini):
    assert 900 not in mini  # mid-block node, same speed on both sides: simplified away
    assert 901 in mini  # speed changes from 30 (default) to 40 (maxspeed) here
    a, b = grid_node(1, 1), grid_node(1, 2)
    assert mini.edges[a, 901, 0]["speed_kph"] == 30.0
    assert mini.edges[901, b, 0]["speed_kph"] == 40.0


def test_speeds_from_tags_and_defaults(mini):
    g = grid_node
    assert mini.edges[g(0, 0), g(0, 1), 0]["speed_kph"] == 50.0  # maxspeed=50
    assert mini.edges[g(2, 0), g(2, 1), 0]["speed_kph"] == 40.0  # "40 km/h"
    assert mini.edges[g(0, 2), g(1, 2), 0]["speed_kph"] == pytest.approx(20 * 1.609344)
    assert mini.edges[g(0, 0), g(1, 0), 0]["speed_source"] == "default"
    assert mini.has_edge(g(0, 1), g(1, 1)) and not mini.has_edge(g(1, 1), g(0, 1))  # one-way


def test_speed_settings_apply_at_load():
    G = load_network(MINI_OSM, speeds=SpeedSettings(speed_factor=0.5, max_speed_kph=20))
    for _, _, d in G.edges(data=True):
        assert d["speed_kph"] == pytest.approx(min(d["road_speed_kph"], 20) * 0.5)
    assert G.graph["max_speed_kph"] == 20.0


def test_is_drivable_rules():
    assert is_drivable({"highway": "residential"})
    assert is_drivable({"highway": ["residential", "tertiary"]})
    assert not is_drivable({"highway": "footway"})
    assert not is_drivable({"highway": "residential", "access": "private"})
    assert is_drivable({"highway": "service", "access": "no", "psv": "yes"})
    assert not is_drivable({"highway": "service", "service": "parking_aisle"})
    assert not is_drivable({"highway": "residential", "area": "yes"})
    assert not is_drivable({"building": "yes"})
    assert is_drivable({}, require_highway=False)


# ----------------------------------------------------------------------------- errors
def test_missing_file():
    with pytest.raises(NetworkError, match=r"road network file not found: no/such/file\.osm\. "
                                           r"Use 'embedded:tomakomai-central'"):
        load_network("no/such/file.osm")


def test_missing_pathlike(tmp_path):
    with pytest.raises(NetworkError, match="road network file not found"):
        load_network(tmp_path / "missing.graphml")


def test_malformed_xml(tmp_path):
    bad = tmp_path / "broken.osm"
    bad.write_text('<?xml version="1.0"?><osm><node id="1" lat="42.6" lon="141.6"></osm>')
    with pytest.raises(NetworkError, match=r"broken\.osm is not valid OSM XML.*mismatched tag"):
        load_network(bad)


def test_garbage_gz(tmp_path):
    bad = tmp_path / "area.osm.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(NetworkError, match=r"area\.osm\.gz could not be read as OSM XML"):
        load_network(bad)


def test_malformed_graphml(tmp_path):
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph>")
    with pytest.raises(NetworkError, match=r"bad\.graphml could not be read as GraphML"):
        load_network(bad)


def test_no_drivable_edges(tmp_path):
    nodes = mini_nodes()
    ways = [(1, [100, 101, 102], {"highway": "footway"}), (2, [110, 111], {"building": "yes"})]
    path = write_osm(tmp_path / "paths.osm", nodes, ways)
    with pytest.raises(NetworkError, match=r"no drivable roads in .*paths\.osm.*"
                                           r"highway values found: \['footway'\]"):
        load_network(path)


def test_empty_osm(tmp_path):
    path = write_osm(tmp_path / "empty.osm", {}, [])
    with pytest.raises(NetworkError, match=r"empty\.osm (contains no OSM nodes or ways|"
                                           r"could not be read)"):
        load_network(path)


def _dangling_extract(tmp_path: Path) -> Path:
    nodes = mini_nodes()
    nodes[990] = (42.6400, 141.5980)
    ways = [*mini_ways(), (99, [990, grid_node(0, 0)], {"highway": "residential",
                                                        "oneway": "yes"})]
    return write_osm(tmp_path / "dangling.osm", nodes, ways)


def test_not_strongly_connected(tmp_path):
    path = _dangling_extract(tmp_path)
    with pytest.raises(NetworkError, match=r"dangling\.osm is not strongly connected: the "
                                           r"largest strongly connected component holds 92\.9% "
                                           r"of 14 nodes.*keep_largest_scc=True"):
        load_network(path)


def test_keep_largest_scc_and_allow_disconnected(tmp_path):
    path = _dangling_extract(tmp_path)
    G = load_network(path, keep_largest_scc=True)
    assert 990 not in G and G.number_of_nodes() == 13
    assert G.graph["source"] == str(path)
    H = load_network(path, allow_disconnected=True)
    assert 990 in H
    assert network_info(H)["strongly_connected_share"] == pytest.approx(13 / 14, abs=1e-4)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "network source is empty"),
        ("embedded:nowhere", r"unknown embedded network 'nowhere'.*available: tomakomai-central"),
        ("42.6,141.6,0", r"radius_m must be in \(0, 50000\]"),
        ("95,141.6,100", r"latitude must be in \[-90, 90\]"),
        ("point:abc", r"must look like 'point:lat,lon,radius_m'"),
        ("place:", "needs a place name"),
    ],
)
def test_bad_sources(source, message):
    with pytest.raises(NetworkError, match=message):
        parse_source(source)


def test_pbf_and_directory(tmp_path):
    pbf = tmp_path / "area.osm.pbf"
    pbf.write_bytes(b"\x00")
    with pytest.raises(NetworkError, match="PBF is not supported; convert it to OSM XML"):
        load_network(pbf)
    with pytest.raises(NetworkError, match="is a folder, not a file"):
        load_network(tmp_path)


def test_source_classification(tmp_path):
    assert parse_source("embedded:tomakomai-central").kind == "embedded"
    assert parse_source("place:Tomakomai, Hokkaido").query.place == "Tomakomai, Hokkaido"
    assert parse_source("Tomakomai, Hokkaido, Japan").kind == "online"
    q = parse_source("42.6398, 141.5968, 1500").query
    assert (q.kind, q.lat, q.lon, q.radius_m) == ("point", 42.6398, 141.5968, 1500.0)
    assert parse_source("point:42.6,141.6,800").query.radius_m == 800
    copy = tmp_path / "extract"  # no suffix: still a file because it exists
    shutil.copy(MINI_OSM, copy)
    assert parse_source(str(copy)).kind == "osm"


def test_missing_embedded_is_clear(monkeypatch):
    from tomakomai_maas.network import load

    monkeypatch.setitem(load.EMBEDDED_NETWORKS, "ghost", "no_such_file.osm")
    with pytest.raises(NetworkError, match=r"embedded network 'ghost' is missing from the "
                                           r"installed package"):
        embedded_path("ghost")


def test_network_info(mini):
    info = network_info(mini)
    assert info["nodes"] == 13 and info["edges"] == 36
    assert info["strongly_connected_share"] == 1.0
    w, s, e, n = info["bbox"]
    assert w < e and s < n
    # two-way roads count once: road km is between half and all of the directed km
    assert 0.5 * info["directed_km"] <= info["road_km"] < info["directed_km"]
    assert set(info) >= {"source", "nodes", "edges", "road_km", "bbox",
                         "strongly_connected_share"}


def test_public_api_is_documented():
    import tomakomai_maas.network as network

    for name in network.__all__:
        obj = getattr(network, name)
        if callable(obj):
            assert obj.__doc__ and obj.__doc__.strip(), f"{name} has no docstring"
