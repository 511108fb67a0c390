"""The embedded central-Tomakomai network: loads offline, is usable, matches networkx."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest

from tomakomai_maas.cli import main
from tomakomai_maas.network import (
    LANDMARK_DTYPES,
    TravelTimes,
    load_landmarks,
    load_network,
    network_info,
)
from tomakomai_maas.network.load import embedded_path


@pytest.fixture(scope="module")
def G():
    return load_network()


@pytest.fixture(scope="module")
def tt(G):
    return TravelTimes(G)


def test_embedded_loads_offline_like_a_real_extract(G):
    assert embedded_path().name == "tomakomai_central.osm"
    assert G.graph["source"] == "embedded:tomakomai-central"
    assert G.number_of_nodes() > 500 and G.number_of_edges() > 1000
    for _, _, d in G.edges(data=True):
        assert d["length_m"] > 0 and d["travel_time_s"] > 0 and d["speed_kph"] > 0
    info = network_info(G)
    assert info["strongly_connected_share"] == 1.0
    w, s, e, n = info["bbox"]
    assert w < 141.5968 < e and s < 42.6398 < n  # contains JR Tomakomai Station


def test_embedded_table_matches_networkx_on_sample(G, tt):
    assert tt.full_table
    rng = np.random.default_rng(7)
    for src in rng.choice(tt.n, size=12, replace=False):
        ref = nx.single_source_dijkstra_path_length(G, tt.node_ids[src], weight="travel_time_s")
        expected = np.array([ref.get(x, np.inf) for x in tt.node_ids])
        np.testing.assert_allclose(tt.row_time_s(src), expected, rtol=1e-6, atol=1e-4)
    for a, b in rng.integers(0, tt.n, size=(20, 2)):
        exp = nx.shortest_path_length(G, tt.node_ids[a], tt.node_ids[b], weight="travel_time_s")
        assert tt.time_s(a, b) == pytest.approx(exp, rel=1e-6, abs=1e-4)
        assert tt.path_length_m(tt.path(a, b)) == pytest.approx(tt.dist_m(a, b), rel=1e-5)


def test_embedded_lazy_rows_match_full(G, tt):
    lazy = TravelTimes(G, full_table_max_nodes=100, row_cache_size=4)
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, tt.n, size=(2, 300))
    np.testing.assert_array_equal(lazy.time_s(a, b), tt.time_s(a, b))
    np.testing.assert_array_equal(lazy.dist_m(a, b), tt.dist_m(a, b))


def test_landmarks_table_and_snapping(tt):
    df = load_landmarks()
    assert list(df.columns) == list(LANDMARK_DTYPES)
    assert df["key"].is_unique and len(df) >= 4
    station = df.set_index("key").loc["tomakomai_station"]
    assert station["name"] == "苫小牧駅"
    idx, dist = tt.snap_many(df["lat"], df["lon"], max_snap_m=300)
    assert (dist < 300).all()
    # JR Tomakomai -> JR Numanohata (about 10 km by road): a plausible drive
    i = tt.snap(42.6397833, 141.5967722)[0]
    j = tt.snap(42.6721944, 141.6933917)[0]
    assert 7_000 < tt.dist_m(i, j) < 15_000
    assert 5 * 60 < tt.time_s(i, j) < 30 * 60


def test_cli_info_default(capsys):
    assert main(["network", "info"]) == 0
    out = capsys.readouterr().out
    assert "embedded:tomakomai-central" in out and "strongly connected  100.0%" in out


def test_real_landmarks_render_in_japanese(G):
    import io

    from tomakomai_maas.report.network_map import plot_network

    fig, ax = plot_network(G, landmarks=load_landmarks(), lang="ja")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font")
        fig.savefig(io.BytesIO(), format="png", dpi=30)
    assert any(t.get_text().startswith("苫小牧駅\n") for t in ax.texts)
