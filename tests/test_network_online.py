"""Online sources: download (monkeypatched), GraphML cache, and fast failure when offline."""

from __future__ import annotations

import socket
import time

import osmnx as ox
import pytest

from fixtures.network.osmxml import MINI_OSM
from tomakomai_maas.errors import NetworkError
from tomakomai_maas.network import default_cache_dir, load_network
from tomakomai_maas.network.online import OnlineQuery, cache_path


def _raw_mini():
    # what osmnx returns for a drive download: a simplified graph with 'length' on edges
    return ox.graph_from_xml(MINI_OSM)


def test_download_writes_cache_then_reads_it(tmp_path, monkeypatch):
    calls = []

    def fake_graph_from_point(center_point, dist, **kwargs):
        calls.append((center_point, dist, kwargs["network_type"]))
        return _raw_mini()

    monkeypatch.setattr(ox, "graph_from_point", fake_graph_from_point)
    G = load_network("42.6370,141.5990,800", cache_dir=tmp_path)
    assert calls == [((42.637, 141.599), 800.0, "drive")]
    assert G.graph["cache_hit"] is False
    cached = tmp_path / "graphs"
    files = list(cached.glob("*.graphml"))
    assert len(files) == 1 and str(files[0]) == G.graph["cache_file"]
    assert G.graph["source"] == "42.637000,141.599000,800"
    for _, _, d in G.edges(data=True):
        assert d["travel_time_s"] > 0 and d["length_m"] > 0
    assert all(d["highway"] != "footway" for _, _, d in G.edges(data=True))

    def no_download(*args, **kwargs):
        raise AssertionError("must read the cache, not download")

    monkeypatch.setattr(ox, "graph_from_point", no_download)
    H = load_network("point:42.6370, 141.5990, 800", cache_dir=tmp_path)
    assert H.graph["cache_hit"] is True
    assert H.number_of_edges() == G.number_of_edges()
    assert sorted(H.nodes) == sorted(G.nodes)

    # refresh forces a new download
    monkeypatch.setattr(ox, "graph_from_point", fake_graph_from_point)
    R = load_network("42.6370,141.5990,800", cache_dir=tmp_path, refresh=True)
    assert R.graph["cache_hit"] is False and len(calls) == 2


def test_place_query_uses_graph_from_place(tmp_path, monkeypatch):
    seen = []

    def fake_graph_from_place(query, **kwargs):
        seen.append((query, kwargs["network_type"]))
        return _raw_mini()

    monkeypatch.setattr(ox, "graph_from_place", fake_graph_from_place)
    G = load_network("place:Tomakomai, Hokkaido, Japan", cache_dir=tmp_path)
    assert seen == [("Tomakomai, Hokkaido, Japan", "drive")]
    assert G.graph["source"] == "place:Tomakomai, Hokkaido, Japan"
    assert "tomakomai-hokkaido-japan" in G.graph["cache_file"]


def test_download_failure_other_than_connection(tmp_path, monkeypatch):
    from osmnx._errors import InsufficientResponseError

    def nothing(*args, **kwargs):
        raise InsufficientResponseError("Nominatim geocoder returned 0 results")

    monkeypatch.setattr(ox, "graph_from_place", nothing)
    with pytest.raises(NetworkError, match=r"OpenStreetMap download for 'place:Atlantis' "
                                           r"failed: .*0 results.*Check the place name"):
        load_network("place:Atlantis", cache_dir=tmp_path)
    assert not list(tmp_path.rglob("*.graphml"))


def _block_sockets(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network access blocked by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)  # also undoes osmnx's DNS pinning


@pytest.mark.parametrize("source", ["place:Tomakomai, Hokkaido", "42.6398,141.5968,1000"])
def test_offline_fails_fast_with_clear_error(tmp_path, monkeypatch, source):
    _block_sockets(monkeypatch)
    t0 = time.monotonic()
    with pytest.raises(NetworkError, match=r"could not download the road network for .* from "
                                           r"OpenStreetMap .*internet connection.*"
                                           r"embedded:tomakomai-central"):
        load_network(source, cache_dir=tmp_path, timeout_s=2.0)
    assert time.monotonic() - t0 < 10.0
    assert not list(tmp_path.rglob("*.graphml"))


def test_hanging_server_is_cut_off_by_timeout(tmp_path, monkeypatch):
    import threading

    release = threading.Event()

    def hang(*args, **kwargs):
        release.wait(30)
        raise OSError("released")

    monkeypatch.setattr(ox, "graph_from_point", hang)
    monkeypatch.setattr(socket, "create_connection", hang)
    t0 = time.monotonic()
    try:
        with pytest.raises(NetworkError, match=r"no answer within 0\.5 s"):
            load_network("42.6398,141.5968,1000", cache_dir=tmp_path, timeout_s=0.5)
    finally:
        release.set()
    assert time.monotonic() - t0 < 5.0


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TOMAKOMAI_MAAS_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    q = OnlineQuery("place", place="Tomakomai")
    assert cache_path(q).parent == tmp_path / "c" / "graphs"
    monkeypatch.delenv("TOMAKOMAI_MAAS_CACHE")
    assert default_cache_dir().parts[-2:] == (".cache", "tomakomai-maas")
    assert cache_path(q) != cache_path(OnlineQuery("place", place="Sapporo"))
