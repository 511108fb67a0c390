"""The shipped feeds under gtfs/: they read, validate, carry the published counts, lie on the
embedded network, and are reproduced byte-for-byte by tools/make_gtfs_feeds.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import networkx as nx
import pytest

from tomakomai_maas.supply.gtfs import Feed, read_feed, service_dates, trips_on, validate_feed
from tomakomai_maas.supply.lines import schedules_from_feed
from tomakomai_maas.world import Stop

REPO = Path(__file__).resolve().parents[1]
GTFS = REPO / "gtfs"
FEEDS = ("tomakomai_av_trial_2023", "tomakomai_av_winter_2024", "donan_city_subset")


def _tool() -> ModuleType:
    name = "make_gtfs_feeds"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / "make_gtfs_feeds.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def graph() -> nx.MultiDiGraph:
    return _tool().load_graph()


@pytest.fixture(scope="module")
def feeds() -> dict[str, Feed]:
    return {name: read_feed(GTFS / name) for name in FEEDS}


def _hm(s: float) -> str:
    return f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}"


def test_shipped_feeds_read_and_validate(feeds: dict[str, Feed]) -> None:
    for name, feed in feeds.items():
        assert validate_feed(feed) == [], name
        assert (feed.routes["route_desc"].str.contains("SCHEMATIC")).all(), name
        assert feed.stops["stop_desc"].str.contains("ASSUMED").all(), name


def test_av_2023_five_round_trips_free_within_window(feeds: dict[str, Feed]) -> None:
    feed = feeds["tomakomai_av_trial_2023"]
    day = trips_on(feed, "2023-09-20")
    assert (day["direction_id"] == 0).sum() == 5 and (day["direction_id"] == 1).sum() == 5
    assert day["start_s"].min() >= 10 * 3600 and day["end_s"].max() <= 16 * 3600
    assert ((day["end_s"] - day["start_s"]) == 30 * 60).all()  # published ~30 min one way
    assert (day["n_stops"] == 7).all()  # 7 stops each way (pre-plan / ceremony article)
    assert day["block_id"].nunique() == 1  # one vehicle
    assert feed.stops["stop_name"].str.contains("市役所").any()
    assert feed.fare_attributes["price"].tolist() == [0.0]
    assert feed.fare_attributes["currency_type"].tolist() == ["JPY"]
    dates = service_dates(feed)
    assert (str(dates[0]), str(dates[-1]), len(dates)) == ("2023-09-20", "2023-10-15", 26)


def test_av_winter_published_departures_and_days(feeds: dict[str, Feed]) -> None:
    feed = feeds["tomakomai_av_winter_2024"]
    thu = trips_on(feed, "2024-12-05")
    out = thu[thu["direction_id"] == 0]
    assert [_hm(s) for s in out["start_s"]] == ["10:00", "11:30", "14:00"]
    assert len(thu) == 6 and (thu["n_stops"] == 6).all()
    assert trips_on(feed, "2024-12-25").empty  # in the 12/22-1/8 break
    assert trips_on(feed, "2024-12-26").empty  # a Thursday in the break
    assert trips_on(feed, "2024-12-09").empty  # Monday
    assert len(trips_on(feed, "2025-02-16")) == 6  # last day (Sunday)
    assert len(service_dates(feed)) == 35  # 11 in Dec + 24 in Jan-Feb (facts §1.4 [I])


ROUTE15_ORDER = ["苫小牧駅前", "表町5丁目", "王子総合病院前", "市役所前", "駅通十字街",
                 "アイビープラザ前", "幸町1丁目", "元町1丁目"]


def test_donan_weekday_round_trips_and_stop_order(feeds: dict[str, Feed]) -> None:
    feed = feeds["donan_city_subset"]
    day = trips_on(feed, "2025-06-04")  # a Wednesday
    counts = day.groupby(["route_id", "direction_id"]).size().to_dict()
    assert counts == {("donan_15", 0): 12, ("donan_15", 1): 12,
                      ("donan_25", 0): 11, ("donan_25", 1): 11}
    assert trips_on(feed, "2025-06-07").empty  # Saturday: not modelled
    names = feed.stops.set_index("stop_id")["stop_name"]
    st = feed.stop_times
    r15 = st[st["trip_id"] == day.loc[day["route_id"] == "donan_15", "trip_id"].iloc[0]]
    if names[r15["stop_id"].iloc[0]] != "苫小牧駅前":
        r15 = r15.iloc[::-1]
    assert [names[s] for s in r15["stop_id"]] == ROUTE15_ORDER
    out25 = day[(day["route_id"] == "donan_25") & (day["direction_id"] == 0)].iloc[0]
    r25 = [names[s] for s in st.loc[st["trip_id"] == out25["trip_id"], "stop_id"]]
    assert r25[:3] == ["苫小牧駅前", "市役所前", "総合体育館前"]
    assert r25[-1] == "勇払正門" and "沼ノ端駅前" in r25 and "日軽金東" in r25
    assert "CUT" in feed.routes.set_index("route_id").at["donan_15", "route_desc"]
    prices = sorted(feed.fare_attributes["price"])
    assert prices[0] == 230.0 and prices[-1] == 360.0  # facts §2.3 1-zone / 4-zone fares


def test_every_stop_lies_on_the_embedded_network(graph: nx.MultiDiGraph,
                                                 feeds: dict[str, Feed]) -> None:
    nodes = _tool().Nodes(graph)
    for name, feed in feeds.items():
        for r in feed.stops.itertuples(index=False):
            _, d = nodes.nearest(r.stop_lat, r.stop_lon)
            assert d <= 30.0, f"{name} {r.stop_id} {d:.1f} m from the network"


def test_regeneration_is_byte_identical(tmp_path: Path, graph: nx.MultiDiGraph) -> None:
    tool = _tool()
    tool.write_all(tool.build_all(graph), tmp_path)
    for name in FEEDS:
        shipped = sorted(p.name for p in (GTFS / name).glob("*.txt"))
        fresh = sorted(p.name for p in (tmp_path / name).glob("*.txt"))
        assert fresh == shipped, name
        for f in shipped:
            assert (tmp_path / name / f).read_bytes() == (GTFS / name / f).read_bytes(), \
                f"{name}/{f} differs: re-run python tools/make_gtfs_feeds.py"


def test_schedules_from_shipped_av_feed(feeds: dict[str, Feed]) -> None:
    feed = feeds["tomakomai_av_trial_2023"]
    stops = {r.stop_id: Stop(r.stop_id, r.stop_name, r.stop_lat, r.stop_lon, i)
             for i, r in enumerate(feed.stops.itertuples(index=False))}
    sched = schedules_from_feed(feed, service_date="2023-10-01", stops=stops,
                                leg=lambda a, b, vt: (60.0, 400.0),
                                default_vehicle_type="av_navya_arma")
    assert len(sched) == 10
    assert all(s.vehicle_type == "av_navya_arma" and all(s.timepoint) for s in sched)
    assert [s.direction_id for s in sched] == [0, 1] * 5  # one vehicle shuttling
