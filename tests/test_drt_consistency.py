"""The DRT that mode choice sees is the DRT the simulation runs: the skim's in-vehicle time is
the dispatcher's drive at the day's speed factors, autonomous DRT stops for weather
suspensions (and choice knows it), rebalancing moves are timed as driven.

Line graph of the DRT fixtures: nodes 0..10, 60 s / 100 m apart (free flow).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import test_drt_fixtures as fx
from test_demand_los_drt import _grid_service
from tomakomai_maas.demand.los import drt_level_of_service
from tomakomai_maas.dispatch import (
    InsertionPolicy,
    MatrixTravelTimes,
    SpeedProfile,
    TimeDependentTravelTimes,
    VehicleState,
    ZoneDeficitRebalancing,
)
from tomakomai_maas.drt_world import (
    blocked_by_suspension,
    direct_drive_s,
    suspended_periods,
    suspension_at,
)
from tomakomai_maas.sim import events as ev
from tomakomai_maas.sim import simulate
from tomakomai_maas.sim.drt import dispatch_config
from tomakomai_maas.sim.drt_prep import drt_run_world, prepare_drt
from tomakomai_maas.world import OpsParams, Request, VehicleType, WeatherState

H = 3600.0
CLEAR = WeatherState("clear")
HEAVY = WeatherState("heavy_snowfall", speed_factor=1.0, suspend_autonomous=True)
AV = VehicleType("av", capacity=4, powertrain="diesel", automation_level=2)


def weather_with_suspension(*hours: int) -> tuple[WeatherState, ...]:
    return tuple(HEAVY if h in hours else CLEAR for h in range(24))


# -- 1. the skim's DRT in-vehicle time = the dispatcher's plan for a lone request ------------
def _lone_ride_s(world, rid: str) -> tuple[float, float]:
    """(planned ride s, booked direct s) of request ``rid`` dispatched alone to a vehicle
    waiting at its pick-up node, on the travel times the simulator uses."""
    run_world = drt_run_world(world)
    svc = run_world.drt
    reqs = list(world.sample_requests(np.random.default_rng(0)))
    p = {q.rid: q for q in prepare_drt(run_world, 0, reqs, {})}[rid]
    assert p.dreq is not None, p.pre_reason
    policy = InsertionPolicy(svc.tt, config=dispatch_config(svc))
    v = VehicleState("v", 4, p.o_node, 0.0)
    res = policy.dispatch([p.dreq], [v], now_s=p.t_request_s)
    a = res.assignments[0]
    ride = a.schedule[a.dropoff_index].arrival_s - a.schedule[a.pickup_index].departure_s
    return ride, p.direct_s


factors = st.lists(st.floats(0.3, 1.6), min_size=24, max_size=24)


@given(factors, st.floats(6 * H, 20 * H), st.integers(0, 10_000))
def test_skim_ride_is_what_the_dispatcher_plans_for_a_lone_request(f, t0, seed) -> None:
    """Random hourly factors (ops x weather split at random), a random departure and random
    trip ends on a street grid (stop-based: walk to a virtual stop): the skim's in-vehicle
    time / its sharing-detour factor equals the ride the dispatcher plans for the request
    alone — driving the same time-dependent times from the same pick-up time."""
    svc, (la0, la1, lo0, lo1) = _grid_service()
    svc = replace(svc, board_s=25.0, alight_s=10.0, max_walk_m=600.0)
    rng = np.random.default_rng(seed)
    split = rng.uniform(0.5, 1.0, 24)
    ops_f = tuple(float(x) for x in np.asarray(f) * split)
    weather = tuple(WeatherState("w", speed_factor=float(s)) for s in 1.0 / split)
    stops = [(svc.walk.lat[s.node], svc.walk.lon[s.node]) for s in svc.virtual_stops]
    i, j = rng.choice(len(stops), size=2, replace=False)
    o, d = stops[i], stops[j]
    req = Request("r", float(t0), o[0], o[1], d[0], d[1], (), (), mode="drt")
    world = replace(fx.drt_world(svc, requests=[req]), weather_by_hour=weather,
                    ops=OpsParams(speed_factor_by_hour=ops_f))
    hourly = [a * w.speed_factor for a, w in zip(ops_f, weather, strict=True)]
    sk, avail = drt_level_of_service(
        svc, car_ivt_min=np.array([99.0]), car_available=np.array([True]),
        depart_s=np.array([float(t0)]), o_lat=np.array([o[0]]), o_lon=np.array([o[1]]),
        d_lat=np.array([d[0]]), d_lon=np.array([d[1]]), hour_speed_factor=hourly)
    assert avail[0]
    ride, direct = _lone_ride_s(world, "r")
    detour = 0.5 * (1.0 + svc.detour_alpha)
    assert sk["ivt_min"][0] * 60.0 / detour == pytest.approx(ride, rel=1e-9, abs=1e-6)
    assert ride == pytest.approx(direct, abs=1e-6)


def test_skim_on_a_snowy_day_by_hand() -> None:
    """Door-to-door on the line graph at a constant factor 0.5: 1 -> 4 is 180 s free flow,
    360 s in the snow; x the midpoint detour (1 + 1.5) / 2 = 1.25 -> 7.5 min (was free flow:
    3.75 min). A factor change at 10:00 mid-ride: leave at 09:59 (+board 0 s), 60 s of free
    flow at 1.0, the other 120 s at 0.5 take 240 s -> 300 s."""
    tt = fx.line_tt()
    direct = direct_drive_s(TimeDependentTravelTimes(tt, SpeedProfile([0.5] * 24)), 1, 4, 9 * H)
    assert direct == 360.0
    prof = SpeedProfile([1.0] * 10 + [0.5] * 14)
    assert direct_drive_s(TimeDependentTravelTimes(tt, prof), 1, 4, 10 * H - 60) == 300.0
    # NaN departure: the free-flow table (the skims' "no time" case)
    assert direct_drive_s(TimeDependentTravelTimes(tt, prof), 1, 4, math.nan) == 180.0


# -- 2. weather suspension of autonomous DRT ---------------------------------------------------
def test_suspended_periods_and_lookup() -> None:
    w = weather_with_suspension(10, 11, 15)
    per = suspended_periods(w)
    assert per == ((10 * H, 12 * H), (15 * H, 16 * H))
    assert suspension_at(per, 10.5 * H) == 0 and suspension_at(per, 12 * H) == -1
    assert suspension_at(per, 15 * H) == 1
    assert suspended_periods((HEAVY,) * 24) == ((0.0, 24 * H),)


def test_blocked_only_for_all_autonomous_fleets() -> None:
    per = ((10 * H, 12 * H),)
    av_svc = fx.service(fx.line_tt(), [fx.vehicle(vtype=AV)], board_s=20.0, alight_s=10.0)
    mixed = fx.service(fx.line_tt(), [fx.vehicle(vtype=AV), fx.vehicle("car")])
    t = np.array([9 * H, 10 * H - 100, 10 * H - 100, 10.5 * H, 12 * H])
    direct = np.array([600.0, 60.0, 80.0, 60.0, 60.0])
    # 9:00 fits; 9:58:20 + 20 + 60 + 10 = 9:59:50 fits; + 80 s ends at 10:00:10: blocked;
    # 10:30 is inside; 12:00 is after
    assert blocked_by_suspension(av_svc, per, t, direct).tolist() == [
        False, False, True, True, False]
    assert not blocked_by_suspension(mixed, per, t, direct).any()


def _suspension_world(vehicles, trips):
    svc = fx.service(fx.line_tt(), vehicles, trips)
    return replace(fx.drt_world(svc), weather_by_hour=weather_with_suspension(10, 11))


def test_trace_autonomous_service_stops_for_the_suspension() -> None:
    """Heavy snowfall 10:00-12:00 suspends the AV. a (09:50, 1 -> 3) is served and done by
    09:53; b (09:58, 1 -> 5: 4 min ride) could not end before 10:00: suspended_weather;
    c (10:30) is inside; e was booked at 09:00 for 12:30 (before the suspension began);
    f booked at 10:30 for 12:20 (during it) and d (12:10) are served after it. At 10:00
    the idle car, left at node 3, drives to its depot (purpose 'suspended')."""
    trips = [fx.trip("a", 9 * H + 50 * 60, 1, 3), fx.trip("b", 9 * H + 58 * 60, 1, 5),
             fx.trip("c", 10.5 * H, 2, 4), fx.trip("d", 12 * H + 600, 2, 4),
             fx.trip("e", 12.5 * H, 3, 5, t_request=9 * H),
             fx.trip("f", 12 * H + 1200, 1, 2, t_request=10.5 * H)]
    world = _suspension_world([fx.vehicle("av1", vtype=AV)], trips)
    res = simulate(world, seed=0)
    fx.check_drt_log(world, res)
    df = res.drt_requests.set_index("request_id")
    assert df["status"].to_dict() == {"a": "served", "b": "rejected", "c": "rejected",
                                      "d": "served", "e": "rejected", "f": "served"}
    assert set(df.loc[["b", "c", "e"], "reject_reason"]) == {"suspended_weather"}
    assert "10:00-12:00" in df.loc["c", "reject_detail"]
    deps = [(e[0], e[4], e[6]) for e in res.events if e[2] == ev.DRT_DEPART]
    in_susp = [d for d in deps if 10 * H <= d[0] < 12 * H]
    assert in_susp == [(10 * H, "suspended", "n0")]
    stops = [e for e in res.events if e[2] in (ev.DRT_PICKUP, ev.DRT_DROPOFF)]
    assert not [e for e in stops if 10 * H <= e[0] < 12 * H]
    busy = [e[0] for e in res.events if e[2] == ev.DRT_BUSY]
    assert not [t for t in busy if 10 * H + 180 < t < 12 * H]  # parked at the depot: idle
    # after the suspension: from the depot; f was planned during it, for after it
    assert df.loc["f", "pickup_s"] == 12 * H + 1200 and df.loc["d", "pickup_s"] >= 12 * H + 600


def test_mixed_fleet_keeps_running_with_its_human_driven_car() -> None:
    trips = [fx.trip("c", 10.5 * H, 2, 4), fx.trip("d", 10.75 * H, 6, 8)]
    world = _suspension_world([fx.vehicle("av1", vtype=AV), fx.vehicle("car", depot=5)], trips)
    res = simulate(world, seed=0)
    fx.check_drt_log(world, res)
    df = res.drt_requests.set_index("request_id")
    assert (df["status"] == "served").all() and set(df["vehicle_id"]) == {"car"}
    av_moves = [e for e in res.events if e[2] == ev.DRT_DEPART and e[3] == "av1"]
    assert av_moves == []  # stayed at its depot


def test_a_whole_day_suspension_is_not_offered_in_mode_choice() -> None:
    """Heavy snowfall all day and an autonomous fleet: the skim offers no DRT, and the
    simulator would reject every such booking as suspended_weather (same rule)."""
    svc, _ = _grid_service()
    svc = replace(svc, vehicles=tuple(replace(v, vtype=AV) for v in svc.vehicles))
    stops = [(svc.walk.lat[s.node], svc.walk.lon[s.node]) for s in svc.virtual_stops]
    o, d = stops[0], stops[2]
    kw = dict(car_ivt_min=np.array([5.0]), car_available=np.array([True]),
              depart_s=np.array([10 * H]), o_lat=np.array([o[0]]), o_lon=np.array([o[1]]),
              d_lat=np.array([d[0]]), d_lon=np.array([d[1]]))
    assert drt_level_of_service(svc, **kw)[1][0]
    assert not drt_level_of_service(svc, suspended_s=((0.0, 24 * H),), **kw)[1][0]
    req = Request("r", 10 * H, o[0], o[1], d[0], d[1], (), (), mode="drt")
    world = replace(fx.drt_world(svc, requests=[req]), weather_by_hour=(HEAVY,) * 24)
    p = {q.rid: q for q in prepare_drt(world, 0, [req], {})}["r"]
    assert p.pre_reason == "suspended_weather"


# -- 3. rebalancing: max_move_s against the drive as driven -------------------------------------
def test_rebalancing_limit_uses_the_time_dependent_drive() -> None:
    """A move 0 -> 5 is 300 s free flow. With max_move_s = 400 it is allowed at full speed;
    at half speed (600 s as driven) it is not."""
    tt = fx.line_tt()
    zones = np.array([0] * 3 + [1] * 8)
    v = VehicleState("v", 4, 0, 0.0)
    demand = np.array([0.0, 1.0])

    def moves(f: float):
        prov = TimeDependentTravelTimes(tt, SpeedProfile([f] * 24)) if f != 1 else tt
        pol = ZoneDeficitRebalancing(prov, zone_of_node=zones, zone_centroids=[0, 5],
                                     max_move_s=400.0)
        return pol.propose([v], now_s=H, expected_requests_by_zone=demand)

    (mv,) = moves(1.0)
    assert (mv.to_node, mv.arrive_s - mv.depart_s) == (5, 300.0)
    assert moves(0.5) == ()
    assert isinstance(tt, MatrixTravelTimes)


# -- shipped scenarios: the skims and the simulator read the same day ----------------------------
def _built(name: str, *overrides: str):
    from pathlib import Path

    from tomakomai_maas.demand.modechoice import find_mode_choice
    from tomakomai_maas.scenario.build import build
    from tomakomai_maas.scenario.load import load_scenario

    repo = Path(__file__).resolve().parents[1]
    world = build(load_scenario(repo / "scenarios" / f"{name}.yaml", list(overrides)))
    return world, find_mode_choice(world.sample_requests)


def test_choice_reads_the_simulators_speed_factors_and_suspensions() -> None:
    """drt_station_area_choice on a snowy day: mode choice drives DRT at exactly the factors
    the simulator's DRT drives at; on a heavy-snowfall day the timetabled AV trips the
    simulator cancels are not in the choice supply, and the autonomous DRT is offered to
    nobody."""
    from tomakomai_maas.sim.drt_prep import drt_speed_profile

    world, mc = _built("drt_station_area_choice", "weather.day=snowfall")
    assert mc.drt is world.drt
    assert tuple(drt_speed_profile(world).factors) == pytest.approx(mc.hour_speed_factor)
    assert set(mc.hour_speed_factor) == {0.85}
    world, mc = _built("drt_station_area_choice", "weather.day=heavy_snowfall")
    assert mc.drt_suspended_s == ((0.0, 24 * H),)
    prep = mc.prepare(np.random.default_rng(1))
    from tomakomai_maas.demand.choice import MODES

    assert prep.n > 0 and not prep.los.available[:, MODES.index("drt")].any()
    _, av = _built("av_trial_2023", "weather.day=heavy_snowfall")
    assert "av_bus" not in av.supply.modes
    _, av = _built("av_trial_2023")
    assert "av_bus" in av.supply.modes
