"""TravelTimes oracle: tables vs networkx, parallel edges, unreachable, lazy rows, cache,
pickling, snapping, paths, walk mode."""

from __future__ import annotations

import pickle

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fixtures.network.osmxml import MINI_OSM, grid_node
from tomakomai_maas.errors import NetworkError
from tomakomai_maas.network import SpeedSettings, TravelTimes, grid_network, load_network

RTOL = 1e-6  # float32 tables


@pytest.fixture(scope="module")
def mini():
    return load_network(MINI_OSM)


@pytest.fixture(scope="module")
def grid():
    return grid_network(12, 15, jitter_m=30.0, seed=3)


def _all_pairs(G, weight):
    return dict(nx.all_pairs_dijkstra_path_length(G, weight=weight))


def assert_matches_networkx(tt: TravelTimes, G: nx.MultiDiGraph, pairs=None) -> None:
    ref = _all_pairs(G, "travel_time_s")
    ids = tt.node_ids
    if pairs is None:
        pairs = [(a, b) for a in range(tt.n) for b in range(tt.n)]
    for a, b in pairs:
        expected = ref[ids[a]].get(ids[b], np.inf)
        assert tt.time_s(a, b) == pytest.approx(expected, rel=RTOL, abs=1e-4)


def test_full_table_matches_networkx(mini):
    tt = TravelTimes(mini)
    assert tt.full_table and tt.n == mini.number_of_nodes()
    assert_matches_networkx(tt, mini)
    assert tt.time_s(0, 0) == 0.0 and tt.dist_m(0, 0) == 0.0


def test_grid_matches_networkx(grid):
    tt = TravelTimes(grid)
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, tt.n, size=(300, 2))
    assert_matches_networkx(tt, grid, [tuple(p) for p in pairs])


def test_distance_is_length_of_fastest_path(mini, grid):
    for G in (mini, grid):
        tt = TravelTimes(G)
        rng = np.random.default_rng(1)
        for a, b in rng.integers(0, tt.n, size=(60, 2)):
            path = tt.path(a, b)
            assert path[0] == a and path[-1] == b
            assert tt.path_length_m(path) == pytest.approx(tt.dist_m(a, b), rel=RTOL, abs=1e-3)
            # the path's time is the table's time
            t = sum(min(d["travel_time_s"] for d in G.get_edge_data(
                tt.node_ids[x], tt.node_ids[y]).values()) for x, y in zip(path, path[1:], strict=False))
            assert t == pytest.approx(tt.time_s(a, b), rel=RTOL, abs=1e-4)


def test_distance_differs_from_shortest_when_faster_is_longer():
    # 0 -> 1 direct: 100 m at 10 km/h (36 s); detour 0 -> 2 -> 1: 2 x 80 m at 50 km/h (11.5 s)
    G = nx.MultiDiGraph()
    for n, x in enumerate([141.600, 141.601, 141.6005]):
        G.add_node(n, x=x, y=42.64)
    for u, v, length, speed in [(0, 1, 100, 10), (0, 2, 80, 50), (2, 1, 80, 50)]:
        for a, b in ((u, v), (v, u)):
            G.add_edge(a, b, length_m=length, travel_time_s=length / (speed / 3.6))
    tt = TravelTimes(G)
    assert tt.time_s(0, 1) == pytest.approx(160 / (50 / 3.6), rel=RTOL)
    assert tt.dist_m(0, 1) == pytest.approx(160.0)  # along the fastest path, not 100 m
    assert tt.path(0, 1) == [0, 2, 1]


def test_parallel_edges_take_minimum_not_sum_or_first():
    G = nx.MultiDiGraph()
    G.add_node("a", x=141.6, y=42.64)
    G.add_node("b", x=141.601, y=42.64)
    G.add_edge("a", "b", length_m=300.0, travel_time_s=50.0)  # slow, listed first
    G.add_edge("a", "b", length_m=120.0, travel_time_s=9.0)  # fastest
    G.add_edge("a", "b", length_m=80.0, travel_time_s=20.0)  # shortest
    G.add_edge("b", "a", length_m=120.0, travel_time_s=9.0)
    tt = TravelTimes(G)
    i, j = tt.index_of("a"), tt.index_of("b")
    assert tt.time_s(i, j) == pytest.approx(9.0)
    assert tt.dist_m(i, j) == pytest.approx(120.0)
    assert nx.shortest_path_length(G, "a", "b", weight="travel_time_s") == pytest.approx(9.0)


def test_parallel_edges_on_fixture(mini):
    # the primary (10.6 s) and the service road bulge (35.8 s) both join nodes 100 -> 101
    a, b = grid_node(0, 0), grid_node(0, 1)
    assert len(mini.get_edge_data(a, b)) == 2
    tt = TravelTimes(mini)
    fastest = min(d["travel_time_s"] for d in mini.get_edge_data(a, b).values())
    assert tt.time_s(tt.index_of(a), tt.index_of(b)) == pytest.approx(fastest, rel=RTOL)


def test_unreachable_is_inf_never_zero():
    G = nx.MultiDiGraph()
    for n in range(4):
        G.add_node(n, x=141.6 + n * 1e-3, y=42.64)
    G.add_edge(0, 1, length_m=100, travel_time_s=10)
    G.add_edge(2, 3, length_m=100, travel_time_s=10)
    for kwargs in ({}, {"full_table_max_nodes": 1}):
        tt = TravelTimes(G, **kwargs)
        assert tt.time_s(0, 1) == pytest.approx(10)
        assert np.isinf(tt.time_s(1, 0)) and np.isinf(tt.dist_m(1, 0))
        assert np.isinf(tt.time_s(0, 3)) and np.isinf(tt.dist_m(0, 3))
        assert tt.path(1, 0) == []
        row = tt.row_time_s(0)
        assert np.isinf(row[[2, 3]]).all() and row[0] == 0


def test_vectorised_lookups(mini):
    tt = TravelTimes(mini)
    i = np.array([0, 1, 2, 3])
    j = np.array([4, 5, 6, 7])
    t = tt.time_s(i, j)
    assert t.dtype == np.float32 and t.shape == (4,)
    assert [tt.time_s(a, b) for a, b in zip(i, j, strict=True)] == pytest.approx(t.tolist())
    m = tt.time_matrix_s([0, 1], [2, 3, 4])
    assert m.shape == (2, 3) and m[1, 2] == pytest.approx(tt.time_s(1, 4))
    assert tt.dist_matrix_m([0], [5])[0, 0] == pytest.approx(tt.dist_m(0, 5))
    assert isinstance(tt.time_s(0, 1), float)
    with pytest.raises(IndexError, match="out of range"):
        tt.time_s(0, tt.n)


def test_lazy_rows_equal_full_table(grid):
    full = TravelTimes(grid)
    lazy = TravelTimes(grid, full_table_max_nodes=50, row_cache_size=7)
    assert full.full_table and not lazy.full_table
    for i in [0, 17, 93, full.n - 1]:
        np.testing.assert_array_equal(lazy.row_time_s(i), full.row_time_s(i))
        np.testing.assert_array_equal(lazy.row_dist_m(i), full.row_dist_m(i))
    rng = np.random.default_rng(5)
    a = rng.integers(0, full.n, size=500)
    b = rng.integers(0, full.n, size=500)
    np.testing.assert_array_equal(lazy.time_s(a, b), full.time_s(a, b))
    np.testing.assert_array_equal(lazy.dist_m(a, b), full.dist_m(a, b))
    assert len(lazy._rows) <= 7  # bounded LRU
    assert lazy.path(3, 150) == full.path(3, 150)


def test_within_s_radius_bounded(grid):
    full = TravelTimes(grid)
    lazy = TravelTimes(grid, full_table_max_nodes=10)
    idx_f, t_f = full.within_s(40, 60.0)
    idx_l, t_l = lazy.within_s(40, 60.0)
    assert set(idx_f.tolist()) == set(idx_l.tolist())
    assert (t_f <= 60).all() and np.all(np.diff(t_f) >= 0) and idx_f[0] == 40
    expected = {k for k in range(full.n) if full.time_s(40, k) <= 60}
    assert set(idx_f.tolist()) == expected


def test_speed_cap_in_oracle(mini):
    base = TravelTimes(mini)
    bus = TravelTimes(mini, speeds=SpeedSettings(max_speed_kph=20))
    i, j = 0, bus.n - 1
    assert bus.time_s(i, j) > base.time_s(i, j)
    # no edge faster than 20 km/h: every time >= distance / (20 km/h)
    t = np.asarray(bus._time)
    d = np.asarray(bus._dist)
    finite = np.isfinite(t) & (d > 0)
    assert (t[finite] >= d[finite] / (20 / 3.6) * (1 - 1e-5)).all()
    # settings are not compounded with those used at load time
    slow = load_network(MINI_OSM, speeds=SpeedSettings(speed_factor=0.5))
    again = TravelTimes(slow, speeds=SpeedSettings(max_speed_kph=20))
    np.testing.assert_allclose(again._time, bus._time, rtol=1e-6)


def test_walk_mode_symmetric_fixed_speed(mini):
    walk = TravelTimes(mini, mode="walk", walk_speed_mps=1.25)
    t = np.asarray(walk._time)
    np.testing.assert_allclose(t, t.T, rtol=1e-6)  # one-way streets ignored
    np.testing.assert_allclose(walk._dist / 1.25, t, rtol=1e-6)
    ref = nx.shortest_path_length(mini.to_undirected(), grid_node(0, 0), grid_node(2, 3),
                                  weight="length_m")
    i, j = walk.index_of(grid_node(0, 0)), walk.index_of(grid_node(2, 3))
    assert walk.dist_m(i, j) == pytest.approx(ref, rel=RTOL)
    with pytest.raises(NetworkError, match="mode must be one of drive, walk; got 'bike'"):
        TravelTimes(mini, mode="bike")


def test_cache_hit_and_miss(tmp_path, mini):
    a = TravelTimes(mini, cache_dir=tmp_path)
    assert a.cache_hit is False and a.cache_file.is_file()
    b = TravelTimes(mini, cache_dir=tmp_path)
    assert b.cache_hit is True
    np.testing.assert_array_equal(a._time, b._time)
    np.testing.assert_array_equal(a._dist, b._dist)
    c = TravelTimes(mini, cache_dir=tmp_path, speeds=SpeedSettings(max_speed_kph=20))
    assert c.cache_hit is False and c.cache_file != a.cache_file
    w = TravelTimes(mini, cache_dir=tmp_path, mode="walk")
    assert w.cache_hit is False
    assert TravelTimes(mini).cache_hit is None  # caching disabled
    # a changed graph is a different key
    H = mini.copy()
    u, v, k = next(iter(H.edges(keys=True)))
    H.edges[u, v, k]["travel_time_s"] += 5.0
    assert TravelTimes(H, cache_dir=tmp_path).cache_hit is False


def test_corrupt_cache_is_rebuilt(tmp_path, mini, caplog):
    a = TravelTimes(mini, cache_dir=tmp_path)
    a.cache_file.write_bytes(b"garbage")
    b = TravelTimes(mini, cache_dir=tmp_path)
    assert b.cache_hit is False and "unreadable travel-time cache" in caplog.text
    np.testing.assert_array_equal(a._time, b._time)
    assert TravelTimes(mini, cache_dir=tmp_path).cache_hit is True


def test_pickle_roundtrip_without_networkx(grid):
    for tt in (TravelTimes(grid), TravelTimes(grid, full_table_max_nodes=10)):
        tt.row_time_s(3)
        clone = pickle.loads(pickle.dumps(tt))
        assert not any(isinstance(v, nx.Graph) for v in vars(clone).values())
        a = np.arange(0, tt.n, 7)
        np.testing.assert_array_equal(clone.time_s(a, a[::-1]), tt.time_s(a, a[::-1]))
        assert clone.snap(42.6390, 141.5980) == tt.snap(42.6390, 141.5980)
        assert clone.path(0, tt.n - 1) == tt.path(0, tt.n - 1)


def test_snap_reports_distance(mini):
    tt = TravelTimes(mini)
    lat, lon = mini.nodes[grid_node(1, 1)]["y"], mini.nodes[grid_node(1, 1)]["x"]
    i, d = tt.snap(lat, lon)
    assert tt.node_ids[i] == grid_node(1, 1) and d == pytest.approx(0.0, abs=1e-6)
    i, d = tt.snap(lat + 0.0003, lon)  # ~33 m north
    assert tt.node_ids[i] == grid_node(1, 1) and d == pytest.approx(33.4, abs=0.5)
    idx, dist = tt.snap_many([lat, lat - 0.00135], [lon, lon])
    assert list(tt.node_ids[idx]) == [grid_node(1, 1), grid_node(2, 1)]
    assert dist.shape == (2,)


def test_snap_far_point_is_an_error(mini):
    tt = TravelTimes(mini, max_snap_m=500)
    with pytest.raises(NetworkError, match=r"1 point\(s\) lie farther than max_snap_m=500 m "
                                           r"from the road network .*mini_tomakomai\.osm.*"
                                           r"\(41\.000000, 141\.600000\) is .* m away.*"
                                           r"lat, lon order"):
        tt.snap(41.0, 141.6)
    with pytest.raises(NetworkError, match="farther than max_snap_m=10 m"):
        tt.snap_many([42.6380, 42.6366], [141.5980, 141.5989], max_snap_m=10)
    assert tt.snap(42.64, 141.60, max_snap_m=5000)[1] < 5000


def test_index_of_unknown_node(mini):
    tt = TravelTimes(mini)
    assert tt.index_of(tt.node_ids[3]) == 3
    np.testing.assert_array_equal(tt.indices_of(tt.node_ids[[2, 5]]), [2, 5])
    with pytest.raises(NetworkError, match="node 123456 is not in the road graph"):
        tt.index_of(123456)


@st.composite
def random_graphs(draw):
    n = draw(st.integers(min_value=2, max_value=9))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                    st.floats(0.0, 500.0), st.floats(0.0, 100.0)),
                          max_size=30))
    G = nx.MultiDiGraph()
    for k in range(n):
        G.add_node(k, x=141.6 + 1e-3 * k, y=42.64)
    for u, v, length, t in edges:
        G.add_edge(u, v, length_m=length, travel_time_s=t)
    return G


@given(random_graphs(), st.booleans())
def test_random_graphs_match_networkx(G, lazy):
    tt = TravelTimes(G, full_table_max_nodes=0 if lazy else 5000)
    ref = _all_pairs(G, "travel_time_s")
    for a in range(tt.n):
        for b in range(tt.n):
            expected = ref[a].get(b, np.inf)
            got = tt.time_s(a, b)
            assert got == pytest.approx(expected, rel=RTOL, abs=1e-4)
            if np.isfinite(expected):
                path = tt.path(a, b)
                assert tt.path_length_m(path) == pytest.approx(tt.dist_m(a, b), rel=RTOL,
                                                               abs=1e-3)
            else:
                assert np.isinf(tt.dist_m(a, b))
