"""DRT dispatch: pure Python/numpy algorithms (no simpy), plain data in, plans out.

Building blocks
    * data: :class:`DrtRequest`, :class:`PlanStop`, :class:`VehicleState`,
      :class:`Assignment`, :class:`Rejection` (:class:`RejectReason`), :class:`RebalanceMove`,
      :class:`DispatchConfig`, :class:`DispatchResult`;
    * travel times: any :class:`TravelTimeProvider` (``time_s(i, j)``, ``dist_m(i, j)``,
      broadcasting on numpy int arrays; optionally ``arrival_s(i, j, t_dep)`` for
      time-dependent times); :class:`MatrixTravelTimes` for tests;
      :class:`TimeDependentTravelTimes` + :class:`SpeedProfile` (hourly speed factors);
    * single plans: :func:`check_plan` (exact feasibility), :func:`schedule_plan`,
      :func:`advance` / :func:`next_event_s` (execute plans as time passes),
      :func:`apply_assignment`, :func:`apply_move`;
    * insertion: :func:`insert_request` / :class:`InsertionEngine` (cheapest feasible
      insertion over the fleet, pruned and vectorised);
    * policies by name: :func:`get_dispatch_policy` (``insertion``, ``batch_lsa``),
      :func:`get_rebalancing_policy` (``none``, ``zone_deficit``),
      :func:`get_idle_policy` (``stay``, ``return_to_depot``).

Schedules are "as early as possible": a vehicle drives straight to its next stop, waits
there if early, serves it, and leaves (see :mod:`tomakomai_maas.dispatch.model`).

Rejection reason precedence
    Request-level checks come first, the first failing one wins: ``OUTSIDE_AREA``,
    ``OUTSIDE_HOURS`` (earliest pick-up outside service hours, or a prebooking lead outside
    the allowed range), ``UNREACHABLE`` (destination unreachable from origin), ``CAPACITY``
    (party larger than every vehicle), ``NO_VEHICLE_IN_TIME`` (empty fleet). Otherwise each
    candidate insertion is checked in the order ``UNREACHABLE`` (its vehicle cannot reach
    the pick-up at all) → ``NO_VEHICLE_IN_TIME`` (arrives after ``latest_pickup_s``) →
    ``CAPACITY`` → ``TIME_WINDOW`` (another stop's window, the latest drop-off, or a shift
    end) → ``RIDE_TIME`` → ``BATTERY`` (the plan does not fit in the vehicle's ``range_m``),
    and the reason reported is the first failed check of the candidate that got furthest —
    the one closest to feasible.

Example::

    tt = MatrixTravelTimes(times_s)
    policy = get_dispatch_policy("insertion")(tt, config=DispatchConfig())
    result = policy.dispatch([request], vehicles, now_s=t)
"""

from __future__ import annotations

from tomakomai_maas.dispatch.insertion import InsertionEngine, check_request, insert_request
from tomakomai_maas.dispatch.model import (
    Assignment,
    DispatchConfig,
    DispatchResult,
    DrtRequest,
    PlanStop,
    RebalanceMove,
    Rejection,
    RejectReason,
    ScheduledStop,
    StopKind,
    VehicleState,
    dropoff_stop,
    make_request,
    pickup_stop,
    vehicle_start_s,
)
from tomakomai_maas.dispatch.policies import BatchAssignmentPolicy, InsertionPolicy
from tomakomai_maas.dispatch.rebalancing import (
    NoRebalancing,
    ReturnToDepotIdlePolicy,
    StayIdlePolicy,
    ZoneDeficitRebalancing,
    largest_remainder,
    zone_request_counts,
)
from tomakomai_maas.dispatch.registry import (
    dispatch_policy_names,
    get_dispatch_policy,
    get_idle_policy,
    get_rebalancing_policy,
    idle_policy_names,
    rebalancing_policy_names,
    register_dispatch_policy,
    register_idle_policy,
    register_rebalancing_policy,
)
from tomakomai_maas.dispatch.schedule import (
    PlanCheck,
    advance,
    apply_assignment,
    apply_move,
    check_plan,
    next_event_s,
    plan_distance_m,
    schedule_plan,
)
from tomakomai_maas.dispatch.traveltimes import (
    MatrixTravelTimes,
    SpeedProfile,
    TimeDependentTravelTimes,
    TravelTimeProvider,
    leg_fn,
)

__all__ = [
    # data
    "Assignment",
    "DispatchConfig",
    "DispatchResult",
    "DrtRequest",
    "PlanStop",
    "RebalanceMove",
    "RejectReason",
    "Rejection",
    "ScheduledStop",
    "StopKind",
    "VehicleState",
    "make_request",
    "pickup_stop",
    "dropoff_stop",
    "vehicle_start_s",
    # travel times
    "TravelTimeProvider",
    "MatrixTravelTimes",
    "SpeedProfile",
    "TimeDependentTravelTimes",
    "leg_fn",
    # single plans
    "PlanCheck",
    "check_plan",
    "schedule_plan",
    "advance",
    "next_event_s",
    "plan_distance_m",
    "apply_assignment",
    "apply_move",
    # insertion
    "InsertionEngine",
    "insert_request",
    "check_request",
    # policies
    "InsertionPolicy",
    "BatchAssignmentPolicy",
    "NoRebalancing",
    "ZoneDeficitRebalancing",
    "StayIdlePolicy",
    "ReturnToDepotIdlePolicy",
    "zone_request_counts",
    "largest_remainder",
    # registries
    "get_dispatch_policy",
    "get_rebalancing_policy",
    "get_idle_policy",
    "dispatch_policy_names",
    "rebalancing_policy_names",
    "idle_policy_names",
    "register_dispatch_policy",
    "register_rebalancing_policy",
    "register_idle_policy",
]
