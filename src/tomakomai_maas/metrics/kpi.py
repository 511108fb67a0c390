"""KPIs of one replication, computed from the simulator's tables (never from the event loop).

``summarise(tables, world) -> dict[str, float]``; every KPI name carries its unit.

Who is counted
    ``requests`` are all journeys the simulator handled: public-transport requests (bus, AV,
    DRT, first/last-mile DRT feeders) **and walk-only journeys** (travellers who chose to
    walk, or whose best itinerary was a walk); car, bike ... trips are only in
    ``travellers`` (mode shares). Walk-only journeys always arrive, so ``served_share`` is
    close to 1 in scenarios with mode choice; ``pt_served_share`` is the share that
    measures the service: requests that needed a vehicle.
Timetabled vs all modes
    ``boardings``, ``vehicle_km``, ``pax_km``, ``energy_kwh``, ``fuel_l``, ``co2_kg`` count
    the **timetabled** vehicles (buses, AV line) only; DRT has its own ``drt.*`` KPIs. The
    ``total_*`` KPIs add the two, so a DRT scenario's headline does not read "0 boardings,
    0 CO2". Wait and journey KPIs always include DRT riders.

=======================  =====================================================================
KPI                      definition
=======================  =====================================================================
travellers               travellers in the demand, whatever mode they chose (incl. car, bike)
requests                 journeys simulated: public transport (bus, AV, DRT) and walk-only
served                   of those, journeys that reached their destination (walk-only ones
                         always do)
served_share             served / requests (walk-only journeys included)
pt_requests              requests that needed a vehicle: every request except walk-only
                         journeys (trips-table ``mode`` != ``walk``), i.e. bus, AV, DRT and
                         feeder journeys, incl. those that found no route or gave up
pt_served                of those, journeys that reached their destination
pt_served_share          pt_served / pt_requests (NaN without pt_requests)
gave_up                  requests abandoned after the patience limit (incl. after denials)
no_route                 requests without any itinerary (e.g. outside service hours)
denied_boardings         boarding attempts refused because the vehicle was full
boardings                passenger boardings over all timetabled vehicle trips
wait_mean_min            mean total wait (initial + transfers) of served riders, minutes
wait_p95_min             95th percentile of the same
journey_mean_min         mean door-to-door time of served riders (request → arrival), minutes
walk_mean_min            mean walking time of served riders, minutes
ivt_mean_min             mean in-vehicle time of served riders, minutes
transfers_mean           mean transfers per served rider
on_time_share            share of timepoint departures within the on-time band
dep_delay_mean_min       mean departure delay over vehicle trips, minutes (signed: < 0 early)
vehicle_km               km driven by timetabled vehicles in service
pax_km                   passenger-km carried by timetabled vehicles
load_factor_max          max over vehicle trips of max load / capacity
energy_kwh               electricity used by timetabled vehicles (EV)
fuel_l                   diesel used by timetabled vehicles
co2_kg                   CO2 of timetabled vehicles from energy and fuel
co2_g_per_pax_km         co2_kg·1000 / pax_km (NaN when no pax_km)
takeovers                AV manual takeovers (timetabled AV)
takeovers_per_100km      takeovers per 100 AV-km
sudden_stops             AV sudden stops
trips_cancelled          vehicle trips cancelled (e.g. AV suspension in heavy snowfall)
total_boardings          all modes: boardings + ``drt.passengers`` (persons boarding a DRT
                         vehicle; a feeder ride is a boarding like a bus ride)
total_vehicle_km         vehicle_km + ``drt.vehicle_km`` (DRT km include empty and
                         repositioning km; timetabled km are in-service km)
total_pax_km             pax_km + ``drt.pax_km``
total_energy_kwh         energy_kwh + ``drt.energy_kwh``
total_fuel_l             fuel_l + ``drt.fuel_l``
total_co2_kg             co2_kg + ``drt.co2_kg``
total_co2_g_per_pax_km   total_co2_kg·1000 / total_pax_km (NaN when no pax_km)
boardings.<route_id>     boardings per route
cost_*, revenue_*, ...   cost, revenue and subsidy per day (:mod:`tomakomai_maas.metrics.cost`;
                         its totals include DRT)
drt.*                    on-demand service KPIs, only when the run has the DRT tables
                         (:func:`drt_kpis`)
=======================  =====================================================================

Without a DRT service the ``total_*`` KPIs equal their timetabled counterparts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from tomakomai_maas.world import World

__all__ = ["summarise", "KPI_NAMES", "TOTAL_KPI_PARTS", "drt_kpis", "DRT_KPI_NAMES"]

KPI_NAMES = (
    "travellers", "requests", "served", "served_share", "pt_requests", "pt_served",
    "pt_served_share", "gave_up", "no_route", "denied_boardings",
    "boardings", "wait_mean_min", "wait_p95_min", "journey_mean_min", "walk_mean_min",
    "ivt_mean_min", "transfers_mean", "on_time_share", "dep_delay_mean_min", "vehicle_km",
    "pax_km", "load_factor_max", "energy_kwh", "fuel_l", "co2_kg", "co2_g_per_pax_km",
    "takeovers", "takeovers_per_100km", "sudden_stops", "trips_cancelled",
    "total_boardings", "total_vehicle_km", "total_pax_km", "total_energy_kwh", "total_fuel_l",
    "total_co2_kg", "total_co2_g_per_pax_km",
)

#: all-mode total -> (timetabled KPI, DRT KPI) it adds up.
TOTAL_KPI_PARTS: dict[str, tuple[str, str]] = {
    "total_boardings": ("boardings", "drt.passengers"),
    "total_vehicle_km": ("vehicle_km", "drt.vehicle_km"),
    "total_pax_km": ("pax_km", "drt.pax_km"),
    "total_energy_kwh": ("energy_kwh", "drt.energy_kwh"),
    "total_fuel_l": ("fuel_l", "drt.fuel_l"),
    "total_co2_kg": ("co2_kg", "drt.co2_kg"),
}


def _mean(x: pd.Series) -> float:
    return float(x.mean()) if len(x) else float("nan")


def _pax_km(vstops: pd.DataFrame | None, world: World | None) -> float:
    """Passenger-km: load leaving each stop × road km of the following leg."""
    if vstops is None or world is None or not len(vstops):
        return float("nan") if world is None else 0.0
    legs = {t.trip_id: t.leg_dist_m for t in world.trips}
    km = [legs[t][i] / 1000.0 if i < len(legs[t]) else 0.0
          for t, i in zip(vstops["trip_id"], vstops["stop_index"], strict=True)]
    return float((vstops["load_dep"].to_numpy(float) * np.asarray(km)).sum())


def summarise(tables: Mapping[str, pd.DataFrame], world: World | None = None) -> dict[str, float]:
    """KPIs of one replication (see the module docstring for definitions)."""
    travellers = tables["trips"]
    # modes the simulator does not run (car, bike, ...) are logged as "skipped": they count
    # for mode shares (demand.modechoice) but not for service KPIs
    trips = travellers[travellers["status"] != "skipped"]
    vt = tables["vehicle_trips"]
    k: dict[str, float] = {"travellers": float(len(travellers))}
    n = len(trips)
    served = trips[trips["status"] == "served"]
    k["requests"] = float(n)
    k["served"] = float(len(served))
    k["served_share"] = len(served) / n if n else float("nan")
    pt = trips[trips["mode"] != "walk"]
    k["pt_requests"] = float(len(pt))
    k["pt_served"] = float((pt["status"] == "served").sum())
    k["pt_served_share"] = k["pt_served"] / len(pt) if len(pt) else float("nan")
    k["gave_up"] = float(trips["status"].isin(["gave_up", "denied"]).sum())
    k["no_route"] = float((trips["status"] == "no_route").sum())
    k["denied_boardings"] = float(trips["n_denied"].sum()) if n else 0.0
    riders = served[served["mode"] != "walk"]
    k["wait_mean_min"] = _mean(riders["wait_min"])
    k["wait_p95_min"] = (float(np.percentile(riders["wait_min"], 95)) if len(riders)
                         else float("nan"))
    k["journey_mean_min"] = _mean((riders["arrive_s"] - riders["depart_s"]) / 60.0)
    k["walk_mean_min"] = _mean(riders["walk_min"])
    k["ivt_mean_min"] = _mean(riders["ivt_min"])
    k["transfers_mean"] = _mean(riders["transfers"])

    ran = vt[~vt["cancelled"].astype(bool)] if len(vt) else vt
    k["boardings"] = float(ran["boardings"].sum()) if len(ran) else 0.0
    k["trips_cancelled"] = float(vt["cancelled"].astype(bool).sum()) if len(vt) else 0.0
    tp = float(ran["timepoint_deps"].sum()) if len(ran) else 0.0
    k["on_time_share"] = float(ran["on_time_deps"].sum()) / tp if tp else float("nan")
    k["dep_delay_mean_min"] = _mean(ran["dep_delay_s"] / 60.0) if len(ran) else float("nan")
    k["vehicle_km"] = float(ran["km"].sum()) if len(ran) else 0.0
    k["pax_km"] = _pax_km(tables.get("vehicle_stops"), world)
    k["load_factor_max"] = (float((ran["max_load"] / ran["capacity"]).max()) if len(ran)
                            else float("nan"))
    for col in ("energy_kwh", "fuel_l", "co2_kg", "takeovers", "sudden_stops"):
        k[col] = float(ran[col].sum()) if len(ran) else 0.0
    k["co2_g_per_pax_km"] = k["co2_kg"] * 1000 / k["pax_km"] if k["pax_km"] > 0 else float("nan")
    av_km = float(ran.loc[ran["automation_level"] >= 2, "km"].sum()) if len(ran) else 0.0
    k["takeovers_per_100km"] = k["takeovers"] / av_km * 100 if av_km > 0 else float("nan")
    if len(ran):
        for rid, b in ran.groupby("route_id", sort=True)["boardings"].sum().items():
            k[f"boardings.{rid}"] = float(b)
    cost_config = world.extras.get("cost_config") if world is not None else None
    costs: dict[str, float] | None = None
    if cost_config is not None:
        from tomakomai_maas.metrics.cost import cost_kpis

        # The cost model's activity counts (boardings, vehicle_km, ...) include DRT; the core
        # KPIs above keep their timetabled-service definitions, so only new keys are added.
        costs = cost_kpis(tables, world, cost_config)  # type: ignore[arg-type]
        for name, value in costs.items():
            k.setdefault(name, value)
    if tables.get("drt_requests") is not None and tables.get("drt_vehicles") is not None:
        k.update(drt_kpis(tables, world, costs=costs))
    k.update(total_kpis(k))
    return k


def total_kpis(k: Mapping[str, float]) -> dict[str, float]:
    """The all-mode ``total_*`` KPIs from one replication's timetabled and ``drt.*`` KPIs
    (:data:`TOTAL_KPI_PARTS`; without DRT KPIs the DRT part is 0, an unknown timetabled
    part, e.g. ``pax_km`` without a World, makes the total NaN)."""
    out: dict[str, float] = {}
    for name, (fixed, drt) in TOTAL_KPI_PARTS.items():
        out[name] = float(k.get(fixed, math.nan)) + float(k.get(drt, 0.0))
    pkm = out["total_pax_km"]
    out["total_co2_g_per_pax_km"] = (out["total_co2_kg"] * 1000 / pkm if pkm > 0
                                     else float("nan"))
    return out


# -- on-demand (DRT) ---------------------------------------------------------------------------
DRT_KPI_NAMES = (
    "drt.requests", "drt.served", "drt.served_share", "drt.rejected", "drt.cancelled",
    "drt.passengers", "drt.wait_mean_min", "drt.wait_p95_min", "drt.ride_mean_min",
    "drt.detour_mean", "drt.shared_share", "drt.vehicle_km", "drt.empty_km_share",
    "drt.pax_km", "drt.occupancy", "drt.vehicle_km_per_pax", "drt.idle_share",
    "drt.energy_kwh", "drt.fuel_l", "drt.co2_kg", "drt.fare_revenue_yen", "drt.cost_yen",
    "drt.cost_per_trip_yen", "drt.subsidy_per_trip_yen", "drt.late_pickups",
    "drt.late_pickup_share", "drt.over_max_ride", "drt.takeovers", "drt.takeovers_per_100km",
    "drt.sudden_stops", "drt.fault_delay_min", "drt.soc_min", "drt.charged_kwh",
    "drt.charging_h",
)


def drt_kpis(tables: Mapping[str, pd.DataFrame], world: World | None = None, *,
             costs: Mapping[str, float] | None = None) -> dict[str, float]:
    """DRT KPIs of one replication from ``drt_requests`` and ``drt_vehicles``.

    =============================  ================================================================
    KPI                            definition
    =============================  ================================================================
    drt.requests / served /        bookings; served, rejected, cancelled (by the rider) bookings
    rejected / cancelled
    drt.served_share               served / bookings
    drt.passengers                 persons carried (served bookings × party size)
    drt.wait_mean_min / p95        wait of served bookings (pick-up − requested pick-up), minutes
    drt.ride_mean_min              mean ride time of served bookings, minutes
    drt.detour_mean                mean ride / direct drive time of served bookings
    drt.shared_share               share of served bookings that shared the vehicle at some point
    drt.vehicle_km                 km driven by DRT vehicles (incl. repositioning)
    drt.empty_km_share             km with nobody on board / vehicle_km
    drt.pax_km                     passenger-km (persons × km)
    drt.occupancy                  pax_km / vehicle_km
    drt.vehicle_km_per_pax         vehicle_km / passengers
    drt.idle_share                 idle on-shift hours / shift hours
    drt.energy_kwh / fuel_l /      energy, fuel and CO2 of the DRT fleet
    co2_kg
    drt.fare_revenue_yen           fares paid by served bookings
    drt.cost_yen                   operating cost of the DRT service per day = the cost
                                   model's ``cost_total_yen.drt`` (:mod:`tomakomai_maas.
                                   metrics.cost`, unit costs from the scenario's ``cost:``
                                   section): staff for the shift hours, the DRT vehicles'
                                   capital, depot and system fee, maintenance, energy and
                                   overhead; NaN without a World
    drt.cost_per_trip_yen          cost / served bookings
    drt.subsidy_per_trip_yen       (cost − fare revenue) / served bookings
    drt.late_pickups / share       served bookings picked up after their latest pick-up (count,
                                   share of served): only unplanned delays (AV faults) cause it
    drt.over_max_ride              served bookings whose ride exceeded their max ride time
    drt.takeovers / sudden_stops   AV manual takeovers / sudden stops of DRT vehicles
    drt.takeovers_per_100km        takeovers per 100 km of autonomous DRT vehicles
    drt.fault_delay_min            time lost to takeovers and sudden stops, minutes
    drt.soc_min                    lowest battery state of charge of any electric DRT vehicle
                                   (0..1; NaN without one); below the reserve = a warning
    drt.charged_kwh / charging_h   energy charged at depots / plugged-in hours
    drt.rejected.<reason>          rejected bookings per reason (every reason, 0 when absent)
    =============================  ================================================================

    One source of truth for cost: ``drt.cost_yen`` is the cost model's DRT line
    (``cost_total_yen.drt``), so the KPI table never shows two DRT costs. ``costs``: the
    cost model's KPIs of the same tables when already computed (:func:`summarise` passes
    them); else they are computed here with ``world.extras["cost_config"]`` (the scenario's
    ``cost:`` section), or the default :class:`~tomakomai_maas.metrics.cost.CostConfig`.
    """
    nan = float("nan")
    req = tables["drt_requests"]
    veh = tables["drt_vehicles"]
    k: dict[str, float] = {}
    n = len(req)
    served = req[req["status"] == "served"]
    ns = len(served)
    k["drt.requests"] = float(n)
    k["drt.served"] = float(ns)
    k["drt.served_share"] = ns / n if n else nan
    k["drt.rejected"] = float((req["status"] == "rejected").sum())
    k["drt.cancelled"] = float((req["status"] == "cancelled").sum())
    pax = float(served["n_pax"].sum()) if ns else 0.0
    k["drt.passengers"] = pax
    k["drt.wait_mean_min"] = _mean(served["wait_min"])
    k["drt.wait_p95_min"] = float(np.percentile(served["wait_min"], 95)) if ns else nan
    k["drt.ride_mean_min"] = _mean(served["ride_min"])
    k["drt.detour_mean"] = _mean(served["detour_factor"].dropna())
    k["drt.shared_share"] = float(served["shared"].astype(bool).mean()) if ns else nan
    km = float(veh["km"].sum()) if len(veh) else 0.0
    k["drt.vehicle_km"] = km
    k["drt.empty_km_share"] = float(veh["empty_km"].sum()) / km if km > 0 else nan
    k["drt.pax_km"] = float(veh["pax_km"].sum()) if len(veh) else 0.0
    k["drt.occupancy"] = k["drt.pax_km"] / km if km > 0 else nan
    k["drt.vehicle_km_per_pax"] = km / pax if pax > 0 else nan
    duty_h = float(veh["duty_s"].sum()) / 3600.0 if len(veh) else 0.0
    k["drt.idle_share"] = float(veh["idle_h"].sum()) / duty_h if duty_h > 0 else nan
    for col, name in (("energy_kwh", "drt.energy_kwh"), ("fuel_l", "drt.fuel_l"),
                      ("co2_kg", "drt.co2_kg")):
        k[name] = float(veh[col].sum()) if len(veh) else 0.0
    k["drt.fare_revenue_yen"] = float(served["fare_yen"].sum()) if ns else 0.0
    if costs is None and world is not None:
        from tomakomai_maas.metrics.cost import CostConfig, cost_kpis

        cfg = (world.extras or {}).get("cost_config") or CostConfig()
        costs = cost_kpis(tables, world, cfg)
    cost = (float(costs.get("cost_total_yen.drt", 0.0)) if costs is not None else nan)
    k["drt.cost_yen"] = cost
    k["drt.cost_per_trip_yen"] = cost / ns if ns else nan
    k["drt.subsidy_per_trip_yen"] = (cost - k["drt.fare_revenue_yen"]) / ns if ns else nan
    late = served["pickup_late_min"] > 0
    k["drt.late_pickups"] = float(late.sum())
    k["drt.late_pickup_share"] = float(late.mean()) if ns else nan
    k["drt.over_max_ride"] = float((served["ride_over_min"] > 0).sum())
    k["drt.takeovers"] = float(veh["takeovers"].sum()) if len(veh) else 0.0
    k["drt.sudden_stops"] = float(veh["sudden_stops"].sum()) if len(veh) else 0.0
    av_km = float(veh.loc[veh["automation_level"] >= 2, "km"].sum()) if len(veh) else 0.0
    k["drt.takeovers_per_100km"] = k["drt.takeovers"] / av_km * 100 if av_km > 0 else nan
    k["drt.fault_delay_min"] = float(veh["fault_delay_min"].sum()) if len(veh) else 0.0
    ev_rows = veh[veh["min_soc"].notna()] if len(veh) else veh
    k["drt.soc_min"] = float(ev_rows["min_soc"].min()) if len(ev_rows) else nan
    k["drt.charged_kwh"] = float(ev_rows["charged_kwh"].sum()) if len(ev_rows) else 0.0
    k["drt.charging_h"] = float(ev_rows["charging_h"].sum()) if len(ev_rows) else 0.0
    rej = req[req["status"] == "rejected"]
    counts = rej.groupby("reject_reason", sort=True).size()
    for reason in sorted(set(_drt_reject_reasons()) | set(counts.index)):
        k[f"drt.rejected.{reason}"] = float(counts.get(reason, 0))
    return k


def _drt_reject_reasons() -> tuple[str, ...]:
    """Every rejection reason (all are reported, 0 when absent, so replications line up)."""
    from tomakomai_maas.dispatch import RejectReason
    from tomakomai_maas.drt_world import SIM_REJECT_REASONS

    return tuple(r.value for r in RejectReason) + tuple(SIM_REJECT_REASONS)
