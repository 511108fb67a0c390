"""DRT feeder legs: a rider too far from the bus takes DRT to a transfer stop, then the bus
itinerary planned from there (first mile; or walks the original itinerary if the booking
fails), or rides the bus to the transfer stop and DRT from there (last mile).

Grid 3 x 15 nodes, 300 m apart (node = row * 15 + col). Buses run along row 0 between col 5
and col 14 every 10 min from 07:00 (eastbound BUS, westbound BUSW); the DRT area (a polygon)
covers cols 0-6; transfer stop S5 (row 0, col 5).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

import simworlds as sw
import test_drt_fixtures as fx
from tomakomai_maas.drt_world import FeederParams
from tomakomai_maas.journey import JourneyPlanner
from tomakomai_maas.network import TravelTimes, grid_network
from tomakomai_maas.sim import simulate
from tomakomai_maas.sim.drt_prep import plan_feeders
from tomakomai_maas.world import Access, JourneyParams, Request, Stop

COLS = 15
G = grid_network(3, COLS, spacing_m=300.0)
TT = TravelTimes(G, cache_dir=None)
WALK = TravelTimes(G, mode="walk", walk_speed_mps=1.2, cache_dir=None)


def node(r: int, c: int) -> int:
    return r * COLS + c


def world(*, shift=(6 * 3600.0, 10 * 3600.0), depot: int | None = None, requests=(),
          **feeder_kw):
    depot = node(1, 2) if depot is None else depot
    stop_nodes = {"S5": node(0, 5), "S9": node(0, 9), "S14": node(0, 14)}
    stops = {s: Stop(s, s, float(TT.lat[n]), float(TT.lon[n]), n) for s, n in stop_nodes.items()}
    legs = [float(TT.time_s(stop_nodes["S5"], stop_nodes["S9"])),
            float(TT.time_s(stop_nodes["S9"], stop_nodes["S14"]))]
    trips = sw.line_trips("BUS", ["S5", "S9", "S14"], 7 * 3600, 600, 12, legs)
    back = [float(TT.time_s(stop_nodes["S14"], stop_nodes["S9"])),
            float(TT.time_s(stop_nodes["S9"], stop_nodes["S5"]))]
    trips += sw.line_trips("BUSW", ["S14", "S9", "S5"], 7 * 3600 + 300, 600, 12, back)
    area_nodes = [node(r, c) for r in range(3) for c in range(7)]
    lat, lon = TT.lat[area_nodes], TT.lon[area_nodes]
    pad = 0.001
    area = ((lat.max() + pad, lon.min() - pad), (lat.max() + pad, lon.max() + pad),
            (lat.min() - pad, lon.max() + pad), (lat.min() - pad, lon.min() - pad))
    fp = dict(enabled=True, transfer_stops=("S5",), min_access_walk_m=400.0, buffer_s=120.0,
              assumed_wait_s=60.0)
    fp.update(feeder_kw)
    svc = fx.service(TT, [fx.vehicle("car", depot, shift=shift)], (), walk=WALK,
                     service_nodes=frozenset(area_nodes), snap_nodes=tuple(area_nodes),
                     snap_lat=tuple(TT.lat[area_nodes]), snap_lon=tuple(TT.lon[area_nodes]),
                     board_s=30.0, alight_s=30.0, max_wait_s=900.0, feeder=FeederParams(**fp),
                     area=area)
    w = fx.drt_world(svc, requests=requests, stops=stops, trips=trips)
    return replace(w, journey=JourneyParams(max_walk_m=800.0))


def request(rid: str, r: int, c: int, t: float) -> Request:
    """From node (r, c) to S14 (egress 0 m); access to S5 on foot when within 800 m."""
    n = node(r, c)
    walk_m = float(WALK.dist_m(n, node(0, 5)))
    acc = (Access("S5", walk_m / 1.2, walk_m),) if walk_m <= 800 else ()
    return Request(rid, t, float(TT.lat[n]), float(TT.lon[n]), float(TT.lat[node(0, 14)]),
                   float(TT.lon[node(0, 14)]), acc, (Access("S14", 0.0, 0.0),))


def test_rider_without_walkable_access_rides_drt_then_bus() -> None:
    w = world(requests=[request("far", 2, 0, 7 * 3600 + 60)])
    res = simulate(w, 0)
    fx.check_drt_log(w, res)
    trip = res.trips.iloc[0]
    assert (trip["status"], trip["mode"], trip["n_rides"]) == ("served", "drt+pt", 2)
    d = res.drt_requests.iloc[0]
    assert (d["source"], d["d_stop"], d["status"]) == ("first_mile", "S5", "served")
    legs = res.legs.sort_values("leg_index")
    assert legs["route_id"].tolist()[:2] == ["drt", "BUS"]
    bus = legs.iloc[1]
    # the DRT drop-off keeps the connection: by the planned bus departure minus the buffer
    assert d["dropoff_s"] <= d["latest_dropoff_s"] == bus["planned_start_s"] - 120
    assert bus["board_s"] == bus["planned_start_s"] and bus["status"] == "done"
    kinds = [e[2] for e in res.events if e[5] == "far"]
    assert kinds == ["request", "drt_request", "drt_assign", "drt_ready", "drt_pickup",
                     "drt_dropoff", "arrive_stop", "board", "alight", "walk_start",
                     "arrive_dest"]


def test_feeder_plan_is_only_offered_when_it_beats_walking() -> None:
    reqs = [request("far", 2, 0, 7 * 3600), request("near", 0, 4, 7 * 3600),
            request("mid", 0, 3, 7 * 3600)]
    w = world(requests=reqs)
    planner = JourneyPlanner(w)
    itins = {r.request_id: planner.plan(r) for r in reqs}
    assert itins["far"] is None and itins["near"].legs[0].walk_m == pytest.approx(300)
    plans = plan_feeders(w, reqs, itins, planner)
    assert "near" not in plans  # access walk 300 m <= 400 m: no feeder offered
    assert set(plans) == {"far", "mid"}  # mid: 600 m walk, DRT + bus is cheaper
    assert plans["mid"].fallback is itins["mid"]
    expensive = world(requests=reqs, assumed_wait_s=1800.0)
    plans = plan_feeders(expensive, reqs, itins, JourneyPlanner(expensive))
    assert set(plans) == {"far"}  # a 30-min expected wait loses against walking 600 m


def test_rejected_feeder_falls_back_to_walking_or_is_rejected() -> None:
    # the only car's shift ends before the riders' requests: every booking is rejected
    reqs = [request("far", 2, 0, 7 * 3600), request("mid", 0, 3, 7 * 3600)]
    w = world(requests=reqs, shift=(6 * 3600.0, 6.5 * 3600.0))
    res = simulate(w, 0)
    fx.check_drt_log(w, res)
    d = res.drt_requests.set_index("request_id")
    assert (d["status"] == "rejected").all()
    t = res.trips.set_index("request_id")
    assert (t.loc["mid", "status"], t.loc["mid", "mode"]) == ("served", "pt")  # walked
    assert t.loc["mid", "walk_min"] == pytest.approx(600 / 1.2 / 60)
    assert t.loc["far", "status"] == "rejected"


def back_home(rid: str, t: float) -> Request:
    """From S14 (access 0 m) to node (2, 0): no walk from any bus stop reaches it."""
    return Request(rid, t, float(TT.lat[node(0, 14)]), float(TT.lon[node(0, 14)]),
                   float(TT.lat[node(2, 0)]), float(TT.lon[node(2, 0)]),
                   (Access("S14", 0.0, 0.0),), ())


def test_last_mile_bus_then_drt() -> None:
    w = world(requests=[back_home("home", 7 * 3600)])
    res = simulate(w, 0)
    fx.check_drt_log(w, res)
    trip = res.trips.iloc[0]
    assert (trip["status"], trip["mode"], trip["n_rides"]) == ("served", "drt+pt", 2)
    d = res.drt_requests.iloc[0]
    assert (d["source"], d["o_stop"], d["d_stop"]) == ("last_mile", "S5", f"n{node(2, 0)}")
    kinds = [(e[2], e[0]) for e in res.events if e[5] == "home"]
    alight = next(t for k, t in kinds if k == "alight")
    # booked the moment the rider alights at S5 (the 07:05 westbound bus)
    assert d["t_request_s"] == d["earliest_pickup_s"] == alight
    assert [k for k, _ in kinds] == ["request", "walk_start", "arrive_stop", "board", "alight",
                                     "drt_request", "drt_assign", "drt_ready", "drt_pickup",
                                     "drt_dropoff", "walk_start", "arrive_dest"]
    legs = res.legs.sort_values("leg_index")
    assert legs["route_id"].tolist() == ["", "BUSW", "drt", ""]
    assert (legs["status"] == "done").all()


def test_last_mile_rejection_ends_the_journey() -> None:
    w = world(requests=[back_home("home", 7 * 3600)], shift=(6 * 3600.0, 6.5 * 3600.0))
    res = simulate(w, 0)
    fx.check_drt_log(w, res)
    assert res.trips.iloc[0]["status"] == "rejected"
    assert res.drt_requests.iloc[0]["status"] == "rejected"
    assert res.counters["boardings"] == 1  # it did ride the bus to S5
