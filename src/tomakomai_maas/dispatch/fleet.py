"""Per-fleet numpy arrays of the vehicles' current plans, for the insertion search.

Internal to :mod:`tomakomai_maas.dispatch`. The limits stored for existing stops are the
"no worse than now" ones (see :mod:`tomakomai_maas.dispatch.insertion`).

Keeping the arrays up to date between dispatcher calls (:meth:`FleetArrays.sync`) costs
little: a vehicle's row is rebuilt (a Python loop over its plan) only when its
``VehicleState`` object changed. When only its start time moved (it stands at a stop,
waiting for a pick-up, so its start is ``now``), the row is *shifted* instead, vectorised
over the fleet, if the new start provably gives the same schedule from the first stop on:
the service at the first stop starts at the same time (the wait absorbs the shift) and, for
a first stop that is a drop-off, the arrival is the same too. Then only the start, the
first leg (its duration can change with time-dependent travel times) and the driving time
accumulated after it change; they are recomputed with the same floating-point operations
as a rebuild, so the arrays are bit-for-bit those of a rebuild (tests compare the two).
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
    """Per-vehicle arrays derived from its current plan scheduled from ``start_s``."""

    vehicle: VehicleState
    start_s: float
    nodes: list[int]
    arr: list[float]  # arrival at each stop
    leg: list[float]  # driving time of the leg to each stop
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
    arrs: list[float] = []
    legs: list[float] = []
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
        arrs.append(arr)
        legs.append(leg)
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
        v, start, nodes, arrs, legs, earliest, latest_eff, service, delta, slots, is_drop,
        maxride, deps,
        load_before, drive_before, slot_start, max(v.shift_end_s, end), drive, dist,
    )


class FleetArrays:
    """Padded per-fleet arrays, updated incrementally when vehicle objects change.

    Row ``k`` describes ``vehicles[k]``; stop columns ``0..L-1`` its current plan as
    scheduled from its start ``max(available_s, shift_start_s, now_s)``; ``prev_*`` column
    ``k`` the state just before stop ``k`` (column 0: the start). A row is rebuilt when its
    ``VehicleState`` object is not the one of the previous call (pass unchanged vehicles as
    the same objects), or when its start moved and the shift rule (module docstring) does
    not apply.
    """

    _STOP_FIELDS = (
        ("nodes", np.intp, 0), ("arr", np.float64, np.nan), ("leg", np.float64, 0.0),
        ("earliest", np.float64, -INF), ("latest_eff", np.float64, INF),
        ("service", np.float64, 0.0), ("delta", np.int64, 0), ("slot", np.intp, 0),
        ("is_drop", bool, False), ("maxride_eff", np.float64, INF), ("dep", np.float64, np.nan),
    )
    # per-vehicle arrays with one column per stop (+1 for prev_*, load/drive before) or slot
    _PREV_FIELDS = (
        ("prev_node", np.intp, 0), ("prev_dep", np.float64, INF), ("load_before", np.int64, 0),
        ("drive_before", np.float64, 0.0),
    )

    def __init__(self, tt: TravelTimeProvider, return_to_depot: bool) -> None:
        self.tt = tt
        self.rtd = return_to_depot
        self.vehicles: tuple[VehicleState, ...] = ()
        self.n_rebuilt = 0  # rows rebuilt from the plan (for benchmarks and tests)
        self.n_shifted = 0  # rows whose start moved and were shifted, not rebuilt

    def _alloc(self, n: int, width: int, slots: int) -> None:
        self.width, self.n_slots = width, slots
        for name, dtype, fill in self._STOP_FIELDS:
            setattr(self, name, np.full((n, width), fill, dtype=dtype))
        # prev_* column k = state before stop k (k = 0..width); pads: dep = inf
        for name, dtype, fill in self._PREV_FIELDS:
            setattr(self, name, np.full((n, width + 1), fill, dtype=dtype))
        self.slot_start = np.full((n, slots), np.nan)

    def _grow(self, width: int) -> None:
        """Widen every array to ``width`` stops, keeping the rows (pads as :meth:`_alloc`)."""
        old = {name: getattr(self, name) for name, _, _ in self._STOP_FIELDS + self._PREV_FIELDS}
        old["slot_start"] = self.slot_start
        self._alloc(len(self.vehicles), width, width)
        for name, arr in old.items():
            getattr(self, name)[:, :arr.shape[1]] = arr

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

    def _shift(self, idx: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Move the start of unchanged vehicles ``idx`` (with a plan) to ``start`` where the
        schedule from the first stop on cannot change; returns the rows that need a rebuild.

        Same schedule from the first stop on: the first service starts at the same time
        (``max(arrival, earliest)``) and, at a drop-off, the arrival is the same (its ride
        limit is relaxed to the ride so far); every later time is a function of the first
        departure. The first leg's duration may still change (time-dependent times): then
        the driving time before each later stop is summed again, in the same order as a
        rebuild does.
        """
        node0 = self.nodes[idx, 0]
        arr, leg = leg_fn(self.tt)(start, self.node[idx], node0)
        arr = np.asarray(arr, dtype=np.float64)
        leg = np.asarray(leg, dtype=np.float64)
        e0 = self.earliest[idx, 0]
        old_arr = self.arr[idx, 0]
        same = (np.maximum(arr, e0) == np.maximum(old_arr, e0)) & (
            ~self.is_drop[idx, 0] | (arr == old_arr))
        ok = idx[same]
        if ok.size:
            arr, leg = arr[same], leg[same]
            self.start[ok] = start[same]
            self.prev_dep[ok, 0] = start[same]
            self.arr[ok, 0] = arr
            new_leg = leg != self.leg[ok, 0]
            self.leg[ok, 0] = leg
            for k in ok[new_leg].tolist():
                n = int(self.L[k])
                drive = np.add.accumulate(self.leg[k, :n])  # sequential, like the rebuild
                self.drive_before[k, 1:n + 1] = drive
                self.drive_total[k] = drive[-1]
            self.n_shifted += int(ok.size)
        return idx[~same]

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
        waiting = np.flatnonzero(moved & ~is_changed & (self.L > 0))
        if waiting.size:
            with np.errstate(invalid="ignore"):
                waiting = self._shift(waiting, start[waiting])
        stale = sorted(changed + waiting.tolist())
        if not stale:
            return
        need_w = max(len(vehicles[k].plan) for k in stale)
        if need_w > self.width:
            self._grow(need_w)
        for k in stale:
            with np.errstate(invalid="ignore"):
                row = _build_row(vehicles[k], float(start[k]), self.tt, self.rtd)
            self._write(k, row)
        self.n_rebuilt += len(stale)
