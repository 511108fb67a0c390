"""One hand-built World per DRT rejection reason: the run reports exactly that reason.

Dispatcher reasons (tomakomai_maas.dispatch.RejectReason) and the simulator's own
(``no_stop_in_reach``, ``same_pickup_dropoff``, ``suspended_weather``). Line graph: nodes 0..10, 60 s / 100 m apart.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import test_drt_fixtures as fx
from tomakomai_maas.dispatch import RejectReason
from tomakomai_maas.drt_world import SIM_REJECT_REASONS, VirtualStop
from tomakomai_maas.network import TravelTimes, grid_network
from tomakomai_maas.sim import events as ev
from tomakomai_maas.sim import simulate
from tomakomai_maas.world import VehicleType, WeatherState


def run(svc, weather=None, **kw):
    world = fx.drt_world(svc, **kw)
    if weather is not None:
        world = replace(world, weather_by_hour=weather)
    res = simulate(world, seed=0)
    fx.check_drt_log(world, res)
    return res


def reasons(res) -> dict[str, str]:
    df = res.drt_requests
    return dict(zip(df["request_id"], df["reject_reason"], strict=True))


def outcome(res, rid: str) -> tuple[str, str]:
    row = res.drt_requests.set_index("request_id").loc[rid]
    return row["status"], row["reject_reason"]


H = 3600.0
CASES = {}


def case(reason: str):
    def deco(fn):
        CASES[reason] = fn
        return fn
    return deco


@case("outside_area")
def _outside_area():
    svc = fx.service(fx.line_tt(), [fx.vehicle()], [fx.trip("r", 0, 1, 8)],
                     service_nodes=frozenset(range(6)))
    return svc, "r"


@case("outside_hours")
def _outside_hours():
    # あいとまタクシー windows; a request at noon
    svc = fx.service(fx.line_tt(), [fx.vehicle()], [fx.trip("r", 12 * H, 1, 3),
                                                    fx.trip("ok", 9 * H, 1, 3)],
                     service_hours_s=((8.5 * H, 11.5 * H), (15 * H, 17 * H)))
    return svc, "r"


@case("unreachable")
def _unreachable():
    svc = fx.service(fx.line_tt(unreachable=[10]), [fx.vehicle()], [fx.trip("r", 0, 1, 10)])
    return svc, "r"


@case("capacity")
def _capacity():
    svc = fx.service(fx.line_tt(), [fx.vehicle(cap=4)], [fx.trip("r", 0, 1, 3, n_pax=5)])
    return svc, "r"


@case("no_vehicle_in_time")
def _no_vehicle():
    svc = fx.service(fx.line_tt(), [fx.vehicle(depot=0)], [fx.trip("r", 0, 10, 9)],
                     max_wait_s=60.0)
    return svc, "r"


@case("time_window")
def _time_window():
    # the only vehicle's shift ends at 300 s: the drop-off (540 s) would be after it
    svc = fx.service(fx.line_tt(), [fx.vehicle(shift=(0.0, 300.0))], [fx.trip("r", 0, 1, 9)])
    return svc, "r"


@case("ride_time")
def _ride_time():
    # a boards at node 5 (boarding takes 100 s) towards 0, max ride = 1.0 x 300 + 60 s.
    # b asks at t=10 for 6 -> 7: serving b first makes a's ride 640 s (> 360 s); serving it
    # after a's drop-off is too late for b's pick-up window (600 s).
    svc = fx.service(fx.line_tt(), [fx.vehicle(depot=5)],
                     [fx.trip("a", 0, 5, 0), fx.trip("b", 10, 6, 7)],
                     board_s=100.0, detour_alpha=1.0, detour_beta_s=60.0, max_wait_s=600.0)
    return svc, "b"


@case("battery")
def _battery():
    # an EV with 1 kWh at 1 kWh/km keeps 15 % in reserve: 850 m of range; 0 -> 1 -> 9 and
    # back to the depot at 0 is 1,800 m
    ev_car = VehicleType("ev_car", capacity=4, powertrain="ev", energy_kwh_per_km=1.0,
                         battery_kwh=1.0)
    svc = fx.service(fx.line_tt(), [fx.vehicle(vtype=ev_car)], [fx.trip("r", 0, 1, 9)])
    return svc, "r"


@case("no_stop_in_reach")
def _no_stop():
    stops = (VirtualStop("west", "west", 0, 0, 0), VirtualStop("east", "east", 0, 0, 10))
    svc = fx.service(fx.line_tt(), [fx.vehicle()], [fx.trip("r", 0, 5, 10),
                                                    fx.trip("ok", 0, 1, 9)],
                     mode="stop_based", virtual_stops=stops, max_walk_m=250.0)
    return svc, "r"


@case("same_pickup_dropoff")
def _same():
    svc = fx.service(fx.line_tt(), [fx.vehicle()], [fx.trip("r", 0, 3, 3)])
    return svc, "r"


SNOW_10_12 = tuple(WeatherState("heavy_snowfall", suspend_autonomous=True) if h in (10, 11)
                   else WeatherState("clear") for h in range(24))
WEATHER = {"suspended_weather": SNOW_10_12}


@case("suspended_weather")
def _suspended():
    # an autonomous car; heavy snowfall 10:00-12:00 suspends it; a request at 10:30
    av = VehicleType("av", capacity=4, automation_level=2)
    svc = fx.service(fx.line_tt(), [fx.vehicle(vtype=av)], [fx.trip("r", 10.5 * H, 1, 3),
                                                            fx.trip("ok", 9 * H, 1, 3)])
    return svc, "r"


def test_every_reason_has_a_case() -> None:
    assert set(CASES) == {r.value for r in RejectReason} | set(SIM_REJECT_REASONS)


@pytest.mark.parametrize("reason", sorted(CASES))
def test_reason_case(reason: str) -> None:
    svc, rid = CASES[reason]()
    res = run(svc, weather=WEATHER.get(reason))
    assert outcome(res, rid) == ("rejected", reason)
    others = {k: v for k, v in reasons(res).items() if k != rid}
    assert all(v == "" for v in others.values()), others  # nothing else is rejected
    evs = [e for e in res.events if e[5] == rid]
    assert [e[2] for e in evs][-3:] == [ev.DRT_REQUEST, ev.DRT_REJECT, ev.REJECTED]
    assert evs[-2][4] == reason
    detail = res.drt_requests.set_index("request_id").loc[rid, "reject_detail"]
    assert detail  # a human-readable detail for every rejection
    trips = res.trips.set_index("request_id")
    assert trips.loc[rid, "status"] == "rejected" and trips.loc[rid, "mode"] == "drt"


def test_capacity_at_insertion_level() -> None:
    # a (2 passengers) fills the 2-seat car from t=0 to its drop-off at 400 s; b cannot be
    # picked up before a is dropped off and the car comes back too late
    svc = fx.service(fx.line_tt(), [fx.vehicle(depot=5, cap=2)],
                     [fx.trip("a", 0, 5, 0, n_pax=2), fx.trip("b", 10, 6, 7)],
                     board_s=100.0, max_wait_s=200.0)
    res = run(svc)
    assert outcome(res, "b") == ("rejected", "capacity")
    assert outcome(res, "a") == ("served", "")


def test_prebooking_lead_outside_the_allowed_range() -> None:
    # あいとまタクシー: book 1 h to 3 days ahead; 10 min ahead is refused (outside_hours)
    svc = fx.service(fx.line_tt(), [fx.vehicle()],
                     [fx.trip("late", 9 * H, 1, 3, t_request=9 * H - 600),
                      fx.trip("ok", 9 * H, 2, 4, t_request=9 * H - 2 * H),
                      fx.trip("early", 9 * H, 2, 4, t_request=9 * H - 4 * 24 * H)],
                     min_booking_lead_s=H, max_booking_lead_s=72 * H)
    res = run(svc)
    assert outcome(res, "late") == ("rejected", "outside_hours")
    assert outcome(res, "early") == ("rejected", "outside_hours")
    assert outcome(res, "ok") == ("served", "")
    book = {e[5]: e[0] for e in res.events if e[2] == ev.DRT_REQUEST}
    assert book == {"early": 0.0, "ok": 7 * H, "late": 9 * H - 600}  # 4 days ahead -> at 0


def test_outside_area_polygon_with_coordinates() -> None:
    """Trips given by coordinates: outside the area polygon -> outside_area; inside ->
    snapped to the nearest served node."""
    G = grid_network(3, 6, spacing_m=200.0)
    tt = TravelTimes(G, cache_dir=None)
    area = ((42.6400, 141.5960), (42.6400, 141.6050), (42.6350, 141.6050), (42.6350, 141.5960))
    import shapely

    poly = shapely.Polygon([(b, a) for a, b in area])
    inside = np.flatnonzero(shapely.contains_xy(poly, tt.lon, tt.lat))
    assert 0 < inside.size < tt.n
    a, b = int(inside[0]), int(inside[-1])
    trips = [fx.trip("in", 100, 0, 0, lat=(tt.lat[a], tt.lon[a]), dlat=(tt.lat[b], tt.lon[b]),
                     nodes=False),
             fx.trip("out", 200, 0, 0, lat=(42.6300, 141.6100), dlat=(tt.lat[b], tt.lon[b]),
                     nodes=False)]
    svc = fx.service(tt, [fx.vehicle(depot=a)], trips, area=area,
                     service_nodes=frozenset(inside.tolist()),
                     snap_nodes=tuple(inside.tolist()), snap_lat=tuple(tt.lat[inside]),
                     snap_lon=tuple(tt.lon[inside]))
    res = run(svc)
    assert outcome(res, "out") == ("rejected", "outside_area")
    assert outcome(res, "in") == ("served", "")
    row = res.drt_requests.set_index("request_id").loc["in"]
    assert (row["o_stop"], row["d_stop"]) == (f"n{a}", f"n{b}")
