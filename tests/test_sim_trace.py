"""Trace tests: exact (kind, time, stop) sequences of small hand-built runs (STYLE point 2)."""

from __future__ import annotations

import dataclasses

import pytest

import simworlds as sw
from tomakomai_maas.sim import simulate
from tomakomai_maas.world import Access, OpsParams


def trace(result, pax: str | None = None) -> list[tuple]:
    return [(e[2], e[0], e[6]) for e in result.events if pax is None or e[5] in ("", pax)]


def test_bus_trip_with_holding_at_timepoints() -> None:
    # scheduled: A dep 1000, B arr 1060 dep 1080, C arr 1140; the vehicle runs legs in 40 s
    trip = sw.make_trip("T1", "R", ["A", "B", "C"], 1000, [60, 60], dwell_s=20)
    trip = dataclasses.replace(trip, leg_time_s=(40.0, 40.0))
    res = simulate(sw.make_world([trip]), seed=0)
    assert trace(res) == [
        ("veh_arrive", 1000, "A"),
        ("veh_depart", 1010, "A"),  # dwell_fixed_s at a timepoint
        ("veh_arrive", 1050, "B"),  # 10 s early
        ("veh_depart", 1080, "B"),  # held to the scheduled departure
        ("veh_arrive", 1120, "C"),
    ]
    assert [e[7] for e in res.events] == [0, 10, -10, 0, -20]  # delays


def test_non_timepoint_is_passed_through_without_dwell() -> None:
    trip = sw.make_trip("T1", "R", ["A", "B", "C"], 1000, [60, 60], timepoint=[True, False, True])
    res = simulate(sw.make_world([trip]), seed=0)
    assert trace(res) == [
        ("veh_arrive", 1000, "A"),
        ("veh_depart", 1010, "A"),
        ("veh_arrive", 1070, "B"),
        ("veh_depart", 1070, "B"),
        ("veh_arrive", 1130, "C"),
    ]


def test_one_boarding_and_a_boarding_during_holding() -> None:
    trip = sw.make_trip("T1", "R", ["A", "B", "C"], 1000, [60, 60], dwell_s=20)
    trip = dataclasses.replace(trip, leg_time_s=(40.0, 40.0))
    reqs = [
        sw.stop_request("p1", 900, "A", "C", access_walk_s=60, egress_walk_s=30),
        sw.stop_request("p2", 1065, "B", "C"),  # arrives while the bus holds at B
    ]
    res = simulate(sw.make_world([trip], demand=reqs), seed=0)
    assert trace(res) == [
        ("request", 900, ""),
        ("walk_start", 900, "A"),
        ("arrive_stop", 960, "A"),
        ("veh_arrive", 1000, "A"),
        ("board", 1000, "A"),
        ("veh_depart", 1013, "A"),  # 10 s fixed + 3 s per boarding
        ("veh_arrive", 1053, "B"),
        ("request", 1065, ""),
        ("walk_start", 1065, "B"),
        ("arrive_stop", 1065, "B"),
        ("board", 1065, "B"),  # boards the standing bus at once
        ("veh_depart", 1080, "B"),  # still held to 1080
        ("veh_arrive", 1120, "C"),
        ("alight", 1120, "C"),
        ("alight", 1120, "C"),
        ("walk_start", 1120, ""),  # p1: 30 s egress
        ("walk_start", 1120, ""),  # p2: 0 s egress
        ("arrive_dest", 1120, ""),
        ("arrive_dest", 1150, ""),
    ]
    boards = {e[5]: e[7] for e in res.events if e[2] == "board"}
    assert boards == {"p1": 40.0, "p2": 0.0}  # waits
    trips = res.trips.set_index("request_id")
    assert trips.loc["p1", "status"] == "served"
    assert trips.loc["p1", "wait_min"] * 60 == pytest.approx(40.0)
    assert trips.loc["p1", "ivt_min"] * 60 == pytest.approx(120.0)
    assert trips.loc["p1", "walk_min"] * 60 == pytest.approx(90.0)


def test_one_walking_transfer() -> None:
    r1 = sw.make_trip("R1-1", "R1", ["A", "B", "C"], 1000, [60, 60])
    r2 = sw.make_trip("R2-1", "R2", ["D", "E"], 1200, [120])
    world = sw.make_world(
        [r1, r2],
        demand=[sw.stop_request("p1", 950, "A", "E")],
        transfers={"C": (Access("D", 45.0, 50.0),)},
    )
    res = simulate(world, seed=0)
    assert trace(res, "p1") == [
        ("request", 950, ""),
        ("walk_start", 950, "A"),
        ("arrive_stop", 950, "A"),
        ("veh_arrive", 1000, "A"),
        ("board", 1000, "A"),
        ("veh_depart", 1013, "A"),
        ("veh_arrive", 1073, "B"),
        ("veh_depart", 1083, "B"),
        ("veh_arrive", 1143, "C"),
        ("alight", 1143, "C"),
        ("walk_start", 1143, "D"),
        ("arrive_stop", 1188, "D"),
        ("veh_arrive", 1200, "D"),
        ("board", 1200, "D"),
        ("veh_depart", 1213, "D"),
        ("veh_arrive", 1333, "E"),
        ("alight", 1333, "E"),
        ("walk_start", 1333, ""),
        ("arrive_dest", 1333, ""),
    ]
    legs = res.legs
    assert list(legs["role"]) == ["access", "ride", "transfer", "ride", "egress"]
    assert list(legs["status"]) == ["done"] * 5
    row = res.trips.iloc[0]
    assert (row["n_rides"], row["transfers"], row["planned_transfers"]) == (2, 1, 1)
    assert row["wait_min"] * 60 == pytest.approx(50 + 12)


def test_boards_an_earlier_late_vehicle_of_the_route() -> None:
    t1 = sw.make_trip("T1", "R", ["A", "B", "C"], 1000, [60, 60], timepoint=[True, False, True])
    t1 = dataclasses.replace(t1, leg_time_s=(200.0, 60.0))  # runs 140 s late at B
    t2 = sw.make_trip("T2", "R", ["A", "B", "C"], 1600, [60, 60], timepoint=[True, False, True])
    world = sw.make_world([t1, t2], demand=[sw.stop_request("p1", 1100, "B", "C")])
    res = simulate(world, seed=0)
    assert res.itineraries["p1"].rides[0].trip_id == "T2"  # the plan: T1 is gone at 1100
    board = next(e for e in res.events if e[2] == "board")
    assert (board[0], board[4]) == (1210, "T1")
    legs = res.legs.set_index("leg_index")
    assert (legs.loc[1, "planned_trip_id"], legs.loc[1, "trip_id"]) == ("T2", "T1")


def test_walk_only_and_no_route() -> None:
    trip = sw.make_trip("T1", "R", ["A", "B"], 1000, [600])
    reqs = [
        sw.stop_request("walker", 100, "A", "B", direct_walk_s=120),
        sw.stop_request("stuck", 5000, "A", "B"),  # after the last trip, no walk
        sw.stop_request("drt", 100, "A", "B", mode="drt"),
    ]
    res = simulate(sw.make_world([trip], demand=reqs, ops=OpsParams()), seed=0)
    assert trace(res) == [
        ("request", 100, ""),
        ("request", 100, ""),  # the walker's process starts after the source moved on
        ("skipped", 100, ""),
        ("walk_start", 100, ""),
        ("arrive_dest", 220, ""),
        ("veh_arrive", 1000, "A"),
        ("veh_depart", 1010, "A"),
        ("veh_arrive", 1610, "B"),
        ("request", 5000, ""),
        ("no_route", 5000, ""),
    ]
    trips = res.trips.set_index("request_id")
    assert trips.loc["walker", "mode"] == "walk"
    assert trips.loc["walker", "status"] == "served"
    assert trips.loc["stuck", "status"] == "no_route"
    assert trips.loc["drt", "status"] == "skipped"
