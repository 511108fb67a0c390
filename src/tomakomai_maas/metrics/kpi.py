"""KPIs of one replication, computed from the simulator's tables (never from the event loop).

``summarise(tables, world) -> dict[str, float]``; every KPI name carries its unit. KPIs are
defined over *public-transport requests* (mode "pt"); walk-only journeys count as served.

=======================  =====================================================================
KPI                      definition
=======================  =====================================================================
requests                 number of requests (all modes)
served                   requests that reached their destination
served_share             served / requests
gave_up                  requests abandoned after the patience limit (incl. after denials)
no_route                 requests without any itinerary (e.g. outside service hours)
denied_boardings         boarding attempts refused because the vehicle was full
boardings                passenger boardings over all vehicle trips
wait_mean_min            mean total wait (initial + transfers) of served riders, minutes
wait_p95_min             95th percentile of the same
journey_mean_min         mean door-to-door time of served riders (request → arrival), minutes
walk_mean_min            mean walking time of served riders, minutes
ivt_mean_min             mean in-vehicle time of served riders, minutes
transfers_mean           mean transfers per served rider
on_time_share            share of timepoint departures within the on-time band
dep_delay_mean_min       mean departure delay over vehicle trips, minutes
vehicle_km               km driven by timetabled vehicles
pax_km                   passenger-km carried
load_factor_max          max over vehicle trips of max load / capacity
energy_kwh               electricity used (EV vehicles)
fuel_l                   diesel used
co2_kg                   CO2 from energy and fuel
co2_g_per_pax_km         co2_kg·1000 / pax_km (NaN when no pax_km)
takeovers                AV manual takeovers
takeovers_per_100km      takeovers per 100 AV-km
sudden_stops             AV sudden stops
trips_cancelled          vehicle trips cancelled (e.g. AV suspension in heavy snowfall)
boardings.<route_id>     boardings per route
cost_*, revenue_*, ...   cost, revenue and subsidy per day (:mod:`tomakomai_maas.metrics.cost`)
=======================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tomakomai_maas.world import World

__all__ = ["summarise", "KPI_NAMES"]

KPI_NAMES = (
    "requests", "served", "served_share", "gave_up", "no_route", "denied_boardings",
    "boardings", "wait_mean_min", "wait_p95_min", "journey_mean_min", "walk_mean_min",
    "ivt_mean_min", "transfers_mean", "on_time_share", "dep_delay_mean_min", "vehicle_km",
    "pax_km", "load_factor_max", "energy_kwh", "fuel_l", "co2_kg", "co2_g_per_pax_km",
    "takeovers", "takeovers_per_100km", "sudden_stops", "trips_cancelled",
)


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
    trips = tables["trips"]
    vt = tables["vehicle_trips"]
    k: dict[str, float] = {}
    n = len(trips)
    served = trips[trips["status"] == "served"]
    k["requests"] = float(n)
    k["served"] = float(len(served))
    k["served_share"] = len(served) / n if n else float("nan")
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
    if cost_config is not None:
        from tomakomai_maas.metrics.cost import cost_kpis

        k.update(cost_kpis(tables, world, cost_config))
    return k
