"""``simulate(world, seed)``: validate, draw demand, plan, run the processes, build tables."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from tomakomai_maas.dispatch import (
    dispatch_policy_names,
    idle_policy_names,
    rebalancing_policy_names,
)
from tomakomai_maas.errors import SimulationError
from tomakomai_maas.journey import Itinerary, JourneyPlanner, walk_only_itinerary
from tomakomai_maas.rng import stream
from tomakomai_maas.sim import events as ev
from tomakomai_maas.sim.drt_prep import (
    drt_run_world,
    last_mile_planned,
    plan_feeders,
    prepare_drt,
)
from tomakomai_maas.sim.model import Model
from tomakomai_maas.sim.tables import build_tables
from tomakomai_maas.world import Request, World

__all__ = ["SimResult", "simulate", "validate_world", "count_events"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class SimResult:
    """Outcome of one run.

    ``events`` is the event log (see :mod:`tomakomai_maas.sim.events`); the tables are
    described in :mod:`tomakomai_maas.sim.tables` (``None`` when ``simulate(tables=False)``;
    the ``drt_*`` tables also ``None`` when the World has no DRT service).
    ``counters`` holds plain counts (no KPIs): ``requests``, ``served``, ``denied``,
    ``gave_up``, ``no_route``, ``skipped``, ``rejected``, ``unfinished`` (passenger terminal
    states), ``boardings``, ``denied_boardings``, ``trips_run``, ``trips_cancelled``,
    ``takeovers``, ``sudden_stops``, ``drt_bookings``, ``drt_assigned``, ``drt_rejected``,
    ``drt_cancelled``, ``drt_pickups``, ``drt_dropoffs``, ``log_events``, ``simpy_events``.
    ``requests`` holds the World's requests followed by the DRT section's own trips.
    ``wall_time_s`` is not part of the deterministic output.
    """

    world_name: str
    seed: int
    events: list[tuple]
    counters: dict[str, int]
    requests: tuple[Request, ...]
    itineraries: dict[str, Itinerary | None]
    trips: pd.DataFrame | None = None
    legs: pd.DataFrame | None = None
    vehicle_trips: pd.DataFrame | None = None
    vehicle_stops: pd.DataFrame | None = None
    stops: pd.DataFrame | None = None
    drt_requests: pd.DataFrame | None = None
    drt_vehicles: pd.DataFrame | None = None
    drt_hourly: pd.DataFrame | None = None
    wall_time_s: float = field(default=0.0, compare=False)

    @property
    def tables(self) -> dict[str, pd.DataFrame | None]:
        """The tables by name (``trips``, ``legs``, ``vehicle_trips``, ``vehicle_stops``,
        ``stops``; plus ``drt_requests``, ``drt_vehicles``, ``drt_hourly`` when the World has
        a DRT service and tables were built)."""
        out = {
            "trips": self.trips,
            "legs": self.legs,
            "vehicle_trips": self.vehicle_trips,
            "vehicle_stops": self.vehicle_stops,
            "stops": self.stops,
        }
        for name in ("drt_requests", "drt_vehicles", "drt_hourly"):
            df = getattr(self, name)
            if df is not None:
                out[name] = df
        return out


def validate_world(world: World) -> None:
    """Check what the simulator relies on; raise one :class:`SimulationError` listing all."""
    problems: list[str] = []
    ops = world.ops
    if len(ops.speed_factor_by_hour) != 24 or any(f <= 0 for f in ops.speed_factor_by_hour):
        problems.append("ops.speed_factor_by_hour: need 24 positive factors")
    if ops.link_time_cv < 0:
        problems.append(f"ops.link_time_cv: must be >= 0, got {ops.link_time_cv}")
    if not ops.patience_s >= 0:
        problems.append(f"ops.patience_s: must be >= 0, got {ops.patience_s}")
    if len(world.weather_by_hour) != 24:
        problems.append(f"weather_by_hour: need 24 states, got {len(world.weather_by_hour)}")
    for i, w in enumerate(world.weather_by_hour):
        if w.speed_factor <= 0:
            problems.append(f"weather_by_hour[{i}] ({w.name}): speed_factor must be > 0")
    for name, vt in sorted(world.vehicle_types.items()):
        if vt.capacity < 0:
            problems.append(f"vehicle_types[{name}].capacity: must be >= 0, got {vt.capacity}")
    seen: set[str] = set()
    block_types: dict[str, str] = {}
    vehicle_ids: dict[str, str] = {}
    for trip in world.trips:
        where = f"trip {trip.trip_id}"
        if trip.trip_id in seen:
            problems.append(f"{where}: duplicate trip_id")
        seen.add(trip.trip_id)
        if trip.vehicle_type not in world.vehicle_types:
            allowed = ", ".join(sorted(world.vehicle_types)) or "(none)"
            problems.append(
                f"{where}: vehicle_type {trip.vehicle_type!r} unknown; allowed: {allowed}"
            )
        if len(trip.stop_ids) < 2:
            problems.append(f"{where}: needs at least 2 stops")
        unknown = sorted({s for s in trip.stop_ids if s not in world.stops})
        if unknown:
            problems.append(f"{where}: stops not in world.stops: {', '.join(unknown)}")
        for k in range(len(trip.stop_ids)):
            if trip.dep_s[k] < trip.arr_s[k]:
                problems.append(f"{where}: dep_s[{k}] < arr_s[{k}]")
            if k + 1 < len(trip.stop_ids) and trip.arr_s[k + 1] < trip.dep_s[k]:
                problems.append(f"{where}: arr_s[{k + 1}] < dep_s[{k}]")
        if any(t < 0 for t in trip.leg_time_s) or any(d < 0 for d in trip.leg_dist_m):
            problems.append(f"{where}: negative leg_time_s or leg_dist_m")
        vid = trip.block_id or trip.trip_id
        kind = "block" if trip.block_id else "trip"
        if vehicle_ids.setdefault(vid, kind) != kind:
            problems.append(f"{where}: vehicle id {vid!r} is both a block_id and a trip_id")
        if trip.block_id:
            vt = block_types.setdefault(trip.block_id, trip.vehicle_type)
            if vt != trip.vehicle_type:
                problems.append(
                    f"{where}: block {trip.block_id!r} mixes vehicle types {vt!r} and "
                    f"{trip.vehicle_type!r} (one vehicle has one type)"
                )
    if world.drt is not None:
        _validate_drt(world, problems)
    if problems:
        raise SimulationError(
            f"world {world.name!r} cannot be simulated:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def _validate_drt(world: World, problems: list[str]) -> None:
    svc = world.drt
    ids = [v.vehicle_id for v in svc.vehicles]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        problems.append(f"drt.vehicles: duplicate vehicle ids {dup}")
    n_nodes = getattr(svc.tt, "n", None) or getattr(svc.tt, "n_nodes", None)
    for v in svc.vehicles:
        where = f"drt vehicle {v.vehicle_id}"
        if v.capacity < 1:
            problems.append(f"{where}: capacity must be >= 1, got {v.capacity}")
        if not v.shift_end_s >= v.shift_start_s:
            problems.append(f"{where}: shift ends before it starts")
        if n_nodes is not None and not 0 <= v.depot_node < n_nodes:
            problems.append(f"{where}: depot node {v.depot_node} not in 0..{n_nodes - 1}")
    for field_name, value, names in (
        ("dispatch_policy", svc.dispatch_policy, dispatch_policy_names()),
        ("rebalancing_policy", svc.rebalancing_policy, rebalancing_policy_names()),
        ("idle_policy", svc.idle_policy, idle_policy_names()),
    ):
        if value not in names:
            problems.append(f"drt.{field_name}: unknown policy {value!r}; valid names: "
                            f"{', '.join(names)}")
    if svc.rebalancing_policy != "none" and not svc.zone_centroids:
        problems.append("drt: rebalancing needs zones (zone_of_node, zone_centroids)")
    if svc.mode == "stop_based" and not svc.virtual_stops:
        problems.append("drt: stop_based mode needs virtual_stops")
    if svc.mode not in ("door_to_door", "stop_based"):
        problems.append(f"drt.mode: {svc.mode!r} is not door_to_door or stop_based")
    if svc.speed_forecast not in ("profile", "at_dispatch"):
        problems.append(f"drt.dispatch.speed_forecast: {svc.speed_forecast!r} is not profile "
                        "or at_dispatch")
    for a, b in svc.service_hours_s or ():
        if not b > a:
            problems.append(f"drt.service_hours_s: empty window ({a}, {b})")
    for s in svc.feeder.transfer_stops if svc.feeder.enabled else ():
        if s not in world.stops:
            problems.append(f"drt.feeder.transfer_stops: unknown stop {s!r}")
    for k, f in sorted(svc.fares_yen.items()):
        if not f >= 0:
            problems.append(f"drt.fares_yen.{k}: must be >= 0, got {f}")


def count_events(events: list[tuple]) -> dict[str, int]:
    """Plain counts from an event log (see :class:`SimResult` for the keys)."""
    kinds = Counter(e[2] for e in events)
    left_behind = {e[5] for e in events if e[2] == ev.DENIED}
    gave_up_denied = sum(1 for e in events if e[2] == ev.GIVE_UP and e[5] in left_behind)
    return {
        "requests": kinds[ev.REQUEST],
        "served": kinds[ev.ARRIVE_DEST],
        "denied": gave_up_denied,
        "gave_up": kinds[ev.GIVE_UP] - gave_up_denied,
        "no_route": kinds[ev.NO_ROUTE],
        "skipped": kinds[ev.SKIPPED],
        "unfinished": kinds[ev.UNFINISHED],
        "rejected": kinds[ev.REJECTED],
        "boardings": kinds[ev.BOARD],
        "denied_boardings": kinds[ev.DENIED],
        "trips_run": len({e[4] for e in events if e[2] == ev.VEH_ARRIVE}),
        "trips_cancelled": kinds[ev.TRIP_CANCELLED],
        "takeovers": kinds[ev.TAKEOVER],
        "sudden_stops": kinds[ev.SUDDEN_STOP],
        "drt_bookings": kinds[ev.DRT_REQUEST],
        "drt_assigned": kinds[ev.DRT_ASSIGN],
        "drt_rejected": kinds[ev.DRT_REJECT],
        "drt_cancelled": kinds[ev.DRT_CANCEL],
        "drt_pickups": kinds[ev.DRT_PICKUP],
        "drt_dropoffs": kinds[ev.DRT_DROPOFF],
        "log_events": len(events),
    }


def _plan(
    requests: list[Request], planner: JourneyPlanner, world: World
) -> dict[str, Itinerary | None]:
    out: dict[str, Itinerary | None] = {}
    for req in requests:
        if req.mode == "pt":
            out[req.request_id] = planner.plan(req)
        elif req.mode == "walk" and math.isfinite(req.direct_walk_s):
            out[req.request_id] = walk_only_itinerary(req, world.journey)
        else:
            out[req.request_id] = None
    return out


def simulate(
    world: World,
    seed: int,
    *,
    trace: bool = False,
    tables: bool = True,
    planner: JourneyPlanner | None = None,
) -> SimResult:
    """Simulate one service day of ``world`` with ``seed``.

    Demand is ``world.sample_requests(stream(seed, "demand"))``; requests with mode ``"pt"``
    are planned with the :class:`JourneyPlanner` (pass ``planner`` to reuse one across
    replications of the same World), ``"walk"`` requests walk, ``"drt"`` requests (and the DRT
    service's own trips, drawn from ``stream(seed, "demand/drt")``) ride the World's DRT
    service (:mod:`tomakomai_maas.sim.drt`), other modes are logged as ``skipped``. The operating rules are documented in :mod:`tomakomai_maas.sim.model`.
    ``trace=True`` also logs every event at DEBUG level as it happens. ``tables=False`` skips
    building the tables (the event log is always kept).
    """
    t_wall = time.perf_counter()
    validate_world(world)
    requests = list(world.sample_requests(stream(seed, "demand")))
    dup = sorted(k for k, n in Counter(r.request_id for r in requests).items() if n > 1)
    if dup:
        raise SimulationError(f"sample_requests returned duplicate request_id(s): {dup[:10]}")
    if planner is None:
        planner = JourneyPlanner(world)
    elif planner.world is not world:
        raise SimulationError("planner was built for another World")
    itineraries = _plan(requests, planner, world)
    drt_pax = []
    world = drt_run_world(world)  # DRT drives with the day's speed factors (sim.drt)
    if world.drt is not None:
        feeders = plan_feeders(world, requests, itineraries, planner)
        by_id = {r.request_id: r for r in requests}
        for rid, fp in feeders.items():
            if fp.kind == "last":  # the rider starts on the timetabled part of this plan
                itineraries[rid] = last_mile_planned(world, fp, by_id[rid])
        drt_pax = prepare_drt(world, seed, requests, feeders)
        known = {r.request_id for r in requests}
        own = sorted((p.request for p in drt_pax if p.request.request_id not in known),
                     key=lambda r: r.request_id)
        requests = requests + own
    model = Model(world, seed, requests, itineraries, trace=trace, drt_pax=drt_pax)
    model.run()
    events = model.events
    counters = count_events(events)
    counters["simpy_events"] = model.n_simpy_events()
    built = build_tables(events, world, requests, itineraries, drt_pax) if tables else {}
    wall = time.perf_counter() - t_wall
    log.info(
        "simulated %s seed=%d: %d requests, %d events in %.2f s",
        world.name, seed, len(requests), len(events), wall,
    )  # fmt: skip
    return SimResult(
        world_name=world.name,
        seed=seed,
        events=events,
        counters=counters,
        requests=tuple(requests),
        itineraries=itineraries,
        wall_time_s=wall,
        **built,
    )
