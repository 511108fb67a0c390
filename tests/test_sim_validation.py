"""The simulator validates a World before time starts and reports every problem at once."""

from __future__ import annotations

import dataclasses

import pytest

import simworlds as sw
from tomakomai_maas.errors import SimulationError
from tomakomai_maas.sim import EVENT_KINDS, simulate
from tomakomai_maas.world import OpsParams, VehicleType


def test_all_problems_reported_together() -> None:
    good = sw.make_trip("T1", "R", ["A", "B"], 1000, [60])
    bad_type = dataclasses.replace(good, trip_id="T2", vehicle_type="tram")
    bad_time = dataclasses.replace(good, trip_id="T3", arr_s=(1000.0, 900.0))
    b1 = dataclasses.replace(good, trip_id="T4", block_id="blk")
    b2 = dataclasses.replace(good, trip_id="T5", block_id="blk", vehicle_type="mini")
    world = sw.make_world(
        [good, bad_type, bad_time, b1, b2],
        vehicle_types={"bus": sw.BUS, "mini": VehicleType("mini", capacity=8)},
        ops=OpsParams(speed_factor_by_hour=(1.0,) * 23),
    )
    with pytest.raises(SimulationError) as info:
        simulate(world, 0)
    msg = str(info.value)
    assert "vehicle_type 'tram' unknown; allowed: bus, mini" in msg
    assert "trip T3: arr_s[1] < dep_s[0]" in msg
    assert "block 'blk' mixes vehicle types 'bus' and 'mini'" in msg
    assert "speed_factor_by_hour: need 24 positive factors" in msg


def test_duplicate_request_ids_rejected() -> None:
    trip = sw.make_trip("T1", "R", ["A", "B"], 1000, [60])
    reqs = [sw.stop_request("x", 0, "A", "B"), sw.stop_request("x", 5, "A", "B")]
    with pytest.raises(SimulationError, match=r"duplicate request_id\(s\): \['x'\]"):
        simulate(sw.make_world([trip], demand=reqs), 0)


def test_negative_seed_rejected() -> None:
    trip = sw.make_trip("T1", "R", ["A", "B"], 1000, [60])
    with pytest.raises(ValueError, match="non-negative integer"):
        simulate(sw.make_world([trip]), -1)


def test_every_logged_kind_is_documented() -> None:
    res = simulate(sw.busy_world(), 1)
    assert {e[2] for e in res.events} <= set(EVENT_KINDS)


def test_infinite_patience_ends_unfinished() -> None:
    trip = sw.make_trip("T1", "R", ["A", "B"], 1000, [60])
    world = sw.make_world(
        [trip],
        demand=[sw.stop_request("p", 500, "A", "B")],
        vehicle_types={"bus": VehicleType("bus", capacity=0)},  # nobody can board
        ops=OpsParams(patience_s=float("inf")),
    )
    res = simulate(world, 0)
    # the last event is the bus's final dwell ending at 1080; p has waited since 500
    last = res.events[-1]
    assert (last[0], last[2], last[5], last[7]) == (1080, "unfinished", "p", 580)
    assert res.trips.loc[0, "status"] == "unfinished"
    assert res.counters["unfinished"] == 1


def test_trace_logs_every_event_at_debug(caplog) -> None:
    trip = sw.make_trip("T1", "R", ["A", "B"], 1000, [60])
    with caplog.at_level("DEBUG", logger="tomakomai_maas.sim.model"):
        res = simulate(sw.make_world([trip]), 0, trace=True)
    lines = [r for r in caplog.records if r.name == "tomakomai_maas.sim.model"]
    assert len(lines) == len(res.events) == 3
    assert "veh_arrive" in lines[0].getMessage()
