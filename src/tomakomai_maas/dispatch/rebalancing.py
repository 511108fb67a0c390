"""Moving idle vehicles: rebalancing towards expected demand, and idle policies.

Every policy has ``propose(vehicles, *, now_s, expected_requests_by_zone=None)`` returning
:class:`RebalanceMove` s; the caller applies them with
:func:`~tomakomai_maas.dispatch.schedule.apply_move`. Only *movable* vehicles move: those
with an empty plan that are already at their node (``available_s <= now_s``). Vehicles with
a plan are never moved.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from tomakomai_maas.dispatch.model import DrtRequest, RebalanceMove, VehicleState, vehicle_start_s
from tomakomai_maas.dispatch.registry import register_idle_policy, register_rebalancing_policy
from tomakomai_maas.dispatch.traveltimes import TravelTimeProvider, leg_fn
from tomakomai_maas.errors import DispatchError

__all__ = [
    "NoRebalancing",
    "ZoneDeficitRebalancing",
    "StayIdlePolicy",
    "ReturnToDepotIdlePolicy",
    "zone_request_counts",
    "largest_remainder",
]

log = logging.getLogger(__name__)


def _movable(v: VehicleState, now_s: float) -> bool:
    return not v.plan and v.available_s <= now_s


def _move(v: VehicleState, to: int, tt: TravelTimeProvider, now_s: float, why: str) -> RebalanceMove:
    dep = vehicle_start_s(v, now_s)
    arrive = float(leg_fn(tt)(dep, v.node, int(to))[0])
    return RebalanceMove(v.vehicle_id, v.node, int(to), dep, arrive, why)


def largest_remainder(weights: Any, total: int) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (ties: lower index first)."""
    w = np.asarray(weights, dtype=np.float64)
    if total <= 0 or w.sum() <= 0:
        return np.zeros(w.shape, dtype=np.int64)
    exact = w / w.sum() * total
    base = np.floor(exact).astype(np.int64)
    rest = total - int(base.sum())
    order = np.lexsort((np.arange(w.size), -(exact - base)))
    base[order[:rest]] += 1
    return base


def zone_request_counts(
    requests: Iterable[DrtRequest],
    zone_of_node: Any,
    n_zones: int,
    *,
    t_from_s: float,
    t_to_s: float,
) -> np.ndarray:
    """Requests per origin zone with ``t_from_s <= t_request_s < t_to_s`` (a demand signal)."""
    zones = np.asarray(zone_of_node)
    out = np.zeros(n_zones, dtype=np.float64)
    for r in requests:
        if t_from_s <= r.t_request_s < t_to_s:
            out[zones[r.origin]] += r.n_pax
    return out


@register_rebalancing_policy("none")
class NoRebalancing:
    """Never moves a vehicle."""

    name = "none"

    def __init__(self, tt: TravelTimeProvider, **_: Any) -> None:
        self.tt = tt

    def propose(
        self,
        vehicles: Sequence[VehicleState],
        *,
        now_s: float,
        expected_requests_by_zone: Any = None,
    ) -> tuple[RebalanceMove, ...]:
        return ()


@register_rebalancing_policy("zone_deficit")
class ZoneDeficitRebalancing:
    """Send surplus idle vehicles to zones short of vehicles relative to expected demand.

    Policy: let ``N`` be the number of idle vehicles (empty plan; also those still driving
    to their node) and ``w_z`` the expected requests of zone ``z`` (e.g. recent counts from
    :func:`zone_request_counts`). Zone ``z`` should hold ``target_z`` idle vehicles, ``N``
    split in proportion to ``w_z`` (largest remainder). ``deficit_z = target_z - present_z``
    where positive; zones with ``present_z > target_z`` give up their excess, choosing the
    movable vehicles with the shortest drive to any deficit centroid (ties: vehicle id).
    Giving vehicles are matched to deficit slots (one per missing vehicle, at the zone's
    centroid node) by :func:`scipy.optimize.linear_sum_assignment` on travel time; pairs
    slower than ``max_move_s`` or unreachable are dropped. Travel times are the drives the
    vehicles would make now: with a time-dependent provider (``arrival_s``, e.g. the day's
    speed factors) the time-dependent drive leaving at :func:`vehicle_start_s`, so a snowy
    day's slower moves count against ``max_move_s`` as they are driven.

    Args:
        tt: travel-time provider.
        zone_of_node: zone index of every node (array indexed by node).
        zone_centroids: the node each zone's vehicles are sent to.
        max_move_s: longest repositioning drive allowed.
    """

    name = "zone_deficit"

    def __init__(
        self,
        tt: TravelTimeProvider,
        *,
        zone_of_node: Any,
        zone_centroids: Sequence[int],
        max_move_s: float = np.inf,
    ) -> None:
        self.tt = tt
        self.zone_of_node = np.asarray(zone_of_node, dtype=np.intp)
        self.centroids = np.asarray(zone_centroids, dtype=np.intp)
        nz = self.centroids.size
        if nz == 0:
            raise DispatchError("zone_deficit: zone_centroids is empty")
        if self.zone_of_node.size and (
            self.zone_of_node.min() < 0 or self.zone_of_node.max() >= nz
        ):
            raise DispatchError(f"zone_deficit: zone_of_node values must be in 0..{nz - 1}")
        self.max_move_s = float(max_move_s)

    def _drive_s(self, vehicles: Sequence[VehicleState], nodes: np.ndarray, now_s: float
                 ) -> np.ndarray:
        """``[len(vehicles), len(nodes)]`` drive times leaving when each vehicle can
        (:func:`vehicle_start_s`), on the provider's time-dependent times when it has them
        (:func:`leg_fn`): the drive the vehicle will make, not the free-flow table."""
        dep = np.array([vehicle_start_s(v, now_s) for v in vehicles], dtype=np.float64)
        frm = np.array([v.node for v in vehicles], dtype=np.intp)
        return np.asarray(leg_fn(self.tt)(dep[:, None], frm[:, None], nodes[None, :])[1],
                          dtype=np.float64)

    def targets(self, expected_requests_by_zone: Any, n_idle: int) -> np.ndarray:
        """Idle vehicles each zone should hold."""
        w = np.asarray(expected_requests_by_zone, dtype=np.float64)
        if w.shape != self.centroids.shape:
            raise DispatchError(
                f"zone_deficit: expected_requests_by_zone has {w.size} zones, "
                f"expected {self.centroids.size}"
            )
        if (w < 0).any() or not np.isfinite(w).all():
            raise DispatchError("zone_deficit: expected_requests_by_zone must be finite and >= 0")
        return largest_remainder(w, n_idle)

    def propose(
        self,
        vehicles: Sequence[VehicleState],
        *,
        now_s: float,
        expected_requests_by_zone: Any = None,
    ) -> tuple[RebalanceMove, ...]:
        if expected_requests_by_zone is None:
            raise DispatchError("zone_deficit needs expected_requests_by_zone")
        idle = [v for v in vehicles if not v.plan]
        target = self.targets(expected_requests_by_zone, len(idle))
        nz = self.centroids.size
        zone = {v.vehicle_id: int(self.zone_of_node[v.node]) for v in idle}
        present = np.bincount([zone[v.vehicle_id] for v in idle], minlength=nz)
        deficit = np.maximum(target - present, 0)
        if deficit.sum() == 0:
            return ()
        slots = np.repeat(np.arange(nz), deficit)
        slot_nodes = self.centroids[slots]
        givers: list[VehicleState] = []
        for z in np.flatnonzero(present > target).tolist():
            movable = [v for v in idle if zone[v.vehicle_id] == z and _movable(v, now_s)]
            if not movable:
                continue
            t_min = self._drive_s(movable, slot_nodes, now_s).min(axis=1)
            order = sorted(range(len(movable)), key=lambda k: (t_min[k], movable[k].vehicle_id))
            givers += [movable[k] for k in order[: int(present[z] - target[z])]]
        if not givers:
            return ()
        cost = self._drive_s(givers, slot_nodes, now_s)
        ok = np.isfinite(cost) & (cost <= self.max_move_s)
        if not ok.any():
            return ()
        big = (cost[ok].sum() + 1.0) * 2.0
        rows, cols = linear_sum_assignment(np.where(ok, cost, big))
        moves = [
            _move(givers[r], int(slot_nodes[c]), self.tt, now_s, f"zone_deficit->zone {slots[c]}")
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True)
            if ok[r, c]
        ]
        log.debug("zone_deficit: %d idle, deficit %d, %d moves", len(idle), deficit.sum(), len(moves))
        return tuple(sorted(moves, key=lambda m: m.vehicle_id))


@register_idle_policy("stay")
class StayIdlePolicy:
    """Idle vehicles wait where they are."""

    name = "stay"

    def __init__(self, tt: TravelTimeProvider, **_: Any) -> None:
        self.tt = tt

    def propose(
        self,
        vehicles: Sequence[VehicleState],
        *,
        now_s: float,
        expected_requests_by_zone: Any = None,
    ) -> tuple[RebalanceMove, ...]:
        return ()


@register_idle_policy("return_to_depot")
class ReturnToDepotIdlePolicy:
    """Movable idle vehicles that have a depot and are elsewhere drive back to it."""

    name = "return_to_depot"

    def __init__(self, tt: TravelTimeProvider, **_: Any) -> None:
        self.tt = tt

    def propose(
        self,
        vehicles: Sequence[VehicleState],
        *,
        now_s: float,
        expected_requests_by_zone: Any = None,
    ) -> tuple[RebalanceMove, ...]:
        return tuple(
            _move(v, v.depot, self.tt, now_s, "return_to_depot")
            for v in sorted(vehicles, key=lambda v: v.vehicle_id)
            if v.depot is not None and v.node != v.depot and _movable(v, now_s)
        )
