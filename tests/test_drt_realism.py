"""DRT vehicles that feel the day: hourly speed factors × weather (planned and driven alike),
AV takeovers / sudden stops, battery range and depot charging.

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
from tomakomai_maas.dispatch import (
    Assignment,
    InsertionEngine,
    MatrixTravelTimes,
    SpeedProfile,
    TimeDependentTravelTimes,
    VehicleState,
    check_plan,
    make_request,
)
from tomakomai_maas.drt_world import ChargingParams
from tomakomai_maas.metrics.kpi import drt_kpis
from tomakomai_maas.sim import events as ev
from tomakomai_maas.sim import simulate
from tomakomai_maas.world import VehicleType, WeatherState

H = 3600.0


def run(svc, *, hours=None, weather=None, seed: int = 0):
    world = fx.drt_world(svc)
    if hours is not None:
        world = replace(world, ops=replace(world.ops, speed_factor_by_hour=tuple(hours)))
    if weather is not None:
        world = replace(world, weather_by_hour=(weather,) * 24)
    res = simulate(world, seed=seed)
    fx.check_drt_log(world, res)
    return world, res


def trace(res, *, kinds=None) -> list[tuple]:
    return [(e[2], e[0], e[6]) for e in res.events if kinds is None or e[2] in kinds]


def hours_with(default: float = 1.0, **by_hour: float) -> list[float]:
    f = [default] * 24
    for h, v in by_hour.items():
        f[int(h[1:])] = v
    return f


# -- the speed profile (pure) -------------------------------------------------------------------
def test_constant_profile_divides_free_flow_times() -> None:
    p = SpeedProfile([0.5] * 24)
    assert p.arrival_s(100.0, 60.0) == 220.0
    assert p.arrival_s(np.array([100.0, 0.0]), np.array([60.0, 0.0])).tolist() == [220.0, 0.0]
    assert p.arrival_s(5.0, math.inf) == math.inf
    assert SpeedProfile([1.0] * 24).is_identity and not p.is_identity


def test_a_leg_across_the_hour_is_driven_at_both_factors() -> None:
    """Leaving 08:50 with 20 min of free-flow driving, full speed until 09:00 (10 min done),
    half speed after: the other 10 min take 20 → 09:20."""
    p = SpeedProfile(hours_with(h9=0.5))
    t = 8 * H + 50 * 60
    assert p.arrival_s(t, 1200.0) == 9 * H + 1200.0
    assert p.arrival_s(np.array([t]), np.array([1200.0]))[0] == 9 * H + 1200.0
    # the rule "factor at the departure for the whole leg" would arrive at 09:10 instead


def _work(p: SpeedProfile, t0: float, t1: float) -> float:
    """Free-flow seconds driven between t0 and t1 (integral of the factor)."""
    w, t = 0.0, t0
    while t < t1:
        end = min(t1, (math.floor(t / H) + 1) * H)
        w += (end - t) * p.factor_at(t)
        t = end
    return w


@given(st.lists(st.floats(0.2, 2.0), min_size=24, max_size=24),
       st.floats(0, 30 * H), st.floats(0, 30 * H), st.floats(0, 4 * H))
def test_profile_is_fifo_and_drives_exactly_the_free_flow_time(factors, t1, t2, base) -> None:
    p = SpeedProfile(factors)
    a1, a2 = p.arrival_s(t1, base), p.arrival_s(t2, base)
    assert a1 >= t1
    if t1 <= t2:
        assert a1 <= a2  # leaving later never arrives earlier
    assert math.isclose(_work(p, t1, a1), base, rel_tol=1e-9, abs_tol=1e-6)
    vec = p.arrival_s(np.array([t1, t2]), np.array([base, base]))
    assert vec.tolist() == [a1, a2]  # the dispatcher's vectors = the vehicles' scalars


@pytest.mark.parametrize("factor", [0.5, 0.85, 1.25])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_constant_factor_plans_like_a_scaled_table(factor: float, seed: int) -> None:
    """A constant speed factor f must give the plans of a table with times / f."""
    rng = np.random.default_rng(seed)
    base, _ = fx.city_tt(12, rng)
    t = np.asarray(base.time_s(np.arange(12)[:, None], np.arange(12)[None, :]))
    td = TimeDependentTravelTimes(base, SpeedProfile([factor] * 24))
    scaled = MatrixTravelTimes(t / factor)
    fleets = {}
    for name, tt in (("td", td), ("scaled", scaled)):
        eng = InsertionEngine(tt)
        fleet = [VehicleState(f"v{k}", 4, int(rng.integers(12)) if name == "td" else 0, 0.0)
                 for k in range(3)]
        fleets[name] = (eng, fleet)
    nodes = np.random.default_rng(seed + 100).integers(0, 12, size=(10, 2))
    starts = [fleets["td"][1][k].node for k in range(3)]
    fleets["scaled"] = (fleets["scaled"][0],
                        [replace(v, node=starts[k]) for k, v in enumerate(fleets["scaled"][1])])
    outcomes = {}
    for name, (eng, fleet) in fleets.items():
        out = []
        for q, (o, d) in enumerate(nodes.tolist()):
            if o == d:
                continue
            direct = float(t[o, d]) / factor
            req = make_request(f"r{q}", o, d, direct, t_request_s=60.0 * q, max_wait_s=600.0)
            res = eng.insert(req, fleet, now_s=60.0 * q)
            if isinstance(res, Assignment):
                k = [v.vehicle_id for v in fleet].index(res.vehicle_id)
                fleet[k] = replace(fleet[k], available_s=res.start_s, plan=res.stops)
                out.append((res.vehicle_id, res.pickup_index, res.dropoff_index,
                            res.pickup_s, res.dropoff_s))
            else:
                out.append(res.reason.value)
        outcomes[name] = out
    assert outcomes["td"] == outcomes["scaled"]


# -- speed factors in the simulator ------------------------------------------------------------
SLOW_TRACE = [  # test_drt_sim's pick-up trace at half speed: every hop takes 120 s
    ("drt_shift_start", 0, "n0"),
    ("drt_idle", 0, ""),
    ("request", 100, ""),
    ("drt_request", 100, "n2"),
    ("drt_assign", 100, ""),
    ("drt_ready", 100, "n2"),
    ("drt_busy", 100, ""),
    ("drt_depart", 100, "n2"),
    ("drt_arrive", 340, "n2"),
    ("drt_pickup", 340, "n2"),   # wait 240 s; boarding until 360
    ("drt_depart", 360, "n4"),
    ("drt_arrive", 600, "n4"),
    ("drt_dropoff", 600, "n4"),  # ride 240 s; alighting until 610
    ("walk_start", 610, ""),
    ("drt_idle", 610, ""),
    ("arrive_dest", 610, ""),
    ("drt_shift_end", 1200, "n4"),
    ("drt_depart", 1200, "n0"),  # 4 hops home: 480 s
    ("drt_arrive", 1680, "n0"),
]


def _one_pickup():
    # (the shift must leave time to drive home at half speed: 610 + 480 <= 1200)
    return fx.service(fx.line_tt(), [fx.vehicle(shift=(0.0, 1200.0))],
                      [fx.trip("a", 100, 2, 4)], board_s=20.0, alight_s=10.0)


@pytest.mark.parametrize("how", ["hourly", "weather", "both"])
def test_trace_at_half_speed(how: str) -> None:
    """Half speed from the hourly factors, from the weather, or 0.8 × 0.625 of both."""
    hours = {"hourly": [0.5] * 24, "weather": None, "both": [0.8] * 24}[how]
    weather = {"hourly": None, "weather": WeatherState("snowfall", speed_factor=0.5),
               "both": WeatherState("snowfall", speed_factor=0.625)}[how]
    _, res = run(_one_pickup(), hours=hours, weather=weather)
    assert trace(res) == SLOW_TRACE
    values = {e[2]: e[7] for e in res.events if e[5] == "a"}
    assert values["drt_assign"] == 340  # planned with the travel times it then drives
    assert values["drt_pickup"] == 240 and values["drt_dropoff"] == 240
    row = res.drt_requests.iloc[0]
    assert row["direct_min"] == 4.0  # the direct drive at half speed
    assert row["pickup_late_min"] == 0 and row["ride_over_min"] == 0


def test_factor_change_between_planning_and_driving_is_planned_for() -> None:
    """Booked at 00:30 for a pick-up at 00:59 at node 2; the ride 2 -> 4 (120 s free flow)
    runs 60 s at full speed until 01:00, and the other 60 s of free-flow driving at half speed
    take 120 s → drop-off at 3,540 + 60 + 120 = 3,720. The dispatcher planned exactly that at
    00:30 (it knows the day's profile): nothing is late. The car itself left the depot at
    once (as early as possible: 1,800 → 1,920) and waited at node 2."""
    svc = fx.service(fx.line_tt(), [fx.vehicle(shift=(0.0, 2 * H))],
                     [fx.trip("a", 3540, 2, 4, t_request=1800)], max_wait_s=600.0)
    _, res = run(svc, hours=hours_with(h1=0.5))
    ev_a = {e[2]: e for e in res.events if e[5] == "a"}
    assert ev_a["drt_assign"][0] == 1800 and ev_a["drt_assign"][7] == 3540
    assert ev_a["drt_pickup"][0] == 3540 and ev_a["drt_dropoff"][0] == 3720
    ride = [leg for leg in res.itineraries["a"].legs if leg.route_id == "drt"][0]
    assert (ride.start_s, ride.end_s) == (3540, 3720)  # planned at 1,800 = driven
    assert [(k, t) for k, t, _ in trace(res, kinds={ev.DRT_DEPART, ev.DRT_ARRIVE})][:4] == [
        ("drt_depart", 1800), ("drt_arrive", 1920), ("drt_depart", 3540), ("drt_arrive", 3720)]
    row = res.drt_requests.iloc[0]
    assert row["direct_min"] == 3.0  # the direct drive at the requested time
    assert row["pickup_late_min"] == 0 and row["ride_over_min"] == 0


@given(st.floats(0.3, 1.6), st.integers(0, 10_000))
def test_accepted_requests_keep_their_windows_under_a_constant_factor(factor, seed) -> None:
    """Random requests on a random city: whatever the (constant) factor, every accepted
    request is served within its windows and ride limit (check_drt_log asserts it, and that
    every leg took the time the dispatcher planned with)."""
    rng = np.random.default_rng(seed)
    tt, _ = fx.city_tt(15, rng)
    trips = []
    for q in range(12):
        o, d = (int(x) for x in rng.choice(15, size=2, replace=False))
        trips.append(fx.trip(f"r{q:02d}", float(rng.uniform(0, 3600)), o, d))
    svc = fx.service(tt, [fx.vehicle("v1", 0), fx.vehicle("v2", 7)], trips, board_s=20.0,
                     alight_s=20.0, max_wait_s=600.0)
    _, res = run(svc, hours=[factor] * 24)
    df = res.drt_requests
    served = df[df["status"] == "served"]
    assert (served["pickup_late_min"] == 0).all() and (served["ride_over_min"] == 0).all()


def test_no_profile_leaves_the_travel_times_alone() -> None:
    """All factors 1: the service keeps its own provider (same objects, same results)."""
    from tomakomai_maas.sim.drt_prep import drt_run_world

    world = fx.drt_world(_one_pickup())
    assert drt_run_world(world) is world
    slow = replace(world, weather_by_hour=(WeatherState("rain", speed_factor=0.9),) * 24)
    assert isinstance(drt_run_world(slow).drt.tt, TimeDependentTravelTimes)


# -- AV takeovers and sudden stops -------------------------------------------------------------
def av(rate: float = 200.0, penalty: float = 300.0, sudden: float = 0.0) -> VehicleType:
    return VehicleType("av", capacity=10, powertrain="diesel", automation_level=2,
                       takeover_rate_per_km=rate, takeover_penalty_s=penalty,
                       sudden_stop_rate_per_km=sudden, sudden_stop_penalty_s=15.0)


def test_takeover_makes_the_pickup_late_and_it_is_recorded() -> None:
    """200 takeovers/km on a 100 m leg: Poisson(20), at least one for sure (P(0) = e^-20).
    Planned pick-up at 60 s (max wait 60 s); each takeover costs 300 s → late, and reported."""
    svc = fx.service(fx.line_tt(), [fx.vehicle(vtype=av(), shift=(0.0, H))],
                     [fx.trip("a", 0, 1, 2)], max_wait_s=60.0)
    world, res = run(svc)
    kinds = [e[2] for e in res.events if e[3] == "v1" and e[0] == 0.0]
    first = kinds.index(ev.DRT_DEPART)
    n = kinds.count(ev.DRT_TAKEOVER)
    assert n >= 1 and kinds[first + 1:first + 1 + n] == [ev.DRT_TAKEOVER] * n
    ev_a = {e[2]: e for e in res.events if e[5] == "a"}
    assert ev_a["drt_assign"][7] == 60.0
    assert ev_a["drt_pickup"][0] == 60.0 + 300.0 * n  # the time lost is driven, not hidden
    row = res.drt_requests.iloc[0]
    assert row["pickup_late_min"] == pytest.approx(5.0 * n)
    veh = res.drt_vehicles.iloc[0]
    takeovers = sum(1 for e in res.events if e[2] == ev.DRT_TAKEOVER)
    assert veh["takeovers"] == takeovers and veh["fault_delay_min"] == 5.0 * takeovers
    k = drt_kpis(res.tables, world)
    assert k["drt.late_pickups"] == 1 and k["drt.late_pickup_share"] == 1
    assert k["drt.takeovers"] == takeovers
    assert k["drt.takeovers_per_100km"] == pytest.approx(takeovers / (veh["km"] / 100))
    assert res.counters["takeovers"] == 0  # the timetabled KPI stays timetabled


def test_weather_multiplier_zero_means_no_faults_and_the_plain_trace() -> None:
    calm = WeatherState("calm", takeover_multiplier=0.0, sudden_stop_multiplier=0.0)
    svc = fx.service(fx.line_tt(), [fx.vehicle(vtype=av(sudden=200.0), shift=(0.0, 1000.0))],
                     [fx.trip("a", 100, 2, 4)], board_s=20.0, alight_s=10.0)
    _, res = run(svc, weather=calm)
    assert not any(e[2] in (ev.DRT_TAKEOVER, ev.DRT_SUDDEN_STOP) for e in res.events)
    car_svc = replace(svc, vehicles=(fx.vehicle(shift=(0.0, 1000.0)),))
    _, plain = run(car_svc, weather=calm)
    assert trace(res) == trace(plain)


def test_takeover_rate_matches_poisson_mean_over_many_legs() -> None:
    """1 takeover/km × snowfall multiplier 3 on 1 km legs: mean 3 per leg (sd 1.7); over
    40 seeds × 2 legs the mean lies within ±0.6 of 3 (> 3 standard errors)."""
    snow = WeatherState("snowfall", takeover_multiplier=3.0)
    counts = []
    for seed in range(40):
        svc = fx.service(fx.line_tt(), [fx.vehicle(vtype=av(rate=1.0, penalty=1.0))],
                         [fx.trip("a", 0, 0, 10)], max_wait_s=600.0, detour_beta_s=3600.0)
        _, res = run(svc, weather=snow, seed=seed)
        legs = [e for e in res.events if e[2] == ev.DRT_DEPART]
        assert len(legs) == 2  # 0 -> 10 with the rider, 10 -> 0 after the shift
        counts.append(sum(1 for e in res.events if e[2] == ev.DRT_TAKEOVER) / len(legs))
    assert abs(float(np.mean(counts)) - 3.0) < 0.6


# -- battery -----------------------------------------------------------------------------------
EV = VehicleType("ev_car", capacity=4, powertrain="ev", energy_kwh_per_km=1.0, battery_kwh=1.0)


def test_range_is_part_of_plan_feasibility() -> None:
    """0 -> 2 -> 6 and back to the depot at 0: 1,200 m."""
    tt = fx.line_tt()
    req = make_request("r", 2, 6, 240.0, t_request_s=0.0)
    for range_m, ok in ((1200.0, True), (1199.0, False)):
        v = VehicleState("v", 4, 0, 0.0, depot=0, range_m=range_m)
        res = InsertionEngine(tt).insert(req, [v], now_s=0.0)
        assert isinstance(res, Assignment) is ok, res
        if ok:
            assert check_plan(replace(v, plan=res.stops), tt).feasible
        else:
            assert res.reason.value == "battery"
            unlimited = InsertionEngine(tt).insert(req, [replace(v, range_m=math.inf)],
                                                   now_s=0.0)
            check = check_plan(replace(v, plan=unlimited.stops), tt)
            assert not check.feasible and "range" in check.violations[0]


def test_battery_trace_reserve_return_and_depot_charging() -> None:
    """1 kWh battery, 1 kWh/km, reserve 15 % (850 m of range when full), back to charge below
    70 %, 6 kW at the depot (0.1 kWh per minute). By hand:

    a 1 -> 4 at 0: 0->1->4 + 400 m home = 800 m <= 850 → served; SOC 0.6 at the drop-off (240 s),
      below 70 %: the idle car drives to the depot (400 m, SOC 0.2) and plugs in at 480.
    b 1 -> 3 at 600: charged 0.2 kWh by then → 0.4 kWh, range 250 m < 600 m needed → battery.
    c 1 -> 3 at 1200: full since 960 → accepted; unplugs at 1200 having charged 0.8 kWh; at
      the drop-off (1380 s) SOC 0.7 — not below 70 %: it stays; after the shift (3600) it drives
      300 m home: SOC 0.4.
    """
    trips = [fx.trip("a", 0, 1, 4), fx.trip("b", 600, 1, 3), fx.trip("c", 1200, 1, 3)]
    svc = fx.service(fx.line_tt(), [fx.vehicle(vtype=EV, shift=(0.0, H))], trips,
                     charging=ChargingParams(reserve_soc=0.15, return_below_soc=0.7,
                                             power_kw=6.0))
    world, res = run(svc)
    veh_kinds = {ev.DRT_DEPART, ev.DRT_ARRIVE, ev.DRT_CHARGE_START, ev.DRT_CHARGE_END,
                 ev.DRT_REJECT, ev.DRT_ASSIGN}
    got = [(e[2], e[0], e[4] if e[2] in (ev.DRT_DEPART, ev.DRT_REJECT) else e[6])
           for e in res.events if e[2] in veh_kinds]
    assert got == [
        ("drt_assign", 0, ""),
        ("drt_depart", 0, "service"), ("drt_arrive", 60, "n1"),
        ("drt_depart", 60, "service"), ("drt_arrive", 240, "n4"),
        ("drt_depart", 240, "to_charge"), ("drt_arrive", 480, "n0"),
        ("drt_charge_start", 480, "n0"),
        ("drt_reject", 600, "battery"),
        ("drt_assign", 1200, ""),
        ("drt_charge_end", 1200, "n0"),
        ("drt_depart", 1200, "service"), ("drt_arrive", 1260, "n1"),
        ("drt_depart", 1260, "service"), ("drt_arrive", 1380, "n3"),
        ("drt_depart", 3600, "to_depot"), ("drt_arrive", 3780, "n0"),
    ]
    values = {e[2]: e[7] for e in res.events if e[2] in (ev.DRT_CHARGE_START, ev.DRT_CHARGE_END)}
    assert values["drt_charge_start"] == pytest.approx(0.2)
    assert values["drt_charge_end"] == pytest.approx(0.8)
    veh = res.drt_vehicles.iloc[0]
    assert veh["min_soc"] == pytest.approx(0.2) and veh["end_soc"] == pytest.approx(0.4)
    assert veh["charged_kwh"] == pytest.approx(0.8) and veh["charging_h"] == pytest.approx(0.2)
    assert veh["energy_kwh"] == pytest.approx(1.4)
    k = drt_kpis(res.tables, world)
    assert k["drt.soc_min"] == pytest.approx(0.2) and k["drt.rejected.battery"] == 1


# -- a dispatcher without a forecast -------------------------------------------------------------
def _snow_at_one(forecast: str):
    """Car at node 0, rider at node 2 at 00:58:20 (3,500 s), max wait 120 s; half speed from
    01:00. Driven: 100 s of free flow by 01:00, the last 20 s take 40 → at node 2 at 3,640,
    then 2 hops at half speed → 3,880."""
    svc = fx.service(fx.line_tt(), [fx.vehicle(shift=(0.0, 2 * H))],
                     [fx.trip("a", 3500, 2, 4)], max_wait_s=120.0, speed_forecast=forecast)
    return run(svc, hours=hours_with(h1=0.5))


def test_profile_dispatcher_does_not_promise_what_the_snow_breaks() -> None:
    """It knows the pick-up would be at 3,640, after the latest pick-up 3,620: rejected."""
    _, res = _snow_at_one("profile")
    assert res.drt_requests.iloc[0]["reject_reason"] == "no_vehicle_in_time"


def test_dispatcher_without_forecast_is_late_and_it_is_recorded() -> None:
    """Planning at full speed (the factor at 3,500) it promises 3,620 / 3,740; the car drives
    what the day gives: pick-up at 3,640 (20 s late), drop-off at 3,880."""
    world, res = _snow_at_one("at_dispatch")
    ev_a = {e[2]: e for e in res.events if e[5] == "a"}
    assert ev_a["drt_assign"][7] == 3620
    ride = [leg for leg in res.itineraries["a"].legs if leg.route_id == "drt"][0]
    assert (ride.start_s, ride.end_s) == (3620, 3740)  # the promise
    assert ev_a["drt_pickup"][0] == 3640 and ev_a["drt_dropoff"][0] == 3880  # the drive
    row = res.drt_requests.iloc[0]
    assert row["status"] == "served"
    assert row["planned_pickup_s"] == 3620 and row["pickup_s"] == 3640
    assert row["pickup_late_min"] == pytest.approx(20 / 60)
    k = drt_kpis(res.tables, world)
    assert k["drt.late_pickups"] == 1 and k["drt.late_pickup_share"] == 1
