"""Tables built from the event log (the log is the source of truth).

Each table is a pandas DataFrame whose columns and dtypes are pinned by a ``*_SCHEMA``
constant below (column -> dtype, in column order). Times ``*_s`` are seconds since midnight,
durations ``*_min`` minutes, ``*_delay_s`` seconds (positive = late), distances km.
Strings are ``""`` when not applicable; floats are NaN when not applicable. No KPIs here.

``trips``  one row per request (including the DRT section's own trips), sorted by
    ``request_id``.
    ``status``: ``served`` (reached destination), ``denied`` (gave up after at least one
    denied boarding), ``gave_up`` (gave up without a denial, e.g. late or cancelled vehicles),
    ``no_route`` (no itinerary), ``skipped`` (mode not simulated here), ``rejected`` (DRT
    booking rejected, no other itinerary), ``cancelled`` (DRT booking cancelled by the
    rider), ``unfinished``.
    ``mode``: ``walk`` for walk-only itineraries, ``drt+pt`` for a ``pt`` request that rode a
    first-mile DRT feeder, otherwise the request's mode. DRT rides are ride legs with
    ``route_id`` ``drt`` (wait = from ``drt_ready`` to the pick-up).
    ``walk_min``/``wait_min``/``ivt_min``: actual time walked, waited at stops and spent on
    board so far (also for passengers who gave up). ``transfers`` = rides boarded − 1 (≥ 0).
    ``gen_cost_min``: actual generalised cost (served only), same weights as the planner.
    ``planned_*``: the itinerary chosen at ``depart_s`` (NaN / −1 without itinerary).
``legs``  one row per planned leg of every itinerary, sorted by (``request_id``,
    ``leg_index``). ``kind`` walk/ride, ``role`` access/ride/transfer/egress/direct.
    ``from_stop``/``to_stop`` are the board/alight stops of rides (``""`` = origin /
    destination for walks). ``trip_id``/``vehicle_id`` are the vehicle actually boarded
    (may differ from ``planned_trip_id``). ``start_s`` = walk start or arrival at the stop,
    ``board_s`` = boarding time, ``end_s`` = arrival at the leg's end. ``status``:
    ``done``, ``gave_up`` (the ride leg waited for when giving up), ``unfinished``,
    ``not_reached``.
``vehicle_trips``  one row per timetabled trip, sorted by (``sched_dep_s``, ``trip_id``).
    Delays at the first departure and last arrival; ``km``/energy of the legs driven;
    ``load_profile`` = loads leaving each stop joined by ``|``; ``timepoint_deps`` /
    ``on_time_deps`` count timepoint departures and those within [−on_time_early_s,
    +on_time_late_s]; ``min_soc`` = battery state of charge (0..1) at the end of the trip
    for EVs with ``battery_kwh`` (each vehicle starts the day full, no charging is
    modelled); ``supervision`` = driver / operator_on_board (level 2-3) / remote (level 4).
``vehicle_stops``  one row per stop visit of a run trip, sorted by (``trip_id``,
    ``stop_index``); departure columns are NaN at the last stop.
``stops``  one row per stop of the World, sorted by ``stop_id``; ``max_queue`` = most
    passengers waiting at the stop at once.
``drt_requests``, ``drt_vehicles``, ``drt_hourly``  only when the World has a DRT service:
    see :mod:`tomakomai_maas.sim.drt_tables`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from tomakomai_maas.journey import Itinerary, generalised_cost_s
from tomakomai_maas.sim import events as ev
from tomakomai_maas.sim.drt_prep import DrtPax
from tomakomai_maas.sim.drt_tables import (
    DRT_HOURLY_SCHEMA,
    DRT_REQUESTS_SCHEMA,
    DRT_VEHICLES_SCHEMA,
    build_drt_tables,
)
from tomakomai_maas.sim.energy import leg_energy, supervision
from tomakomai_maas.world import Request, World

__all__ = [
    "TRIPS_SCHEMA",
    "LEGS_SCHEMA",
    "VEHICLE_TRIPS_SCHEMA",
    "VEHICLE_STOPS_SCHEMA",
    "STOPS_SCHEMA",
    "DRT_REQUESTS_SCHEMA",
    "DRT_VEHICLES_SCHEMA",
    "DRT_HOURLY_SCHEMA",
    "TABLE_SCHEMAS",
    "build_tables",
]

_F, _I, _S, _B = "float64", "int64", "str", "bool"

TRIPS_SCHEMA: dict[str, str] = {
    "request_id": _S,
    "request_mode": _S,
    "mode": _S,
    "status": _S,
    "purpose": _S,
    "pax_class": _S,
    "depart_s": _F,
    "arrive_s": _F,
    "end_s": _F,
    "travel_min": _F,
    "walk_min": _F,
    "wait_min": _F,
    "ivt_min": _F,
    "n_rides": _I,
    "transfers": _I,
    "n_denied": _I,
    "gen_cost_min": _F,
    "planned_cost_min": _F,
    "planned_arrive_s": _F,
    "planned_walk_min": _F,
    "planned_wait_min": _F,
    "planned_ivt_min": _F,
    "planned_transfers": _I,
}

LEGS_SCHEMA: dict[str, str] = {
    "request_id": _S,
    "leg_index": _I,
    "kind": _S,
    "role": _S,
    "route_id": _S,
    "planned_trip_id": _S,
    "trip_id": _S,
    "vehicle_id": _S,
    "from_stop": _S,
    "to_stop": _S,
    "planned_start_s": _F,
    "planned_end_s": _F,
    "start_s": _F,
    "board_s": _F,
    "end_s": _F,
    "walk_min": _F,
    "wait_min": _F,
    "ivt_min": _F,
    "n_denied": _I,
    "status": _S,
}

VEHICLE_TRIPS_SCHEMA: dict[str, str] = {
    "trip_id": _S,
    "vehicle_id": _S,
    "route_id": _S,
    "route_name": _S,
    "direction_id": _I,
    "vehicle_type": _S,
    "powertrain": _S,
    "automation_level": _I,
    "supervision": _S,
    "capacity": _I,
    "cancelled": _B,
    "sched_dep_s": _F,
    "actual_dep_s": _F,
    "dep_delay_s": _F,
    "sched_arr_s": _F,
    "actual_arr_s": _F,
    "arr_delay_s": _F,
    "km": _F,
    "boardings": _I,
    "alightings": _I,
    "denied": _I,
    "max_load": _I,
    "load_profile": _S,
    "timepoint_deps": _I,
    "on_time_deps": _I,
    "takeovers": _I,
    "sudden_stops": _I,
    "fault_delay_s": _F,
    "energy_kwh": _F,
    "fuel_l": _F,
    "co2_kg": _F,
    "min_soc": _F,
}

VEHICLE_STOPS_SCHEMA: dict[str, str] = {
    "trip_id": _S,
    "vehicle_id": _S,
    "route_id": _S,
    "stop_index": _I,
    "stop_id": _S,
    "timepoint": _B,
    "sched_arr_s": _F,
    "arr_s": _F,
    "arr_delay_s": _F,
    "sched_dep_s": _F,
    "dep_s": _F,
    "dep_delay_s": _F,
    "on_time": _B,
    "boardings": _I,
    "alightings": _I,
    "denied": _I,
    "load_dep": _I,
}

STOPS_SCHEMA: dict[str, str] = {
    "stop_id": _S,
    "name": _S,
    "boardings": _I,
    "alightings": _I,
    "denied": _I,
    "gave_up": _I,
    "max_queue": _I,
}

TABLE_SCHEMAS: dict[str, dict[str, str]] = {
    "trips": TRIPS_SCHEMA,
    "legs": LEGS_SCHEMA,
    "vehicle_trips": VEHICLE_TRIPS_SCHEMA,
    "vehicle_stops": VEHICLE_STOPS_SCHEMA,
    "stops": STOPS_SCHEMA,
    "drt_requests": DRT_REQUESTS_SCHEMA,
    "drt_vehicles": DRT_VEHICLES_SCHEMA,
    "drt_hourly": DRT_HOURLY_SCHEMA,
}

_NAN = math.nan


def _frame(rows: list[dict], schema: Mapping[str, str], sort_by: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(schema))
    df = df.astype(dict(schema))
    if len(df):
        df = df.sort_values(sort_by, kind="mergesort").reset_index(drop=True)
    return df


def build_tables(
    events: Sequence[tuple],
    world: World,
    requests: Sequence[Request],
    itineraries: Mapping[str, Itinerary | None],
    drt_pax: Sequence[DrtPax] | None = None,
) -> dict[str, pd.DataFrame]:
    """Build all tables (see module docstring) from the event log of one run.

    The DRT tables are built when ``world.drt`` is set (``drt_pax``: the run's bookings).
    """
    by_pax: dict[str, list[tuple]] = {}
    for e in events:
        if e[5]:
            by_pax.setdefault(e[5], []).append(e)
    trips_rows, legs_rows = _passenger_rows(world, requests, itineraries, by_pax)
    vt_rows, vs_rows = _vehicle_rows(events, world)
    out = {
        "trips": _frame(trips_rows, TRIPS_SCHEMA, ["request_id"]),
        "legs": _frame(legs_rows, LEGS_SCHEMA, ["request_id", "leg_index"]),
        "vehicle_trips": _frame(vt_rows, VEHICLE_TRIPS_SCHEMA, ["sched_dep_s", "trip_id"]),
        "vehicle_stops": _frame(vs_rows, VEHICLE_STOPS_SCHEMA, ["trip_id", "stop_index"]),
        "stops": _frame(_stop_rows(events, world), STOPS_SCHEMA, ["stop_id"]),
    }
    if world.drt is not None:
        out.update(build_drt_tables(events, world, drt_pax or ()))
    return out


# -- passengers ------------------------------------------------------------------------------
def _passenger_rows(
    world: World,
    requests: Sequence[Request],
    itineraries: Mapping[str, Itinerary | None],
    by_pax: Mapping[str, list[tuple]],
) -> tuple[list[dict], list[dict]]:
    jp = world.journey
    trips_rows: list[dict] = []
    legs_rows: list[dict] = []
    for req in requests:
        itin = itineraries.get(req.request_id)
        evs = by_pax.get(req.request_id, [])
        legs = _leg_rows(req.request_id, itin, evs)
        legs_rows.extend(legs)
        terminal = next((e for e in reversed(evs) if e[2] in ev.TERMINAL_KINDS), None)
        kind = terminal[2] if terminal is not None else ev.UNFINISHED
        n_denied = sum(leg["n_denied"] for leg in legs)
        if kind == ev.ARRIVE_DEST:
            status = "served"
        elif kind == ev.GIVE_UP:
            status = "denied" if n_denied else "gave_up"
        else:
            status = {ev.NO_ROUTE: "no_route", ev.SKIPPED: "skipped", ev.REJECTED: "rejected",
                      ev.DRT_CANCEL: "cancelled"}.get(kind, "unfinished")
        walk = sum(x["walk_min"] for x in legs if x["kind"] == "walk" and x["status"] == "done")
        wait = sum(
            x["wait_min"] for x in legs if x["kind"] == "ride" and x["status"] != "not_reached"
        )
        ivt = sum(x["ivt_min"] for x in legs if x["kind"] == "ride" and x["status"] == "done")
        n_rides = sum(1 for x in legs if x["kind"] == "ride" and x["board_s"] == x["board_s"])
        arrive = terminal[0] if status == "served" else _NAN
        transfers = max(n_rides - 1, 0)
        gen_cost = (
            generalised_cost_s(walk * 60, wait * 60, ivt * 60, transfers, jp) / 60
            if status == "served"
            else _NAN
        )
        mode = req.mode
        if itin is not None and itin.walk_only:
            mode = "walk"
        elif itin is not None and mode == "pt" and any(x.route_id == "drt" for x in itin.legs):
            mode = "drt+pt"
        trips_rows.append({
            "request_id": req.request_id,
            "request_mode": req.mode,
            "mode": mode,
            "status": status,
            "purpose": req.purpose,
            "pax_class": req.pax_class,
            "depart_s": req.depart_s,
            "arrive_s": arrive,
            "end_s": terminal[0] if terminal is not None else _NAN,
            "travel_min": (arrive - req.depart_s) / 60,
            "walk_min": walk,
            "wait_min": wait,
            "ivt_min": ivt,
            "n_rides": n_rides,
            "transfers": transfers,
            "n_denied": n_denied,
            "gen_cost_min": gen_cost,
            "planned_cost_min": itin.cost_s / 60 if itin else _NAN,
            "planned_arrive_s": itin.arrive_s if itin else _NAN,
            "planned_walk_min": itin.walk_s / 60 if itin else _NAN,
            "planned_wait_min": itin.wait_s / 60 if itin else _NAN,
            "planned_ivt_min": itin.ivt_s / 60 if itin else _NAN,
            "planned_transfers": itin.n_transfers if itin else -1,
        })  # fmt: skip
    return trips_rows, legs_rows


def _leg_rows(pid: str, itin: Itinerary | None, evs: list[tuple]) -> list[dict]:
    if itin is None:
        return []
    rows = []
    for i, leg in enumerate(itin.legs):
        rows.append({
            "request_id": pid,
            "leg_index": i,
            "kind": leg.kind,
            "role": leg.role,
            "route_id": leg.route_id,
            "planned_trip_id": leg.trip_id,
            "trip_id": "",
            "vehicle_id": "",
            "from_stop": leg.from_stop,
            "to_stop": leg.to_stop,
            "planned_start_s": leg.start_s,
            "planned_end_s": leg.end_s,
            "start_s": _NAN,
            "board_s": _NAN,
            "end_s": _NAN,
            "walk_min": _NAN,
            "wait_min": _NAN,
            "ivt_min": _NAN,
            "n_denied": 0,
            "status": "not_reached",
        })  # fmt: skip
    li = -1
    for e in evs:
        t, kind = e[0], e[2]
        cur = rows[li] if li >= 0 else None
        if kind == ev.WALK_START:
            li += 1
            row = rows[li]
            row.update(start_s=t, status="unfinished", wait_min=0.0, ivt_min=0.0)
        elif kind == ev.ARRIVE_STOP or kind == ev.DRT_READY:
            if cur is not None and cur["kind"] == "walk":
                _close_walk(cur, t)
            li += 1
            rows[li].update(start_s=t, status="unfinished", walk_min=0.0)
        elif kind == ev.ARRIVE_DEST:
            _close_walk(cur, t)
        elif kind == ev.DENIED:
            cur["n_denied"] += 1
        elif kind == ev.BOARD or kind == ev.DRT_PICKUP:
            cur.update(board_s=t, trip_id=e[4], vehicle_id=e[3], wait_min=(t - cur["start_s"]) / 60)
        elif kind == ev.ALIGHT or kind == ev.DRT_DROPOFF:
            cur.update(end_s=t, ivt_min=(t - cur["board_s"]) / 60, status="done")
        elif kind == ev.GIVE_UP:
            cur.update(end_s=t, wait_min=(t - cur["start_s"]) / 60, ivt_min=0.0, status="gave_up")
        elif kind == ev.UNFINISHED and cur is not None and cur["kind"] == "ride":
            cur.update(wait_min=(t - cur["start_s"]) / 60, ivt_min=0.0)
    return rows


def _close_walk(row: dict, t: float) -> None:
    row.update(end_s=t, walk_min=(t - row["start_s"]) / 60, status="done")


# -- vehicles --------------------------------------------------------------------------------
def _vehicle_rows(events: Sequence[tuple], world: World) -> tuple[list[dict], list[dict]]:
    ops, energy = world.ops, world.energy
    sched = {t.trip_id: t for t in world.trips}
    visits: dict[str, list[dict]] = {}
    runs: dict[str, dict] = {}
    cancelled: set[str] = set()
    load: dict[str, int] = {}

    def run_of(trip_id: str, vid: str) -> dict:
        r = runs.get(trip_id)
        if r is None:
            r = runs[trip_id] = {
                "vehicle_id": vid, "km": 0.0, "energy_kwh": 0.0, "fuel_l": 0.0, "co2_kg": 0.0,
                "takeovers": 0, "sudden_stops": 0, "fault_delay_s": 0.0,
            }  # fmt: skip
            visits[trip_id] = []
        return r

    for e in events:
        t, _, kind, vid, trip_id, _, stop_id, value = e
        if kind == ev.VEH_ARRIVE:
            run_of(trip_id, vid)
            trip = sched[trip_id]
            k = len(visits[trip_id])
            visits[trip_id].append({
                "trip_id": trip_id, "vehicle_id": vid, "route_id": trip.route_id,
                "stop_index": k, "stop_id": stop_id, "timepoint": trip.timepoint[k],
                "sched_arr_s": trip.arr_s[k], "arr_s": t, "arr_delay_s": t - trip.arr_s[k],
                "sched_dep_s": trip.dep_s[k], "dep_s": _NAN, "dep_delay_s": _NAN,
                "on_time": False, "boardings": 0, "alightings": 0, "denied": 0, "load_dep": 0,
            })  # fmt: skip
            if k == len(trip.stop_ids) - 1:
                visits[trip_id][-1]["sched_dep_s"] = _NAN
        elif kind == ev.VEH_DEPART:
            trip = sched[trip_id]
            row = visits[trip_id][-1]
            k = row["stop_index"]
            delay = t - trip.dep_s[k]
            row.update(dep_s=t, dep_delay_s=delay, load_dep=load.get(vid, 0))
            row["on_time"] = bool(
                trip.timepoint[k] and -ops.on_time_early_s <= delay <= ops.on_time_late_s
            )
            r = runs[trip_id]
            vtype = world.vehicle_types[trip.vehicle_type]
            kwh, litres, co2 = leg_energy(vtype, trip.leg_dist_m[k], world.weather_at(t), energy)
            r["km"] += trip.leg_dist_m[k] / 1000.0
            r["energy_kwh"] += kwh
            r["fuel_l"] += litres
            r["co2_kg"] += co2
        elif kind == ev.BOARD:
            load[vid] = load.get(vid, 0) + 1
            visits[trip_id][-1]["boardings"] += 1
        elif kind == ev.ALIGHT:
            load[vid] -= 1
            visits[trip_id][-1]["alightings"] += 1
        elif kind == ev.DENIED:
            visits[trip_id][-1]["denied"] += 1
        elif kind == ev.TAKEOVER:
            runs[trip_id]["takeovers"] += 1
            runs[trip_id]["fault_delay_s"] += value
        elif kind == ev.SUDDEN_STOP:
            runs[trip_id]["sudden_stops"] += 1
            runs[trip_id]["fault_delay_s"] += value
        elif kind == ev.TRIP_CANCELLED:
            cancelled.add(trip_id)

    vt_rows = []
    for trip in world.trips:
        vtype = world.vehicle_types[trip.vehicle_type]
        vid = trip.block_id or trip.trip_id
        r = runs.get(trip.trip_id, {})
        vs = visits.get(trip.trip_id, [])
        deps = [v for v in vs if v["dep_s"] == v["dep_s"]]
        tps = [v for v in deps if v["timepoint"]]
        vt_rows.append({
            "trip_id": trip.trip_id,
            "vehicle_id": r.get("vehicle_id", vid),
            "route_id": trip.route_id,
            "route_name": trip.route_name,
            "direction_id": trip.direction_id,
            "vehicle_type": trip.vehicle_type,
            "powertrain": vtype.powertrain,
            "automation_level": vtype.automation_level,
            "supervision": supervision(vtype.automation_level),
            "capacity": vtype.capacity,
            "cancelled": trip.trip_id in cancelled,
            "sched_dep_s": trip.dep_s[0],
            "actual_dep_s": deps[0]["dep_s"] if deps else _NAN,
            "dep_delay_s": deps[0]["dep_delay_s"] if deps else _NAN,
            "sched_arr_s": trip.arr_s[-1],
            "actual_arr_s": vs[-1]["arr_s"] if len(vs) == len(trip.stop_ids) else _NAN,
            "arr_delay_s": vs[-1]["arr_delay_s"] if len(vs) == len(trip.stop_ids) else _NAN,
            "km": r.get("km", 0.0),
            "boardings": sum(v["boardings"] for v in vs),
            "alightings": sum(v["alightings"] for v in vs),
            "denied": sum(v["denied"] for v in vs),
            "max_load": max((v["load_dep"] for v in deps), default=0),
            "load_profile": "|".join(str(v["load_dep"]) for v in deps),
            "timepoint_deps": len(tps),
            "on_time_deps": sum(1 for v in tps if v["on_time"]),
            "takeovers": r.get("takeovers", 0),
            "sudden_stops": r.get("sudden_stops", 0),
            "fault_delay_s": r.get("fault_delay_s", 0.0),
            "energy_kwh": r.get("energy_kwh", 0.0),
            "fuel_l": r.get("fuel_l", 0.0),
            "co2_kg": r.get("co2_kg", 0.0),
            "min_soc": _NAN,
        })  # fmt: skip
    _add_soc(vt_rows, world)
    vs_rows = [v for trip_id in sorted(visits) for v in visits[trip_id]]
    return vt_rows, vs_rows


def _add_soc(vt_rows: list[dict], world: World) -> None:
    """Battery state of charge per vehicle over its trips in block order (start full)."""
    by_vehicle: dict[str, list[dict]] = {}
    for row in vt_rows:
        by_vehicle.setdefault(row["vehicle_id"], []).append(row)
    for vid in sorted(by_vehicle):
        rows = sorted(by_vehicle[vid], key=lambda r: (r["sched_dep_s"], r["trip_id"]))
        soc = 1.0
        for row in rows:
            vtype = world.vehicle_types[row["vehicle_type"]]
            if vtype.powertrain != "ev" or not vtype.battery_kwh:
                continue
            soc -= row["energy_kwh"] / vtype.battery_kwh
            row["min_soc"] = soc


# -- stops -----------------------------------------------------------------------------------
def _stop_rows(events: Sequence[tuple], world: World) -> list[dict]:
    stats = {
        s: {"stop_id": s, "name": world.stops[s].name, "boardings": 0, "alightings": 0,
            "denied": 0, "gave_up": 0, "max_queue": 0}
        for s in world.stops
    }  # fmt: skip
    queue: dict[str, int] = {}
    for e in events:
        kind, stop_id = e[2], e[6]
        if kind == ev.ARRIVE_STOP:
            q = queue[stop_id] = queue.get(stop_id, 0) + 1
            st = stats[stop_id]
            if q > st["max_queue"]:
                st["max_queue"] = q
        elif kind == ev.BOARD:
            queue[stop_id] -= 1
            stats[stop_id]["boardings"] += 1
        elif kind == ev.GIVE_UP:
            queue[stop_id] -= 1
            stats[stop_id]["gave_up"] += 1
        elif kind == ev.ALIGHT:
            stats[stop_id]["alightings"] += 1
        elif kind == ev.DENIED:
            stats[stop_id]["denied"] += 1
    return list(stats.values())
