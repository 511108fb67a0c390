"""GTFS trips -> TripSchedule, and synthetic lines -> GTFS feeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tomakomai_maas.errors import GTFSError, NetworkError
from tomakomai_maas.supply.gtfs import read_feed, trips_on, write_feed
from tomakomai_maas.supply.lines import schedules_from_feed, synthetic_line_feed
from tomakomai_maas.world import Stop

FIXTURE = Path(__file__).parent / "fixtures" / "gtfs" / "tiny_jp"

LEGS = {("A", "B"): (100.0, 1000.0), ("B", "C"): (300.0, 2000.0),
        ("C", "B"): (300.0, 2000.0), ("B", "A"): (100.0, 1000.0), ("A", "C"): (400.0, 3000.0)}


def _stops(feed) -> dict[str, Stop]:  # type: ignore[no-untyped-def]
    return {r.stop_id: Stop(r.stop_id, r.stop_name, r.stop_lat, r.stop_lon, i)
            for i, r in enumerate(feed.stops.itertuples())}


def test_schedules_from_feed_legs_times_and_timepoints() -> None:
    feed = read_feed(FIXTURE)
    calls: list[tuple[str, str, str]] = []

    def leg(a: str, b: str, vt: str) -> tuple[float, float]:
        calls.append((a, b, vt))
        return LEGS[(a, b)]

    sched = schedules_from_feed(feed, service_date="2023-09-19", stops=_stops(feed), leg=leg,
                                vehicle_type_for_route={"R1": "av_navya_arma"},
                                default_vehicle_type="diesel_city_bus")
    assert [s.trip_id for s in sched] == ["T1", "T2"]
    t1, t2 = sched
    assert t1.stop_ids == ("A", "B", "C")
    assert t1.leg_time_s == (100.0, 300.0) and t1.leg_dist_m == (1000.0, 2000.0)
    # B has no time in the feed: interpolated by leg travel time 100:300 over 08:00-08:10
    assert t1.arr_s == (28800.0, 28950.0, 29400.0)
    assert t1.timepoint == (True, False, True)  # blank timepoint: exact where times given
    assert t2.dep_s == (30000.0, 30360.0, 30900.0)
    assert t2.timepoint == (True, False, True)  # explicit timepoint column values
    assert t1.vehicle_type == "av_navya_arma" and t1.block_id == "B1"
    assert t1.route_name == "1 駅前港線" and t2.direction_id == 1
    assert len(calls) == len(set(calls)) == 4  # cached per (a, b, type)


def test_schedules_default_vehicle_and_after_midnight() -> None:
    feed = read_feed(FIXTURE)
    (t3,) = schedules_from_feed(feed, service_date="2023-09-16", stops=_stops(feed),
                                leg=lambda a, b, vt: LEGS[(a, b)],
                                default_vehicle_type="diesel_city_bus")
    assert t3.vehicle_type == "diesel_city_bus" and t3.block_id is None
    assert t3.dep_s[0] == 24 * 3600 + 1800
    assert schedules_from_feed(feed, service_date="2024-05-01", stops=_stops(feed),
                               leg=lambda a, b, vt: (0.0, 0.0), default_vehicle_type="x") == ()


def test_schedules_report_unknown_stops_and_failed_legs() -> None:
    feed = read_feed(FIXTURE)
    stops = _stops(feed)
    del stops["B"]
    with pytest.raises(GTFSError, match=r"stop_id 'B' \(used by trips T1, T2\) is not among "
                                        r"the snapped stops"):
        schedules_from_feed(feed, service_date="2023-09-19", stops=stops,
                            leg=lambda a, b, vt: (1.0, 1.0), default_vehicle_type="bus")

    def bad_leg(a: str, b: str, vt: str) -> tuple[float, float]:
        if (a, b) == ("B", "C"):
            raise NetworkError("no path from node 1 to node 2")
        if (a, b) == ("C", "B"):
            return (float("nan"), 5.0)
        return (1.0, 1.0)

    with pytest.raises(GTFSError) as info:
        schedules_from_feed(feed, service_date="2023-09-19", stops=_stops(feed), leg=bad_leg,
                            default_vehicle_type="bus")
    text = str(info.value)
    assert "trip T1: leg 'B' -> 'C' (bus): no path from node 1 to node 2" in text
    assert "trip T2: leg 'C' -> 'B' (bus) returned (nan, 5.0)" in text


STOPS = [("s1", "駅前", 42.6397833, 141.5967722), ("s2", "市役所前", 42.63406, 141.60553),
         ("s3", "港", 42.63, 141.61)]


def _line(**kw):  # type: ignore[no-untyped-def]
    args = dict(line_id="av", name="AV line", stops=STOPS,
                departures_s={0: [36000, 43200], "inbound": [39600]}, run_times_s=[300, 400],
                dwell_s=20, start_date="2023-09-20", end_date="2023-10-15", fare_jpy=0,
                block_id="av1", removed_dates=["2023-09-25"], weekdays=["mon", "tue", 2, 3,
                                                                        "fri", "sat", "sun"])
    args.update(kw)
    return synthetic_line_feed(**args)


def test_synthetic_line_times_and_calendar() -> None:
    feed = _line()
    st = feed.stop_times.set_index(["trip_id", "stop_sequence"])
    assert st.loc[("av_0_100000", 2), "arrival_s"] == 36300
    assert st.loc[("av_0_100000", 2), "departure_s"] == 36320
    assert st.loc[("av_0_100000", 3), "arrival_s"] == 36720
    inbound = feed.stop_times[feed.stop_times.trip_id == "av_1_110000"]
    assert inbound["stop_id"].tolist() == ["s3", "s2", "s1"]
    assert inbound["arrival_s"].tolist() == [39600, 40000, 40320]
    assert set(feed.trips["block_id"]) == {"av1"}
    assert feed.fare_attributes["price"].tolist() == [0.0]
    assert len(trips_on(feed, "2023-09-20")) == 3
    assert trips_on(feed, "2023-09-25").empty  # removed date
    assert trips_on(feed, "2023-10-16").empty  # after end


def test_synthetic_line_reads_back_identical(tmp_path: Path) -> None:
    feed = _line()
    for name in ("av", "av.zip"):
        assert read_feed(write_feed(feed, tmp_path / name)).equals(feed)


def test_synthetic_line_own_inbound_stops() -> None:
    inbound = [("s3b", "港", 42.6301, 141.6101), ("s1", "駅前", 42.6397833, 141.5967722)]
    feed = _line(inbound_stops=inbound, inbound_run_times_s=[600])
    trip = feed.stop_times[feed.stop_times.trip_id == "av_1_110000"]
    assert trip["stop_id"].tolist() == ["s3b", "s1"]
    assert trip["arrival_s"].tolist() == [39600, 40200]
    assert len(feed.stops) == 4


def test_synthetic_line_errors() -> None:
    with pytest.raises(GTFSError, match=r"run_times_s: 1 values; allowed: one per leg \(2 for "
                                        r"3 stops\)"):
        _line(run_times_s=[300])
    with pytest.raises(GTFSError, match=r"direction 'up' is not allowed"):
        _line(departures_s={"up": [1.0]})
    with pytest.raises(GTFSError, match=r"weekday 'xyz' is not allowed"):
        _line(weekdays=["xyz"])
    with pytest.raises(GTFSError, match=r"dwell_s has 2 values"):
        _line(dwell_s=[1, 2])
    with pytest.raises(GTFSError, match=r"date '2023-02-30' is not valid"):
        _line(start_date="2023-02-30")


@settings(max_examples=10)
@given(runs=st.lists(st.floats(0, 900), min_size=2, max_size=2),
       deps=st.lists(st.integers(5 * 3600, 26 * 3600), min_size=1, max_size=4, unique=True),
       dwell=st.floats(0, 120))
def test_synthetic_line_round_trip_property(runs: list[float], deps: list[int],
                                            dwell: float) -> None:
    import tempfile

    feed = _line(run_times_s=runs, departures_s={0: deps, 1: deps}, dwell_s=dwell)
    with tempfile.TemporaryDirectory() as d:
        again = read_feed(write_feed(feed, Path(d) / "f"))
    assert again.equals(feed)
    for _, g in feed.stop_times.groupby("trip_id"):
        times = g[["arrival_s", "departure_s"]].to_numpy().ravel()
        assert (times[1:] >= times[:-1]).all()
