"""The World: plain, typed data that ``scenario.build()`` produces and ``sim.simulate()`` consumes.

This module is the contract between the layers (see DESIGN.md). It holds no behaviour beyond
small helpers and imports neither simpy nor pydantic. Units are in field names; times of day
are **seconds since midnight of the service day** (``*_s``), durations seconds, distances metres.

Everything here is immutable (frozen dataclasses, tuples) so a World can be shared by many
replications and shipped to worker processes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:  # drt_world imports this module; the annotation is only a string here
    from tomakomai_maas.drt_world import DrtService

__all__ = [
    "VehicleType",
    "Stop",
    "TripSchedule",
    "Access",
    "Request",
    "WeatherState",
    "OpsParams",
    "JourneyParams",
    "EnergyParams",
    "World",
    "WEATHER_STATES",
    "trip_suspended",
]

Powertrain = Literal["ev", "diesel"]


@dataclass(frozen=True)
class VehicleType:
    """A vehicle type: capacity, speed cap, automation level, energy.

    ``automation_level``: 0 = human driver; 2 = SAE Level 2 with an operator on board;
    4 = Level 4, remote supervision. Takeover/sudden-stop rates are per vehicle-km in clear
    weather and are multiplied by the weather state's multipliers. Rates and energy figures
    that are not in the facts file are *assumed* and the scenario file says so.
    """

    name: str
    capacity: int
    powertrain: Powertrain = "diesel"
    cruise_speed_kph: float | None = None  # cap on road speeds; None = follow road speeds
    automation_level: int = 0
    energy_kwh_per_km: float = 0.0  # EV consumption at the wheel incl. auxiliaries
    fuel_l_per_km: float = 0.0  # diesel consumption
    battery_kwh: float | None = None  # EV usable battery; None = not tracked
    takeover_rate_per_km: float = 0.0  # manual takeovers (AV only)
    takeover_penalty_s: float = 0.0  # time lost per takeover
    sudden_stop_rate_per_km: float = 0.0  # unplanned hard stops (AV only)
    sudden_stop_penalty_s: float = 0.0

    @property
    def is_autonomous(self) -> bool:
        return self.automation_level >= 2


@dataclass(frozen=True)
class Stop:
    """A boarding point snapped to the road graph (``node`` is the TravelTimes index)."""

    stop_id: str
    name: str
    lat: float
    lon: float
    node: int
    snap_m: float = 0.0


@dataclass(frozen=True)
class TripSchedule:
    """One timetabled vehicle trip (from GTFS or a synthetic line).

    ``leg_time_s[k]``/``leg_dist_m[k]`` are the base (free-flow, speed-capped for the vehicle
    type) travel time and road distance from ``stop_ids[k]`` to ``stop_ids[k+1]``; the simulator
    applies time-of-day, weather and random variation on top.
    """

    trip_id: str
    route_id: str
    route_name: str
    direction_id: int
    vehicle_type: str
    stop_ids: tuple[str, ...]
    arr_s: tuple[float, ...]
    dep_s: tuple[float, ...]
    timepoint: tuple[bool, ...]
    leg_time_s: tuple[float, ...]
    leg_dist_m: tuple[float, ...]
    block_id: str | None = None  # trips of one block run on one vehicle, in dep order

    def __post_init__(self) -> None:
        n = len(self.stop_ids)
        if not (len(self.arr_s) == len(self.dep_s) == len(self.timepoint) == n):
            raise ValueError(f"trip {self.trip_id}: per-stop tuples must have length {n}")
        if not (len(self.leg_time_s) == len(self.leg_dist_m) == n - 1):
            raise ValueError(f"trip {self.trip_id}: per-leg tuples must have length {n - 1}")


@dataclass(frozen=True)
class Access:
    """A walk between a point and a stop (or between two stops, for transfers)."""

    stop_id: str
    walk_s: float
    walk_m: float


@dataclass(frozen=True)
class Request:
    """One person-trip: where and when a traveller wants to go.

    ``access``/``egress`` list the stops reachable on foot from origin/destination within
    the scenario's walking limit. ``mode`` is the chosen mode ("pt" for timetabled lines;
    later items add "drt", "car", "walk", ...). A request with ``origin_stop``/``dest_stop``
    set starts/ends at a stop (stop-to-stop demand) and has zero access/egress walks.
    """

    request_id: str
    depart_s: float
    o_lat: float
    o_lon: float
    d_lat: float
    d_lon: float
    access: tuple[Access, ...]
    egress: tuple[Access, ...]
    direct_walk_s: float = float("inf")
    mode: str = "pt"
    purpose: str = ""
    pax_class: str = "adult"


WEATHER_STATES = ("clear", "rain", "snowfall", "heavy_snowfall", "snow_piles")


@dataclass(frozen=True)
class WeatherState:
    """Effect of one weather state on operations (defaults are assumed, see scenario docs)."""

    name: str
    speed_factor: float = 1.0  # multiplies travel times' speeds (0.8 = 20% slower)
    takeover_multiplier: float = 1.0
    sudden_stop_multiplier: float = 1.0
    suspend_autonomous: bool = False  # AV service suspended (as 上士幌町 does in snowfall)
    ev_energy_factor: float = 1.0  # multiplies EV kWh/km (heating in winter); 1.0 = none


def trip_suspended(trip: TripSchedule, vtype: VehicleType,
                   weather_by_hour: Sequence[WeatherState]) -> bool:
    """A timetabled trip of an autonomous vehicle type whose scheduled first departure falls
    in an hour whose weather has ``suspend_autonomous``: not run (the simulator cancels it)
    and not offered in mode choice (the suspension is announced; :mod:`tomakomai_maas.demand.
    los`)."""
    return bool(vtype.is_autonomous
                and weather_by_hour[int(trip.dep_s[0] // 3600) % 24].suspend_autonomous)


@dataclass(frozen=True)
class OpsParams:
    """Operating rules for timetabled lines."""

    dwell_fixed_s: float = 10.0
    dwell_per_boarding_s: float = 3.0
    dwell_per_alighting_s: float = 2.0
    holding: bool = True  # never depart a timepoint before its scheduled time
    on_time_early_s: float = 60.0  # on time = from 1 min early ...
    on_time_late_s: float = 300.0  # ... to 5 min late
    patience_s: float = 1800.0  # a left-behind passenger gives up after this wait in total
    speed_factor_by_hour: tuple[float, ...] = (1.0,) * 24  # multiplies speeds by hour of day
    link_time_cv: float = 0.0  # coefficient of variation of leg times (lognormal), 0 = none


@dataclass(frozen=True)
class JourneyParams:
    """Generalised-cost weights of the journey planner (minutes-equivalent per minute)."""

    walk_speed_mps: float = 1.2
    max_walk_m: float = 800.0
    max_transfers: int = 2
    walk_weight: float = 2.0
    wait_weight: float = 2.0
    ivt_weight: float = 1.0
    transfer_penalty_s: float = 300.0
    max_transfer_walk_m: float = 400.0


@dataclass(frozen=True)
class EnergyParams:
    """Emission factors (assumed defaults; the scenario file can override)."""

    grid_kg_co2_per_kwh: float = 0.55  # assumed; Hokkaido grid order of magnitude
    diesel_kg_co2_per_l: float = 2.58  # assumed; typical tank-to-wheel diesel factor


@dataclass(frozen=True)
class World:
    """Everything a simulation needs, validated and snapped.

    ``sample_requests(rng)`` draws one replication's demand from the demand stream; it must be
    a pure function of the generator (common random numbers across scenarios that share
    demand settings).

    ``drt`` is the on-demand service, a :class:`tomakomai_maas.drt_world.DrtService` (fleet,
    area, hours, booking rules, fares, limits, policies, its own demand), or ``None`` when
    the scenario has no ``drt:`` section. Requests with ``mode == "drt"`` are simulated by it
    (and logged as ``skipped`` when it is ``None``). Planning-level readers (e.g. the DRT
    level-of-service estimate) may use its ``max_wait_min``, ``max_detour_factor``,
    ``fare_yen``, ``start_s``/``end_s`` and ``service_hours_s``.
    """

    name: str
    start_s: float
    end_s: float
    stops: Mapping[str, Stop]
    trips: tuple[TripSchedule, ...]
    vehicle_types: Mapping[str, VehicleType]
    sample_requests: Callable[[np.random.Generator], list[Request]]
    transfers: Mapping[str, tuple[Access, ...]] = field(default_factory=dict)
    weather_by_hour: tuple[WeatherState, ...] = (WeatherState("clear"),) * 24
    ops: OpsParams = OpsParams()
    journey: JourneyParams = JourneyParams()
    energy: EnergyParams = EnergyParams()
    drt: DrtService | None = None  # the on-demand service (tomakomai_maas.drt_world), or None
    extras: Mapping[str, Any] = field(default_factory=dict)

    def weather_at(self, t_s: float) -> WeatherState:
        return self.weather_by_hour[int(t_s // 3600) % 24]
