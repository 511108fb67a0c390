"""DRT tables built from the event log (plus the static booking records of the run).

Times ``*_s`` are seconds since midnight, durations ``*_min`` minutes / ``*_h`` hours,
distances km, money yen. Strings are ``""`` and floats NaN when not applicable. No KPIs here.

``drt_requests``  one row per DRT booking, sorted by ``request_id``.
    ``source``: ``drt_demand`` (the ``drt.demand`` section), ``demand`` (a request with mode
    ``drt`` from the scenario's demand), ``first_mile`` / ``last_mile`` (feeder leg of a
    ``pt`` request).
    ``t_request_s`` booking time (negative: booked before the simulated day);
    ``earliest_pickup_s``/``latest_pickup_s``/``latest_dropoff_s`` the time windows (NaN when
    rejected before dispatch / unbounded); ``o_stop``/``d_stop`` the pick-up and drop-off
    points (virtual stop id, transfer stop id or ``n<node>``); ``walk_min`` access + egress
    walk of stop-based trips; ``assigned_s`` when the dispatcher accepted it, ``vehicle_id``,
    ``planned_pickup_s``; ``pickup_s`` (service start), ``dropoff_s`` (arrival);
    ``wait_min`` = pickup − earliest pick-up; ``ride_min`` = drop-off arrival − departure
    from the pick-up (the dispatcher's ride time); ``direct_min`` the direct drive (at the
    time of day of the earliest pick-up, see :mod:`tomakomai_maas.sim.drt`);
    ``max_ride_min`` the ride limit; lateness against the promise (served trips, else NaN):
    ``pickup_late_min`` = max(0, pick-up − latest pick-up), ``ride_over_min`` = max(0, ride −
    max ride) — positive only when driving fell behind the plan (AV takeovers / sudden stops);
    ``detour_factor`` = ride / direct; ``shared``: another booking was on board at some
    moment of the ride. ``status``: ``served``, ``rejected``, ``cancelled`` (by the rider),
    ``not_booked`` (a last-mile leg whose rider never reached the transfer stop) or
    ``unfinished``; ``reject_reason`` (see ``sim.events`` ``drt_reject``) and
    ``reject_detail``; ``fare_yen`` = fare of the class × passengers (served trips pay).
``drt_vehicles``  one row per vehicle shift, sorted by ``vehicle_id``.
    ``duty_s`` shift length; ``km`` driven (all legs, including repositioning and the drive
    back to the depot after the shift), ``empty_km`` with nobody on board,
    ``reposition_km`` on rebalancing / return-to-depot legs, ``pax_km`` passenger-km
    (persons × km), ``occupancy`` = pax_km / km; ``busy_h``/``idle_h`` on-shift time with /
    without work (``idle_share`` = idle / duty); energy, fuel and CO2 as for buses
    (:func:`tomakomai_maas.sim.energy.leg_energy`, weather at each leg's departure);
    for EVs with ``battery_kwh`` (else NaN): ``end_soc`` state of charge at the end of the log
    (after the drive back to the depot), ``min_soc`` the lowest one (after each leg's
    energy, taken at its departure), ``charged_kwh`` / ``charging_h`` energy charged and
    plugged-in hours at the depot (starting full; rules in
    :class:`~tomakomai_maas.drt_world.ChargingParams`); ``takeovers`` / ``sudden_stops`` of
    autonomous vehicles and ``fault_delay_min`` the time they cost.
``drt_hourly``  one row per hour of the day with activity, sorted by ``hour``.
    Bookings counted in the hour of their requested pick-up: ``requests``, ``served``,
    ``rejected``, ``cancelled``, ``wait_mean_min`` of served ones; ``vehicles_busy`` /
    ``vehicles_on_shift`` time-averaged over the hour.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tomakomai_maas.sim import events as ev
from tomakomai_maas.sim.drt_prep import DrtPax
from tomakomai_maas.sim.energy import leg_energy, supervision
from tomakomai_maas.world import World

__all__ = ["DRT_REQUESTS_SCHEMA", "DRT_VEHICLES_SCHEMA", "DRT_HOURLY_SCHEMA",
           "build_drt_tables"]

_F, _I, _S, _B = "float64", "int64", "str", "bool"
_NAN = math.nan

DRT_REQUESTS_SCHEMA: dict[str, str] = {
    "request_id": _S,
    "source": _S,
    "pax_class": _S,
    "n_pax": _I,
    "prebooked": _B,
    "t_request_s": _F,
    "earliest_pickup_s": _F,
    "latest_pickup_s": _F,
    "latest_dropoff_s": _F,
    "o_stop": _S,
    "d_stop": _S,
    "walk_min": _F,
    "assigned_s": _F,
    "vehicle_id": _S,
    "planned_pickup_s": _F,
    "pickup_s": _F,
    "dropoff_s": _F,
    "wait_min": _F,
    "ride_min": _F,
    "direct_min": _F,
    "max_ride_min": _F,
    "pickup_late_min": _F,
    "ride_over_min": _F,
    "detour_factor": _F,
    "shared": _B,
    "status": _S,
    "reject_reason": _S,
    "reject_detail": _S,
    "fare_yen": _F,
}

DRT_VEHICLES_SCHEMA: dict[str, str] = {
    "vehicle_id": _S,
    "vehicle_type": _S,
    "powertrain": _S,
    "automation_level": _I,
    "supervision": _S,
    "capacity": _I,
    "depot": _S,
    "shift_start_s": _F,
    "shift_end_s": _F,
    "duty_s": _F,
    "km": _F,
    "empty_km": _F,
    "reposition_km": _F,
    "pax_km": _F,
    "occupancy": _F,
    "pickups": _I,
    "dropoffs": _I,
    "max_load": _I,
    "busy_h": _F,
    "idle_h": _F,
    "idle_share": _F,
    "energy_kwh": _F,
    "fuel_l": _F,
    "co2_kg": _F,
    "end_soc": _F,
    "min_soc": _F,
    "charged_kwh": _F,
    "charging_h": _F,
    "takeovers": _I,
    "sudden_stops": _I,
    "fault_delay_min": _F,
}

DRT_HOURLY_SCHEMA: dict[str, str] = {
    "hour": _I,
    "requests": _I,
    "served": _I,
    "rejected": _I,
    "cancelled": _I,
    "wait_mean_min": _F,
    "vehicles_busy": _F,
    "vehicles_on_shift": _F,
}


def _frame(rows: list[dict], schema: Mapping[str, str], sort_by: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(schema)).astype(dict(schema))
    if len(df):
        df = df.sort_values(sort_by, kind="mergesort").reset_index(drop=True)
    return df


def _spread(acc: dict[int, float], t0: float, t1: float) -> None:
    """Add the seconds of ``[t0, t1)`` to ``acc[hour]``."""
    t = t0
    while t < t1:
        h = int(t // 3600)
        end = min(t1, (h + 1) * 3600.0)
        acc[h] = acc.get(h, 0.0) + (end - t)
        t = end


def build_drt_tables(events: Sequence[tuple], world: World, pax: Sequence[DrtPax]
                     ) -> dict[str, pd.DataFrame]:
    """``drt_requests``, ``drt_vehicles`` and ``drt_hourly`` (see the module docstring)."""
    svc = world.drt
    assert svc is not None
    by_id = {p.rid: p for p in pax}
    rec = {p.rid: {"assigned_s": _NAN, "vehicle_id": "", "planned_pickup_s": _NAN,
                   "pickup_s": _NAN, "dropoff_s": _NAN, "wait": _NAN, "ride": _NAN,
                   "shared": False, "status": "unfinished", "reason": "", "booked": False}
           for p in pax}
    specs = {v.vehicle_id: v for v in svc.vehicles}
    veh = {vid: {"km": 0.0, "empty_km": 0.0, "reposition_km": 0.0, "pax_km": 0.0,
                 "pickups": 0, "dropoffs": 0, "max_load": 0, "kwh": 0.0, "fuel": 0.0,
                 "co2": 0.0, "idle_s": 0.0, "idle_since": None, "busy_since": None,
                 "shift_on": None, "soc": 1.0, "min_soc": 1.0, "charged": 0.0,
                 "charge_since": None, "charging_s": 0.0, "takeovers": 0, "sudden_stops": 0,
                 "fault_s": 0.0} for vid in specs}
    battery = {vid: (float(v.vtype.battery_kwh) if v.vtype.powertrain == "ev"
                     and v.vtype.battery_kwh else None) for vid, v in specs.items()}
    load = dict.fromkeys(specs, 0)
    aboard: dict[str, list[str]] = {vid: [] for vid in specs}
    busy_h: dict[int, float] = {}
    shift_h: dict[int, float] = {}
    t_last = 0.0
    for e in events:
        t, _, kind, vid, trip, pid, _stop, value = e
        if kind not in ev.DRT_KINDS:
            continue
        t_last = t
        if kind == ev.DRT_DEPART:
            v = veh[vid]
            km = value / 1000.0
            v["km"] += km
            if load[vid] == 0:
                v["empty_km"] += km
            if trip != "service":
                v["reposition_km"] += km
            v["pax_km"] += load[vid] * km
            kwh, litres, co2 = leg_energy(specs[vid].vtype, value, world.weather_at(t),
                                          world.energy)
            v["kwh"] += kwh
            v["fuel"] += litres
            v["co2"] += co2
            if battery[vid]:
                v["soc"] -= kwh / battery[vid]
                v["min_soc"] = min(v["min_soc"], v["soc"])
        elif kind in (ev.DRT_TAKEOVER, ev.DRT_SUDDEN_STOP):
            v = veh[vid]
            v["takeovers" if kind == ev.DRT_TAKEOVER else "sudden_stops"] += 1
            v["fault_s"] += value
        elif kind == ev.DRT_CHARGE_START:
            veh[vid]["charge_since"] = t
        elif kind == ev.DRT_CHARGE_END:
            v = veh[vid]
            v["charged"] += value
            v["soc"] += value / battery[vid]
            if v["charge_since"] is not None:
                v["charging_s"] += t - v["charge_since"]
                v["charge_since"] = None
        elif kind == ev.DRT_PICKUP:
            r = rec[pid]
            r.update(pickup_s=t, wait=value)
            if aboard[vid]:
                r["shared"] = True
                for other in aboard[vid]:
                    rec[other]["shared"] = True
            aboard[vid].append(pid)
            load[vid] += by_id[pid].n_pax
            v = veh[vid]
            v["pickups"] += 1
            v["max_load"] = max(v["max_load"], load[vid])
        elif kind == ev.DRT_DROPOFF:
            rec[pid].update(dropoff_s=t, ride=value, status="served")
            aboard[vid].remove(pid)
            load[vid] -= by_id[pid].n_pax
            veh[vid]["dropoffs"] += 1
        elif kind == ev.DRT_REQUEST:
            rec[pid]["booked"] = True
        elif kind == ev.DRT_ASSIGN:
            rec[pid].update(assigned_s=t, vehicle_id=vid, planned_pickup_s=value,
                            status="unfinished")
        elif kind == ev.DRT_REJECT:
            rec[pid].update(status="rejected", reason=trip)
        elif kind == ev.DRT_CANCEL:
            rec[pid]["status"] = "cancelled"
        elif kind == ev.DRT_SHIFT_START:
            veh[vid]["shift_on"] = t
        elif kind == ev.DRT_IDLE:
            v = veh[vid]
            if v["busy_since"] is not None:
                _spread(busy_h, v["busy_since"], t)
                v["busy_since"] = None
            v["idle_since"] = t
        elif kind == ev.DRT_BUSY:
            v = veh[vid]
            if v["idle_since"] is not None:
                v["idle_s"] += t - v["idle_since"]
                v["idle_since"] = None
            v["busy_since"] = t
        elif kind == ev.DRT_SHIFT_END:
            v = veh[vid]
            if v["idle_since"] is not None:
                v["idle_s"] += t - v["idle_since"]
                v["idle_since"] = None
            if v["busy_since"] is not None:
                _spread(busy_h, v["busy_since"], t)
                v["busy_since"] = None
            if v["shift_on"] is not None:
                _spread(shift_h, v["shift_on"], t)
                v["shift_on"] = None
    for v in veh.values():  # shifts still open when the log ends
        if v["busy_since"] is not None:
            _spread(busy_h, v["busy_since"], t_last)
        if v["shift_on"] is not None:
            _spread(shift_h, v["shift_on"], t_last)

    req_rows = []
    for p in pax:
        r = rec[p.rid]
        if not r["booked"]:
            r["status"] = "not_booked"
        d = p.dreq
        served = r["status"] == "served"
        direct = p.direct_s
        ride = r["ride"]
        max_ride = d.max_ride_s if d is not None else _NAN
        late = (max(0.0, r["pickup_s"] - d.latest_pickup_s) / 60.0 if served and d is not None
                else _NAN)
        over = max(0.0, ride - max_ride) / 60.0 if served and d is not None else _NAN
        req_rows.append({
            "request_id": p.rid,
            "source": p.source,
            "pax_class": p.pax_class,
            "n_pax": p.n_pax,
            "prebooked": p.prebooked,
            "t_request_s": p.t_request_s,
            "earliest_pickup_s": p.earliest_pickup_s,
            "latest_pickup_s": d.latest_pickup_s if d is not None else _NAN,
            "latest_dropoff_s": (d.latest_dropoff_s if d is not None
                                 and d.latest_dropoff_s is not None else _NAN),
            "o_stop": p.o_label,
            "d_stop": p.d_label,
            "walk_min": p.walk_m / svc.walk_speed_mps / 60.0,
            "assigned_s": r["assigned_s"],
            "vehicle_id": r["vehicle_id"],
            "planned_pickup_s": r["planned_pickup_s"],
            "pickup_s": r["pickup_s"],
            "dropoff_s": r["dropoff_s"],
            "wait_min": r["wait"] / 60.0,
            "ride_min": ride / 60.0,
            "direct_min": direct / 60.0,
            "max_ride_min": max_ride / 60.0,
            "pickup_late_min": late,
            "ride_over_min": over,
            "detour_factor": ride / direct if served and direct > 0 else _NAN,
            "shared": bool(r["shared"]),
            "status": r["status"],
            "reject_reason": r["reason"],
            "reject_detail": p.reject_detail if r["status"] == "rejected" else "",
            "fare_yen": p.fare_yen if served else 0.0,
        })  # fmt: skip

    veh_rows = []
    for vid, spec in specs.items():
        v = veh[vid]
        duty = spec.shift_end_s - spec.shift_start_s
        vt = spec.vtype
        veh_rows.append({
            "vehicle_id": vid,
            "vehicle_type": vt.name,
            "powertrain": vt.powertrain,
            "automation_level": vt.automation_level,
            "supervision": supervision(vt.automation_level),
            "capacity": spec.capacity,
            "depot": f"n{spec.depot_node}",
            "shift_start_s": spec.shift_start_s,
            "shift_end_s": spec.shift_end_s,
            "duty_s": duty,
            "km": v["km"],
            "empty_km": v["empty_km"],
            "reposition_km": v["reposition_km"],
            "pax_km": v["pax_km"],
            "occupancy": v["pax_km"] / v["km"] if v["km"] > 0 else _NAN,
            "pickups": v["pickups"],
            "dropoffs": v["dropoffs"],
            "max_load": v["max_load"],
            "busy_h": (duty - v["idle_s"]) / 3600.0,
            "idle_h": v["idle_s"] / 3600.0,
            "idle_share": v["idle_s"] / duty if duty > 0 else _NAN,
            "energy_kwh": v["kwh"],
            "fuel_l": v["fuel"],
            "co2_kg": v["co2"],
            "end_soc": v["soc"] if battery[vid] else _NAN,
            "min_soc": v["min_soc"] if battery[vid] else _NAN,
            "charged_kwh": v["charged"] if battery[vid] else _NAN,
            "charging_h": v["charging_s"] / 3600.0 if battery[vid] else _NAN,
            "takeovers": v["takeovers"],
            "sudden_stops": v["sudden_stops"],
            "fault_delay_min": v["fault_s"] / 60.0,
        })  # fmt: skip

    per_hour: dict[int, dict] = {}
    for p in pax:
        h = int(p.earliest_pickup_s // 3600) if math.isfinite(p.earliest_pickup_s) else None
        if h is None:
            continue
        row = per_hour.setdefault(h, {"requests": 0, "served": 0, "rejected": 0,
                                      "cancelled": 0, "waits": []})
        row["requests"] += 1
        st = rec[p.rid]["status"]
        if st == "served":
            row["served"] += 1
            row["waits"].append(rec[p.rid]["wait"] / 60.0)
        elif st in ("rejected", "cancelled"):
            row[st] += 1
    hours = sorted(set(per_hour) | set(busy_h) | set(shift_h))
    hourly_rows = []
    for h in hours:
        row = per_hour.get(h, {"requests": 0, "served": 0, "rejected": 0, "cancelled": 0,
                               "waits": []})
        hourly_rows.append({
            "hour": h,
            "requests": row["requests"],
            "served": row["served"],
            "rejected": row["rejected"],
            "cancelled": row["cancelled"],
            "wait_mean_min": float(np.mean(row["waits"])) if row["waits"] else _NAN,
            "vehicles_busy": busy_h.get(h, 0.0) / 3600.0,
            "vehicles_on_shift": shift_h.get(h, 0.0) / 3600.0,
        })  # fmt: skip
    return {
        "drt_requests": _frame(req_rows, DRT_REQUESTS_SCHEMA, ["request_id"]),
        "drt_vehicles": _frame(veh_rows, DRT_VEHICLES_SCHEMA, ["vehicle_id"]),
        "drt_hourly": _frame(hourly_rows, DRT_HOURLY_SCHEMA, ["hour"]),
    }
