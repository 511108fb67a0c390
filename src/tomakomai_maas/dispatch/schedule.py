"""Schedules of single plans: exact feasibility check, plan advancing, applying results.

All functions follow the as-early-as-possible schedule semantics described in
:mod:`tomakomai_maas.dispatch.model`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from tomakomai_maas.dispatch.model import (
    Assignment,
    PlanStop,
    RebalanceMove,
    ScheduledStop,
    StopKind,
    VehicleState,
    vehicle_start_s,
)
from tomakomai_maas.dispatch.traveltimes import TravelTimeProvider, leg_fn
from tomakomai_maas.errors import DispatchError

__all__ = [
    "PlanCheck",
    "schedule_plan",
    "check_plan",
    "advance",
    "next_event_s",
    "plan_distance_m",
    "apply_assignment",
    "apply_move",
]


def schedule_plan(
    vehicle: VehicleState,
    tt: TravelTimeProvider,
    *,
    stops: Sequence[PlanStop] | None = None,
    now_s: float | None = None,
) -> tuple[ScheduledStop, ...]:
    """Times of ``stops`` (default: the vehicle's plan) served as early as possible."""
    t = vehicle_start_s(vehicle, now_s)
    prev = vehicle.node
    load = vehicle.onboard_pax
    out = []
    leg = leg_fn(tt)
    for s in vehicle.plan if stops is None else stops:
        arr = float(leg(t, prev, s.node)[0])
        st = max(arr, s.earliest_s)
        t = st + s.service_s
        load += s.load_delta
        out.append(ScheduledStop(s, arr, st, t, load))
        prev = s.node
    return tuple(out)


@dataclass(frozen=True)
class PlanCheck:
    """Result of :func:`check_plan`: ``violations`` is empty iff ``feasible``."""

    feasible: bool
    violations: tuple[str, ...]
    schedule: tuple[ScheduledStop, ...]
    drive_s: float
    end_s: float


def check_plan(
    vehicle: VehicleState,
    tt: TravelTimeProvider,
    *,
    stops: Sequence[PlanStop] | None = None,
    now_s: float | None = None,
    return_to_depot: bool = False,
) -> PlanCheck:
    """Exact, strict feasibility check of a stop sequence for ``vehicle``.

    Checks, listing every violation found: every leg reachable; load within
    ``0..capacity`` after every stop; each stop's service starts by its ``latest_s``
    (waiting when early is allowed); every passenger's ride time within ``max_ride_s``;
    precedence (a pick-up before its drop-off; passengers without a pick-up must be on
    board); the last departure (plus the drive back to the depot when
    ``return_to_depot`` and the vehicle has one) by ``shift_end_s``; the road distance of
    the plan (plus the drive back to the depot, when the vehicle has one) within
    ``range_m``.
    """
    seq = tuple(vehicle.plan if stops is None else stops)
    sched = schedule_plan(vehicle, tt, stops=seq, now_s=now_s)
    problems: list[str] = []
    ride_start: dict[str, float] = {}
    seen_drop: set[str] = set()
    drive = 0.0
    t_prev = vehicle_start_s(vehicle, now_s)
    for k, sc in enumerate(sched):
        s = sc.stop
        drive += sc.arrival_s - t_prev
        t_prev = sc.departure_s
        where = f"stop {k} ({s.kind.value} of {s.request_id} at node {s.node})"
        if not math.isfinite(sc.arrival_s):
            problems.append(f"{where}: unreachable")
            break
        if not 0 <= sc.load_after <= vehicle.capacity:
            problems.append(f"{where}: load {sc.load_after} outside 0..{vehicle.capacity}")
        if not sc.start_s <= s.latest_s:
            problems.append(f"{where}: starts at {sc.start_s:.0f} after latest {s.latest_s:.0f}")
        if s.kind is StopKind.PICKUP:
            if s.request_id in ride_start or s.request_id in seen_drop:
                problems.append(f"{where}: pick-up repeated or after its drop-off")
            ride_start[s.request_id] = sc.departure_s
        else:
            seen_drop.add(s.request_id)
            rs = ride_start.get(s.request_id, s.ride_start_s)
            if rs is None:
                problems.append(f"{where}: drop-off before its pick-up")
                continue
            ride = sc.arrival_s - rs
            if not ride <= s.max_ride_s:
                problems.append(f"{where}: ride {ride:.0f} s > max {s.max_ride_s:.0f} s")
    missing = sorted(set(ride_start) - seen_drop)
    if missing:
        problems.append(f"pick-ups without drop-off: {missing}")
    end = sched[-1].departure_s if sched else vehicle_start_s(vehicle, now_s)
    # `drive` sums arrival minus previous departure, i.e. pure driving time
    last = sched[-1].stop.node if sched else vehicle.node
    if return_to_depot and vehicle.depot is not None:
        end = float(leg_fn(tt)(end, last, vehicle.depot)[0])
    if not end <= vehicle.shift_end_s:
        problems.append(f"plan ends at {end:.0f} after shift end {vehicle.shift_end_s:.0f}")
    if math.isfinite(vehicle.range_m):
        dist = plan_distance_m(vehicle, tt, seq)
        if not dist <= vehicle.range_m:
            problems.append(f"plan needs {dist:.0f} m, more than the range {vehicle.range_m:.0f} m")
    return PlanCheck(not problems, tuple(problems), sched, drive, end)


def plan_distance_m(vehicle: VehicleState, tt: TravelTimeProvider,
                    stops: Sequence[PlanStop] | None = None) -> float:
    """Road distance from ``node`` through ``stops`` (default: the plan) and, when the
    vehicle has a depot, back to it (what :attr:`VehicleState.range_m` must cover)."""
    prev = vehicle.node
    dist = 0.0
    for s in vehicle.plan if stops is None else stops:
        dist += float(tt.dist_m(prev, s.node))
        prev = s.node
    if vehicle.depot is not None:
        dist += float(tt.dist_m(prev, vehicle.depot))
    return dist


def next_event_s(vehicle: VehicleState, tt: TravelTimeProvider) -> float:
    """Earliest time at which :func:`advance` would change ``vehicle`` (``inf``: never).

    That is when it leaves ``node`` for its first stop elsewhere, or when service at its
    first stop starts.
    """
    if not vehicle.plan:
        return math.inf
    t = vehicle_start_s(vehicle)
    first = vehicle.plan[0]
    if first.node != vehicle.node:
        return t
    return max(t, first.earliest_s)


def advance(
    vehicle: VehicleState, t_s: float, tt: TravelTimeProvider
) -> tuple[VehicleState, tuple[ScheduledStop, ...]]:
    """Execute ``vehicle``'s plan up to time ``t_s``.

    A stop whose service has started by ``t_s`` is done: it leaves the plan and is returned
    (with its times, possibly ending after ``t_s``); the vehicle is then at that stop, free at
    its departure. A vehicle that has left for its next stop by ``t_s`` is committed to that
    leg: ``node`` becomes the stop's node and ``available_s`` the arrival there (the stop
    stays in the plan). Pick-ups put their passengers on board (``ride_start_s`` is set on
    the matching drop-off). Returns the same object when nothing changes.
    """
    if not vehicle.plan or next_event_s(vehicle, tt) > t_s:
        return vehicle, ()
    sched = schedule_plan(vehicle, tt)
    n_done = 0
    while n_done < len(sched) and sched[n_done].start_s <= t_s:
        n_done += 1
    done = sched[:n_done]
    plan = list(vehicle.plan[n_done:])
    node, avail, load = vehicle.node, vehicle.available_s, vehicle.onboard_pax
    if done:
        node, avail, load = done[-1].stop.node, done[-1].departure_s, done[-1].load_after
        picked = {
            sc.stop.request_id: sc.departure_s for sc in done if sc.stop.kind is StopKind.PICKUP
        }
        if picked:
            plan = [
                replace(s, ride_start_s=picked[s.request_id])
                if s.kind is StopKind.DROPOFF and s.request_id in picked
                else s
                for s in plan
            ]
    if plan and node != plan[0].node and max(avail, vehicle.shift_start_s) <= t_s:
        avail = sched[n_done].arrival_s  # committed to the leg towards the next stop
        node = plan[0].node
    new = replace(vehicle, node=node, available_s=avail, onboard_pax=load, plan=tuple(plan))
    return new, done


def apply_assignment(vehicle: VehicleState, assignment: Assignment) -> VehicleState:
    """The vehicle state after accepting ``assignment`` (its plan replaced)."""
    if assignment.vehicle_id != vehicle.vehicle_id:
        raise DispatchError(
            f"assignment of {assignment.request_id} is for vehicle {assignment.vehicle_id}, "
            f"not {vehicle.vehicle_id}"
        )
    return replace(vehicle, available_s=assignment.start_s, plan=assignment.stops)


def apply_move(vehicle: VehicleState, move: RebalanceMove) -> VehicleState:
    """The vehicle state after starting ``move``: committed to drive to ``to_node``."""
    if move.vehicle_id != vehicle.vehicle_id:
        raise DispatchError(f"move is for vehicle {move.vehicle_id}, not {vehicle.vehicle_id}")
    if vehicle.plan:
        raise DispatchError(f"vehicle {vehicle.vehicle_id} has a plan; only idle ones move")
    return replace(vehicle, node=move.to_node, available_s=move.arrive_s)
