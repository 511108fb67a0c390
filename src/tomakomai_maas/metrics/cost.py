"""Operating cost, fare revenue and the subsidy a service needs, per simulated day.

``cost_kpis(tables, world, cost_config, *, fares=None) -> dict[str, float]`` works on the
tables of **one replication** (as :func:`~tomakomai_maas.metrics.kpi.summarise` does) and
returns yen per service day. :class:`CostConfig` is a frozen pydantic model (unknown keys
rejected) that the scenario schema can embed; every unit cost that is not in
``docs/tomakomai_facts.md`` is an **assumed** default whose basis is listed in
:data:`ASSUMPTIONS` (override it in the scenario for a real study).

Activity measured from the tables
---------------------------------
* **In-service hours** of a timetabled trip = ``actual_arr_s - actual_dep_s`` from
  ``vehicle_trips`` (scheduled times when a trip did not finish); cancelled trips cost
  nothing. **Vehicle hours** = in-service hours × (1 + ``layover_deadhead_share``), the
  assumed share for terminal layovers, pull-out/pull-in and sign-on time.
* **Vehicle-km** = ``km`` of run trips; maintenance and energy are charged on
  vehicle-km × (1 + ``deadhead_km_share``) (depot runs), and on ``energy_kwh`` / ``fuel_l``
  × (1 + ``deadhead_km_share``). ``cost_per_vehicle_km_yen`` divides by in-service km (the
  ``vehicle_km`` KPI) so it compares with the other KPIs.
* **Vehicles in service** per vehicle type = the peak number of vehicles busy at once, where
  the trips of one ``vehicle_id`` (a GTFS block) keep their vehicle from the block's first
  departure to its last arrival, and every other trip keeps a vehicle from its departure to
  its arrival + ``min_layover_min`` (trips without a block are chained freely, as if
  vehicles could move between termini during the layover: a lower bound of the fleet a
  real blocking needs). The **fleet** adds ``spare_vehicle_share`` (fractional: an average
  share of a spare).
* An optional ``drt_vehicles`` table (one row per DRT vehicle shift, columns
  ``vehicle_id, vehicle_type, duty_s, km, energy_kwh, fuel_l``; ``duty_s`` = seconds on duty)
  is costed like trips of route ``"drt"`` without the layover share and without the deadhead
  km share (a shift's ``km`` already include the drives from and back to the depot and
  every empty km). It is skipped with a warning if columns are missing.
* This is the **only** DRT cost of a run: the DRT KPI ``drt.cost_yen`` is
  ``cost_total_yen.drt`` (:func:`tomakomai_maas.metrics.kpi.drt_kpis`), so the unit costs
  of DRT are set in the scenario's ``cost:`` section like every other vehicle's (staff per
  hour by automation level, ``cost.vehicles.<type or class>`` for capital, depot, system
  fee and maintenance).

Cost line items (``yen`` per day; all rates from :class:`CostConfig`)
--------------------------------------------------------------------
================================  ==========================================================
key                               definition
================================  ==========================================================
cost_driver_yen                   Level 0: vehicle hours × ``driver_yen_per_hour`` (or the
                                  vehicle's ``staff_yen_per_hour``)
cost_operator_yen                 Level 2: vehicle hours × ``operator_yen_per_hour`` (operator
                                  on board; or the vehicle's ``staff_yen_per_hour``)
cost_remote_yen                   remote staff: Level 4 vehicle hours /
                                  ``l4_vehicles_per_remote_supervisor`` (and Level 2 hours /
                                  ``l2_vehicles_per_remote_monitor`` when set; a vehicle's
                                  ``vehicles_per_remote_supervisor`` overrides either) ×
                                  ``remote_supervisor_yen_per_hour``. With
                                  ``remote_staff_round_up`` a whole number of supervisors,
                                  ceil(peak simultaneous vehicles / N) with the CostConfig
                                  ratio N of the level, is paid over the service span (first
                                  departure to last arrival) × (1 + layover share) instead.
cost_capital_yen                  fleet × capital cost per vehicle-day (below)
cost_maintenance_yen              vehicle-km × (1 + deadhead share; DRT: 1) ×
                                  ``maintenance_yen_per_km``
cost_electricity_yen              kWh × (1 + deadhead share; DRT: 1) × ``electricity_yen_per_kwh``
cost_fuel_yen                     litres × (1 + deadhead share; DRT: 1) × ``diesel_yen_per_l``
cost_depot_yen                    fleet × ``depot_yen_per_vehicle_day`` (depot, parking,
                                  charging equipment, insurance)
cost_system_yen                   vehicles in service × ``system_fee_yen_per_vehicle_day``
                                  (AV software / remote-monitoring platform)
cost_overhead_yen                 ``overhead_share`` × sum of the items above
cost_total_yen                    sum of all items
================================  ==========================================================

Capital cost per vehicle-day = ``(P − R / (1+r)^L) · CRF(r, L) / operating_days_per_year``
with purchase price ``P``, residual value ``R = residual_value_share · P`` after ``L =
life_years``, ``CRF = r / (1 − (1+r)^−L)`` (``1/L`` when the discount rate ``r`` is 0, i.e.
straight-line depreciation).

Revenue
-------
Every **boarding** (a ride leg in ``legs`` with a boarding time) pays a fare. Rides on
timetabled routes are priced per request, in boarding order, by
:meth:`~tomakomai_maas.supply.fares.FareTable.journey_fares` -- the same function that gives
the mode-choice skims their fare (:mod:`tomakomai_maas.supply.fares` has the rules:
``fares.free_routes`` -> 0, ``fares.route_fares_yen``, the GTFS ``fare_attributes``/
``fare_rules`` of the feeds with ``contains_id`` zones, cheapest match and
``transfers``/``transfer_duration``, else ``fares.flat_fare_yen`` for a route without fare
data). The table is ``fares`` (a :class:`FareTable`, or feeds turned into one by
:func:`fare_table_from_feeds`; when not passed, ``world.extras["fare_table"]``), with this
config's overrides applied (:meth:`FareConfig.apply_to`).

DRT rides (``route_id`` ``drt``) of a World with a DRT service pay the service's fare for
the rider's class (``drt.fares_yen``, the fare the DRT skims show; no concession on top, the
service's class fares are the concessions); without a service (hand-made tables), rides on
routes that are not timetabled pay ``fares.drt_fare_yen`` unless a feed fare, free route or
route fare matches.

The fare is then adjusted for the rider (``trips.pax_class``; or, if
``fares.class_shares`` is given, the expected fare over that mix of classes, ignoring the
table): ``adult`` pays the fare; a class in ``fares.concessions`` pays its
``fixed_fare_yen`` or fare × ``fare_factor`` rounded **up** to ``concession_round_yen``;
other classes pay the adult fare (a warning is logged). Finally MaaS: riders pay
× (1 − ``maas_user_share`` · ``maas_discount_share``) × (1 − ``subscriber_ride_share``)
(subscribers ride at no per-ride fare), and subscriptions add ``subscribers`` ×
``subscription_yen_per_month`` / (365/12) per day.

Other keys: ``revenue_fare_yen``, ``revenue_subscription_yen``, ``revenue_total_yen``,
``subsidy_required_yen`` (= cost − revenue), ``passengers`` (requests that boarded at least
one vehicle), ``boardings``, ``subsidy_per_passenger_yen``, ``farebox_ratio`` (revenue /
cost), ``cost_per_vehicle_km_yen``, ``cost_per_pax_km_yen``, ``cost_per_boarding_yen``,
``revenue_per_boarding_yen``, ``vehicle_hours``, ``service_hours``, ``vehicle_km``, ``pax_km``,
``vehicles_in_service``, ``fleet_vehicles``, ``staff_hours_driver``, ``staff_hours_operator``,
``staff_hours_remote``; and per route ``cost_total_yen.<route_id>`` and
``revenue_fare_yen.<route_id>`` (vehicle-fixed items — capital, depot, system fee and
rounded-up remote staff — are shared between the routes a vehicle type serves by their
vehicle hours; route costs sum exactly to ``cost_total_yen``; subscription revenue is not
allocated to routes).

Limitation: staff are paid for vehicle hours (in service + layover share), not for whole
shifts, so idle time between sparse trips of a timetable (e.g. 3 trips a day) is not paid
unless ``layover_deadhead_share`` is raised to cover it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tomakomai_maas.supply.fares import FareRule, FareTable, fare_ride, fare_table_from_feeds
from tomakomai_maas.world import VehicleType, World

if TYPE_CHECKING:
    from tomakomai_maas.supply.gtfs import Feed

__all__ = [
    "VehicleCostConfig",
    "ConcessionConfig",
    "FareConfig",
    "CostConfig",
    "FareRule",
    "FareTable",
    "fare_table_from_feeds",
    "vehicle_cost_class",
    "capital_cost_per_vehicle_day",
    "cost_kpis",
    "COST_KPI_NAMES",
    "DEFAULT_VEHICLE_COSTS",
    "ASSUMPTIONS",
    "assumption_lines",
]

log = logging.getLogger(__name__)

DAYS_PER_MONTH = 365.0 / 12.0
"""Days per month used to turn monthly subscriptions into daily revenue (calendar average)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class VehicleCostConfig(_Model):
    """Per-vehicle costs of one vehicle type or vehicle cost class (all yen)."""

    purchase_price_yen: float = Field(ge=0, description="Purchase price incl. equipment.")
    life_years: float = Field(gt=0, description="Economic life.")
    residual_value_share: float = Field(0.0, ge=0, lt=1,
                                        description="Resale value at end of life / price.")
    maintenance_yen_per_km: float = Field(ge=0, description="Repairs, tyres, inspections.")
    depot_yen_per_vehicle_day: float = Field(
        0.0, ge=0, description="Depot, parking, charging equipment and insurance per vehicle "
        "of the fleet per operating day.")
    system_fee_yen_per_vehicle_day: float = Field(
        0.0, ge=0, description="Automated-driving software / remote-monitoring platform per "
        "vehicle in service per day.")
    staff_yen_per_hour: float | None = Field(
        None, ge=0, description="On-board staff (driver or Level-2 operator) per hour for this "
        "vehicle; None = CostConfig.driver_yen_per_hour / operator_yen_per_hour.")
    vehicles_per_remote_supervisor: float | None = Field(
        None, gt=0, description="Remote staffing ratio for this vehicle (Level 4, or Level 2 "
        "remote monitoring); None = the CostConfig ratio of its level.")


class ConcessionConfig(_Model):
    """Fare of a passenger class: a fixed fare or a factor of the adult fare (give one)."""

    fare_factor: float | None = Field(None, ge=0, description="Multiplies the adult fare.")
    fixed_fare_yen: float | None = Field(None, ge=0, description="Fixed fare per boarding.")

    @model_validator(mode="after")
    def _one(self) -> ConcessionConfig:
        if (self.fare_factor is None) == (self.fixed_fare_yen is None):
            raise ValueError("give exactly one of fare_factor or fixed_fare_yen")
        return self


def _default_concessions() -> dict[str, ConcessionConfig]:
    return {
        "child": ConcessionConfig(fare_factor=0.5),
        "senior_pass": ConcessionConfig(fixed_fare_yen=100.0),
        "disability": ConcessionConfig(fare_factor=0.5),
        "free": ConcessionConfig(fixed_fare_yen=0.0),
    }


class FareConfig(_Model):
    """How fares are resolved and adjusted (see the module docstring for the order)."""

    flat_fare_yen: float = Field(230.0, ge=0, description="Fare of timetabled rides without "
                                 "a feed fare (facts §2.3: central 1-zone fare 230 yen).")
    route_fares_yen: dict[str, float] = Field(default_factory=dict,
                                              description="route_id -> flat fare override.")
    free_routes: list[str] = Field(default_factory=list,
                                   description="route_ids ridden free (e.g. a free trial).")
    drt_fare_yen: float = Field(500.0, ge=0, description="Fare of rides not on timetabled "
                                "routes (facts §2.4: あいとまタクシー adult 500 yen).")
    use_feed_fares: bool = Field(True, description="Use the FareTable passed as `fares`.")
    apply_feed_transfers: bool = Field(True, description="Honour fare_attributes transfers.")
    concessions: dict[str, ConcessionConfig] = Field(default_factory=_default_concessions)
    concession_round_yen: float = Field(10.0, ge=0, description="Factor-based concession "
                                        "fares are rounded up to a multiple of this (0 = no "
                                        "rounding).")
    class_shares: dict[str, float] | None = Field(
        None, description="If given, riders are assumed to be this mix of classes (shares sum "
        "to 1; 'adult' = full fare) instead of the trips table's pax_class.")
    maas_user_share: float = Field(0.0, ge=0, le=1, description="Riders paying through the "
                                   "MaaS app.")
    maas_discount_share: float = Field(0.0, ge=0, le=1, description="Discount on fares for "
                                       "MaaS users (0.1 = 10 % off).")
    subscribers: float = Field(0.0, ge=0, description="MaaS subscription holders.")
    subscription_yen_per_month: float = Field(0.0, ge=0)
    subscriber_ride_share: float = Field(0.0, ge=0, le=1, description="Share of boardings "
                                         "made by subscribers (no per-ride fare).")

    def apply_to(self, table: FareTable) -> FareTable:
        """``table`` with this config's overrides (free routes, route fares, the fare of
        timetabled rides without fare data, feed fares and transfers on/off): the one
        :class:`FareTable` both the mode-choice skims and the revenue use."""
        return table.configured(default_yen=self.flat_fare_yen,
                                route_fares_yen=self.route_fares_yen,
                                free_routes=self.free_routes,
                                use_feed_fares=self.use_feed_fares,
                                apply_transfers=self.apply_feed_transfers)

    @model_validator(mode="after")
    def _shares(self) -> FareConfig:
        if self.class_shares is not None:
            s = sum(self.class_shares.values())
            if any(v < 0 for v in self.class_shares.values()) or not math.isclose(s, 1.0,
                                                                                  abs_tol=1e-6):
                raise ValueError(f"class_shares must be >= 0 and sum to 1, got sum {s:g}")
        return self


#: Default costs per vehicle cost class (see :func:`vehicle_cost_class`). ALL ASSUMED; the
#: basis of each number is in :data:`ASSUMPTIONS`.
DEFAULT_VEHICLE_COSTS: Mapping[str, VehicleCostConfig] = MappingProxyType({
    "diesel_bus": VehicleCostConfig(
        purchase_price_yen=25_000_000, life_years=15, residual_value_share=0.05,
        maintenance_yen_per_km=40.0, depot_yen_per_vehicle_day=2_000.0),
    "ev_bus": VehicleCostConfig(
        purchase_price_yen=60_000_000, life_years=12, residual_value_share=0.05,
        maintenance_yen_per_km=30.0, depot_yen_per_vehicle_day=4_000.0),
    "av_shuttle": VehicleCostConfig(
        purchase_price_yen=100_000_000, life_years=8, residual_value_share=0.0,
        maintenance_yen_per_km=60.0, depot_yen_per_vehicle_day=3_000.0,
        system_fee_yen_per_vehicle_day=10_000.0),
    "car": VehicleCostConfig(
        purchase_price_yen=3_500_000, life_years=6, residual_value_share=0.10,
        maintenance_yen_per_km=10.0, depot_yen_per_vehicle_day=1_000.0),
})


class CostConfig(_Model):
    """Unit costs, time allowances and fares (defaults assumed, see :data:`ASSUMPTIONS`)."""

    driver_yen_per_hour: float = Field(3_000.0, ge=0, description="Level 0 driver, employer "
                                       "cost per paid hour.")
    operator_yen_per_hour: float = Field(3_000.0, ge=0, description="Level 2 operator on "
                                         "board, per paid hour.")
    remote_supervisor_yen_per_hour: float = Field(3_000.0, ge=0)
    l4_vehicles_per_remote_supervisor: float = Field(3.0, gt=0)
    l2_vehicles_per_remote_monitor: float | None = Field(
        None, gt=0, description="Level 2 remote monitoring (None = not costed).")
    remote_staff_round_up: bool = Field(False, description="Pay whole supervisors over the "
                                        "service span instead of shared hours.")
    layover_deadhead_share: float = Field(0.15, ge=0, le=2)
    min_layover_min: float = Field(10.0, ge=0, le=120, description="Turn-around time "
                                   "between trips when counting vehicles (trips without a "
                                   "block_id).")
    deadhead_km_share: float = Field(0.05, ge=0, le=2)
    electricity_yen_per_kwh: float = Field(30.0, ge=0)
    diesel_yen_per_l: float = Field(150.0, ge=0)
    overhead_share: float = Field(0.15, ge=0, le=2)
    operating_days_per_year: float = Field(365.0, gt=0, le=366)
    spare_vehicle_share: float = Field(0.10, ge=0, le=2)
    discount_rate: float = Field(0.0, ge=0, le=0.5)
    vehicles: dict[str, VehicleCostConfig] = Field(
        default_factory=dict, description="Overrides by vehicle type name or cost class "
        "(diesel_bus, ev_bus, av_shuttle, car); merged over DEFAULT_VEHICLE_COSTS.")
    fares: FareConfig = FareConfig()

    def vehicle_costs(self, vtype: VehicleType) -> VehicleCostConfig:
        """Costs of a vehicle type: by its name, else by its cost class."""
        if vtype.name in self.vehicles:
            return self.vehicles[vtype.name]
        cls = vehicle_cost_class(vtype)
        return self.vehicles.get(cls, DEFAULT_VEHICLE_COSTS[cls])


#: parameter -> basis of the default (for reports). Everything here is ASSUMED unless the
#: text cites the facts file.
ASSUMPTIONS: Mapping[str, str] = MappingProxyType({
    "driver_yen_per_hour": "ASSUMED 3,000 yen/h: an assumed employer cost of 6.0M yen a year "
                           "(wage + social insurance + allowances) over 2,000 paid hours; no "
                           "道南バス or city figure in the facts file",
    "operator_yen_per_hour": "ASSUMED equal to a driver: the Level-2 operator drives manually "
                             "when needed (facts §1.2 auto/manual switching)",
    "remote_supervisor_yen_per_hour": "ASSUMED equal to a driver; no data",
    "l4_vehicles_per_remote_supervisor": "ASSUMED 3 vehicles per remote supervisor; no "
                                         "published Tomakomai or Level-4 staffing ratio in "
                                         "the facts file (sensitivity parameter)",
    "l2_vehicles_per_remote_monitor": "not costed by default: the 2023 Level-2 trial had "
                                      "remote monitoring (facts §1.2) but its staffing is NOT "
                                      "FOUND; set a ratio to include it",
    "layover_deadhead_share": "ASSUMED 0.15 of in-service hours for layovers, pull-out/in and "
                              "sign-on; close to the 5-min layovers per 30-min trip of the "
                              "(assumed) AV trial timetable in gtfs/README.md",
    "min_layover_min": "ASSUMED 10 min turn-around between trips when counting vehicles "
                       "for trips without a block_id (the shipped 道南バス feed has none)",
    "deadhead_km_share": "ASSUMED 0.05 of in-service km for depot runs",
    "electricity_yen_per_kwh": "ASSUMED 30 yen/kWh business tariff order of magnitude, charging "
                               "losses included; no tariff in the facts file",
    "diesel_yen_per_l": "ASSUMED 150 yen/l light oil (軽油) order of magnitude; also applied "
                        "to the diesel-equivalent litres of drt_sedan (supply/vehicles.py)",
    "overhead_share": "ASSUMED 0.15 of direct costs for administration and management",
    "operating_days_per_year": "365: city routes run every day with weekday and Sat/Sun/"
                               "holiday timetables (facts §2.1); set lower for vehicles used "
                               "only on trial days",
    "spare_vehicle_share": "ASSUMED 0.10 reserve vehicles per vehicle in service",
    "discount_rate": "ASSUMED 0 (straight-line depreciation, no financing cost)",
    "vehicles.diesel_bus": "ASSUMED 25M yen, 15 years, 5 % residual, 40 yen/km maintenance, "
                           "2,000 yen/day depot: order of magnitude for a mid-size Japanese "
                           "route bus; no 道南バス data in the facts file",
    "vehicles.ev_bus": "ASSUMED 60M yen, 12 years, 5 % residual, 30 yen/km, 4,000 yen/day "
                       "depot incl. charger: hypothetical vehicle (no EV city bus in the "
                       "facts file)",
    "vehicles.av_shuttle": "ASSUMED 100M yen incl. sensors, 8 years, no residual, 60 yen/km, "
                           "3,000 yen/day depot/charging, 10,000 yen/day software/remote "
                           "platform: vehicle price and fees are NOT FOUND (facts §1.6); the "
                           "FY2023 trial budget of ~66M yen (facts §1.0) covers a whole trial "
                           "and is not a vehicle price",
    "vehicles.car": "ASSUMED 3.5M yen, 6 years, 10 % residual, 10 yen/km, 1,000 yen/day: a "
                    "taxi-type sedan for DRT (あいとまタクシー fleet data NOT FOUND, facts §2.4)",
    "fares.flat_fare_yen": "230 yen: 道南バス central-zone 1-zone fare from 2023-12-01 "
                           "(facts §2.3, NHK)",
    "fares.drt_fare_yen": "500 yen: あいとまタクシー adult fare (facts §2.4)",
    "fares.concessions.child": "half fare: あいとまタクシー child 250 for adult 500 (facts "
                               "§2.4); ASSUMED to hold on buses",
    "fares.concessions.senior_pass": "100 yen with 優待乗車証: stated for あいとまタクシー (facts "
                                     "§2.4); ASSUMED to hold on buses (熟年定期券 abolished, "
                                     "facts §2.3)",
    "fares.concessions.disability": "half fare (facts §2.4, あいとまタクシー 250/130)",
    "fares.concession_round_yen": "10 yen, rounding up: matches あいとまタクシー 130 yen "
                                  "(= 250 / 2 rounded up, facts §2.4)",
    "fares.maas": "no MaaS discount or subscription by default: とまこまい版MaaS構想 contents "
                  "are NOT FOUND (facts §6)",
})


def assumption_lines() -> list[str]:
    """``"parameter: basis"`` lines of :data:`ASSUMPTIONS` (for reports)."""
    return [f"{k}: {v}" for k, v in ASSUMPTIONS.items()]


def vehicle_cost_class(vtype: VehicleType) -> str:
    """Cost class: ``av_shuttle`` (automation level ≥ 2), ``car`` (capacity ≤ 9), ``ev_bus``
    (EV), else ``diesel_bus``."""
    if vtype.automation_level >= 2:
        return "av_shuttle"
    if vtype.capacity <= 9:
        return "car"
    if vtype.powertrain == "ev":
        return "ev_bus"
    return "diesel_bus"


def capital_cost_per_vehicle_day(v: VehicleCostConfig, *, discount_rate: float,
                                 operating_days_per_year: float) -> float:
    """Annualised capital cost of one vehicle per operating day, yen (see module docstring)."""
    r, life = float(discount_rate), float(v.life_years)
    residual = v.residual_value_share * v.purchase_price_yen
    if r == 0:
        annual = (v.purchase_price_yen - residual) / life
    else:
        crf = r / (1.0 - (1.0 + r) ** -life)
        annual = (v.purchase_price_yen - residual / (1.0 + r) ** life) * crf
    return annual / operating_days_per_year


# --------------------------------------------------------------------------- fares
def _concession_fare(adult: float, cls: str, fc: FareConfig, warned: set[str]) -> float:
    if cls == "adult" or cls == "":
        return adult
    c = fc.concessions.get(cls)
    if c is None:
        if cls not in warned:
            warned.add(cls)
            log.warning("pax_class %r has no entry in fares.concessions; charged the adult "
                        "fare (classes: %s)", cls, ", ".join(sorted(fc.concessions)))
        return adult
    if c.fixed_fare_yen is not None:
        return float(c.fixed_fare_yen)
    f = adult * float(c.fare_factor)  # type: ignore[arg-type]
    step = fc.concession_round_yen
    return math.ceil(f / step - 1e-9) * step if step > 0 else f


def _ride_fares(tables: Mapping[str, pd.DataFrame], world: World, fc: FareConfig,
                fares: Any) -> pd.DataFrame:
    """One row per boarding: request_id, route_id, fare_yen (after class and MaaS).

    The base fare of every ride comes from :meth:`FareTable.journey_fares` (the function the
    mode-choice skims use), per request in boarding order; DRT rides of the World's service
    pay its class fare instead (no concession on top).
    """
    legs = tables.get("legs")
    cols = ["request_id", "route_id", "fare_yen"]
    if legs is None or not len(legs):
        return pd.DataFrame(columns=cols)
    rides = legs[(legs["kind"] == "ride") & legs["board_s"].notna()]
    rides = rides.sort_values(["request_id", "leg_index"], kind="mergesort")
    trips_by_id = {t.trip_id: t for t in world.trips}
    timetabled = {t.route_id for t in world.trips}
    drt = world.drt
    pax_class: dict[str, str] = {}
    if fc.class_shares is None and "trips" in tables and "pax_class" in tables["trips"]:
        tr = tables["trips"]
        pax_class = dict(zip(tr["request_id"].astype(str), tr["pax_class"].astype(str),
                             strict=True))
    duck = fares is not None and not isinstance(fares, FareTable)
    table = fc.apply_to(fares if isinstance(fares, FareTable) else FareTable())
    warned: set[str] = set()
    maas = (1.0 - fc.maas_user_share * fc.maas_discount_share) * (1.0 - fc.subscriber_ride_share)

    def adjusted(base: float, rid: str) -> float:
        if fc.class_shares is not None:
            return sum(share * _concession_fare(base, cls, fc, warned)
                       for cls, share in sorted(fc.class_shares.items()))
        return _concession_fare(base, pax_class.get(rid, "adult"), fc, warned)

    def drt_fare(rid: str) -> float:
        if fc.class_shares is not None:
            return sum(share * drt.fare_for(cls)  # type: ignore[union-attr]
                       for cls, share in sorted(fc.class_shares.items()))
        return drt.fare_for(pax_class.get(rid, drt.default_pax_class))  # type: ignore[union-attr]

    out = []
    for rid, group in rides.groupby("request_id", sort=True):
        rid = str(rid)
        priced = []  # (route, base fare or None for service DRT)
        journey = []
        for row in group.itertuples(index=False):
            trip = trips_by_id.get(str(row.trip_id)) if isinstance(row.trip_id, str) else None
            route = trip.route_id if trip is not None else str(row.route_id)
            if route not in timetabled and drt is not None and route == "drt":
                priced.append((route, None))
                continue
            if duck and fc.use_feed_fares and route not in fc.free_routes \
                    and route not in fc.route_fares_yen:
                priced.append((route, float(fares.ride_yen(route, str(row.from_stop),
                                                           str(row.to_stop)))))
                continue
            journey.append(fare_ride(
                route, str(row.from_stop), str(row.to_stop), float(row.board_s),
                trip.stop_ids if trip is not None else None,
                default_yen=None if route in timetabled else fc.drt_fare_yen))
            priced.append((route, -1.0))
        it = iter(table.journey_fares(journey))
        for route, base in priced:
            if base is None:
                out.append((rid, route, drt_fare(rid) * maas))
                continue
            if base < 0:
                f = next(it)
                if f.source == "transfer":  # free within the ticket, whatever the class
                    out.append((rid, route, 0.0))
                    continue
                base = f.yen
            out.append((rid, route, adjusted(base, rid) * maas))
    return pd.DataFrame(out, columns=cols)


# --------------------------------------------------------------------------- activity
def _activity(tables: Mapping[str, pd.DataFrame], world: World) -> pd.DataFrame:
    """One row per run trip (or DRT shift): route, vehicle, type, level, hours, km, energy."""
    cols = ["route_id", "vehicle_id", "vehicle_type", "level", "service_h", "start_s", "end_s",
            "km", "kwh", "litres", "layover"]
    rows = []
    vt = tables.get("vehicle_trips")
    if vt is not None and len(vt):
        ran = vt[~vt["cancelled"].astype(bool)]
        dep = ran["actual_dep_s"].where(ran["actual_dep_s"].notna(), ran["sched_dep_s"])
        arr = ran["actual_arr_s"].where(ran["actual_arr_s"].notna(), ran["sched_arr_s"])
        for r, d, a in zip(ran.itertuples(index=False), dep, arr, strict=True):
            vtype = world.vehicle_types[str(r.vehicle_type)]
            rows.append((str(r.route_id), str(r.vehicle_id), vtype.name,
                         int(vtype.automation_level), max(float(a) - float(d), 0.0) / 3600.0,
                         float(d), float(a), float(r.km), float(r.energy_kwh), float(r.fuel_l),
                         True))
    drt = tables.get("drt_vehicles")
    if drt is not None and len(drt):
        need = {"vehicle_id", "vehicle_type", "duty_s", "km", "energy_kwh", "fuel_l"}
        missing = sorted(need - set(drt.columns))
        if missing:
            log.warning("drt_vehicles table lacks columns %s; DRT vehicles are not costed",
                        missing)
        else:
            types = _vehicle_types(world)
            for r in drt.itertuples(index=False):
                vtype = types[str(r.vehicle_type)]
                s0 = float(getattr(r, "start_s", world.start_s))
                rows.append(("drt", str(r.vehicle_id), vtype.name, int(vtype.automation_level),
                             float(r.duty_s) / 3600.0, s0, s0 + float(r.duty_s), float(r.km),
                             float(r.energy_kwh), float(r.fuel_l), False))
    return pd.DataFrame(rows, columns=cols)


def _vehicle_types(world: World) -> dict[str, VehicleType]:
    """The World's vehicle types and those of its DRT fleet (a hand-built World may list
    DRT types only on the vehicles)."""
    out = dict(world.vehicle_types)
    if world.drt is not None:
        for v in world.drt.vehicles:
            out.setdefault(v.vtype.name, v.vtype)
    return out


def _pax_km(tables: Mapping[str, pd.DataFrame], world: World) -> float:
    vs = tables.get("vehicle_stops")
    if vs is None or not len(vs):
        return 0.0
    legs = {t.trip_id: t.leg_dist_m for t in world.trips}
    km = [legs[t][i] / 1000.0 if t in legs and i < len(legs[t]) else 0.0
          for t, i in zip(vs["trip_id"], vs["stop_index"], strict=True)]
    return float((vs["load_dep"].to_numpy(float) * np.asarray(km)).sum())


def _peak_concurrency(starts: np.ndarray, ends: np.ndarray) -> int:
    ev = sorted([(float(s), 1) for s in starts] + [(float(e), -1) for e in ends])
    cur = peak = 0
    for _, d in ev:  # ends sort before starts at equal times (-1 < 1)
        cur += d
        peak = max(peak, cur)
    return peak


def _vehicles_needed(sub: pd.DataFrame, min_layover_s: float) -> int:
    """Peak vehicles busy at once (blocks hold their vehicle for their whole span)."""
    starts, ends = [], []
    for _vid, g in sub.groupby("vehicle_id", sort=True):
        if len(g) > 1:
            starts.append(float(g["start_s"].min()))
            ends.append(float(g["end_s"].max()) + min_layover_s)
        else:
            starts.append(float(g["start_s"].iloc[0]))
            ends.append(float(g["end_s"].iloc[0]) + min_layover_s)
    return _peak_concurrency(np.asarray(starts), np.asarray(ends))


def _div(a: float, b: float) -> float:
    return a / b if b else float("nan")


COST_KPI_NAMES = (
    "cost_driver_yen", "cost_operator_yen", "cost_remote_yen", "cost_capital_yen",
    "cost_maintenance_yen", "cost_electricity_yen", "cost_fuel_yen", "cost_depot_yen",
    "cost_system_yen", "cost_overhead_yen", "cost_total_yen", "revenue_fare_yen",
    "revenue_subscription_yen", "revenue_total_yen", "subsidy_required_yen", "passengers",
    "boardings", "subsidy_per_passenger_yen", "farebox_ratio", "cost_per_vehicle_km_yen",
    "cost_per_pax_km_yen", "cost_per_boarding_yen", "revenue_per_boarding_yen", "vehicle_hours",
    "service_hours", "vehicle_km", "pax_km", "vehicles_in_service", "fleet_vehicles",
    "staff_hours_driver", "staff_hours_operator", "staff_hours_remote",
)
"""Keys always returned by :func:`cost_kpis` (plus per-route ``cost_total_yen.<route>`` and
``revenue_fare_yen.<route>``)."""


def cost_kpis(tables: Mapping[str, pd.DataFrame], world: World, cost_config: CostConfig,
              *, fares: FareTable | Mapping[str, Feed] | None = None) -> dict[str, float]:
    """Per-day cost, revenue and subsidy KPIs of one replication (see the module docstring).

    Args:
        tables: the simulator tables of one replication (``vehicle_trips``, ``legs``,
            ``trips``, ``vehicle_stops``; optional ``drt_vehicles``).
        world: the World that was simulated (vehicle types, trips and leg distances).
        cost_config: unit costs and fare settings.
        fares: feed fares: a :class:`FareTable`; feeds (e.g. ``BuildContext.feeds``) turned
            into one with :func:`fare_table_from_feeds`; or any other object with
            ``ride_yen(route_id, from_stop, to_stop)``, used as is (no transfer rules).
            ``None`` = ``world.extras["fare_table"]`` when present, else flat fares only.
    """
    cfg = cost_config
    if fares is None:
        fares = world.extras.get("fare_table") if world.extras else None
    if fares is not None and not isinstance(fares, FareTable) and not hasattr(fares, "ride_yen"):
        fares = fare_table_from_feeds(fares)  # type: ignore[arg-type]
    if "replication" in tables.get("vehicle_trips", pd.DataFrame()).columns and \
            tables["vehicle_trips"]["replication"].nunique() > 1:
        raise ValueError("cost_kpis works on the tables of one replication; group the run's "
                         "tables by 'replication' first")
    act = _activity(tables, world)
    lay = np.where(act["layover"].to_numpy(bool), 1.0 + cfg.layover_deadhead_share, 1.0) \
        if len(act) else np.zeros(0)
    act = act.assign(veh_h=act["service_h"].to_numpy(float) * lay)
    # DRT shifts' km already include the drives from and back to the depot (and every empty
    # or repositioning km), so only timetabled trips get the deadhead share
    dh = np.where(act["layover"].to_numpy(bool), 1.0 + cfg.deadhead_km_share, 1.0) \
        if len(act) else np.zeros(0)
    vtypes = _vehicle_types(world)
    vc = {name: cfg.vehicle_costs(vtypes[name]) for name in act["vehicle_type"].unique()}

    # ---- per-row variable costs
    lvl = act["level"].to_numpy(int)
    vh = act["veh_h"].to_numpy(float)

    def per_type(attr: str, default: float) -> np.ndarray:
        vals = [getattr(vc[n], attr) for n in act["vehicle_type"]]
        return np.array([default if v is None else v for v in vals], dtype=float)

    onboard_l2 = (lvl >= 1) & (lvl <= 3)
    driver_h = np.where(lvl == 0, vh, 0.0)
    operator_h = np.where(onboard_l2, vh, 0.0)
    remote_h = np.where(lvl >= 4, vh / per_type("vehicles_per_remote_supervisor",
                                                cfg.l4_vehicles_per_remote_supervisor), 0.0)
    l2_ratio = per_type("vehicles_per_remote_supervisor",
                        cfg.l2_vehicles_per_remote_monitor or math.inf)
    remote_h = remote_h + np.where(onboard_l2, vh / l2_ratio, 0.0)
    maint_rate = per_type("maintenance_yen_per_km", 0.0)
    per = pd.DataFrame({
        "route_id": act["route_id"],
        "vehicle_type": act["vehicle_type"],
        "veh_h": vh,
        "driver": driver_h * per_type("staff_yen_per_hour", cfg.driver_yen_per_hour),
        "operator": operator_h * per_type("staff_yen_per_hour", cfg.operator_yen_per_hour),
        "remote": remote_h * cfg.remote_supervisor_yen_per_hour,
        "maintenance": act["km"].to_numpy(float) * dh * maint_rate,
        "electricity": act["kwh"].to_numpy(float) * dh * cfg.electricity_yen_per_kwh,
        "fuel": act["litres"].to_numpy(float) * dh * cfg.diesel_yen_per_l,
    })
    staff_remote_h = float(remote_h.sum())

    # ---- remote staff rounded up to whole supervisors (replaces the shared hours)
    fixed_by_type: dict[str, dict[str, float]] = {}
    if cfg.remote_staff_round_up and len(act):
        per["remote"] = 0.0
        staff_remote_h = 0.0
        groups = [(lvl >= 4, cfg.l4_vehicles_per_remote_supervisor)]
        if cfg.l2_vehicles_per_remote_monitor is not None:
            groups.append(((lvl >= 1) & (lvl <= 3), cfg.l2_vehicles_per_remote_monitor))
        for mask, ratio in groups:
            if not mask.any():
                continue
            sub = act[mask]
            staff = math.ceil(_peak_concurrency(sub["start_s"].to_numpy(),
                                                sub["end_s"].to_numpy()) / ratio)
            span_h = (sub["end_s"].max() - sub["start_s"].min()) / 3600.0 * \
                (1.0 + cfg.layover_deadhead_share)
            hours = staff * span_h
            staff_remote_h += hours
            cost = hours * cfg.remote_supervisor_yen_per_hour
            share = sub.groupby("vehicle_type")["veh_h"].sum()
            for name, h in share.items():
                d = fixed_by_type.setdefault(str(name), {})
                d["remote"] = d.get("remote", 0.0) + cost * h / share.sum()

    # ---- per-vehicle fixed costs by vehicle type
    for name, sub in act.groupby("vehicle_type", sort=True):
        v = vc[str(name)]
        n_veh = float(_vehicles_needed(sub, cfg.min_layover_min * 60.0))
        fleet = n_veh * (1.0 + cfg.spare_vehicle_share)
        d = fixed_by_type.setdefault(str(name), {})
        d["capital"] = fleet * capital_cost_per_vehicle_day(
            v, discount_rate=cfg.discount_rate, operating_days_per_year=cfg.operating_days_per_year)
        d["depot"] = fleet * v.depot_yen_per_vehicle_day
        d["system"] = n_veh * v.system_fee_yen_per_vehicle_day
        d["_vehicles"] = n_veh
        d["_fleet"] = fleet
    items = ("driver", "operator", "remote", "capital", "maintenance", "electricity", "fuel",
             "depot", "system")
    for it in ("capital", "depot", "system"):
        per[it] = 0.0
    # allocate fixed items to rows by vehicle hours within their vehicle type
    for name, d in fixed_by_type.items():
        mask = (per["vehicle_type"] == name).to_numpy()
        h = per.loc[mask, "veh_h"].to_numpy(float)
        w = h / h.sum() if h.sum() > 0 else np.full(len(h), 1.0 / max(len(h), 1))
        for it in ("capital", "depot", "system", "remote"):
            if it in d:
                per.loc[mask, it] = per.loc[mask, it].to_numpy(float) + d[it] * w
    per["direct"] = per[list(items)].sum(axis=1)
    per["overhead"] = per["direct"] * cfg.overhead_share
    per["total"] = per["direct"] + per["overhead"]

    k: dict[str, float] = {}
    for it in items:
        k[f"cost_{it}_yen"] = float(per[it].sum())
    k["cost_overhead_yen"] = float(per["overhead"].sum())
    k["cost_total_yen"] = float(per["total"].sum())

    # ---- revenue
    fc = cfg.fares
    rides = _ride_fares(tables, world, fc, fares)
    k["revenue_fare_yen"] = float(rides["fare_yen"].sum()) if len(rides) else 0.0
    k["revenue_subscription_yen"] = fc.subscribers * fc.subscription_yen_per_month / DAYS_PER_MONTH
    k["revenue_total_yen"] = k["revenue_fare_yen"] + k["revenue_subscription_yen"]
    k["subsidy_required_yen"] = k["cost_total_yen"] - k["revenue_total_yen"]

    trips = tables.get("trips")
    k["passengers"] = float((trips["n_rides"] >= 1).sum()) if trips is not None and len(trips) \
        else 0.0
    k["boardings"] = float(len(rides))
    k["vehicle_hours"] = float(per["veh_h"].sum())
    k["service_hours"] = float(act["service_h"].sum()) if len(act) else 0.0
    k["vehicle_km"] = float(act["km"].sum()) if len(act) else 0.0
    k["pax_km"] = _pax_km(tables, world)
    k["vehicles_in_service"] = float(sum(d.get("_vehicles", 0.0) for d in fixed_by_type.values()))
    k["fleet_vehicles"] = float(sum(d.get("_fleet", 0.0) for d in fixed_by_type.values()))
    k["staff_hours_driver"] = float(driver_h.sum())
    k["staff_hours_operator"] = float(operator_h.sum())
    k["staff_hours_remote"] = float(staff_remote_h)
    k["subsidy_per_passenger_yen"] = _div(k["subsidy_required_yen"], k["passengers"])
    k["farebox_ratio"] = _div(k["revenue_total_yen"], k["cost_total_yen"])
    k["cost_per_vehicle_km_yen"] = _div(k["cost_total_yen"], k["vehicle_km"])
    k["cost_per_pax_km_yen"] = _div(k["cost_total_yen"], k["pax_km"])
    k["cost_per_boarding_yen"] = _div(k["cost_total_yen"], k["boardings"])
    k["revenue_per_boarding_yen"] = _div(k["revenue_fare_yen"], k["boardings"])
    for rid, c in per.groupby("route_id", sort=True)["total"].sum().items():
        k[f"cost_total_yen.{rid}"] = float(c)
    if len(rides):
        for rid, r in rides.groupby("route_id", sort=True)["fare_yen"].sum().items():
            k[f"revenue_fare_yen.{rid}"] = float(r)
    return k
