"""Per-fleet numpy arrays of the vehicles' current plans, for the insertion search.

Internal to :mod:`tomakomai_maas.dispatch`. The limits stored for existing stops are the
"no worse than now" ones (see :mod:`tomakomai_maas.dispatch.insertion`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tomakomai_maas.dispatch.model import StopKind, VehicleState
from tomakomai_maas.dispatch.traveltimes import TravelTimeProvider, leg_fn
from tomakomai_maas.errors import DispatchError

__all__ = ["FleetArrays"]

INF = math.inf


@dataclass
class _Row:
    """Per-vehicle arrays derived from its current plan (cached per state object + start)."""

    vehicle: VehicleState
    start_s: float
    nodes: list[int]
    earliest: list[float]
    latest_eff: list[float]
    service: list[float]
    delta: list[int]
    slot: list[int]
    is_drop: list[bool]
    maxride_eff: list[float]
    dep: list[float]
    load_before: list[int]  # load before stop k (k = 0..L)
    drive_before: list[float]  # driving time before stop k (k = 0..L)
    slot_start: list[float]  # ride start per slot in the current plan (departure at pick-up)
    shift_end_eff: float
    drive_total: float
    dist_total: float  # road distance of the plan from the vehicle's node (0 if range is inf)


def _build_row(v: VehicleState, start: float, tt: TravelTimeProvider, rtd: bool) -> _Row:
    nodes: list[int] = []
    earliest: list[float] = []
    latest_eff: list[float] = []
    service: list[float] = []
    delta: list[int] = []
    slots: list[int] = []
    is_drop: list[bool] = []
    maxride: list[float] = []
    deps: list[float] = []
    load_before = [v.onboard_pax]
    drive_before = [0.0]
    slot_of: dict[str, int] = {}
    slot_start: list[float] = []
    t, prev, load, drive = start, v.node, v.onboard_pax, 0.0
    leg_of = leg_fn(tt)
    for s in v.plan:
        arr, leg = leg_of(t, prev, s.node)
        st = max(arr, s.earliest_s)
        dep = st + s.service_s
        slot = slot_of.get(s.request_id)
        if slot is None:
            slot = slot_of[s.request_id] = len(slot_start)
            slot_start.append(math.nan if s.ride_start_s is None else s.ride_start_s)
        if s.kind is StopKind.PICKUP:
            slot_start[slot] = dep
            mr = INF
        else:
            mr = max(s.max_ride_s, arr - slot_start[slot])
        nodes.append(s.node)
        earliest.append(s.earliest_s)
        latest_eff.append(max(s.latest_s, st))
        service.append(s.service_s)
        delta.append(s.load_delta)
        slots.append(slot)
        is_drop.append(s.kind is StopKind.DROPOFF)
        maxride.append(mr)
        deps.append(dep)
        load += s.load_delta
        drive = drive + leg
        load_before.append(load)
        drive_before.append(drive)
        t, prev = dep, s.node
    dist = 0.0
    if math.isfinite(v.range_m):
        p = v.node
        for s in v.plan:
            dist += float(tt.dist_m(p, s.node))
            p = s.node
    end = t
    if rtd and v.depot is not None:
        end = leg_of(end, prev, v.depot)[0]
    return _Row(
        v, start, nodes, earliest, latest_eff, service, delta, slots, is_drop, maxride, deps,
        load_before, drive_before, slot_start, max(v.shift_end_s, end), drive, dist,
    )


class FleetArrays:
    """Padded per-fleet arrays, updated incrementally when vehicle objects change.

    Row ``k`` describes ``vehicles[k]``; stop columns ``0..L-1`` its current plan as
    scheduled from its start ``max(available_s, shift_start_s, now_s)``; ``prev_*`` column
    ``k`` the state just before stop ``k`` (column 0: the start). Per-vehicle rows are
    cached by the identity of the ``VehicleState`` object and its start time.
    """

    _STOP_FIELDS = (
        ("nodes", np.intp, 0), ("earliest", np.float64, -INF), ("latest_eff", np.float64, INF),
        ("service", np.float64, 0.0), ("delta", np.int64, 0), ("slot", np.intp, 0),
        ("is_drop", bool, False), ("maxride_eff", np.float64, INF), ("dep", np.float64, np.nan),
    )

    def __init__(self, tt: TravelTimeProvider, return_to_depot: bool) -> None:
        self.tt = tt
        self.rtd = return_to_depot
        self.vehicles: tuple[VehicleState, ...] = ()
        self.rows: list[_Row] = []

    def _alloc(self, n: int, width: int, slots: int) -> None:
        self.width, self.n_slots = width, slots
        for name, dtype, fill in self._STOP_FIELDS:
            setattr(self, name, np.full((n, width), fill, dtype=dtype))
        # prev_* column k = state before stop k (k = 0..width); pads: dep = inf
        self.prev_node = np.zeros((n, width + 1), dtype=np.intp)
        self.prev_dep = np.full((n, width + 1), INF)
        self.load_before = np.zeros((n, width + 1), dtype=np.int64)
        self.drive_before = np.zeros((n, width + 1))
        self.slot_start = np.full((n, slots), np.nan)

    def _write(self, k: int, row: _Row) -> None:
        n = len(row.nodes)
        for name, _, fill in self._STOP_FIELDS:
            arr = getattr(self, name)
            arr[k, :n] = getattr(row, name)
            arr[k, n:] = fill
        v = row.vehicle
        self.prev_node[k, 0] = v.node
        self.prev_node[k, 1:n + 1] = row.nodes
        self.prev_node[k, n + 1:] = 0
        self.prev_dep[k, 0] = row.start_s
        self.prev_dep[k, 1:n + 1] = row.dep
        self.prev_dep[k, n + 1:] = INF
        self.load_before[k, :n + 1] = row.load_before
        self.load_before[k, n + 1:] = 0
        self.drive_before[k, :n + 1] = row.drive_before
        self.drive_before[k, n + 1:] = 0.0
        self.slot_start[k, :len(row.slot_start)] = row.slot_start
        self.slot_start[k, len(row.slot_start):] = np.nan
        self.L[k] = n
        self.start[k] = row.start_s
        self.shift_end_eff[k] = row.shift_end_eff
        self.drive_total[k] = row.drive_total
        self.dist_total[k] = row.dist_total

    def _reset(self, vehicles: tuple[VehicleState, ...]) -> None:
        n = len(vehicles)
        ids = [v.vehicle_id for v in vehicles]
        if len(set(ids)) != n:
            dup = sorted({x for x in ids if ids.count(x) > 1})
            raise DispatchError(f"vehicle ids must be unique; duplicated: {dup}")
        self.vid = ids
        order = sorted(range(n), key=ids.__getitem__)
        self.rank = np.empty(n, dtype=np.int64)
        self.rank[order] = np.arange(n)
        self.capacity = np.zeros(n, dtype=np.int64)
        self.node = np.zeros(n, dtype=np.intp)
        self.avail = np.zeros(n)
        self.shift_start = np.zeros(n)
        self.shift_end = np.zeros(n)
        self.depot = np.zeros(n, dtype=np.intp)
        self.has_depot = np.zeros(n, dtype=bool)
        self.L = np.zeros(n, dtype=np.intp)
        self.start = np.full(n, np.nan)
        self.shift_end_eff = np.zeros(n)
        self.drive_total = np.zeros(n)
        self.dist_total = np.zeros(n)
        self.range_m = np.full(n, INF)
        width = max([len(v.plan) for v in vehicles], default=0)
        self._alloc(n, max(width, 1), max(width, 1))
        self.rows = [None] * n  # type: ignore[list-item]

    def sync(self, vehicles: Sequence[VehicleState], now_s: float) -> None:
        """Bring the arrays up to date with ``vehicles`` as seen at ``now_s``."""
        vehicles = tuple(vehicles)
        n = len(vehicles)
        old = self.vehicles
        if len(old) != n or any(
            a is not b and a.vehicle_id != b.vehicle_id for a, b in zip(old, vehicles, strict=True)
        ):
            self._reset(vehicles)
            changed = list(range(n))
        else:
            changed = [k for k in range(n) if vehicles[k] is not old[k]]
        for k in changed:
            v = vehicles[k]
            self.capacity[k], self.node[k] = v.capacity, v.node
            self.avail[k], self.shift_start[k], self.shift_end[k] = (
                v.available_s, v.shift_start_s, v.shift_end_s)
            self.range_m[k] = v.range_m
            self.has_depot[k] = v.depot is not None
            self.depot[k] = v.node if v.depot is None else v.depot
            self.L[k] = len(v.plan)
        self.vehicles = vehicles
        start = np.maximum(np.maximum(self.avail, self.shift_start), now_s)
        moved = start != self.start
        is_changed = np.zeros(n, dtype=bool)
        is_changed[changed] = True
        # idle, unchanged vehicles: only the start (and the relaxed shift end) move
        idle = np.flatnonzero(moved & ~is_changed & (self.L == 0))
        if idle.size:
            self.start[idle] = start[idle]
            self.prev_dep[idle, 0] = start[idle]
            end = start[idle]
            if self.rtd:
                back = leg_fn(self.tt)(end, self.node[idle], self.depot[idle])[0]
                end = np.where(self.has_depot[idle], back, end)
            self.shift_end_eff[idle] = np.maximum(self.shift_end[idle], end)
        stale = np.flatnonzero(is_changed | (moved & (self.L > 0))).tolist()
        if not stale:
            return
        need_w = max(len(vehicles[k].plan) for k in stale)
        if need_w > self.width:  # grow; rewrite every row from its cache
            self._alloc(n, need_w, need_w)
            stale = list(range(n))
        for k in stale:
            v = vehicles[k]
            s = float(start[k])
            row = self.rows[k]
            if row is None or row.vehicle is not v or row.start_s != s:
                with np.errstate(invalid="ignore"):
                    row = self.rows[k] = _build_row(v, s, self.tt, self.rtd)
            self._write(k, row)
