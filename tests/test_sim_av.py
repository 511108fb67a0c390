"""Autonomous vehicles: takeovers/sudden stops, weather suspension, energy and CO2."""

from __future__ import annotations

import math

import pytest

import simworlds as sw
from tomakomai_maas.sim import simulate
from tomakomai_maas.world import EnergyParams, VehicleType, WeatherState

AV = VehicleType(
    "av", capacity=20, powertrain="ev", automation_level=2, energy_kwh_per_km=1.0,
    takeover_rate_per_km=2.0, takeover_penalty_s=5.0,
    sudden_stop_rate_per_km=1.0, sudden_stop_penalty_s=3.0,
)  # fmt: skip


def _av_line(weather: WeatherState, n_trips: int = 100):
    stops = [f"S{i:02d}" for i in range(11)]  # 10 legs of 1 km
    trips = sw.line_trips("AV", stops, 6 * 3600, 300, n_trips, [120] * 10, leg_m=[1000.0] * 10,
                          vehicle_type="av")  # fmt: skip
    return sw.make_world(trips, vehicle_types={"av": AV}, weather_by_hour=(weather,) * 24)


def test_takeovers_and_sudden_stops_scale_with_weather() -> None:
    clear = simulate(_av_line(WeatherState("clear")), seed=5).counters
    snow = WeatherState("snowfall", takeover_multiplier=3.0, sudden_stop_multiplier=2.0)
    snowy = simulate(_av_line(snow), seed=5).counters
    km = 100 * 10.0
    for got, expected in [
        (clear["takeovers"], 2.0 * km),
        (snowy["takeovers"], 6.0 * km),
        (clear["sudden_stops"], 1.0 * km),
        (snowy["sudden_stops"], 2.0 * km),
    ]:
        assert abs(got - expected) <= 4 * math.sqrt(expected)  # Poisson, 4 sigma
    assert snowy["takeovers"] / clear["takeovers"] == pytest.approx(3.0, rel=0.12)


def test_fault_penalties_delay_the_trip() -> None:
    res = simulate(_av_line(WeatherState("clear"), n_trips=5), seed=1)
    vt = res.vehicle_trips
    faults = vt["takeovers"] * 5.0 + vt["sudden_stops"] * 3.0
    assert (vt["fault_delay_s"] == faults).all()
    # no holding slack between stops in this timetable: delay at the end >= fault time
    assert (vt["arr_delay_s"] >= vt["fault_delay_s"] - 1e-9).all()
    assert set(vt["supervision"]) == {"operator_on_board"}
    assert set(vt["automation_level"]) == {2}


def test_weather_suspension_cancels_autonomous_trips_only() -> None:
    snow = WeatherState("heavy_snowfall", suspend_autonomous=True)
    weather = tuple(snow if h == 8 else WeatherState("clear") for h in range(24))
    av4 = VehicleType("av4", capacity=20, automation_level=4)
    stops = ["A", "B", "C"]
    trips = [
        sw.make_trip("av-0750", "AV", stops, 7 * 3600 + 50 * 60, [600, 600], vehicle_type="av4"),
        sw.make_trip("av-0810", "AV", stops, 8 * 3600 + 10 * 60, [600, 600], vehicle_type="av4"),
        sw.make_trip("av-0910", "AV", stops, 9 * 3600 + 10 * 60, [600, 600], vehicle_type="av4"),
        sw.make_trip("bus-0810", "BUS", stops, 8 * 3600 + 10 * 60, [600, 600]),
    ]
    world = sw.make_world(trips, vehicle_types={"bus": sw.BUS, "av4": av4}, weather_by_hour=weather)
    res = simulate(world, seed=0)
    cancelled = [(e[0], e[4]) for e in res.events if e[2] == "trip_cancelled"]
    assert cancelled == [(8 * 3600 + 10 * 60, "av-0810")]
    vt = res.vehicle_trips.set_index("trip_id")
    assert vt["cancelled"].to_dict() == {
        "av-0750": False, "av-0810": True, "av-0910": False, "bus-0810": False,
    }  # fmt: skip
    assert vt.loc["av-0810", "km"] == 0 and math.isnan(vt.loc["av-0810", "actual_dep_s"])
    assert vt.loc["av-0750", "supervision"] == "remote"
    assert res.counters["trips_cancelled"] == 1
    assert res.counters["trips_run"] == 3


def test_passenger_waiting_for_a_cancelled_trip_gives_up() -> None:
    snow = WeatherState("heavy_snowfall", suspend_autonomous=True)
    av = VehicleType("av", capacity=20, automation_level=2)
    trip = sw.make_trip("av-1", "AV", ["A", "B"], 3600, [300], vehicle_type="av")
    world = sw.make_world(
        [trip],
        demand=[sw.stop_request("p1", 3000, "A", "B")],
        vehicle_types={"av": av},
        weather_by_hour=(snow,) * 24,
    )
    res = simulate(world, seed=0)
    last = [(e[2], e[0]) for e in res.events if e[5] == "p1"][-1]
    assert last == ("give_up", 3000 + 600 + 1800)  # planned wait + patience
    assert res.trips.loc[0, "status"] == "gave_up"


def test_energy_soc_and_co2_by_hand() -> None:
    ev = VehicleType("ev", capacity=20, powertrain="ev", energy_kwh_per_km=1.5, battery_kwh=50.0)
    diesel = VehicleType("diesel", capacity=50, fuel_l_per_km=0.3)
    cold = WeatherState("snowfall", ev_energy_factor=1.2)
    weather = tuple(cold if h == 9 else WeatherState("clear") for h in range(24))
    legs_m = [2000.0, 3000.0]
    trips = [
        sw.make_trip("e1", "E", ["A", "B", "C"], 7 * 3600, [300, 300], leg_m=legs_m,
                     vehicle_type="ev", block_id="ev-bus"),
        sw.make_trip("e2", "E", ["C", "B", "A"], 9 * 3600, [300, 300], leg_m=legs_m[::-1],
                     vehicle_type="ev", block_id="ev-bus"),
        sw.make_trip("d1", "D", ["A", "B", "C"], 7 * 3600, [300, 300], leg_m=legs_m,
                     vehicle_type="diesel"),
    ]  # fmt: skip
    world = sw.make_world(
        trips,
        vehicle_types={"ev": ev, "diesel": diesel},
        weather_by_hour=weather,
        energy=EnergyParams(grid_kg_co2_per_kwh=0.5, diesel_kg_co2_per_l=2.6),
    )
    vt = simulate(world, seed=0).vehicle_trips.set_index("trip_id")
    # e1: 5 km * 1.5 = 7.5 kWh; e2 at 09:00 with heating: 5 * 1.5 * 1.2 = 9 kWh
    assert vt.loc["e1", "km"] == pytest.approx(5.0)
    assert vt.loc["e1", "energy_kwh"] == pytest.approx(7.5)
    assert vt.loc["e2", "energy_kwh"] == pytest.approx(9.0)
    assert vt.loc["e1", "co2_kg"] == pytest.approx(3.75)
    assert vt.loc["e2", "co2_kg"] == pytest.approx(4.5)
    assert vt.loc["e1", "min_soc"] == pytest.approx(1 - 7.5 / 50)
    assert vt.loc["e2", "min_soc"] == pytest.approx(1 - 16.5 / 50)
    assert vt.loc["e1", "vehicle_id"] == vt.loc["e2", "vehicle_id"] == "ev-bus"
    assert vt.loc["d1", "fuel_l"] == pytest.approx(1.5)
    assert vt.loc["d1", "co2_kg"] == pytest.approx(3.9)
    assert vt.loc["d1", "energy_kwh"] == 0 and math.isnan(vt.loc["d1", "min_soc"])
