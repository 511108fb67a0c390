"""``tomakomai-maas network ...`` commands and the network map (Japanese labels render)."""

from __future__ import annotations

import io
import json
import warnings

import matplotlib
import pandas as pd
import pytest

from fixtures.network.osmxml import MINI_OSM
from tomakomai_maas.cli import main
from tomakomai_maas.network import load_network
from tomakomai_maas.report._save import save_figure
from tomakomai_maas.report.network_map import plot_network

LANDMARKS = pd.DataFrame({
    "key": ["a", "b"],
    "name": ["苫小牧駅前通", "海の駅ぷらっとみなと市場"],
    "name_en": ["Ekimae street", "Platto Minato Market"],
    "lat": [42.6378, 42.6360],
    "lon": [141.5990, 141.6020],
})


def test_info_text(capsys):
    assert main(["network", "info", str(MINI_OSM)]) == 0
    out = capsys.readouterr().out
    assert "nodes               13" in out
    assert "edges               36" in out
    assert "road km" in out and "bbox W,S,E,N" in out
    assert "strongly connected  100.0% of nodes" in out


def test_info_json(capsys):
    assert main(["network", "info", str(MINI_OSM), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["nodes"] == 13 and info["edges"] == 36
    assert info["strongly_connected_share"] == 1.0
    assert len(info["bbox"]) == 4


def test_info_bad_input_exits_2_with_message(capsys):
    assert main(["network", "info", "missing/area.osm"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: road network file not found: missing/area.osm")
    assert "Traceback" not in err


def test_network_without_action_shows_help(capsys):
    assert main(["network"]) == 2
    assert "info" in capsys.readouterr().err


def test_plot_writes_png(tmp_path, capsys):
    out = tmp_path / "maps" / "mini.png"
    assert main(["network", "plot", str(MINI_OSM), "-o", str(out), "--dpi", "60"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {out}" in capsys.readouterr().out
    assert not list(out.parent.glob(".mini.*"))  # no temp files left


def test_plot_bad_suffix(tmp_path, capsys):
    assert main(["network", "plot", str(MINI_OSM), "-o", str(tmp_path / "x.docx")]) == 2
    assert "suffix must be one of" in capsys.readouterr().err


def test_fetch_offline_is_a_clear_error(tmp_path, capsys, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise OSError("blocked by test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    code = main(["network", "fetch", "Tomakomai, Hokkaido", "--cache-dir", str(tmp_path),
                 "--timeout-s", "2"])
    assert code == 2
    assert "could not download the road network for 'place:Tomakomai, Hokkaido'" in (
        capsys.readouterr().err)


def test_fetch_uses_cache(tmp_path, capsys, monkeypatch):
    import osmnx as ox

    monkeypatch.setattr(ox, "graph_from_place", lambda q, **kw: ox.graph_from_xml(MINI_OSM))
    args = ["network", "fetch", "Tomakomai", "--cache-dir", str(tmp_path)]
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("downloaded: ")
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("cache hit: ")


def _render(fig) -> None:
    fig.savefig(io.BytesIO(), format="png", dpi=40)


def test_japanese_labels_render_without_missing_glyphs():
    G = load_network(MINI_OSM)
    fig, ax = plot_network(G, landmarks=LANDMARKS, lang="ja")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font")
        _render(fig)
    texts = [t.get_text() for t in ax.texts]
    assert "苫小牧駅前通\nEkimae street" in texts
    assert ax.get_title().startswith("道路ネットワーク")


def test_missing_glyph_check_is_meaningful():
    # the same figure with a Latin-only font must trip the check
    G = load_network(MINI_OSM)
    with matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        fig, _ = plot_network(G, landmarks=LANDMARKS, lang="ja")
        with warnings.catch_warnings(), pytest.raises(UserWarning, match="missing from font"):
            warnings.filterwarnings("error", message=".*missing from font")
            _render(fig)


def test_plot_english_and_existing_axes():
    from matplotlib.figure import Figure

    G = load_network(MINI_OSM)
    fig0 = Figure()
    ax0 = fig0.add_subplot()
    fig, ax = plot_network(G, landmarks=LANDMARKS, ax=ax0, lang="en", title="t")
    assert fig is fig0 and ax is ax0 and ax.get_title() == "t"
    assert sorted(t.get_text() for t in ax.texts) == ["Ekimae street", "Platto Minato Market"]
    assert len(ax.collections[0].get_segments()) == 19  # 36 directed edges -> 19 roads
    with pytest.raises(ValueError, match="lang must be one of ja, en"):
        plot_network(G, lang="fr")


def test_save_figure_atomic(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure()
    fig.add_subplot().plot([0, 1], [0, 1])
    target = tmp_path / "a" / "b.svg"
    assert save_figure(fig, target) == target
    assert target.read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match="suffix must be one of"):
        save_figure(fig, tmp_path / "c.txt")
