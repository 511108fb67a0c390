"""Analytic checks: results a hand calculation or queueing theory predicts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import simworlds as sw
from tomakomai_maas.journey import JourneyPlanner
from tomakomai_maas.rng import replication_seed
from tomakomai_maas.sim import simulate
from tomakomai_maas.world import OpsParams, VehicleType

NO_DWELL = OpsParams(dwell_fixed_s=0.0, dwell_per_boarding_s=0.0, dwell_per_alighting_s=0.0,
                     patience_s=1e6)  # fmt: skip


def test_poisson_arrivals_wait_half_the_headway() -> None:
    """Random arrivals at a stop served every H: mean wait H/2 (95% t-CI, ±2% of H/2)."""
    headway = 600.0
    start, n_headways = 3600.0, 24
    trips = sw.line_trips("R", ["S", "T"], start, headway, n_headways + 1, [300])
    world = sw.make_world(
        trips,
        demand=sw.poisson_demand(1 / 30, start, start + n_headways * headway, [("S", "T")]),
        ops=NO_DWELL,
    )
    planner = JourneyPlanner(world)
    means = []
    for i in range(20):
        res = simulate(world, replication_seed(11, i), planner=planner, tables=False)
        waits = [e[7] for e in res.events if e[2] == "board"]
        assert len(waits) == res.counters["requests"] > 300
        means.append(np.mean(waits))
    m = np.mean(means)
    half = stats.t.ppf(0.975, len(means) - 1) * np.std(means, ddof=1) / np.sqrt(len(means))
    assert half <= 0.02 * headway / 2
    assert m - half <= headway / 2 <= m + half


def _capacity_world(capacity: int, times: list[float], *, patience_s: float = 1e6):
    trips = sw.line_trips("R", ["A", "B"], 600, 600, 5, [300])
    reqs = [sw.stop_request(f"p{i + 1:02d}", t, "A", "B") for i, t in enumerate(times)]
    return sw.make_world(
        trips,
        demand=reqs,
        vehicle_types={"bus": VehicleType("bus", capacity=capacity)},
        ops=OpsParams(patience_s=patience_s),
    )


def test_denied_boardings_match_hand_count() -> None:
    # capacity 3, buses at 600, 1200, 1800, 2400, 3000; 10 people before the first bus and
    # 2 more at 700 and 800.  Bus 1: queue 10 -> 3 board, 7 denied.  Bus 2: 7 + 2 = 9 ->
    # 3 board, 6 denied.  Bus 3: 6 -> 3 board, 3 denied.  Bus 4: 3 board.  Total denied 16.
    times = [100 + 50 * i for i in range(10)] + [700, 800]
    res = simulate(_capacity_world(3, times), seed=0)
    denied = [e for e in res.events if e[2] == "denied"]
    assert len(denied) == 16
    assert [sum(1 for e in denied if e[4] == f"R-{i:03d}") for i in range(5)] == [7, 6, 3, 0, 0]
    n_denied = dict(zip(res.trips["request_id"], res.trips["n_denied"], strict=True))
    assert n_denied == {
        "p01": 0, "p02": 0, "p03": 0, "p04": 1, "p05": 1, "p06": 1,
        "p07": 2, "p08": 2, "p09": 2, "p10": 3, "p11": 2, "p12": 2,
    }  # fmt: skip
    assert set(res.trips["status"]) == {"served"}
    vt = res.vehicle_trips.set_index("trip_id")
    assert list(vt["boardings"]) == [3, 3, 3, 3, 0]
    assert list(vt["denied"]) == [7, 6, 3, 0, 0]
    assert vt["max_load"].max() == 3
    stops = res.stops.set_index("stop_id")
    assert stops.loc["A", "denied"] == 16
    assert stops.loc["A", "max_queue"] == 10
    assert res.counters["denied_boardings"] == 16


def test_left_behind_passenger_gives_up_with_status_denied() -> None:
    # capacity 1: p02 is left behind at 600; planned wait 490 s + patience 300 s -> gives up
    # at 110 + 790 = 900, before the next bus at 1200.
    res = simulate(_capacity_world(1, [100, 110], patience_s=300), seed=0)
    give_up = [e for e in res.events if e[2] == "give_up"]
    assert [(e[0], e[5], e[7]) for e in give_up] == [(900, "p02", 790)]
    status = dict(zip(res.trips["request_id"], res.trips["status"], strict=True))
    assert status == {"p01": "served", "p02": "denied"}
    assert (res.counters["denied"], res.counters["gave_up"]) == (1, 0)
    legs = res.legs.set_index(["request_id", "leg_index"])
    assert legs.loc[("p02", 1), "status"] == "gave_up"
    assert legs.loc[("p02", 1), "wait_min"] == pytest.approx(790 / 60)
    assert legs.loc[("p02", 2), "status"] == "not_reached"


def test_late_vehicle_makes_passenger_give_up_without_denial() -> None:
    import dataclasses

    trip = sw.make_trip("T1", "R", ["A", "B", "C"], 1000, [60, 60], timepoint=[True, False, True])
    trip = dataclasses.replace(trip, leg_time_s=(1000.0, 60.0))  # 940 s late at B
    world = sw.make_world(
        [trip], demand=[sw.stop_request("p1", 1000, "B", "C")], ops=OpsParams(patience_s=600)
    )
    res = simulate(world, seed=0)
    # planned wait 60 s + patience 600 s -> gives up at 1660, the bus comes at 2010
    assert [(e[2], e[0]) for e in res.events if e[5] == "p1"][-1] == ("give_up", 1660)
    assert res.trips.loc[0, "status"] == "gave_up"
