"""Dispatch policies: immediate cheapest insertion and batch assignment.

Both take a batch of requests and the fleet, and return a :class:`DispatchResult` with the
assignments, the rejections and the updated vehicle states. The simulator calls
``dispatch`` on every request (``batch_interval_s == 0``) or every ``batch_interval_s``
seconds with the requests collected meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from tomakomai_maas.dispatch.insertion import InsertionEngine
from tomakomai_maas.dispatch.model import (
    Assignment,
    DispatchConfig,
    DispatchResult,
    DrtRequest,
    Rejection,
    VehicleState,
)
from tomakomai_maas.dispatch.registry import register_dispatch_policy
from tomakomai_maas.dispatch.schedule import apply_assignment
from tomakomai_maas.dispatch.traveltimes import TravelTimeProvider
from tomakomai_maas.errors import DispatchError

__all__ = ["InsertionPolicy", "BatchAssignmentPolicy"]

log = logging.getLogger(__name__)


def _apply(vehicles: list[VehicleState], index: dict[str, int], a: Assignment) -> None:
    k = index[a.vehicle_id]
    vehicles[k] = apply_assignment(vehicles[k], a)


@register_dispatch_policy("insertion")
class InsertionPolicy:
    """Requests one by one, in the given order, each by cheapest feasible insertion.

    Args:
        tt: travel-time provider.
        config: service rules and cost weights.
        prune: reachability pruning (never changes the result, only the speed).
    """

    name = "insertion"
    batch_interval_s = 0.0

    def __init__(
        self,
        tt: TravelTimeProvider,
        *,
        config: DispatchConfig | None = None,
        prune: bool = True,
    ) -> None:
        self.engine = InsertionEngine(tt, config=config, prune=prune)

    def dispatch(
        self,
        requests: Sequence[DrtRequest],
        vehicles: Sequence[VehicleState],
        *,
        now_s: float | None = None,
    ) -> DispatchResult:
        """Insert ``requests`` in order (``now_s`` default: each request's ``t_request_s``)."""
        fleet = list(vehicles)
        index = {v.vehicle_id: k for k, v in enumerate(fleet)}
        done: list[Assignment] = []
        rejected: list[Rejection] = []
        for r in requests:
            res = self.engine.insert(r, fleet, now_s=now_s)
            if isinstance(res, Assignment):
                _apply(fleet, index, res)
                done.append(res)
            else:
                rejected.append(res)
        return DispatchResult(tuple(done), tuple(rejected), tuple(fleet))


@register_dispatch_policy("batch_lsa")
class BatchAssignmentPolicy:
    """Batch assignment: at most one new request per vehicle, then insertion for the rest.

    For the batch it builds the request x vehicle matrix of best insertion costs (``inf``
    where infeasible) and solves it with :func:`scipy.optimize.linear_sum_assignment`.
    Infeasible pairs get a cost larger than any sum of feasible costs, so the solution
    first maximises the number of requests served, then minimises total cost. Requests
    left over are then tried one by one, in batch order, by cheapest insertion into the
    updated plans.

    Args:
        tt: travel-time provider.
        config: service rules and cost weights.
        prune: reachability pruning (never changes the result).
        batch_interval_s: how often the simulator should call :meth:`dispatch`.
    """

    name = "batch_lsa"

    def __init__(
        self,
        tt: TravelTimeProvider,
        *,
        config: DispatchConfig | None = None,
        prune: bool = True,
        batch_interval_s: float = 30.0,
    ) -> None:
        if not batch_interval_s > 0:
            raise DispatchError(f"batch_interval_s must be > 0, got {batch_interval_s}")
        self.engine = InsertionEngine(tt, config=config, prune=prune)
        self.batch_interval_s = float(batch_interval_s)

    def dispatch(
        self,
        requests: Sequence[DrtRequest],
        vehicles: Sequence[VehicleState],
        *,
        now_s: float | None = None,
    ) -> DispatchResult:
        """Assign a batch of requests at time ``now_s`` (default: latest request time)."""
        fleet = list(vehicles)
        if not requests:
            return DispatchResult((), (), tuple(fleet))
        now = max(r.t_request_s for r in requests) if now_s is None else now_s
        index = {v.vehicle_id: k for k, v in enumerate(fleet)}
        n_r, n_v = len(requests), len(fleet)
        cost = np.full((n_r, n_v), np.inf)
        pos_i = np.full((n_r, n_v), -1, dtype=np.intp)
        pos_j = np.full((n_r, n_v), -1, dtype=np.intp)
        for q, r in enumerate(requests):
            cost[q], pos_i[q], pos_j[q], _ = self.engine.best_per_vehicle(r, fleet, now_s=now)
        done: list[Assignment] = []
        matched: set[int] = set()
        finite = np.isfinite(cost)
        if finite.any():
            big = (np.abs(cost[finite]).sum() + 1.0) * 2.0
            rows, cols = linear_sum_assignment(np.where(finite, cost, big))
            snapshot = tuple(fleet)
            for q, k in zip(rows.tolist(), cols.tolist(), strict=True):
                if not finite[q, k]:
                    continue
                a = self.engine.assignment_for(
                    requests[q], snapshot, k, int(pos_i[q, k]), int(pos_j[q, k]), now_s=now
                )
                fleet[k] = apply_assignment(fleet[k], a)
                done.append(a)
                matched.add(q)
        rejected: list[Rejection] = []
        for q, r in enumerate(requests):
            if q in matched:
                continue
            res = self.engine.insert(r, fleet, now_s=now)
            if isinstance(res, Assignment):
                _apply(fleet, index, res)
                done.append(res)
            else:
                rejected.append(res)
        log.debug("batch of %d: %d by assignment, %d by insertion, %d rejected",
                  n_r, len(matched), len(done) - len(matched), len(rejected))
        return DispatchResult(tuple(done), tuple(rejected), tuple(fleet))
