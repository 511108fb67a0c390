"""DRT in the simulator: trace of a pick-up, a hand-checked regression, booking rules,
policies, tables and KPIs, mixed worlds. Line graph: nodes 0..10, 60 s / 100 m apart."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

import simworlds as sw
import test_drt_fixtures as fx
from tomakomai_maas.drt_world import VirtualStop
from tomakomai_maas.metrics.kpi import DRT_KPI_NAMES, drt_kpis, summarise
from tomakomai_maas.sim import TABLE_SCHEMAS, simulate
from tomakomai_maas.sim import events as ev
from tomakomai_maas.world import Access, Request


def run(svc, seed: int = 0, **kw):
    world = fx.drt_world(svc, **kw)
    res = simulate(world, seed=seed)
    fx.check_drt_log(world, res)
    return world, res


def trace(res, *, pax: str | None = None) -> list[tuple]:
    return [(e[2], e[0], e[6]) for e in res.events if pax is None or e[5] in ("", pax)]


# -- trace ------------------------------------------------------------------------------------
def test_trace_of_a_drt_pickup() -> None:
    """One car at node 0, one rider 2 -> 4 at t=100 (20 s to board, 10 s to alight)."""
    svc = fx.service(fx.line_tt(), [fx.vehicle(shift=(0.0, 1000.0))], [fx.trip("a", 100, 2, 4)],
                     board_s=20.0, alight_s=10.0)
    _, res = run(svc)
    assert trace(res) == [
        ("drt_shift_start", 0, "n0"),
        ("drt_idle", 0, ""),
        ("request", 100, ""),
        ("drt_request", 100, "n2"),
        ("drt_assign", 100, ""),
        ("drt_ready", 100, "n2"),
        ("drt_busy", 100, ""),
        ("drt_depart", 100, "n2"),   # 2 hops: 120 s
        ("drt_arrive", 220, "n2"),
        ("drt_pickup", 220, "n2"),   # wait 120 s; boarding until 240
        ("drt_depart", 240, "n4"),
        ("drt_arrive", 360, "n4"),
        ("drt_dropoff", 360, "n4"),  # ride 120 s; alighting until 370
        ("walk_start", 370, ""),
        ("drt_idle", 370, ""),
        ("arrive_dest", 370, ""),
        ("drt_shift_end", 1000, "n4"),
        ("drt_depart", 1000, "n0"),  # back to the depot after the shift
        ("drt_arrive", 1240, "n0"),
    ]
    values = {e[2]: e[7] for e in res.events if e[5] == "a"}
    assert values["drt_assign"] == 220 and values["drt_pickup"] == 120
    assert values["drt_dropoff"] == 120 and values["arrive_dest"] == 270


# -- hand-checked regression --------------------------------------------------------------------
def _three_requests():
    trips = [fx.trip("a", 100, 2, 6), fx.trip("b", 130, 3, 8), fx.trip("c", 400, 9, 1)]
    return fx.service(fx.line_tt(), [fx.vehicle(shift=(0.0, 3600.0))], trips, board_s=10.0,
                      alight_s=10.0, max_wait_s=600.0, detour_alpha=2.0, detour_beta_s=300.0)


def test_regression_one_vehicle_three_requests() -> None:
    """By hand (60 s per hop, 10 s boarding/alighting, cheapest added driving time):

    a 2->6 at 100: the car leaves 0, picks a up at 220 (wait 120), leaves 230.
    b 3->8 at 130: inserted after a's pick-up: at 3 at 290 (wait 160), leaves 300;
       a dropped at 6 at 480 (ride 250).
    c 9->1 at 400: D_a, P_c, D_b, D_c and D_a, D_b, P_c, D_c both add 660 s; the lower
       pick-up position wins: 6 -> 9 at 670 (wait 270), leaves 680; b dropped at 8 at 740
       (ride 440); c dropped at 1 at 1170 (ride 490). After the shift (3600) back to 0.
    """
    world, res = run(_three_requests())
    df = res.drt_requests.set_index("request_id")
    got = df[["pickup_s", "dropoff_s", "wait_min", "ride_min", "direct_min", "shared"]]
    assert got.loc["a"].tolist() == [220, 480, 2.0, 250 / 60, 4.0, True]
    assert got.loc["b"].tolist() == [290, 740, 160 / 60, 440 / 60, 5.0, True]
    assert got.loc["c"].tolist() == [670, 1170, 4.5, 490 / 60, 8.0, True]
    assert (df["status"] == "served").all() and (df["vehicle_id"] == "v1").all()
    assert df.loc["b", "detour_factor"] == pytest.approx(440 / 300)
    v = res.drt_vehicles.iloc[0]
    # legs 0-2, 2-3, 3-6, 6-9, 9-8, 8-1 and 1-0 after the shift: 18 hops x 100 m
    assert v["km"] == pytest.approx(1.8)
    assert v["empty_km"] == pytest.approx(0.3)  # 0->2 and 1->0
    assert v["reposition_km"] == pytest.approx(0.1)
    # pax-km: 2-3 x1, 3-6 x2, 6-9 x1, 9-8 x2, 8-1 x1
    assert v["pax_km"] == pytest.approx(0.1 + 0.6 + 0.3 + 0.2 + 0.7)
    assert (v["pickups"], v["dropoffs"], v["max_load"]) == (3, 3, 2)
    assert v["busy_h"] == pytest.approx((1180 - 100) / 3600)  # busy 100 .. 1180
    assert v["idle_h"] == pytest.approx(1 - 1080 / 3600)
    assert v["fuel_l"] == pytest.approx(1.8 * 0.07)
    k = drt_kpis(res.tables, world)
    assert k["drt.requests"] == 3 and k["drt.served_share"] == 1.0
    assert k["drt.wait_mean_min"] == pytest.approx((120 + 160 + 270) / 3 / 60)
    assert k["drt.vehicle_km_per_pax"] == pytest.approx(0.6)
    assert k["drt.occupancy"] == pytest.approx(1.9 / 1.8)
    assert k["drt.empty_km_share"] == pytest.approx(0.3 / 1.8)
    # the cost model's defaults (metrics/cost.py ASSUMPTIONS) for a 4-seat diesel car:
    # driver 3,000 yen/h x 1 h on duty (no layover share for DRT); 1 vehicle + 10 % spare
    # x capital (3.5M - 10 % residual) / 6 years / 365 days and x 1,000 yen/day depot;
    # 10 yen/km x 1.8 km and 150 yen/l x 1.8 km x 0.07 l/km (no deadhead share: the 1.8 km
    # already include the drive back to the depot); + 15 % overhead
    capital = (3_500_000 * 0.9) / 6 / 365
    direct = 3000 * 1.0 + 1.1 * capital + 1.1 * 1000 + 1.8 * 10 + 1.8 * 0.07 * 150
    cost = direct * 1.15
    assert k["drt.cost_yen"] == pytest.approx(cost)
    assert k["drt.cost_per_trip_yen"] == pytest.approx(cost / 3)
    assert k["drt.rejected.capacity"] == 0.0
    hourly = res.drt_hourly
    assert hourly["hour"].tolist() == [0]
    assert hourly["vehicles_busy"].iloc[0] == pytest.approx(0.3)
    assert hourly["vehicles_on_shift"].tolist() == [1.0]
    assert hourly["requests"].tolist() == [3] and hourly["served"].tolist() == [3]


def test_tables_kpis_and_trips_rows() -> None:
    world, res = run(_three_requests())
    for name in ("drt_requests", "drt_vehicles", "drt_hourly"):
        df = res.tables[name]
        assert {c: str(t) for c, t in df.dtypes.items()} == TABLE_SCHEMAS[name], name
    k = summarise(res.tables, world)
    assert set(DRT_KPI_NAMES) <= set(k)
    trips = res.trips.set_index("request_id")
    assert (trips["mode"] == "drt").all() and (trips["status"] == "served").all()
    assert trips.loc["a", "wait_min"] == pytest.approx(2.0)
    legs = res.legs[res.legs["route_id"] == "drt"]
    assert len(legs) == 3 and (legs["vehicle_id"] == "v1").all()
    assert res.counters["drt_pickups"] == res.counters["served"] == 3


def test_determinism_and_seeds() -> None:
    rng = np.random.default_rng(1)
    tt, _ = fx.city_tt(40, rng)
    from tomakomai_maas.drt_world import DrtOdDemand, DrtOdRate

    rates = tuple(DrtOdRate(int(o), int(d), 0, 0, 0, 0, 6.0, ((8 * 3600.0, 11 * 3600.0),),
                            prebooked_share=0.3, lead_range_s=(600.0, 7200.0))
                  for o, d in [(0, 5), (7, 2), (11, 30), (25, 3)])
    svc = replace(fx.service(tt, [fx.vehicle("v1", 0), fx.vehicle("v2", 20)]),
                  demand=DrtOdDemand(rates), max_wait_s=900.0)
    world = fx.drt_world(svc)
    a, b, c = simulate(world, 5), simulate(world, 5), simulate(world, 6)
    assert a.events == b.events
    for name in ("drt_requests", "drt_vehicles", "drt_hourly", "trips"):
        assert a.tables[name].equals(b.tables[name]), name
    assert a.events != c.events
    fx.check_drt_log(world, a)


# -- booking, modes, policies -----------------------------------------------------------------
def test_prebooked_trip_is_planned_before_the_shift() -> None:
    svc = fx.service(fx.line_tt(), [fx.vehicle(depot=0, shift=(3600.0, 7200.0))],
                     [fx.trip("p", 4000, 5, 7, t_request=-86400)])
    _, res = run(svc)
    assert trace(res, pax="p")[:3] == [("request", 0, ""), ("drt_request", 0, "n5"),
                                       ("drt_assign", 0, "")]
    row = res.drt_requests.iloc[0]
    assert row["prebooked"] and row["t_request_s"] == -86400
    # the car leaves the depot at its shift start, waits at node 5 until the booked time
    assert row["pickup_s"] == 4000 and row["wait_min"] == 0
    departs = [e for e in res.events if e[2] == ev.DRT_DEPART]
    assert departs[0][0] == 3600
    v = res.drt_vehicles.iloc[0]
    # idle: waiting empty at node 5 (3900-4000) and after the drop-off (4120-7200)
    assert v["idle_h"] == pytest.approx((100 + 3080) / 3600)


def test_stop_based_walks_to_virtual_stops() -> None:
    stops = (VirtualStop("w", "west", 0, 0, 1), VirtualStop("e", "east", 0, 0, 8))
    svc = fx.service(fx.line_tt(), [fx.vehicle(depot=0)], [fx.trip("s", 100, 2, 9)],
                     mode="stop_based", virtual_stops=stops, max_walk_m=150.0,
                     walk_speed_mps=1.0)
    _, res = run(svc)
    assert [k for k, _, _ in trace(res, pax="s") if not k.startswith(("drt_busy", "drt_idle",
                                                                    "drt_depart", "drt_arrive",
                                                                    "drt_shift"))] == [
        "request", "drt_request", "drt_assign", "walk_start", "drt_ready", "drt_pickup",
        "drt_dropoff", "walk_start", "arrive_dest"]
    row = res.drt_requests.iloc[0]
    assert (row["o_stop"], row["d_stop"]) == ("w", "e")
    assert row["earliest_pickup_s"] == 200  # 100 m at 1 m/s
    assert row["walk_min"] == pytest.approx(200 / 60)
    arrive = next(e for e in res.events if e[2] == ev.ARRIVE_DEST)
    assert arrive[0] == row["dropoff_s"] + 100  # egress walk 100 m
    legs = res.legs[res.legs["request_id"] == "s"]
    assert legs["kind"].tolist() == ["walk", "ride", "walk"]
    assert (legs["status"] == "done").all()


def test_batch_policy_assigns_at_batch_times() -> None:
    trips = [fx.trip("a", 100, 2, 6), fx.trip("b", 110, 3, 8), fx.trip("c", 170, 9, 1)]
    svc = fx.service(fx.line_tt(), [fx.vehicle("v1", 0), fx.vehicle("v2", 10)], trips,
                     dispatch_policy="batch_lsa", batch_interval_s=60.0)
    _, res = run(svc)
    assigned = {e[5]: e[0] for e in res.events if e[2] == ev.DRT_ASSIGN}
    assert assigned == {"a": 120.0, "b": 120.0, "c": 180.0}
    assert (res.drt_requests["status"] == "served").all()


def test_rider_cancellations_free_the_vehicle() -> None:
    trips = [fx.trip(f"p{i}", 3600 + 60 * i, 2 + i, 8, t_request=600) for i in range(3)]
    svc = fx.service(fx.line_tt(), [fx.vehicle()], trips, cancel_share=1.0)
    _, res = run(svc)
    df = res.drt_requests
    assert (df["status"] == "cancelled").all()
    assert res.counters["drt_cancelled"] == 3 and res.counters["drt_pickups"] == 0
    assert (res.trips["status"] == "cancelled").all()
    cancels = [e[0] for e in res.events if e[2] == ev.DRT_CANCEL]
    assert all(600 <= t <= 3600 + 120 for t in cancels)


def test_idle_vehicle_returns_to_depot() -> None:
    svc = fx.service(fx.line_tt(), [fx.vehicle(depot=0)], [fx.trip("a", 100, 2, 5)],
                     idle_policy="return_to_depot")
    _, res = run(svc)
    departs = [(e[0], e[4], e[6]) for e in res.events if e[2] == ev.DRT_DEPART]
    assert departs == [(100, "service", "n2"), (220, "service", "n5"),
                       (400, "return_to_depot", "n0")]
    assert res.drt_vehicles.iloc[0]["reposition_km"] == pytest.approx(0.5)


def test_generated_drt_requests_and_no_service() -> None:
    """Requests with mode 'drt' from the World's demand ride the service (source 'demand',
    pre-booked as the service's prebooked_share says); without a service they are skipped."""
    G_nodes = [(42.63, 141.60 + 0.001 * i) for i in range(11)]
    reqs = [Request(f"g{i}", 1000.0 + 100 * i, *G_nodes[i], *G_nodes[i + 3], (), (), mode="drt")
            for i in range(5)]
    svc = fx.service(fx.line_tt(), [fx.vehicle()], (), prebooked_share=1.0,
                     lead_range_s=(3600.0, 3600.0),
                     snap_nodes=tuple(range(11)), snap_lat=tuple(p[0] for p in G_nodes),
                     snap_lon=tuple(p[1] for p in G_nodes))
    world, res = run(svc, requests=reqs)
    df = res.drt_requests.set_index("request_id")
    assert (df["source"] == "demand").all() and df["prebooked"].all()
    assert (df["t_request_s"] == df["earliest_pickup_s"] - 3600).all()
    assert df.loc["g2", "o_stop"] == "n2" and df.loc["g2", "d_stop"] == "n5"
    assert (df["status"] == "served").all()
    plain = simulate(replace(world, drt=None), seed=0)
    assert (plain.trips["status"] == "skipped").all()
    assert "drt_requests" not in plain.tables


def test_drt_and_buses_in_one_model() -> None:
    """A bus line and a DRT service share the simpy environment; each keeps its results."""
    trips = sw.line_trips("R", ["A", "B", "C"], 600, 600, 4, [120, 120])
    bus_reqs = [sw.stop_request("bus1", 500, "A", "C"), sw.stop_request("bus2", 1300, "B", "C")]
    svc = fx.service(fx.line_tt(), [fx.vehicle()], [fx.trip("d1", 700, 1, 4),
                                                    fx.trip("d2", 1250, 6, 2)])
    world, res = run(svc, requests=bus_reqs, trips=trips)
    st = res.trips.set_index("request_id")["status"]
    assert st.to_dict() == {"bus1": "served", "bus2": "served", "d1": "served", "d2": "served"}
    assert res.counters["boardings"] == 2 and res.counters["drt_pickups"] == 2
    assert len(res.vehicle_trips) == 4 and len(res.drt_vehicles) == 1
    k = summarise(res.tables, world)
    assert k["served_share"] == 1.0 and k["drt.served"] == 2 and k["boardings"] == 2


def test_invalid_service_is_reported() -> None:
    from tomakomai_maas.errors import SimulationError

    svc = fx.service(fx.line_tt(), [fx.vehicle("x"), fx.vehicle("x")], (),
                     dispatch_policy="cheapest", rebalancing_policy="zone_deficit",
                     mode="stop_based")
    with pytest.raises(SimulationError) as exc:
        simulate(fx.drt_world(svc), 0)
    msg = str(exc.value)
    assert "duplicate vehicle ids ['x']" in msg
    assert "unknown policy 'cheapest'; valid names: batch_lsa, insertion" in msg
    assert "needs zones" in msg and "needs virtual_stops" in msg


def test_walk_speed_of_access_is_used_in_legs() -> None:
    # legs of stop-based trips report walks in minutes at the service's walking speed
    stops = (VirtualStop("w", "w", 0, 0, 1), VirtualStop("e", "e", 0, 0, 8))
    svc = fx.service(fx.line_tt(), [fx.vehicle()], [fx.trip("s", 100, 2, 9)],
                     mode="stop_based", virtual_stops=stops, max_walk_m=150.0,
                     walk_speed_mps=2.0)
    _, res = run(svc)
    legs = res.legs[res.legs["request_id"] == "s"].set_index("leg_index")
    assert legs.loc[0, "walk_min"] == pytest.approx(50 / 60)
    assert math.isclose(res.trips.iloc[0]["walk_min"], 100 / 60)
    assert Access  # (imported for symmetry with journey tests)


def test_subset_and_scaled_travel_times() -> None:
    from tomakomai_maas.drt_world import ScaledTravelTimes, SubsetTravelTimes

    base = fx.line_tt(8)
    sub = SubsetTravelTimes(ScaledTravelTimes(base, 2.0), [6, 1, 3])
    assert sub.time_s(1, 6) == 150.0 and sub.dist_m(6, 1) == 500.0  # twice as fast
    assert isinstance(sub.time_s(3, 1), float)
    assert np.array_equal(sub.time_s(np.array([1, 3]), 6), [150.0, 90.0])
    # nodes outside the subset are unreachable (the dispatcher pads its arrays with node 0)
    assert sub.time_s(0, 3) == math.inf and sub.time_s(np.array([[0], [1]]), 1)[0, 0] == math.inf
    assert 3 in sub and 0 not in sub


def test_drt_world_pickles_for_worker_processes() -> None:
    import pickle

    world = fx.drt_world(_three_requests())
    again = pickle.loads(pickle.dumps(world))
    assert simulate(again, 0).events == simulate(world, 0).events
