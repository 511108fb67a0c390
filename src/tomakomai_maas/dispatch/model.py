"""Plain data of the DRT dispatcher: requests, plan stops, vehicle states, results.

Everything is a frozen dataclass; times are seconds since midnight of the service day
(``*_s``), durations seconds, distances metres, nodes compact travel-time indices.

Schedule semantics (used by every function of :mod:`tomakomai_maas.dispatch`):
a vehicle starts at ``node`` at ``start_s = max(available_s, shift_start_s, now_s)`` and
serves its plan stops in order *as early as possible*: it drives straight to the next stop
(``arrival_s``), waits there if early (``start_s = max(arrival_s, earliest_s)``), serves it
(``departure_s = start_s + service_s``) and leaves at once. It never delays on purpose.
A passenger's ride time is ``arrival_s`` at the drop-off minus ``departure_s`` at the pick-up.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from tomakomai_maas.errors import DispatchError

__all__ = [
    "StopKind",
    "RejectReason",
    "DrtRequest",
    "PlanStop",
    "VehicleState",
    "ScheduledStop",
    "Assignment",
    "Rejection",
    "RebalanceMove",
    "DispatchConfig",
    "DispatchResult",
    "make_request",
    "pickup_stop",
    "dropoff_stop",
    "vehicle_start_s",
]

INF = math.inf


class StopKind(enum.StrEnum):
    PICKUP = "pickup"
    DROPOFF = "dropoff"


class RejectReason(enum.StrEnum):
    """Why a request was not assigned.

    Precedence when several apply (see :mod:`tomakomai_maas.dispatch` docs):

    1. request-level checks, first failing wins, in this order: ``OUTSIDE_AREA``,
       ``OUTSIDE_HOURS``, ``UNREACHABLE`` (destination not reachable from origin),
       ``CAPACITY`` (party larger than every vehicle), ``NO_VEHICLE_IN_TIME`` (empty fleet);
    2. otherwise every candidate insertion (vehicle, pickup position, drop-off position) is
       checked in the fixed order ``UNREACHABLE`` (the vehicle cannot reach the pick-up at
       all) → ``NO_VEHICLE_IN_TIME`` (it reaches it after ``latest_pickup_s``) →
       ``CAPACITY`` → ``TIME_WINDOW`` → ``RIDE_TIME`` → ``BATTERY`` (the new plan, with the
       drive back to the depot, is longer than the vehicle's ``range_m``). A candidate gets
       as far as its first
       failing check; the reason reported is that of the candidate that got **furthest**
       (the one closest to feasible).
    """

    OUTSIDE_AREA = "outside_area"
    OUTSIDE_HOURS = "outside_hours"
    UNREACHABLE = "unreachable"
    NO_VEHICLE_IN_TIME = "no_vehicle_in_time"
    CAPACITY = "capacity"
    TIME_WINDOW = "time_window"  # another stop's window, the new latest drop-off, or a shift end
    RIDE_TIME = "ride_time"
    BATTERY = "battery"  # the plan would not fit in the vehicle's remaining range (range_m)


def _check(cond: bool, msg: str) -> None:
    if not cond:
        raise DispatchError(msg)


@dataclass(frozen=True)
class DrtRequest:
    """One DRT booking.

    ``latest_pickup_s`` is ``earliest_pickup_s + max_wait``; ``max_ride_s`` is typically
    ``alpha * direct_time + beta`` (see :func:`make_request`). ``latest_dropoff_s`` (optional)
    bounds the arrival at the destination. ``board_s``/``alight_s`` are the service times at
    the pick-up/drop-off stop. ``prebooked`` requests are subject to the booking-lead rule of
    :class:`DispatchConfig`.
    """

    request_id: str
    origin: int
    dest: int
    n_pax: int
    t_request_s: float
    earliest_pickup_s: float
    latest_pickup_s: float
    max_ride_s: float
    latest_dropoff_s: float | None = None
    board_s: float = 0.0
    alight_s: float = 0.0
    prebooked: bool = False

    def __post_init__(self) -> None:
        rid = self.request_id
        _check(self.n_pax >= 1, f"request {rid}: n_pax must be >= 1, got {self.n_pax}")
        _check(
            math.isfinite(self.earliest_pickup_s) and math.isfinite(self.latest_pickup_s),
            f"request {rid}: pick-up window must be finite",
        )
        _check(
            self.latest_pickup_s >= self.earliest_pickup_s,
            f"request {rid}: latest_pickup_s {self.latest_pickup_s} < earliest_pickup_s "
            f"{self.earliest_pickup_s}",
        )
        _check(self.max_ride_s >= 0, f"request {rid}: max_ride_s must be >= 0")
        _check(
            self.board_s >= 0 and self.alight_s >= 0,
            f"request {rid}: board_s/alight_s must be >= 0",
        )


def make_request(
    request_id: str,
    origin: int,
    dest: int,
    direct_time_s: float,
    *,
    t_request_s: float,
    earliest_pickup_s: float | None = None,
    n_pax: int = 1,
    max_wait_s: float = 900.0,
    detour_alpha: float = 1.5,
    detour_beta_s: float = 300.0,
    latest_dropoff_s: float | None = None,
    board_s: float = 30.0,
    alight_s: float = 30.0,
    prebooked: bool = False,
) -> DrtRequest:
    """Build a request from service parameters.

    ``earliest_pickup_s`` defaults to ``t_request_s`` (immediate request);
    ``latest_pickup_s = earliest_pickup_s + max_wait_s``;
    ``max_ride_s = detour_alpha * direct_time_s + detour_beta_s``.
    """
    earliest = t_request_s if earliest_pickup_s is None else earliest_pickup_s
    return DrtRequest(
        request_id=request_id,
        origin=int(origin),
        dest=int(dest),
        n_pax=n_pax,
        t_request_s=float(t_request_s),
        earliest_pickup_s=float(earliest),
        latest_pickup_s=float(earliest + max_wait_s),
        max_ride_s=float(detour_alpha * direct_time_s + detour_beta_s),
        latest_dropoff_s=latest_dropoff_s,
        board_s=board_s,
        alight_s=alight_s,
        prebooked=prebooked,
    )


@dataclass(frozen=True)
class PlanStop:
    """One stop of a vehicle plan.

    The service must start within ``[earliest_s, latest_s]`` (a vehicle arriving early
    waits). Drop-offs have ``earliest_s = -inf`` and carry the passenger's ``max_ride_s``;
    for a passenger already on board ``ride_start_s`` is the departure time from the pick-up.
    """

    request_id: str
    kind: StopKind
    node: int
    n_pax: int
    earliest_s: float
    latest_s: float
    service_s: float
    max_ride_s: float = INF
    ride_start_s: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, StopKind):
            try:
                object.__setattr__(self, "kind", StopKind(self.kind))
            except ValueError:
                raise DispatchError(
                    f"stop of {self.request_id}: kind {self.kind!r} is not one of "
                    f"{[k.value for k in StopKind]}"
                ) from None

    @property
    def is_pickup(self) -> bool:
        return self.kind is StopKind.PICKUP

    @property
    def load_delta(self) -> int:
        return self.n_pax if self.kind is StopKind.PICKUP else -self.n_pax


def pickup_stop(request: DrtRequest) -> PlanStop:
    """The pick-up stop of ``request``."""
    return PlanStop(
        request.request_id, StopKind.PICKUP, request.origin, request.n_pax,
        request.earliest_pickup_s, request.latest_pickup_s, request.board_s,
    )


def dropoff_stop(request: DrtRequest) -> PlanStop:
    """The drop-off stop of ``request`` (not yet on board)."""
    latest = INF if request.latest_dropoff_s is None else float(request.latest_dropoff_s)
    return PlanStop(
        request.request_id, StopKind.DROPOFF, request.dest, request.n_pax,
        -INF, latest, request.alight_s, request.max_ride_s,
    )


def _validate_plan(vehicle_id: str, plan: Iterable[PlanStop], onboard_pax: int) -> None:
    picked: dict[str, PlanStop] = {}
    dropped: set[str] = set()
    onboard_in_plan = 0
    for s in plan:
        rid = s.request_id
        _check(s.n_pax >= 1, f"vehicle {vehicle_id}: stop of {rid} has n_pax {s.n_pax} < 1")
        if s.kind is StopKind.PICKUP:
            _check(
                rid not in picked and rid not in dropped,
                f"vehicle {vehicle_id}: request {rid} has a pick-up after its drop-off or twice",
            )
            picked[rid] = s
        else:
            _check(rid not in dropped, f"vehicle {vehicle_id}: request {rid} dropped off twice")
            dropped.add(rid)
            if rid in picked:
                _check(
                    s.ride_start_s is None,
                    f"vehicle {vehicle_id}: request {rid} not yet picked up has ride_start_s",
                )
            else:
                _check(
                    s.ride_start_s is not None,
                    f"vehicle {vehicle_id}: drop-off of {rid} without a pick-up in the plan "
                    "must be on board (set ride_start_s)",
                )
                onboard_in_plan += s.n_pax
    missing = sorted(set(picked) - dropped)
    _check(not missing, f"vehicle {vehicle_id}: pick-ups without drop-off: {missing}")
    _check(
        onboard_in_plan == onboard_pax,
        f"vehicle {vehicle_id}: onboard_pax {onboard_pax} != {onboard_in_plan} passengers "
        "whose drop-off is planned without a pick-up",
    )


@dataclass(frozen=True)
class VehicleState:
    """A DRT vehicle as the dispatcher sees it.

    The vehicle is (or will be, when it finishes its current leg) at ``node`` and free from
    ``available_s``; then it serves ``plan`` in order. ``onboard_pax`` must equal the
    passengers of drop-offs in ``plan`` that have no pick-up in ``plan``.
    ``depot`` (optional) is where ``return_to_depot`` sends it.
    ``range_m`` is the road distance it may still drive from ``node`` (battery above its
    reserve; ``inf`` = not limited): a plan, plus the drive from its last stop back to the
    depot when it has one (that is where it charges), must fit in it.
    """

    vehicle_id: str
    capacity: int
    node: int
    available_s: float
    onboard_pax: int = 0
    plan: tuple[PlanStop, ...] = ()
    shift_start_s: float = -INF
    shift_end_s: float = INF
    depot: int | None = None
    range_m: float = INF

    def __post_init__(self) -> None:
        vid = self.vehicle_id
        _check(not math.isnan(self.range_m), f"vehicle {vid}: range_m is NaN")
        _check(self.capacity >= 1, f"vehicle {vid}: capacity must be >= 1, got {self.capacity}")
        _check(
            0 <= self.onboard_pax <= self.capacity,
            f"vehicle {vid}: onboard_pax {self.onboard_pax} outside 0..{self.capacity}",
        )
        _check(
            self.shift_end_s >= self.shift_start_s,
            f"vehicle {vid}: shift_end_s < shift_start_s",
        )
        if not isinstance(self.plan, tuple):
            object.__setattr__(self, "plan", tuple(self.plan))
        _validate_plan(vid, self.plan, self.onboard_pax)

    @property
    def is_idle(self) -> bool:
        """True when the plan is empty."""
        return not self.plan

    def with_changes(self, **changes: Any) -> VehicleState:
        """A copy with some fields replaced (validated again)."""
        return replace(self, **changes)


def vehicle_start_s(vehicle: VehicleState, now_s: float | None = None) -> float:
    """When ``vehicle`` can leave ``node``: ``max(available_s, shift_start_s, now_s)``."""
    t = max(vehicle.available_s, vehicle.shift_start_s)
    return t if now_s is None else max(t, now_s)


@dataclass(frozen=True)
class ScheduledStop:
    """A plan stop with its computed times and the load after serving it."""

    stop: PlanStop
    arrival_s: float
    start_s: float
    departure_s: float
    load_after: int


@dataclass(frozen=True)
class Assignment:
    """A request inserted into a vehicle's plan.

    ``stops`` is the vehicle's whole new plan with the request's pick-up at
    ``pickup_index`` and drop-off at ``dropoff_index`` (indices in the new plan);
    ``schedule`` the computed times from ``start_s``. ``cost_s`` is the dispatcher's
    objective (see :class:`DispatchConfig`): by default the added driving time.
    """

    request_id: str
    vehicle_id: str
    stops: tuple[PlanStop, ...]
    schedule: tuple[ScheduledStop, ...]
    pickup_index: int
    dropoff_index: int
    start_s: float
    cost_s: float
    added_drive_s: float

    @property
    def pickup_s(self) -> float:
        """Planned service start at the pick-up."""
        return self.schedule[self.pickup_index].start_s

    @property
    def dropoff_s(self) -> float:
        """Planned arrival at the drop-off."""
        return self.schedule[self.dropoff_index].arrival_s


@dataclass(frozen=True)
class Rejection:
    """A request that could not be assigned; ``vehicle_id`` names the closest candidate."""

    request_id: str
    reason: RejectReason
    detail: str
    vehicle_id: str | None = None


@dataclass(frozen=True)
class RebalanceMove:
    """Send idle vehicle ``vehicle_id`` from ``from_node`` to ``to_node``."""

    vehicle_id: str
    from_node: int
    to_node: int
    depart_s: float
    arrive_s: float
    reason: str = ""


@dataclass(frozen=True)
class DispatchConfig:
    """Service rules and objective weights of the dispatcher.

    * ``service_nodes``: nodes where pick-ups and drop-offs are allowed (``None``: all).
    * ``service_hours_s``: ``(start_s, end_s)`` windows; a request's ``earliest_pickup_s``
      must fall in one (``start <= t < end``). ``None``: always.
    * ``min_booking_lead_s``/``max_booking_lead_s``: for ``prebooked`` requests,
      ``earliest_pickup_s - t_request_s`` must lie in this range (あいとまタクシー:
      1 h .. 3 days).
    * ``return_to_depot``: plans must leave time to drive back to the depot before
      ``shift_end_s`` (vehicles without a depot are exempt).
    * cost of an insertion = ``drive_weight * added driving time
      + wait_weight * new passenger's wait (pick-up start - earliest_pickup_s)
      + ride_weight * new passenger's ride time`` (seconds).
    """

    service_nodes: frozenset[int] | None = None
    service_hours_s: tuple[tuple[float, float], ...] | None = None
    min_booking_lead_s: float = 0.0
    max_booking_lead_s: float = INF
    return_to_depot: bool = False
    drive_weight: float = 1.0
    wait_weight: float = 0.0
    ride_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.service_nodes is not None and not isinstance(self.service_nodes, frozenset):
            object.__setattr__(self, "service_nodes", frozenset(int(n) for n in self.service_nodes))
        if self.service_hours_s is not None:
            hours = tuple((float(a), float(b)) for a, b in self.service_hours_s)
            for a, b in hours:
                _check(b > a, f"DispatchConfig.service_hours_s: window ({a}, {b}) is empty")
            object.__setattr__(self, "service_hours_s", hours)
        _check(
            self.max_booking_lead_s >= self.min_booking_lead_s,
            "DispatchConfig: max_booking_lead_s < min_booking_lead_s",
        )
        for name in ("drive_weight", "wait_weight", "ride_weight"):
            _check(getattr(self, name) >= 0, f"DispatchConfig.{name} must be >= 0")


@dataclass(frozen=True)
class DispatchResult:
    """Outcome of one dispatch call: ``vehicles`` are the updated states (input order)."""

    assignments: tuple[Assignment, ...]
    rejections: tuple[Rejection, ...]
    vehicles: tuple[VehicleState, ...] = field(default=())
