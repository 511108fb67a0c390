"""Scenario schema of the on-demand (DRT) service section ``drt:``.

Owned by the DRT work; imported by :mod:`tomakomai_maas.scenario.schema`. Units are in field
names; times of day ``"HH:MM[:SS]"``; a *place* is a landmark key of the network's
``landmarks.csv`` (e.g. ``numanohata_station``) or ``[lat, lon]``. Policy names are checked
against the dispatch registries when the scenario is built (the message lists the valid
names). Numbers that are not published facts must be marked *assumed* in the scenario file.

Example (あいとまタクシー-like)::

    drt:
      name: aitoma
      mode: door_to_door
      area: [[42.676, 141.686], [42.676, 141.702], [42.628, 141.756], [42.626, 141.718]]
      service_hours: [["08:30", "11:30"], ["15:00", "17:00"]]
      fleet:
        - {id: car, count: 2, vehicle_type: drt_sedan, depot: numanohata_station,
           shift: ["08:15", "11:45"]}
      booking: {prebooked_share: 1.0, min_lead_h: 1, max_lead_h: 72, lead_h: [1, 24]}
      constraints: {max_wait_min: 20, detour_alpha: 1.5, detour_beta_min: 10}
      fares_yen: {adult: 500, child: 250, senior_pass: 100, disability: 250}
      demand:
        - {origin: seicomart_yufutsu, destination: numanohata_station, per_hour: 1.0}
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "DrtConfig",
    "DrtFleetConfig",
    "DrtVirtualStopsConfig",
    "DrtBookingConfig",
    "DrtConstraintsConfig",
    "DrtDispatchConfig",
    "DrtRebalancingConfig",
    "DrtFeederConfig",
    "DRT_COSTS_REMOVED",
    "DrtChargingConfig",
    "DrtDemandItem",
]

_TIME = r"^\d{1,2}:[0-5]\d(:[0-5]\d)?$"
TimeOfDay = Annotated[str, Field(pattern=_TIME)]
Place = str | tuple[float, float]
Window = tuple[TimeOfDay, TimeOfDay]


def _t(value: str) -> float:
    """``"HH:MM[:SS]"`` → seconds (the pattern is checked by the field type)."""
    parts = [int(x) for x in str(value).split(":")]
    return float(parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0))


def _check_windows(windows: list[tuple[str, str]], what: str) -> None:
    spans = sorted((_t(a), _t(b)) for a, b in windows)
    for a, b in spans:
        if b <= a:
            raise ValueError(f"{what}: window ends at or before it starts ({a:g} s >= {b:g} s)")
    for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False):
        if a2 < b1:
            raise ValueError(f"{what}: windows overlap")


def _check_shares(v: dict[str, float]) -> None:
    if not v or any(s < 0 for s in v.values()) or not math.isclose(sum(v.values()), 1.0,
                                                                     abs_tol=1e-6):
        raise ValueError("class shares must be >= 0 and sum to 1")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class DrtFleetConfig(_Model):
    """A group of identical vehicles (ids ``<id>1..<id>N`` when ``count > 1``, else ``<id>``)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Vehicle id (prefix).")
    count: int = Field(1, ge=1, le=10_000)
    vehicle_type: str = Field("drt_sedan", description="A key of vehicle_types or a preset "
                              "(driver or autonomous, EV or not: energy/CO2 as for buses).")
    capacity: int | None = Field(None, ge=1, le=300, description="Seats for passengers "
                                 "(default: the vehicle type's capacity).")
    depot: Place = Field(description="Landmark key or [lat, lon]; vehicles start and end "
                         "their shift here.")
    shift: Window | None = Field(None, description="[start, end] of the shift (default: first "
                                 "service-hours start to last end). A car working two shifts "
                                 "is two fleet entries.")


class DrtVirtualStopsConfig(_Model):
    """Pick-up/drop-off points of a stop-based service: listed and/or on a grid in the area."""

    points: list[Place] = Field(default_factory=list, description="Landmark keys or [lat, lon].")
    grid_m: float | None = Field(None, gt=20, le=5000, description="Also place a stop every "
                                 "grid_m metres inside the area (snapped to the road).")
    max_walk_m: float = Field(300.0, gt=0, le=3000, description="Longest walk from the origin "
                              "to / from the destination to a virtual stop.")


class DrtBookingConfig(_Model):
    """Immediate and pre-booked requests (あいとまタクシー: 3 business days to 1 h before)."""

    prebooked_share: float = Field(0.0, ge=0, le=1, description="Share of trips booked ahead "
                                   "(drawn per trip).")
    min_lead_h: float = Field(0.0, ge=0, description="Pre-booked trips must be booked at least "
                              "this long before the pick-up (else rejected: outside_hours).")
    max_lead_h: float | None = Field(None, gt=0, description="... and at most this long "
                                     "before (None = no limit).")
    lead_h: tuple[float, float] | None = Field(
        None, description="Range of the lead times drawn for pre-booked trips (uniform; "
        "default [min_lead_h, min(max_lead_h, 24)]).")
    cancel_share: float = Field(0.0, ge=0, le=1, description="Share of accepted pre-booked "
                                "trips the rider cancels before pick-up.")

    @model_validator(mode="after")
    def _leads(self) -> DrtBookingConfig:
        if self.max_lead_h is not None and self.max_lead_h < self.min_lead_h:
            raise ValueError("max_lead_h must be >= min_lead_h")
        if self.lead_h is not None and not 0 <= self.lead_h[0] <= self.lead_h[1]:
            raise ValueError("lead_h must be [low, high] with 0 <= low <= high")
        return self

    def lead_range_h(self) -> tuple[float, float]:
        if self.lead_h is not None:
            return self.lead_h
        hi = 24.0 if self.max_lead_h is None else min(self.max_lead_h, 24.0)
        return self.min_lead_h, max(hi, self.min_lead_h)


class DrtConstraintsConfig(_Model):
    """Service quality limits the dispatcher must keep for every accepted trip."""

    max_wait_min: float = Field(15.0, gt=0, le=240, description="Latest pick-up = requested "
                                "pick-up + max wait.")
    detour_alpha: float = Field(1.5, ge=1, le=10, description="Max ride time = alpha × direct "
                                "drive + beta.")
    detour_beta_min: float = Field(5.0, ge=0, le=240)
    max_arrival_delay_min: float | None = Field(
        None, gt=0, description="Latest drop-off = requested pick-up + direct drive + this "
        "(None = no drop-off window beyond max wait and max ride).")
    board_s: float = Field(30.0, ge=0, le=600, description="Service time at a pick-up.")
    alight_s: float = Field(30.0, ge=0, le=600, description="Service time at a drop-off.")
    shift_end_at_depot: bool = Field(True, description="Plans must leave time to drive back "
                                     "to the depot by the shift end; vehicles go there after "
                                     "it.")


class DrtDispatchConfig(_Model):
    """Dispatch policy by name (``insertion``, ``batch_lsa``; see tomakomai_maas.dispatch)."""

    policy: str = "insertion"
    batch_interval_s: float = Field(30.0, gt=0, le=3600, description="batch_lsa: requests are "
                                    "collected this long, then assigned together.")
    wait_weight: float = Field(0.0, ge=0, description="Cost weight of the new rider's wait "
                               "(the default objective is added driving time only).")
    ride_weight: float = Field(0.0, ge=0, description="Cost weight of the new rider's ride.")
    speed_forecast: Literal["profile", "at_dispatch"] = Field(
        "profile", description="Travel times the dispatcher plans with: 'profile' = the day's "
        "hourly x weather speed factors, as the vehicles then drive (promises hold); "
        "'at_dispatch' = the factor in force when it dispatches, for the whole plan (a "
        "dispatcher without a forecast: lateness when the factor changes is recorded).")


class DrtRebalancingConfig(_Model):
    """Repositioning of idle vehicles by name (``none``, ``zone_deficit``)."""

    policy: str = "none"
    interval_min: float = Field(5.0, gt=0, le=240)
    lookback_min: float = Field(30.0, gt=0, le=1440, description="Expected demand per zone = "
                                "pick-ups requested in the last lookback_min.")
    zone_size_m: float = Field(1000.0, gt=50, le=20_000, description="Side of the square "
                               "rebalancing zones laid over the area.")
    max_move_min: float | None = Field(None, gt=0, description="Longest repositioning drive.")


class DrtFeederConfig(_Model):
    """Feeder rules (used when ``drt.feeder`` is true): DRT to a timetabled stop from an
    origin in the area (first mile) or from a stop to a destination in the area (last mile)
    when walking is too long; see tomakomai_maas.drt_world.FeederParams."""

    transfer_stops: list[str] | None = Field(None, description="Timetabled stop ids where DRT "
                                             "riders may transfer (default: every stop of the "
                                             "lines inside the area).")
    min_access_walk_m: float = Field(400.0, ge=0, description="Offer the feeder when the "
                                     "itinerary's access (first mile) or egress (last mile) "
                                     "walk is longer (or there is no itinerary).")
    buffer_min: float = Field(3.0, ge=0, le=60, description="Transfer buffer before the "
                              "planned departure.")
    assumed_wait_min: float | None = Field(None, ge=0, description="Expected DRT wait used to "
                                           "plan the connection (default: max_wait_min / 2).")


#: The error for the removed ``drt.costs`` section (DRT is costed by the cost model only).
DRT_COSTS_REMOVED = (
    "drt.costs was removed: DRT vehicles are costed by the scenario's cost model, section "
    "'cost:' (one source of truth, so drt.cost_yen equals cost_total_yen.drt). Set staff "
    "rates with cost.driver_yen_per_hour / cost.operator_yen_per_hour / "
    "cost.remote_supervisor_yen_per_hour and cost.l4_vehicles_per_remote_supervisor, energy "
    "prices with cost.diesel_yen_per_l / cost.electricity_yen_per_kwh, and vehicle costs "
    "(purchase_price_yen, life_years, maintenance_yen_per_km, depot_yen_per_vehicle_day, "
    "system_fee_yen_per_vehicle_day) with cost.vehicles.<vehicle type name or cost class: "
    "car, av_shuttle, ev_bus, diesel_bus>")


class DrtChargingConfig(_Model):
    """Battery rules of electric DRT vehicles (types with battery_kwh); all defaults ASSUMED
    (see tomakomai_maas.drt_world.ChargingParams)."""

    reserve_soc: float = Field(0.15, ge=0, lt=1, description="No work that would take the "
                               "battery (with the drive back to the depot) below this state "
                               "of charge.")
    return_below_soc: float = Field(0.3, ge=0, le=1, description="An idle vehicle below this "
                                    "state of charge drives to its depot to charge.")
    power_kw: float = Field(6.0, gt=0, le=500, description="Charging power at the depot; "
                            "on-shift vehicles charge whenever they stand there.")


class DrtDemandItem(_Model):
    """Poisson DRT trips between two places in each window (default: the service hours)."""

    origin: Place
    destination: Place
    per_hour: float | None = Field(None, gt=0)
    per_day: float | None = Field(None, gt=0, description="Spread evenly over the windows.")
    windows: list[Window] | None = None
    prebooked_share: float | None = Field(None, ge=0, le=1, description="Default: "
                                          "booking.prebooked_share.")
    pax_classes: dict[str, float] | None = Field(None, description="Class mix (default: "
                                                 "drt.pax_classes).")
    label: str = Field("", description="Trip purpose written to the tables.")

    @model_validator(mode="after")
    def _rate(self) -> DrtDemandItem:
        if (self.per_hour is None) == (self.per_day is None):
            raise ValueError("give exactly one of per_hour or per_day")
        if self.windows is not None:
            _check_windows(self.windows, "windows")
        if self.pax_classes is not None:
            _check_shares(self.pax_classes)
        return self


class DrtConfig(_Model):
    """On-demand (DRT) service: fleet, area, mode, hours, booking, fares, limits, policies."""

    name: str = Field("drt", pattern=r"^[A-Za-z0-9_.-]+$")
    mode: Literal["door_to_door", "stop_based"] = "door_to_door"
    area: list[tuple[float, float]] | None = Field(
        None, description="Service area polygon as [lat, lon] points (None: the whole network).")
    virtual_stops: DrtVirtualStopsConfig = DrtVirtualStopsConfig()
    service_hours: list[Window] = Field(
        default_factory=lambda: [("00:00", "24:00")], description="Windows in which pick-ups "
        "may be requested, e.g. [[08:30, 11:30], [15:00, 17:00]].")
    fleet: list[DrtFleetConfig] = Field(min_length=1)
    speed_factor: float = Field(1.0, gt=0, le=2, description="Multiplies the vehicles' road "
                                "speeds (one travel-time table for the whole fleet).")
    booking: DrtBookingConfig = DrtBookingConfig()
    constraints: DrtConstraintsConfig = DrtConstraintsConfig()
    dispatch: DrtDispatchConfig = DrtDispatchConfig()
    rebalancing: DrtRebalancingConfig = DrtRebalancingConfig()
    idle_policy: str = Field("stay", description="stay | return_to_depot")
    fares_yen: dict[str, float] = Field(default_factory=lambda: {"adult": 0.0},
                                        description="Fare per passenger and class; unknown "
                                        "classes pay the adult fare.")
    pax_classes: dict[str, float] = Field(default_factory=lambda: {"adult": 1.0},
                                          description="Class mix of the drt demand items.")
    charging: DrtChargingConfig = DrtChargingConfig()
    feeder: bool = Field(False, description="Offer DRT as a first/last-mile feeder to "
                         "timetabled lines (see feeder_rules).")
    feeder_rules: DrtFeederConfig = DrtFeederConfig()
    demand: list[DrtDemandItem] = Field(default_factory=list, description="The service's own "
                                        "Poisson demand (requests with mode 'drt' from the "
                                        "scenario's demand are simulated too).")

    @model_validator(mode="before")
    @classmethod
    def _no_costs(cls, data: Any) -> Any:
        if isinstance(data, dict) and "costs" in data:
            raise ValueError(DRT_COSTS_REMOVED)
        return data

    @field_validator("area")
    @classmethod
    def _area(cls, v: list[tuple[float, float]] | None) -> list[tuple[float, float]] | None:
        if v is None:
            return v
        if len(v) < 3:
            raise ValueError(f"a polygon needs at least 3 [lat, lon] points, got {len(v)}")
        for lat, lon in v:
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"[{lat}, {lon}] is not a [lat, lon] point")
        return v

    @field_validator("service_hours")
    @classmethod
    def _hours(cls, v: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if not v:
            raise ValueError("give at least one window")
        _check_windows(v, "service_hours")
        return v

    @field_validator("fares_yen")
    @classmethod
    def _fares(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: f for k, f in v.items() if not (math.isfinite(f) and f >= 0)}
        if bad:
            raise ValueError(f"fares must be >= 0: {bad}")
        if "adult" not in v:
            raise ValueError("fares_yen needs an 'adult' fare (the default class)")
        return v

    @field_validator("pax_classes")
    @classmethod
    def _classes(cls, v: dict[str, float]) -> dict[str, float]:
        _check_shares(v)
        return v

    # -- read by demand.los (planning-level DRT level of service) ---------------------------
    @property
    def max_wait_min(self) -> float:
        return self.constraints.max_wait_min

    @property
    def max_detour_factor(self) -> float:
        return self.constraints.detour_alpha

    @property
    def fare_yen(self) -> float:
        return float(self.fares_yen.get("adult", 0.0))

    @property
    def start_time(self) -> str:
        return min((a for a, _ in self.service_hours), key=_t)

    @property
    def end_time(self) -> str:
        return max((b for _, b in self.service_hours), key=_t)
