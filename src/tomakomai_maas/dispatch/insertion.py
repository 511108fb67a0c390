"""Cheapest feasible insertion of one request into a fleet's plans (numpy-vectorised).

For a request and a fleet, every candidate (vehicle, pick-up position ``i``, drop-off
position ``j``), ``0 <= i <= j <= len(plan)``, gives the new plan
``plan[:i] + [P] + plan[i:j] + [D] + plan[j:]``. All candidates of all vehicles are
simulated together: one numpy step per plan position, over arrays with one row per
candidate. The cheapest feasible candidate wins; ties go to the lowest ``vehicle_id``, then
the lowest ``i``, then ``j``.

**Pruning** (``prune=True``) skips only provably infeasible work: the exact earliest arrival
of each vehicle at the pick-up over all pick-up positions (``min_i dep_{i-1} +
time(node_{i-1}, origin)``, one vectorised look-up over the fleet; the current plan's stop
times do not change when stops are inserted *after* them) is compared with
``latest_pickup_s``; vehicles that cannot make it, and vehicles with too few seats, are not
simulated, and neither are pick-up positions that are too late. The result (assignment or
rejection, reason and detail) is identical with and without pruning.

**Commitments already in a plan** are kept "no worse than now": an existing stop may not
start later than ``max(latest_s, its current start)``, an existing passenger's ride may
not exceed ``max(max_ride_s, current ride)``, and the plan may not end later than
``max(shift_end_s, current end)``. When the current plan is feasible (always, if it came
from this dispatcher and times are deterministic) these are exactly the plan's own limits;
when travel-time noise has made it late, the vehicle can still take requests that do not
make things worse. The new request's limits are strict.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tomakomai_maas.dispatch.model import (
    Assignment,
    DispatchConfig,
    DrtRequest,
    Rejection,
    RejectReason,
    StopKind,
    VehicleState,
    dropoff_stop,
    pickup_stop,
)
from tomakomai_maas.dispatch.schedule import schedule_plan
from tomakomai_maas.dispatch.traveltimes import TravelTimeProvider
from tomakomai_maas.errors import DispatchError

__all__ = ["InsertionEngine", "insert_request", "check_request"]

log = logging.getLogger(__name__)

INF = math.inf
# candidate stages: the first check a candidate fails (FEASIBLE = none)
_S_UNREACH, _S_LATE, _S_CAP, _S_TW, _S_RIDE, FEASIBLE = range(6)
_STAGE_REASON = {
    _S_UNREACH: RejectReason.UNREACHABLE,
    _S_LATE: RejectReason.NO_VEHICLE_IN_TIME,
    _S_CAP: RejectReason.CAPACITY,
    _S_TW: RejectReason.TIME_WINDOW,
    _S_RIDE: RejectReason.RIDE_TIME,
}


def _hms(t_s: float) -> str:
    if not math.isfinite(t_s):
        return str(t_s)
    t = int(round(t_s))
    sign = "-" if t < 0 else ""
    t = abs(t)
    return f"{sign}{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


@functools.lru_cache(maxsize=64)
def _template(width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (i, j) pairs for a plan of ``width`` stops and their new stop order.

    Returns ``(I, J, T)``; row ``r`` of ``T`` lists, for the new plan, indices into
    ``[stop_0 .. stop_{width-1}, P, D]`` (``P = width``, ``D = width + 1``).
    """
    pairs = [(i, j) for i in range(width + 1) for j in range(i, width + 1)]
    ii = np.array([p[0] for p in pairs], dtype=np.intp)
    jj = np.array([p[1] for p in pairs], dtype=np.intp)
    t = np.empty((len(pairs), width + 2), dtype=np.intp)
    for r, (i, j) in enumerate(pairs):
        t[r] = [*range(i), width, *range(i, j), width + 1, *range(j, width)]
    for a in (ii, jj, t):
        a.setflags(write=False)
    return ii, jj, t


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
    for s in v.plan:
        leg = tt.time_s(prev, s.node)
        arr = t + leg
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
    end = t
    if rtd and v.depot is not None:
        end = end + tt.time_s(prev, v.depot)
    return _Row(
        v, start, nodes, earliest, latest_eff, service, delta, slots, is_drop, maxride, deps,
        load_before, drive_before, slot_start, max(v.shift_end_s, end), drive,
    )


class _Fleet:
    """Padded per-fleet arrays, updated incrementally when vehicle objects change."""

    _STOP_FIELDS = (
        ("nodes", np.intp, 0), ("earliest", np.float64, -INF), ("latest_eff", np.float64, INF),
        ("service", np.float64, 0.0), ("delta", np.int64, 0), ("slot", np.intp, 0),
        ("is_drop", bool, False), ("maxride_eff", np.float64, INF),
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
                back = self.tt.time_s(self.node[idle], self.depot[idle])
                end = np.where(self.has_depot[idle], end + back, end)
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


@dataclass(frozen=True)
class _Eval:
    """Candidate rows of one request: fleet index, positions, first failed check, cost."""

    veh: np.ndarray
    i: np.ndarray
    j: np.ndarray
    stage: np.ndarray
    cost: np.ndarray
    added_drive: np.ndarray
    vehicle_stage: np.ndarray  # best (max) stage per fleet vehicle
    bound: np.ndarray  # earliest arrival at the pick-up per fleet vehicle


def check_request(
    request: DrtRequest, config: DispatchConfig, tt: TravelTimeProvider
) -> Rejection | None:
    """Request-level checks (area, hours, booking lead, origin→destination reachable)."""
    rid = request.request_id
    nodes = config.service_nodes
    if nodes is not None:
        bad = [n for n in (request.origin, request.dest) if n not in nodes]
        if bad:
            return Rejection(
                rid, RejectReason.OUTSIDE_AREA,
                f"node(s) {bad} outside the service area ({len(nodes)} service nodes)",
            )
    hours = config.service_hours_s
    t0 = request.earliest_pickup_s
    if hours is not None and not any(a <= t0 < b for a, b in hours):
        spans = ", ".join(f"{_hms(a)}-{_hms(b)}" for a, b in hours)
        return Rejection(
            rid, RejectReason.OUTSIDE_HOURS,
            f"earliest pick-up {_hms(t0)} is outside the service hours {spans}",
        )
    if request.prebooked:
        lead = t0 - request.t_request_s
        if not config.min_booking_lead_s <= lead <= config.max_booking_lead_s:
            return Rejection(
                rid, RejectReason.OUTSIDE_HOURS,
                f"booked {lead / 3600:.2f} h ahead; allowed {config.min_booking_lead_s / 3600:.2f}"
                f" h to {config.max_booking_lead_s / 3600:.2f} h before the pick-up",
            )
    direct = float(tt.time_s(request.origin, request.dest))
    if not math.isfinite(direct):
        return Rejection(
            rid, RejectReason.UNREACHABLE,
            f"destination node {request.dest} cannot be reached from origin {request.origin}",
        )
    return None


class InsertionEngine:
    """Cheapest-insertion dispatcher core, reusable across calls.

    Keeps per-vehicle arrays cached between calls (keyed by the identity of each
    :class:`VehicleState` object and its start time), so pass unchanged vehicles as the
    same objects. ``prune=False`` evaluates every vehicle and position exhaustively (the
    reference the pruned search must agree with).
    """

    def __init__(
        self,
        tt: TravelTimeProvider,
        *,
        config: DispatchConfig | None = None,
        prune: bool = True,
    ) -> None:
        self.tt = tt
        self.config = config or DispatchConfig()
        self.prune = prune
        self._fleet = _Fleet(tt, self.config.return_to_depot)
        self.n_evaluated_rows = 0  # candidates simulated exactly (for benchmarks)

    # -- public ---------------------------------------------------------------------------
    def insert(
        self,
        request: DrtRequest,
        vehicles: Sequence[VehicleState],
        *,
        now_s: float | None = None,
    ) -> Assignment | Rejection:
        """Best feasible insertion of ``request``, or why there is none.

        ``now_s`` (default ``request.t_request_s``) is the dispatch time: no vehicle
        leaves its node before it.
        """
        rej = check_request(request, self.config, self.tt)
        if rej is not None:
            return rej
        now = request.t_request_s if now_s is None else now_s
        if not vehicles:
            return self._no_fleet(request)
        self._fleet.sync(vehicles, now)
        rej = self._party_too_large(request)
        if rej is not None:
            return rej
        ev = self._evaluate(request)
        feas = np.flatnonzero(ev.stage == FEASIBLE)
        if feas.size == 0:
            return self._rejection(request, ev)
        f = self._fleet
        order = np.lexsort((ev.j[feas], ev.i[feas], f.rank[ev.veh[feas]], ev.cost[feas]))
        r = int(feas[order[0]])
        return self._assignment(request, int(ev.veh[r]), int(ev.i[r]), int(ev.j[r]),
                                float(ev.cost[r]), float(ev.added_drive[r]))

    def best_per_vehicle(
        self,
        request: DrtRequest,
        vehicles: Sequence[VehicleState],
        *,
        now_s: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, Rejection | None]:
        """Per vehicle (input order): best insertion cost (``inf`` if none) and its ``i, j``.

        The rejection is set (and all costs ``inf``) when no vehicle can take the request.
        """
        n = len(vehicles)
        cost = np.full(n, INF)
        ii = np.full(n, -1, dtype=np.intp)
        jj = np.full(n, -1, dtype=np.intp)
        rej = check_request(request, self.config, self.tt)
        if rej is None and not vehicles:
            rej = self._no_fleet(request)
        if rej is None:
            self._fleet.sync(vehicles, now_s)
            rej = self._party_too_large(request)
        if rej is not None:
            return cost, ii, jj, rej
        ev = self._evaluate(request)
        feas = np.flatnonzero(ev.stage == FEASIBLE)
        if feas.size == 0:
            return cost, ii, jj, self._rejection(request, ev)
        order = feas[np.lexsort((ev.j[feas], ev.i[feas], ev.cost[feas], ev.veh[feas]))]
        v = ev.veh[order]
        first = np.ones(v.size, dtype=bool)
        first[1:] = v[1:] != v[:-1]
        sel = order[first]
        cost[ev.veh[sel]] = ev.cost[sel]
        ii[ev.veh[sel]] = ev.i[sel]
        jj[ev.veh[sel]] = ev.j[sel]
        return cost, ii, jj, None

    def assignment_for(
        self,
        request: DrtRequest,
        vehicles: Sequence[VehicleState],
        k: int,
        i: int,
        j: int,
        *,
        now_s: float,
    ) -> Assignment:
        """Build the :class:`Assignment` of ``request`` into ``vehicles[k]`` at ``(i, j)``."""
        self._fleet.sync(vehicles, now_s)
        ev = self._evaluate(request, only=np.array([k], dtype=np.intp))
        hit = np.flatnonzero((ev.veh == k) & (ev.i == i) & (ev.j == j) & (ev.stage == FEASIBLE))
        if hit.size == 0:
            raise DispatchError(
                f"insertion of {request.request_id} into vehicle {vehicles[k].vehicle_id} at "
                f"({i}, {j}) is not feasible"
            )
        r = int(hit[0])
        return self._assignment(request, k, i, j, float(ev.cost[r]), float(ev.added_drive[r]))

    # -- internals ------------------------------------------------------------------------
    @staticmethod
    def _no_fleet(request: DrtRequest) -> Rejection:
        return Rejection(request.request_id, RejectReason.NO_VEHICLE_IN_TIME, "the fleet is empty")

    def _party_too_large(self, request: DrtRequest) -> Rejection | None:
        cap = int(self._fleet.capacity.max())
        if request.n_pax > cap:
            return Rejection(
                request.request_id, RejectReason.CAPACITY,
                f"party of {request.n_pax} exceeds the largest vehicle ({cap} seats)",
            )
        return None

    def _evaluate(self, req: DrtRequest, only: np.ndarray | None = None) -> _Eval:
        # inf - inf (unreachable legs) gives NaN, which every check treats as a failure
        with np.errstate(invalid="ignore"):
            return self._evaluate_rows(req, only)

    def _evaluate_rows(self, req: DrtRequest, only: np.ndarray | None) -> _Eval:
        f = self._fleet
        tt = self.tt
        n = len(f.vehicles)
        # exact earliest arrival at the pick-up per (vehicle, pick-up position)
        arr_p = f.prev_dep + tt.time_s(f.prev_node, req.origin)
        bound = arr_p.min(axis=1)
        reach_i = arr_p <= req.latest_pickup_s
        reach_v = reach_i.any(axis=1)
        vstage = np.where(np.isfinite(bound), _S_LATE, _S_UNREACH)
        vstage = np.where(reach_v, _S_CAP, vstage)  # pruned vehicles: best they can get
        if only is not None:
            cand = only
        elif self.prune:
            cand = np.flatnonzero(reach_v & (f.capacity >= req.n_pax))
        else:
            cand = np.arange(n)
        empty = np.zeros(0, dtype=np.intp)
        if cand.size == 0:
            z = np.zeros(0)
            return _Eval(empty, empty, empty, empty, z, z, vstage, bound)
        L = f.L[cand]
        width = int(L.max())
        I_all, J_all, T = _template(width)
        mask = J_all[None, :] <= L[:, None]
        if self.prune and only is None:
            mask &= reach_i[cand][:, I_all]  # pick-up positions reached in time
        ci, pi = np.nonzero(mask)
        veh = cand[ci]
        ipos, jpos, T = I_all[pi], J_all[pi], T[pi]
        nrows = veh.size
        self.n_evaluated_rows += nrows
        k0 = int(ipos.min())
        # extended per-candidate stop arrays: [stops 0..width-1, P, D]
        lat_d = INF if req.latest_dropoff_s is None else float(req.latest_dropoff_s)
        slot_new = f.n_slots

        def ext(arr: np.ndarray, p_val: object, d_val: object) -> np.ndarray:
            m = arr[veh, :width]
            out = np.empty((nrows, width + 2), dtype=arr.dtype)
            out[:, :width] = m
            out[:, width] = p_val
            out[:, width + 1] = d_val
            return np.take_along_axis(out, T, axis=1)

        node = ext(f.nodes, req.origin, req.dest)
        earliest = ext(f.earliest, req.earliest_pickup_s, -INF)
        latest = ext(f.latest_eff, req.latest_pickup_s, lat_d)
        service = ext(f.service, req.board_s, req.alight_s)
        delta = ext(f.delta, req.n_pax, -req.n_pax)
        slot = ext(f.slot, slot_new, slot_new)
        is_drop = ext(f.is_drop, False, True)
        maxride = ext(f.maxride_eff, INF, req.max_ride_s)
        valid = np.arange(width + 2)[None, :] < (f.L[veh] + 2)[:, None]
        is_p = T == width
        rows = np.arange(nrows)
        ride_start = np.empty((nrows, slot_new + 1))
        ride_start[:, :slot_new] = f.slot_start[veh]
        ride_start[:, slot_new] = np.nan
        dep = f.prev_dep[veh, k0]
        prev = f.prev_node[veh, k0]
        load = f.load_before[veh, k0].copy()
        drive = f.drive_before[veh, k0].copy()
        cap = f.capacity[veh]
        cap_bad = np.zeros(nrows, dtype=bool)
        tw_bad = np.zeros(nrows, dtype=bool)
        ride_bad = np.zeros(nrows, dtype=bool)
        p_start = np.full(nrows, np.nan)
        p_dep = np.full(nrows, np.nan)
        d_arr = np.full(nrows, np.nan)
        for k in range(k0, width + 2):
            v = valid[:, k]
            nd = node[:, k]
            leg = tt.time_s(prev, nd)
            arr = dep + leg
            st = np.maximum(arr, earliest[:, k])
            dp = st + service[:, k]
            load = load + delta[:, k]
            cap_bad |= v & (load > cap)
            ip = is_p[:, k]
            p_start = np.where(ip, st, p_start)
            p_dep = np.where(ip, dp, p_dep)
            tw_bad |= v & ~ip & ~((st <= latest[:, k]) & (arr < INF))
            sl = slot[:, k]
            dr = is_drop[:, k] & v
            ride = arr - ride_start[rows, sl]
            ride_bad |= dr & ~(ride <= maxride[:, k])
            d_arr = np.where(dr & (sl == slot_new), arr, d_arr)
            pk = v & ~is_drop[:, k]
            ride_start[rows[pk], sl[pk]] = dp[pk]
            drive = np.where(v, drive + leg, drive)
            dep = np.where(v, dp, dep)
            prev = np.where(v, nd, prev)
        end = dep
        if self.config.return_to_depot:
            back = tt.time_s(prev, f.depot[veh])
            end = np.where(f.has_depot[veh], dep + back, dep)
        tw_bad |= ~(end <= f.shift_end_eff[veh])
        stage = np.full(nrows, FEASIBLE, dtype=np.int64)
        stage[ride_bad] = _S_RIDE
        stage[tw_bad] = _S_TW
        stage[cap_bad] = _S_CAP
        stage[p_start > req.latest_pickup_s] = _S_LATE
        stage[~np.isfinite(p_start)] = _S_UNREACH
        added = drive - f.drive_total[veh]
        c = self.config
        cost = c.drive_weight * added
        if c.wait_weight:
            cost = cost + c.wait_weight * (p_start - req.earliest_pickup_s)
        if c.ride_weight:
            cost = cost + c.ride_weight * (d_arr - p_dep)
        np.maximum.at(vstage, veh, stage)
        return _Eval(veh, ipos, jpos, stage, cost, added, vstage, bound)

    def _rejection(self, req: DrtRequest, ev: _Eval) -> Rejection:
        f = self._fleet
        best = int(ev.vehicle_stage.max())
        reason = _STAGE_REASON[best]
        rid = req.request_id
        n_v = len(f.vehicles)
        if best == _S_UNREACH:
            return Rejection(
                rid, reason, f"none of the {n_v} vehicles can reach origin node {req.origin}"
            )
        if best == _S_LATE:
            k = int(np.lexsort((f.rank, ev.bound))[0])
            return Rejection(
                rid, reason,
                f"earliest possible arrival at the pick-up is {_hms(float(ev.bound[k]))} "
                f"(vehicle {f.vid[k]}), after the latest pick-up {_hms(req.latest_pickup_s)}",
                f.vid[k],
            )
        at = np.flatnonzero(ev.vehicle_stage == best)
        k = int(at[np.argmin(f.rank[at])])
        if best == _S_CAP:
            msg = (
                f"{at.size} vehicle(s) can reach the pick-up in time but none has room for "
                f"{req.n_pax} passenger(s) at any insertion"
            )
        elif best == _S_TW:
            msg = (
                f"every insertion into the {at.size} vehicle(s) with room breaks a time window "
                "(another stop, the latest drop-off or a shift end)"
            )
        else:
            msg = (
                f"every otherwise feasible insertion ({at.size} vehicle(s)) exceeds a maximum "
                "ride time"
            )
        return Rejection(rid, reason, msg, f.vid[k])

    def _assignment(
        self, req: DrtRequest, k: int, i: int, j: int, cost: float, added: float
    ) -> Assignment:
        f = self._fleet
        v = f.vehicles[k]
        plan = v.plan
        stops = (*plan[:i], pickup_stop(req), *plan[i:j], dropoff_stop(req), *plan[j:])
        start = float(f.start[k])
        sched = schedule_plan(v, self.tt, stops=stops, now_s=start)
        return Assignment(
            request_id=req.request_id,
            vehicle_id=v.vehicle_id,
            stops=stops,
            schedule=sched,
            pickup_index=i,
            dropoff_index=j + 1,
            start_s=start,
            cost_s=cost,
            added_drive_s=added,
        )


def insert_request(
    request: DrtRequest,
    vehicles: Sequence[VehicleState],
    tt: TravelTimeProvider,
    *,
    now_s: float | None = None,
    config: DispatchConfig | None = None,
    prune: bool = True,
) -> Assignment | Rejection:
    """One-shot cheapest feasible insertion (see :class:`InsertionEngine`)."""
    return InsertionEngine(tt, config=config, prune=prune).insert(request, vehicles, now_s=now_s)

