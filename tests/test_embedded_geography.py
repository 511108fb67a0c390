"""Geography of the embedded schematic network, checked against the published facts.

Uses osmnx/networkx directly on the shipped OSM file (not the project's loader), so these
tests pin the *data*: published anchor points, trial-route lengths, connectivity, tags, and
that ``tools/make_embedded_network.py`` reproduces the committed files byte for byte.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "tomakomai_maas" / "network" / "data"
OSM = DATA / "tomakomai_central.osm"
LANDMARKS = DATA / "landmarks.csv"
GENERATOR = ROOT / "tools" / "make_embedded_network.py"

# facts §3: published points on 国道36号
R36_POINTS = {
    "苫小牧駅前": (42.6328123, 141.6013965),
    "元中野4 (下り)": (42.6424324, 141.6172618),
    "苫小牧・元中野4": (42.6432949, 141.6190803),
    "沼の端": (42.6696968, 141.6983745),
}
STATION = (42.6397833, 141.5967722)  # facts §2.6 JR苫小牧駅
CORE_HALF_M = 1500.0
ARTERIALS = {"trunk", "primary", "secondary", "tertiary"}
EARTH_R = 6_371_009.0


@pytest.fixture(scope="module")
def graph() -> nx.MultiDiGraph:
    return ox.graph_from_xml(OSM, simplify=True, retain_all=False)


@pytest.fixture(scope="module")
def raw_graph() -> nx.MultiDiGraph:
    return ox.graph_from_xml(OSM, simplify=False, retain_all=True)


@pytest.fixture(scope="module")
def landmarks() -> pd.DataFrame:
    return pd.read_csv(LANDMARKS)


def _xy(lat, lon, lat0=STATION[0], lon0=STATION[1]):
    """Local metres (east, north) around the station; fine at this city scale."""
    k = math.pi / 180.0 * EARTH_R
    return (np.asarray(lon) - lon0) * k * math.cos(math.radians(lat0)), (np.asarray(lat) - lat0) * k


def _node_arrays(g):
    ids = np.array(list(g.nodes))
    lat = np.array([g.nodes[n]["y"] for n in ids])
    lon = np.array([g.nodes[n]["x"] for n in ids])
    return ids, lat, lon


def _nearest(g, lat, lon):
    ids, nlat, nlon = _node_arrays(g)
    d = ox.distance.great_circle(lat, lon, nlat, nlon)
    i = int(np.argmin(d))
    return ids[i], float(d[i])


def _landmark(landmarks, key):
    row = landmarks.loc[landmarks["key"] == key]
    assert len(row) == 1, f"landmark {key!r} missing from landmarks.csv"
    return float(row["lat"].iloc[0]), float(row["lon"].iloc[0])


def _route_m(g, landmarks, a, b):
    na, _ = _nearest(g, *_landmark(landmarks, a))
    nb, _ = _nearest(g, *_landmark(landmarks, b))
    return nx.shortest_path_length(g, na, nb, weight="length")


def _point_segment_m(p, a, b):
    p, a, b = np.asarray(p, float), np.asarray(a, float), np.asarray(b, float)
    ab = b - a
    t = 0.0 if not ab.any() else float(np.clip(np.dot(p - a, ab) / np.dot(ab, ab), 0.0, 1.0))
    return float(np.linalg.norm(p - (a + t * ab)))


def _as_list(v):
    return v if isinstance(v, list) else [v]


# --------------------------------------------------------------------------- landmarks
def test_landmarks_csv_schema(landmarks):
    assert list(landmarks.columns) == [
        "key", "name", "name_en", "lat", "lon", "kind", "confidence", "source",
    ]
    assert landmarks["key"].is_unique
    assert set(landmarks["confidence"]) <= {"published", "assumed"}
    assumed = landmarks[landmarks["confidence"] == "assumed"]
    assert assumed["source"].str.startswith("assumed").all()
    required = {
        "tomakomai_station", "city_hall", "city_hospital", "oji_mill", "aeon_mall",
        "numanohata_station", "yufutsu_station", "port_market", "kirakira_park",
        "ferry_terminal", "station_north_exit", "station_south_exit", "r36_ekimae",
        "r36_motonakano4_down", "r36_motonakano4", "r36_numanohata",
    }
    assert required <= set(landmarks["key"])
    # things the facts file does not give coordinates for must be marked assumed
    for key in ("port_market", "kirakira_park", "ferry_terminal", "station_north_exit",
                "station_south_exit"):
        assert landmarks.set_index("key").loc[key, "confidence"] == "assumed"
    assert (landmarks.loc[landmarks["key"].str.startswith("r36_"), "kind"] == "road_point").all()


def test_published_landmarks_match_facts(landmarks):
    published = landmarks.set_index("key")
    assert published.loc["tomakomai_station", ["lat", "lon"]].tolist() == list(STATION)
    for key, (lat, lon) in zip(
        ["r36_ekimae", "r36_motonakano4_down", "r36_motonakano4", "r36_numanohata"],
        R36_POINTS.values(), strict=True,
    ):
        assert published.loc[key, "confidence"] == "published"
        assert published.loc[key, ["lat", "lon"]].tolist() == [lat, lon]


def test_published_landmarks_snap_within_50m(graph, landmarks):
    far = {}
    for row in landmarks[landmarks["confidence"] == "published"].itertuples():
        _, d = _nearest(graph, row.lat, row.lon)
        if d > 50.0:
            far[row.key] = round(d)
    assert not far, f"published landmarks farther than 50 m from a graph node: {far}"


def test_assumed_landmarks_are_on_the_network(graph, landmarks):
    far = {}
    for row in landmarks[landmarks["confidence"] == "assumed"].itertuples():
        _, d = _nearest(graph, row.lat, row.lon)
        if d > 50.0:
            far[row.key] = round(d)
    assert not far, f"assumed landmarks not reachable by a nearby node: {far}"


# --------------------------------------------------------------------------- 国道36号
def test_route36_passes_published_points(raw_graph):
    segs = []
    for u, v, d in raw_graph.edges(data=True):
        if "国道36号" in _as_list(d.get("name")) or "36" in _as_list(d.get("ref")):
            segs.append((u, v))
    assert segs, "no ways named 国道36号 / ref 36"
    nodes = raw_graph.nodes
    for label, (lat, lon) in R36_POINTS.items():
        p = _xy(lat, lon)
        best = min(
            _point_segment_m(p, _xy(nodes[u]["y"], nodes[u]["x"]), _xy(nodes[v]["y"], nodes[v]["x"]))
            for u, v in segs
        )
        assert best <= 30.0, f"国道36号 passes {best:.0f} m from published point {label}"


# --------------------------------------------------------------------------- distances
def test_station_to_market_matches_trial_length(graph, landmarks):
    # facts §1.2: one way "約2.5km" (Car Watch) vs "約3km" (苫小牧民報, NHK)
    d = _route_m(graph, landmarks, "tomakomai_station", "port_market")
    assert 2500.0 <= d <= 3200.0, d
    back = _route_m(graph, landmarks, "port_market", "tomakomai_station")
    assert 2500.0 <= back <= 3200.0, back


def test_station_to_numanohata_by_road(graph, landmarks):
    # facts §2.6/§3: 8.68 km great-circle, 8.8 km by rail
    d = _route_m(graph, landmarks, "tomakomai_station", "numanohata_station")
    assert 8700.0 <= d <= 11000.0, d


def test_drt_area_and_route25_places_connected(graph, landmarks):
    d = _route_m(graph, landmarks, "yufutsu_station", "numanohata_station")
    assert 4000.0 <= d <= 9000.0, d  # 勇払 ↔ 沼ノ端駅 DRT trip stays local
    ferry = _route_m(graph, landmarks, "tomakomai_station", "ferry_terminal")
    assert 3500.0 <= ferry <= 5500.0, ferry  # facts §2.1: ~4.5 km


# --------------------------------------------------------------------------- structure
def test_strongly_connected_for_driving(graph, raw_graph):
    assert nx.is_strongly_connected(graph)
    # nothing was silently dropped by retain_all=False
    assert nx.is_weakly_connected(raw_graph)
    assert any(d.get("oneway") for _, _, d in raw_graph.edges(data=True)), "no one-way street"


def test_core_has_300_intersections(graph):
    und = nx.Graph(graph.to_undirected())
    ids, lat, lon = _node_arrays(graph)
    x, y = _xy(lat, lon)
    core = {n for n, xi, yi in zip(ids, x, y, strict=True)
            if abs(xi) <= CORE_HALF_M and abs(yi) <= CORE_HALF_M}
    count = sum(1 for n in core if und.degree(n) >= 3)
    assert count >= 300, count


def test_tags_present(raw_graph):
    missing = []
    for u, v, d in raw_graph.edges(data=True):
        hw = d.get("highway")
        if hw is None or d.get("name") is None:
            missing.append((u, v, "highway/name"))
        elif hw in ARTERIALS and (d.get("maxspeed") is None or d.get("lanes") is None):
            missing.append((u, v, f"maxspeed/lanes on {hw}"))
    assert not missing, missing[:5]
    highways = {d["highway"] for _, _, d in raw_graph.edges(data=True)}
    assert {"trunk", "secondary", "tertiary", "residential"} <= highways
    speeds = {int(d["maxspeed"]) for _, _, d in raw_graph.edges(data=True) if "maxspeed" in d}
    assert speeds <= {20, 30, 40, 50, 60}
    names = {d["name"] for _, _, d in raw_graph.edges(data=True)}
    for corridor in ("国道36号", "国道235号", "臨海北通", "勇払沼ノ端通", "臨海南通", "明野北通"):
        assert corridor in names, corridor


def test_osm_file_is_well_formed_and_small():
    text = OSM.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and '<osm version="0.6"' in text
    assert "timestamp" not in text
    assert OSM.stat().st_size < 1_500_000
    import xml.etree.ElementTree as ET

    root = ET.parse(OSM).getroot()
    node_ids = [int(n.get("id")) for n in root.iter("node")]
    way_ids = [int(w.get("id")) for w in root.iter("way")]
    assert min(node_ids) > 0 and min(way_ids) > 0
    assert node_ids == sorted(node_ids) and way_ids == sorted(way_ids)
    assert len(node_ids) < 5000
    known = set(node_ids)
    assert all(int(nd.get("ref")) in known for nd in root.iter("nd"))


# --------------------------------------------------------------------------- reproducible
def test_generator_reproduces_committed_files(tmp_path):
    osm, lms = tmp_path / "net.osm", tmp_path / "landmarks.csv"
    res = subprocess.run(
        [sys.executable, str(GENERATOR), "--out-osm", str(osm), "--out-landmarks", str(lms),
         "--quiet"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert res.returncode == 0, res.stderr
    assert osm.read_bytes() == OSM.read_bytes(), "re-run the generator and commit its output"
    assert lms.read_bytes() == LANDMARKS.read_bytes()
