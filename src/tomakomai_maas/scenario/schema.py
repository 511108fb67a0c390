"""Typed scenario schema (pydantic v2).

A scenario file is YAML that validates against :class:`Scenario`. Units are in field names
(``*_s`` seconds, ``*_min`` minutes, ``*_m`` metres, ``*_kph`` km/h). Every field has a
documented default; unknown keys are rejected (with the nearest valid key suggested by the
loader). Paths are resolved against the scenario file's folder by the loader.

Times of day are strings ``"HH:MM"`` or ``"HH:MM:SS"`` (may exceed 24:00 as in GTFS).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tomakomai_maas.metrics.access import AccessibilityConfig
from tomakomai_maas.metrics.cost import CostConfig
from tomakomai_maas.scenario.schema_demand import GeneratedDemandConfig, MaasConfig
from tomakomai_maas.scenario.schema_drt import DrtConfig
from tomakomai_maas.world import WEATHER_STATES

log = logging.getLogger(__name__)

__all__ = [
    "Scenario",
    "NetworkConfig",
    "ServiceConfig",
    "CalendarConfig",
    "LineConfig",
    "VehicleTypeConfig",
    "OperationsConfig",
    "WeatherConfig",
    "WeatherStateConfig",
    "DemandConfig",
    "StopRateConfig",
    "JourneyConfig",
    "EnergyConfig",
    "OutputConfig",
    "parse_time_s",
    "format_time",
    "TIME_FORMAT_HELP",
]

WeatherName = Literal["clear", "rain", "snowfall", "heavy_snowfall", "snow_piles"]
assert set(WeatherName.__args__) == set(WEATHER_STATES)  # type: ignore[attr-defined]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_TIME_RE = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")


def parse_time_s(value: str) -> float:
    """``"HH:MM[:SS]"`` → seconds since midnight (hours may exceed 23, as in GTFS)."""
    m = _TIME_RE.match(str(value).strip())
    if not m:
        raise ValueError(f"time must look like 'HH:MM' or 'HH:MM:SS', got {value!r}")
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    return float(h * 3600 + mi * 60 + s)


def format_time(t_s: float) -> str:
    t = int(round(t_s))
    return f"{t // 3600:02d}:{(t % 3600) // 60:02d}:{t % 60:02d}"


def _quoted_time(v: object) -> object:
    if isinstance(v, int | float) and not isinstance(v, bool):
        raise ValueError("write times of day in quotes, e.g. '12:30' (unquoted, YAML reads "
                         "12:30 as the number 750)")
    return v


TimeOfDay = Annotated[str, BeforeValidator(_quoted_time),
                      Field(pattern=r"^\d{1,2}:[0-5]\d(:[0-5]\d)?$")]

#: What a time of day may look like (error messages; the pattern above enforces it).
TIME_FORMAT_HELP = ("HH:MM or HH:MM:SS; hours may exceed 23 for service after midnight "
                    "(as in GTFS), minutes 00-59")


def _check_after_start(end: str, info: ValidationInfo) -> None:
    """``end_time`` after ``start_time`` (reported at ``end_time``; skipped when start_time
    itself is invalid: that error is reported already)."""
    start = info.data.get("start_time")
    if start is not None and parse_time_s(end) <= parse_time_s(start):
        raise ValueError(f"must be after start_time {start!r}; times are {TIME_FORMAT_HELP}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class NetworkConfig(_Model):
    """Road network source and snapping."""

    source: str = Field(
        "embedded:tomakomai-central",
        description="'embedded:tomakomai-central', a path to an OSM XML/GraphML file, "
        "or an online place ('place:Tomakomai, Hokkaido' / 'lat,lon,radius_m').",
    )
    max_snap_m: float = Field(150.0, gt=0, description="A stop or trip end farther than this "
                              "from the nearest graph node is an error.")
    speed_factor: float = Field(1.0, gt=0, le=2, description="Multiplies all road speeds.")


class CalendarConfig(_Model):
    """Operating days of the service (used to count days; one day is simulated)."""

    start_date: dt.date
    end_date: dt.date
    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))
    exclude_dates: list[dt.date] = Field(default_factory=list)
    include_dates: list[dt.date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _order(self) -> CalendarConfig:
        if self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        return self

    def operating_days(self) -> list[dt.date]:
        days = []
        d = self.start_date
        excl = set(self.exclude_dates)
        while d <= self.end_date:
            if WEEKDAYS[d.weekday()] in self.weekdays and d not in excl:
                days.append(d)
            d += dt.timedelta(days=1)
        days.extend(x for x in self.include_dates if x not in days)
        return sorted(days)


class ServiceConfig(_Model):
    """The simulated service day and its time window."""

    date: dt.date = Field(description="Service date simulated (selects GTFS services).")
    day_type: Literal["weekday", "saturday", "holiday"] = "weekday"
    start_time: TimeOfDay = "05:00"
    end_time: TimeOfDay = "24:00"
    calendar: CalendarConfig | None = None

    @field_validator("end_time")
    @classmethod
    def _window(cls, end: str, info: ValidationInfo) -> str:
        _check_after_start(end, info)
        return end


class LineConfig(_Model):
    """Timetabled lines read from a GTFS / GTFS-JP feed."""

    gtfs: Path = Field(description="Folder or .zip of the feed (relative to the scenario file).")
    routes: list[str] | None = Field(None, description="route_ids to keep (default: all).")
    vehicle_type: str = Field(description="Vehicle type (a key of vehicle_types or a preset).")
    route_vehicle_types: dict[str, str] = Field(default_factory=dict,
                                                description="Per-route vehicle type override.")
    service_date: dt.date | None = Field(
        None, description="Date of this feed's calendar whose trips run on the simulated day "
        "(default: service.date). Lets feeds published for different periods be combined.")


class VehicleTypeConfig(_Model):
    """A vehicle type: a preset, optionally with fields overridden."""

    preset: str | None = Field(None, description="Name of a built-in preset to start from.")
    capacity: int | None = Field(None, ge=1, le=300)
    powertrain: Literal["ev", "diesel"] | None = None
    cruise_speed_kph: float | None = Field(None, gt=0, le=120)
    automation_level: Literal[0, 2, 4] | None = None
    energy_kwh_per_km: float | None = Field(None, ge=0)
    fuel_l_per_km: float | None = Field(None, ge=0)
    battery_kwh: float | None = Field(None, gt=0)
    takeover_rate_per_km: float | None = Field(None, ge=0)
    takeover_penalty_s: float | None = Field(None, ge=0)
    sudden_stop_rate_per_km: float | None = Field(None, ge=0)
    sudden_stop_penalty_s: float | None = Field(None, ge=0)


class OperationsConfig(_Model):
    """Operating rules of timetabled lines (dwell, holding, patience, speeds)."""

    dwell_fixed_s: float = Field(10.0, ge=0)
    dwell_per_boarding_s: float = Field(3.0, ge=0)
    dwell_per_alighting_s: float = Field(2.0, ge=0)
    holding: bool = True
    on_time_early_min: float = Field(1.0, ge=0)
    on_time_late_min: float = Field(5.0, ge=0)
    patience_min: float = Field(30.0, gt=0)
    speed_factor_by_hour: dict[int, float] = Field(
        default_factory=dict, description="Hour (0-23) → speed multiplier (1 = free flow).")
    link_time_cv: float = Field(0.0, ge=0, le=1)

    @field_validator("speed_factor_by_hour")
    @classmethod
    def _hours(cls, v: dict[int, float]) -> dict[int, float]:
        for h, f in v.items():
            if not 0 <= h <= 23:
                raise ValueError(f"hour {h} not in 0..23")
            if not 0 < f <= 2:
                raise ValueError(f"speed factor {f} for hour {h} not in (0, 2]")
        return v


class WeatherStateConfig(_Model):
    """Override the effect of one weather state (defaults are assumed, see docs)."""

    speed_factor: float | None = Field(None, gt=0, le=1.5)
    takeover_multiplier: float | None = Field(None, ge=0)
    sudden_stop_multiplier: float | None = Field(None, ge=0)
    suspend_autonomous: bool | None = None


class WeatherConfig(_Model):
    """Weather for the simulated day: one state for the day, optionally per hour."""

    day: WeatherName = "clear"
    hourly: dict[int, WeatherName] = Field(default_factory=dict)
    states: dict[WeatherName, WeatherStateConfig] = Field(default_factory=dict)

    @field_validator("hourly")
    @classmethod
    def _hours(cls, v: dict[int, str]) -> dict[int, str]:
        bad = [h for h in v if not 0 <= h <= 23]
        if bad:
            raise ValueError(f"hours {bad} not in 0..23")
        return v


class StopRateConfig(_Model):
    """Poisson stop-to-stop demand: ``per_hour`` (or ``per_day`` spread evenly over the time
    window) passengers wishing to travel between two stops."""

    from_stop: str
    to_stop: str
    per_hour: float | None = Field(None, gt=0)
    per_day: float | None = Field(None, gt=0, description="Expected wishes over the window.")
    start_time: TimeOfDay = "00:00"
    end_time: TimeOfDay = "24:00"
    arrival: Literal["timetable", "random"] = Field(
        "timetable", description="'random': passengers reach the stop at Poisson times (right "
        "for frequent service); 'timetable': a passenger who wants to travel at a Poisson time "
        "reaches the stop up to arrival_margin_min before the next scheduled departure that "
        "serves the pair (right for infrequent, timetabled service).")
    arrival_margin_min: float = Field(5.0, ge=0, le=60)

    @model_validator(mode="after")
    def _one_rate(self) -> StopRateConfig:
        if (self.per_hour is None) == (self.per_day is None):
            raise ValueError("give exactly one of per_hour or per_day")
        return self

    @field_validator("end_time")
    @classmethod
    def _window(cls, end: str, info: ValidationInfo) -> str:
        _check_after_start(end, info)
        return end

    def rate_per_hour(self) -> float:
        if self.per_hour is not None:
            return self.per_hour
        hours = (parse_time_s(self.end_time) - parse_time_s(self.start_time)) / 3600
        return float(self.per_day) / hours  # type: ignore[arg-type]


class DemandConfig(_Model):
    """Demand: a trips CSV and/or stop-to-stop Poisson rates."""

    trips_csv: Path | None = Field(None, description="CSV with columns depart_time, o_lat, "
                                   "o_lon, d_lat, d_lon (optional request_id, purpose).")
    stop_rates: list[StopRateConfig] = Field(default_factory=list)
    generated: GeneratedDemandConfig | None = Field(
        None, description="Zone-based generated demand with mode choice (see maas:).")
    scale: float = Field(1.0, ge=0, description="Multiplies every stop rate and generated trip "
                         "rate.")


class JourneyConfig(_Model):
    """Journey planner: walking and generalised-cost weights."""

    walk_speed_kph: float = Field(4.3, gt=0, le=8)
    max_walk_m: float = Field(800.0, gt=0)
    max_transfers: int = Field(2, ge=0, le=2)
    walk_weight: float = Field(2.0, ge=0)
    wait_weight: float = Field(2.0, ge=0)
    ivt_weight: float = Field(1.0, ge=0)
    transfer_penalty_min: float = Field(5.0, ge=0)
    max_transfer_walk_m: float = Field(400.0, ge=0)


class EnergyConfig(_Model):
    """Emission factors (assumed defaults; override with a sourced value for studies)."""

    grid_kg_co2_per_kwh: float = Field(0.55, ge=0)
    diesel_kg_co2_per_l: float = Field(2.58, ge=0)


class OutputConfig(_Model):
    """Where and how results are written."""

    dir: Path = Field(Path("../results"), description="Results root (relative to the scenario).")
    table_format: Literal["csv", "parquet"] = "csv"


class Scenario(_Model):
    """A simulation scenario. See docs/scenarios.md for a worked example of each section."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Used in result paths.")
    title: str = ""
    description: str = ""
    assumptions: list[str] = Field(default_factory=list,
                                   description="What is assumed rather than observed.")
    seed: int = Field(42, ge=0)
    replications: int = Field(1, ge=1, le=10_000)
    network: NetworkConfig = NetworkConfig()
    service: ServiceConfig
    vehicle_types: dict[str, VehicleTypeConfig] = Field(default_factory=dict)
    lines: list[LineConfig] = Field(default_factory=list)
    operations: OperationsConfig = OperationsConfig()
    weather: WeatherConfig = WeatherConfig()
    demand: DemandConfig = DemandConfig()
    drt: DrtConfig | None = Field(None, description="On-demand (DRT) service, if any.")
    maas: MaasConfig = MaasConfig()
    journey: JourneyConfig = JourneyConfig()
    energy: EnergyConfig = EnergyConfig()
    cost: CostConfig = Field(default_factory=CostConfig,
                             description="Unit costs and fares (defaults assumed, see "
                             "tomakomai_maas.metrics.cost.ASSUMPTIONS).")
    accessibility: AccessibilityConfig = Field(
        default_factory=AccessibilityConfig,
        description="Coverage (walk to a served stop, DRT areas) and public-transport travel "
        "times to key destinations, per zone and age band (tomakomai_maas.metrics.access).")
    output: OutputConfig = OutputConfig()
    source_file: Path | None = Field(None, description="Set by the loader; not for users.")
    # the scenario path as the user wrote it (set by the loader; not dumped, not compared)
    _given_path: str | None = PrivateAttr(None)

    @property
    def label(self) -> str:
        """How messages name this scenario: its file as the user gave it (``run x.yaml``),
        else its resolved file, else its name."""
        if self._given_path:
            return self._given_path
        return str(self.source_file) if self.source_file else self.name

    @model_validator(mode="after")
    def _one_default_fare(self) -> Scenario:
        # maas.default_fare_yen is a deprecated duplicate of cost.fares.flat_fare_yen, kept
        # so that old files and resolved dumps (which hold both) still load
        flat = self.cost.fares.flat_fare_yen
        old = self.maas.default_fare_yen
        if "default_fare_yen" not in self.maas.model_fields_set or old == flat:
            return self
        if "flat_fare_yen" not in self.cost.fares.model_fields_set:
            raise ValueError(
                f"maas.default_fare_yen ({old:g}) is no longer used: mode choice and revenue "
                f"share one fare for timetabled rides without fare data, "
                f"cost.fares.flat_fare_yen (now {flat:g}); set that instead")
        log.warning("maas.default_fare_yen (%g) is ignored: cost.fares.flat_fare_yen (%g) is "
                    "the fare of timetabled rides without fare data", old, flat)
        return self
