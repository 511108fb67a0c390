"""Scenario schema of generated demand and MaaS mode choice (``demand.generated``, ``maas``).

Owned by the demand & MaaS work; imported by :mod:`tomakomai_maas.scenario.schema`.

``demand.generated`` draws one service day of person-trips from a zone system (trip rates
by purpose and age band, hourly profiles, weekday/weekend and winter factors, events) with
destinations chosen on road-network travel times; ``maas`` sets the multinomial-logit mode
choice over walk, car, fixed bus, autonomous bus, DRT (bike optional), the MaaS levers and
the choice <-> supply feedback loop. The library side is :mod:`tomakomai_maas.demand`; every
default below is **assumed** unless its description cites ``docs/tomakomai_facts.md``
(see ``docs/calibration.md`` for the calibrated values the shipped scenarios use).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

__all__ = [
    "GeneratedDemandConfig",
    "PurposeConfig",
    "CarAvailabilityConfig",
    "EventConfig",
    "PlaceConfig",
    "MaasConfig",
    "ChoiceConfig",
    "FreeFarePeriod",
    "CarCostConfig",
    "CHOICE_MODES",
    "PURPOSE_NAMES",
]

#: Modes of the choice model (same order as :data:`tomakomai_maas.demand.choice.MODES`).
CHOICE_MODES: tuple[str, ...] = ("walk", "bike", "car_driver", "car_passenger", "bus",
                                 "av_bus", "drt")
#: Trip purposes with built-in defaults (:data:`tomakomai_maas.demand.generation.PURPOSES`).
PURPOSE_NAMES: tuple[str, ...] = ("commute", "school", "shopping", "hospital", "leisure",
                                  "tourism")
_ZONE_COLUMNS = ("jobs", "retail", "hospital", "station", "port_market", "city_hall", "school",
                 "pop_total", "households")

ModeName = Literal["walk", "bike", "car_driver", "car_passenger", "bus", "av_bus", "drt"]
TimeOfDay = Annotated[str, Field(pattern=r"^\d{1,2}:[0-5]\d(:[0-5]\d)?$")]
_TIME_RE = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")


def _time_s(value: str) -> float:
    m = _TIME_RE.match(value)
    if not m:  # pragma: no cover - the field pattern already checked it
        raise ValueError(f"time must look like 'HH:MM', got {value!r}")
    return float(int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def _check_modes(values: list[str] | dict[str, float], field: str) -> None:
    bad = [m for m in values if m not in CHOICE_MODES]
    if bad:
        raise ValueError(f"{field}: unknown mode(s) {bad}; allowed: {list(CHOICE_MODES)}")


# ----------------------------------------------------------------------------- demand
class PurposeConfig(_Model):
    """Override the built-in defaults of one trip purpose (``None`` keeps the default).

    Defaults are in :data:`tomakomai_maas.demand.generation.DEFAULT_PURPOSES` (all assumed:
    Tomakomai is not in the 道央 person-trip survey, facts §4)."""

    rates: list[float] | None = Field(
        None, description="One-way trips per resident per weekday for age bands 0-14, 15-64, "
        "65+ (three values).")
    visitor_trips_per_day: float | None = Field(None, ge=0)
    weekend_factor: float | None = Field(None, ge=0)
    winter_factor: float | None = Field(None, ge=0)
    beta_time_per_min: float | None = Field(None, le=0, description="Destination-choice "
                                            "sensitivity to travel time (utility/min).")
    return_share: float | None = Field(None, ge=0, le=1)
    enabled: bool = Field(True, description="false drops the purpose.")

    @field_validator("rates")
    @classmethod
    def _rates(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and (len(v) != 3 or any(not r >= 0 for r in v)):
            raise ValueError(f"need 3 non-negative rates (age bands 0-14, 15-64, 65+), got {v}")
        return v


class CarAvailabilityConfig(_Model):
    """Car access by age band 0-14, 15-64, 65+ (probabilities; all assumed, see
    :class:`tomakomai_maas.demand.generation.CarAvailability`)."""

    household_car_prob: list[float] = Field(default_factory=lambda: [0.85, 0.85, 0.70])
    licence_prob: list[float] = Field(default_factory=lambda: [0.0, 0.80, 0.55])
    visitor_car_prob: float = Field(0.30, ge=0, le=1)
    visitor_licence_prob: float = Field(0.80, ge=0, le=1)

    @field_validator("household_car_prob", "licence_prob")
    @classmethod
    def _three(cls, v: list[float]) -> list[float]:
        if len(v) != 3 or any(not 0 <= p <= 1 for p in v):
            raise ValueError(f"need 3 probabilities in [0, 1] (age bands 0-14, 15-64, 65+), "
                             f"got {v}")
        return v


class PlaceConfig(_Model):
    """A point: a landmark key of the embedded network (``place:``) or ``lat``/``lon``."""

    name: str = ""
    place: str | None = Field(None, description="Key of network/data/landmarks.csv, e.g. "
                              "'kirakira_park'.")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)

    @model_validator(mode="after")
    def _one(self) -> PlaceConfig:
        has_ll = self.lat is not None and self.lon is not None
        if self.place is None and not has_ll:
            raise ValueError("give 'place' (a landmark key) or both 'lat' and 'lon'")
        if self.place is not None and (self.lat is not None or self.lon is not None):
            raise ValueError("give either 'place' or 'lat'/'lon', not both")
        return self


class EventConfig(_Model):
    """Trips to and from an event (e.g. TOMAKOMAI MIRAI FEST at キラキラ公園, facts §1.1).

    Attendees come from the zones (gravity on ``origin_column`` and network time), arrive in
    the hours before ``start_time`` (``arrive_shares``, last hour first) and leave in the
    hours after ``end_time`` (``depart_shares``). With ``parking``, attendees who choose a
    car park there and make a *last-mile* trip between the car park and the venue (walk or
    a shuttle line), which is itself a mode choice.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    place: str | None = Field(None, description="Landmark key of the venue.")
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    start_time: TimeOfDay
    end_time: TimeOfDay
    attendance: float = Field(ge=0, description="Expected attendees making a modelled trip "
                              "(Poisson). Say in the scenario where the number comes from.")
    arrive_shares: list[float] = Field(default_factory=lambda: [0.6, 0.3, 0.1])
    depart_shares: list[float] = Field(default_factory=lambda: [0.7, 0.2, 0.1])
    beta_time_per_min: float = Field(-0.05, le=0)
    origin_column: str = "pop_total"
    purpose: str = "leisure"
    parking: PlaceConfig | None = Field(None, description="Car park of the event (last-mile "
                                        "trips to the venue).")
    parking_share: float = Field(1.0, ge=0, le=1, description="Share of the attendees who "
                                 "come by car that use ``parking`` (the rest park at the "
                                 "venue and make no last-mile trip).")

    @model_validator(mode="after")
    def _check(self) -> EventConfig:
        if self.place is None and (self.lat is None or self.lon is None):
            raise ValueError("give 'place' (a landmark key) or both 'lat' and 'lon'")
        if self.place is not None and (self.lat is not None or self.lon is not None):
            raise ValueError("give either 'place' or 'lat'/'lon', not both")
        if _time_s(self.end_time) < _time_s(self.start_time):
            raise ValueError(f"end_time {self.end_time} is before start_time {self.start_time}")
        for nm in ("arrive_shares", "depart_shares"):
            sh = getattr(self, nm)
            if any(not s >= 0 for s in sh) or sum(sh) > 1 + 1e-9:
                raise ValueError(f"{nm}: {sh}: shares must be >= 0 and sum to <= 1")
        if self.origin_column not in _ZONE_COLUMNS:
            raise ValueError(f"origin_column: unknown zone column {self.origin_column!r}; "
                             f"allowed: {list(_ZONE_COLUMNS)}")
        return self


class GeneratedDemandConfig(_Model):
    """Zone-based generated demand: generation, destination choice, then mode choice (``maas``).

    Every generated traveller becomes a request whose ``mode`` is the chosen mode: ``pt``
    (fixed or autonomous bus), ``drt``, ``walk``, or a mode the simulator only counts
    (``car_driver``, ``car_passenger``, ``bike``).
    """

    zones_file: Path | None = Field(
        None, description="Zone file (.csv with lat/lon or .geojson), relative to the scenario "
        "file; default: the embedded central-Tomakomai zones (demand/data/README.md).")
    keep_zones: list[str] | None = Field(
        None, description="Study area: keep only trips whose origin AND destination zones are "
        "listed (trips are still generated over all zones, so destination choice is not "
        "distorted). Default: all zones.")
    day_type: Literal["auto", "weekday", "weekend"] = Field(
        "auto", description="'auto': weekend when service.day_type is saturday or holiday.")
    winter: bool | None = Field(
        None, description="Winter trip rates and winter choice effects. Default (null): winter "
        "when the service date is in December-March (snow season, facts §5) or the day's "
        "weather is snowfall, heavy_snowfall or snow_piles.")
    rate_scale: float = Field(1.0, ge=0, description="Multiplies every trip rate, visitor and "
                              "event volume (times demand.scale).")
    points: Literal["disc", "centroid"] = "disc"
    purposes: dict[str, PurposeConfig] = Field(
        default_factory=dict, description="Overrides of the built-in purposes: " +
        ", ".join(PURPOSE_NAMES))
    car_availability: CarAvailabilityConfig = CarAvailabilityConfig()
    events: list[EventConfig] = Field(default_factory=list)
    max_snap_m: float = Field(
        1500.0, gt=0, description="A zone centroid farther than this from the walk network is "
        "a build problem; a sampled trip end farther than this is dropped (and counted). The "
        "distance to the nearest node is walked.")
    intrazonal_factor: float = Field(
        0.5, gt=0, le=1, description="Intrazonal time = factor x time to the nearest other zone "
        "(a common convention; assumed).")
    connector_speed_kph: float = Field(
        15.0, gt=0, description="Speed on the connector from a zone centroid to its road node "
        "(zone-to-zone times for destination choice; assumed).")
    timetable_headway_min: float = Field(
        15.0, ge=0, description="Riders of a line whose scheduled gap at their stop exceeds "
        "this know the timetable: they reach the stop up to arrival_margin_min before the "
        "departure; the rest of the gap is schedule delay, not waiting (assumed).")
    arrival_margin_min: float = Field(5.0, ge=0, le=60)

    @field_validator("purposes")
    @classmethod
    def _purpose_names(cls, v: dict[str, PurposeConfig]) -> dict[str, PurposeConfig]:
        bad = [k for k in v if k not in PURPOSE_NAMES]
        if bad:
            raise ValueError(f"unknown purpose(s) {bad}; allowed: {list(PURPOSE_NAMES)}")
        return v

    @field_validator("events")
    @classmethod
    def _event_names(cls, v: list[EventConfig]) -> list[EventConfig]:
        names = [e.name for e in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate event name(s) {dup}")
        return v


# ----------------------------------------------------------------------------- MaaS
def _default_asc() -> dict[str, float]:
    # assumed starting values; bus is calibrated (docs/calibration.md)
    return {"walk": 0.0, "bike": -1.0, "car_driver": 0.5, "car_passenger": -0.5,
            "bus": -0.6, "drt": -0.8}


def _default_ivt_weight() -> dict[str, float]:
    return {"walk": 1.0, "bike": 1.5, "car_driver": 1.0, "car_passenger": 1.0, "bus": 1.0,
            "av_bus": 1.0, "drt": 1.0}


def _default_winter_asc() -> dict[str, float]:
    return {"walk": -0.3, "bike": -2.5}


class ChoiceConfig(_Model):
    """Coefficients of the multinomial logit (all **assumed** orders of magnitude, see
    :class:`tomakomai_maas.demand.choice.ChoiceParams`; constants calibrated where stated)."""

    beta_gc_per_min: float = Field(-0.06, le=0)
    value_of_time_yen_per_min: float = Field(25.0, gt=0)
    walk_weight: float = Field(2.0, ge=0)
    wait_weight: float = Field(2.0, ge=0)
    transfer_penalty_min: float = Field(5.0, ge=0)
    reliability_weight: float = Field(0.8, ge=0)
    winter_walk_factor: float = Field(1.5, ge=0)
    winter_wait_factor: float = Field(1.3, ge=0)
    schedule_delay_weight: float = Field(
        0.5, ge=0, description="Generalised minutes per minute of schedule delay (the part of "
        "a timetable gap not spent at the stop; assumed).")
    asc: dict[str, float] = Field(
        default_factory=_default_asc, description="Alternative-specific constants (walk = 0). "
        "av_bus defaults to the bus constant: the AV premium is maas.av_constant.")
    ivt_weight: dict[str, float] = Field(default_factory=_default_ivt_weight)
    winter_asc: dict[str, float] = Field(default_factory=_default_winter_asc)

    @field_validator("asc", "ivt_weight", "winter_asc")
    @classmethod
    def _modes(cls, v: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        _check_modes(v, "keys")
        # a partial mapping (e.g. --set maas.choice.asc.bus=-1) keeps the other defaults
        defaults = {"asc": _default_asc, "ivt_weight": _default_ivt_weight,
                    "winter_asc": _default_winter_asc}[info.field_name]()
        return {**defaults, **v}


class FreeFarePeriod(_Model):
    """A time window in which ``modes`` cost nothing (e.g. a free-fare campaign)."""

    start_time: TimeOfDay
    end_time: TimeOfDay
    modes: list[ModeName] = Field(default_factory=lambda: ["bus", "av_bus", "drt"])

    @model_validator(mode="after")
    def _order(self) -> FreeFarePeriod:
        if _time_s(self.end_time) <= _time_s(self.start_time):
            raise ValueError(f"end_time {self.end_time} must be after start_time "
                             f"{self.start_time}")
        return self


class CarCostConfig(_Model):
    """Level of service of the car (all **assumed**; no Tomakomai data, facts §4)."""

    access_min: float = Field(3.0, ge=0, description="Walking to/from the parked car, "
                              "minutes per trip.")
    cost_yen_per_km: float = Field(15.0, ge=0, description="Out-of-pocket running cost "
                                   "(fuel) charged to the driver.")
    parking_yen: dict[str, float] = Field(default_factory=dict,
                                          description="Parking charge by destination zone id "
                                          "(default 0: free parking is common).")
    reliability_sd_share: float = Field(0.1, ge=0, description="SD of car travel time as a "
                                        "share of the drive time.")


class MaasConfig(_Model):
    """MaaS levers, mode-choice coefficients and the choice <-> supply feedback loop.

    Modes available to a traveller = ``modes`` ∩ what the scenario's supply offers: ``bus``
    needs a timetabled line run by a human-driven vehicle with stops within walking distance
    of both trip ends, ``av_bus`` the same with an autonomous vehicle (automation level >= 2),
    ``drt`` a ``drt:`` section, car modes a car (and licence) in the household.
    """

    modes: list[ModeName] = Field(
        default_factory=lambda: ["walk", "car_driver", "car_passenger", "bus", "av_bus",
                                 "drt"],
        description="Modes in the choice set (add 'bike' to model cycling).")
    av_constant: float = Field(
        0.0, description="Autonomous-bus constant (novelty/comfort premium over the bus "
        "constant, utility units). Calibrated to the 2023 trial ridership: see "
        "docs/calibration.md.")
    fare_discount_share: float = Field(0.0, ge=0, le=1, description="Integrated ticket / "
                                       "subscription: share of the fare removed on maas_modes.")
    transfer_penalty_reduction: float = Field(0.0, ge=0, le=1, description="Integrated ticket:"
                                              " share of the transfer penalty removed.")
    realtime_info: bool = Field(False, description="Real-time information on maas_modes.")
    realtime_wait_multiplier: float = Field(0.8, ge=0, le=1, description="Perceived wait "
                                            "multiplier with real-time information (assumed).")
    free_fare_modes: list[ModeName] = Field(default_factory=list,
                                            description="Modes free of charge all day.")
    free_fare_periods: list[FreeFarePeriod] = Field(default_factory=list)
    maas_modes: list[ModeName] = Field(default_factory=lambda: ["bus", "av_bus", "drt"])
    choice: ChoiceConfig = ChoiceConfig()
    car: CarCostConfig = CarCostConfig()
    bike_speed_kph: float = Field(12.0, gt=0)
    default_fare_yen: float = Field(
        230.0, ge=0, description="Deprecated, not used: the fare of a timetabled ride without fare "
        "data, in mode choice and revenue alike, is cost.fares.flat_fare_yen (230: the "
        "central 1-zone fare from 2023-12-01, facts §2.3). A value given here that differs "
        "from it is an error unless cost.fares.flat_fare_yen is given too.")
    drt_fare_yen: float = Field(
        500.0, ge=0, description="DRT fare per ride when the drt: section gives none: the adult "
        "fare of あいとまタクシー (facts §2.4).")
    choice_iterations: int = Field(0, ge=0, le=50, description="Feedback iterations: choose, "
                                   "simulate, update waits/crowding, choose again.")
    convergence_tol: float = Field(0.01, ge=0, le=1, description="Stop early when at most this "
                                   "share of the travellers with a bus, AV bus or DRT "
                                   "alternative changed mode.")
    smoothing: Literal["msa", "none"] = "msa"
    failure_penalty_min: float = Field(
        30.0, ge=0, description="Extra wait charged to a ride attempt that ended in giving up "
        "(assumed: the time to find another way).")

    @field_validator("modes")
    @classmethod
    def _walk_in(cls, v: list[str]) -> list[str]:
        if "walk" not in v:
            raise ValueError("'walk' must be in the choice set (the fallback of every "
                             "traveller)")
        if len(set(v)) != len(v):
            raise ValueError(f"duplicate modes in {v}")
        return v
