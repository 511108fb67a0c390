"""Cheapest feasible insertion of one request into a fleet's plans (numpy-vectorised).

For a request and a fleet, every candidate (vehicle, pick-up position ``i``, drop-off
position ``j``), ``0 <= i <= j <= len(plan)``, gives the new plan
``plan[:i] + [P] + plan[i:j] + [D] + plan[j:]``. The cheapest feasible candidate wins; ties
go to the lowest ``vehicle_id``, then the lowest ``i``, then ``j``.

Evaluation is exact and vectorised (one row per candidate):

1. outcomes that need no simulation, from bounds valid for any travel times ``>= 0``:
   the arrival at the pick-up (exact: stops before it keep their times), capacity (loads
   only), a certain time-window break (an old stop after the pick-up, or the new drop-off,
   with a latest time before the pick-up departure) and a certain ride break (an old stop
   between pick-up and drop-off that cannot be left within max ride of the pick-up);
2. the other candidates are simulated together, one numpy step per plan position; a row
   leaves as soon as its outcome is certain (a broken window; back on the old schedule
   after the new drop-off; a broken ride limit);
3. only when nothing is feasible are ride-limit breaks resolved further (``TIME_WINDOW``
   or ``RIDE_TIME``), because only the rejection reason needs that.

**Pruning** (``prune=True``) skips only provably infeasible work before any row is built:
the exact earliest arrival of each vehicle at the pick-up over all pick-up positions
(``min_i dep_{i-1} + time(node_{i-1}, origin)``, one vectorised look-up over the fleet) is
compared with ``latest_pickup_s``; vehicles that cannot make it, or have too few seats, and
pick-up positions that are too late or are followed by a stop that would certainly be late,
get no rows; drop-off positions past a certain ride break are only built when nothing is
feasible. Their outcome still counts for the rejection reason, so the result (assignment or
rejection, reason and detail) is identical with and without pruning.

**Cost bound** (with pruning, when leg times do not depend on the departure time: a plain
table, or one speed factor all day): the added driving time of a candidate is then known
from the table alone (the legs it adds minus the one it replaces), and the wait at the
pick-up is exact, so each row has its cost up to rounding, less the ride term. Rows are
simulated in order of that bound: first the cheapest eighth; the rest only when their bound
is not above the best feasible cost found (of the fleet for :meth:`InsertionEngine.insert`,
of their vehicle for :meth:`InsertionEngine.best_per_vehicle`) plus a margin (1e-6 s
relative, 10,000 times the rounding). Nothing feasible found: every row is simulated. So the
winner, its tie-breaks and any rejection are those of the exhaustive search.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tomakomai_maas.dispatch.fleet import FleetArrays
from tomakomai_maas.dispatch.model import (
    Assignment,
    DispatchConfig,
    DrtRequest,
    Rejection,
    RejectReason,
    VehicleState,
    dropoff_stop,
    pickup_stop,
)
from tomakomai_maas.dispatch.schedule import schedule_plan
from tomakomai_maas.dispatch.traveltimes import SpeedProfile, TravelTimeProvider, leg_fn
from tomakomai_maas.errors import DispatchError

__all__ = ["InsertionEngine", "insert_request", "check_request"]

log = logging.getLogger(__name__)

INF = math.inf
# cost bound (see InsertionEngine._rows_bounded): 1/share of the rows are simulated first;
# others are skipped only above best + tol * (1 + |best|) (rounding errors are ~1e-10 s)
_BOUND_FIRST_SHARE = 8
_BOUND_TOL_S = 1e-6
# candidate stages: the first check a candidate fails (FEASIBLE = none)
_S_UNREACH, _S_LATE, _S_CAP, _S_TW, _S_RIDE, _S_BATTERY, FEASIBLE = range(7)
_STAGE_REASON = {
    _S_UNREACH: RejectReason.UNREACHABLE,
    _S_LATE: RejectReason.NO_VEHICLE_IN_TIME,
    _S_CAP: RejectReason.CAPACITY,
    _S_TW: RejectReason.TIME_WINDOW,
    _S_RIDE: RejectReason.RIDE_TIME,
    _S_BATTERY: RejectReason.BATTERY,
}


def _hms(t_s: float) -> str:
    if not math.isfinite(t_s):
        return str(t_s)
    t = int(round(t_s))
    sign = "-" if t < 0 else ""
    t = abs(t)
    return f"{sign}{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"


@functools.lru_cache(maxsize=16)
def _pairs(width: int) -> tuple[np.ndarray, np.ndarray]:
    """All (pick-up, drop-off) position pairs ``0 <= i <= j <= width``."""
    ii, jj = np.triu_indices(width + 1)
    ii, jj = ii.astype(np.intp), jj.astype(np.intp)
    ii.setflags(write=False)
    jj.setflags(write=False)
    return ii, jj


def _new_order(i: np.ndarray, j: np.ndarray, width: int) -> np.ndarray:
    """Per row, the new plan as indices into ``[stop_0 .. stop_{width-1}, P, D]``.

    ``P = width``, ``D = width + 1``: ``stops[:i] + [P] + stops[i:j] + [D] + stops[j:]``.
    """
    c = np.arange(width + 2)[None, :]
    i = i[:, None]
    j = j[:, None]
    return np.where(c < i, c, np.where(c == i, width, np.where(
        c <= j, c - 1, np.where(c == j + 1, width + 1, c - 2))))


def _first(mask: np.ndarray, default: np.ndarray) -> np.ndarray:
    """Column of the first True per row of ``mask``, else ``default``."""
    out = default.copy()
    has = mask.any(axis=1)
    if has.any():
        out[has] = mask[has].argmax(axis=1)
    return out


def _expand(
    group: np.ndarray, i: np.ndarray, j_lo: np.ndarray, j_hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``(group, i, j)`` for every ``j_lo <= j <= j_hi`` (vectorised)."""
    counts = np.maximum(j_hi - j_lo + 1, 0)
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    rep = np.repeat(np.arange(counts.size), counts)
    j = j_lo[rep] + (np.arange(total) - starts[rep])
    return group[rep], i[rep], j


@dataclass
class _Rows:
    """Candidate insertions of one request and what is known about them."""

    veh: np.ndarray
    i: np.ndarray
    j: np.ndarray
    T: np.ndarray
    stage: np.ndarray
    drive: np.ndarray
    d_arr: np.ndarray
    p_start: np.ndarray
    pending: np.ndarray  # ride limit broken; TIME_WINDOW or RIDE_TIME still to be resolved

    @property
    def n(self) -> int:
        return int(self.veh.size)

    def concat(self, other: _Rows) -> _Rows:
        if self.T.shape[1] != other.T.shape[1]:
            raise AssertionError("rows of different widths")
        return _Rows(*(np.concatenate([getattr(self, k), getattr(other, k)])
                       for k in ("veh", "i", "j", "T", "stage", "drive", "d_arr", "p_start",
                                 "pending")))


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

    Keeps per-vehicle arrays between calls and rebuilds a vehicle's row only when its
    :class:`VehicleState` object changed (pass unchanged vehicles as the same objects) or
    its start moved in a way that can change its schedule (see
    :mod:`tomakomai_maas.dispatch.fleet`). ``prune=False`` evaluates every vehicle and position exhaustively (the
    reference the pruned search must agree with).

    With pruning, :meth:`insert` and :meth:`best_per_vehicle` also skip candidates by a
    bound on their cost when leg times do not depend on the departure time (see
    :meth:`_rows_bounded`); only requests with more than ``bound_min_rows`` candidates
    left by the other pruning use it (the tests lower it to exercise it on small cases).
    """

    bound_min_rows = 64

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
        self._fleet = FleetArrays(tt, self.config.return_to_depot)
        self.n_evaluated_rows = 0  # candidates simulated exactly (for benchmarks)
        self.n_bound_skipped = 0  # candidates skipped by the cost bound (for benchmarks)

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
        ev = self._evaluate(request, bound="fleet")
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
        ev = self._evaluate(request, bound="vehicle")
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

    def _evaluate(self, req: DrtRequest, only: np.ndarray | None = None,
                  bound: str | None = None) -> _Eval:
        # inf - inf (unreachable legs) gives NaN, which every check treats as a failure
        with np.errstate(invalid="ignore"):
            return self._evaluate_rows(req, only, bound)

    def _evaluate_rows(self, req: DrtRequest, only: np.ndarray | None,
                       bound: str | None) -> _Eval:
        f = self._fleet
        tt = self.tt
        # exact earliest arrival at the pick-up per (vehicle, pick-up position): the stops
        # before the pick-up keep their times
        arr_p = leg_fn(tt)(f.prev_dep, f.prev_node, req.origin)[0]
        bound_p = arr_p.min(axis=1)
        reach_i = arr_p <= req.latest_pickup_s
        reach_v = reach_i.any(axis=1)
        vstage = np.where(np.isfinite(bound_p), _S_LATE, _S_UNREACH)
        vstage = np.where(reach_v, _S_CAP, vstage)  # pruned vehicles: best they can get
        prune = self.prune and only is None
        if only is not None:
            cand = only
        elif prune:
            cand = np.flatnonzero(reach_v & (f.capacity >= req.n_pax))
        else:
            cand = np.arange(len(f.vehicles))
        empty = np.zeros(0, dtype=np.intp)
        if cand.size == 0:
            z = np.zeros(0)
            return _Eval(empty, empty, empty, empty, z, z, vstage, bound_p)
        L = f.L[cand]
        width = int(L.max())
        deferred = None
        if prune:
            ci, ipos, jpos, deferred = self._pruned_rows(req, cand, L, width, arr_p, reach_i,
                                                         vstage)
        else:
            I_all, J_all = _pairs(width)
            ci, pi = np.nonzero(J_all[None, :] <= L[:, None])
            ipos, jpos = I_all[pi], J_all[pi]
        # pruned rows need no classification: every one of them must be simulated
        lb = self._cost_lower_bound(req, cand[ci], ipos, jpos, arr_p) if (
            prune and bound is not None and ci.size > self.bound_min_rows) else None
        if lb is None:
            rows = self._rows(req, cand[ci], ipos, jpos, width, arr_p, classify=not prune)
        else:
            rows = self._rows_bounded(req, cand[ci], ipos, jpos, width, arr_p, lb,
                                      per_vehicle=bound == "vehicle")
        if not (rows.stage == FEASIBLE).any():
            if deferred is not None and deferred[0].size:
                # nothing feasible: the rejection reason needs the rows set aside as well
                rows = rows.concat(self._rows(req, cand[deferred[0]], deferred[1],
                                              deferred[2], width, arr_p, pending=True))
            pend = np.flatnonzero(rows.pending)
            if pend.size:
                self._sim_pass(req, rows.veh[pend], rows.T[pend], width, pend, rows.stage,
                               rows.drive, rows.d_arr, drop_ride=False)
        added, cost = self._cost(req, rows)
        np.maximum.at(vstage, rows.veh, rows.stage)
        return _Eval(rows.veh, rows.i, rows.j, rows.stage, cost, added, vstage, bound_p)

    def _cost(self, req: DrtRequest, rows: _Rows) -> tuple[np.ndarray, np.ndarray]:
        """Added driving time and cost (see :class:`DispatchConfig`) of simulated rows."""
        added = rows.drive - self._fleet.drive_total[rows.veh]
        c = self.config
        cost = c.drive_weight * added
        if c.wait_weight:
            cost = cost + c.wait_weight * (rows.p_start - req.earliest_pickup_s)
        if c.ride_weight:
            cost = cost + c.ride_weight * (rows.d_arr - (rows.p_start + req.board_s))
        return added, cost

    def _static_times(self) -> Callable[[Any, Any], Any] | None:
        """Leg durations that do not depend on the departure time, when the provider has
        them: a plain table, or a time-dependent one with one factor all day (``None``
        otherwise). Equal to the simulated legs up to rounding."""
        tt = self.tt
        if getattr(tt, "arrival_s", None) is None:
            return tt.time_s
        profile = getattr(tt, "profile", None)
        base = getattr(tt, "base", None)
        if isinstance(profile, SpeedProfile) and profile.constant and base is not None:
            f = profile.factors[0]
            return lambda i, j: np.asarray(base.time_s(i, j), dtype=np.float64) / f
        return None

    def _cost_lower_bound(self, req: DrtRequest, veh: np.ndarray, i: np.ndarray,
                          j: np.ndarray, arr_p: np.ndarray) -> np.ndarray | None:
        """Per candidate row, its cost up to rounding, less what needs the simulation.

        With departure-independent leg times the added driving time is known without
        simulating (:meth:`_added`). The wait is exact (the pick-up time is known); the ride counts as 0. ``None`` when
        leg times depend on the departure time (no bound then).
        """
        t = self._static_times()
        if t is None:
            return None
        cfg = self.config
        lb = cfg.drive_weight * self._added(
            lambda x, y: np.asarray(t(x, y), dtype=np.float64), req, veh, i, j)
        if cfg.wait_weight:
            p_start = np.maximum(arr_p[veh, i], req.earliest_pickup_s)
            lb = lb + cfg.wait_weight * (p_start - req.earliest_pickup_s)
        return lb

    def _added(self, m: Any, req: DrtRequest, veh: np.ndarray, i: np.ndarray,
               j: np.ndarray) -> np.ndarray:
        """What inserting pick-up at ``i`` and drop-off at ``j`` adds to a plan in the metric
        ``m(from_nodes, to_nodes)`` (times or distances): ``a -> O -> D -> b`` replaces
        ``a -> b`` when ``i == j``; ``a -> O -> b`` and ``c -> D -> e`` replace ``a -> b`` and
        ``c -> e`` otherwise (``a``/``c`` the stops before positions ``i``/``j``, ``b``/``e``
        the old stops at them, absent at the end of the plan). Arithmetic in ``m``'s dtype."""
        f = self._fleet
        L = f.L[veh]
        o, dn = req.origin, req.dest
        a = f.prev_node[veh, i]
        b = f.prev_node[veh, np.minimum(i + 1, f.width)]
        c = f.prev_node[veh, j]
        e = f.prev_node[veh, np.minimum(j + 1, f.width)]
        zero = np.zeros(veh.size)
        ao, ab = m(a, o), m(a, b)
        add_same = ao + m(o, dn) + np.where(i < L, m(dn, b) - ab, zero)
        add_split = ao + m(o, b) - ab + m(c, dn) + np.where(j < L, m(dn, e) - m(c, e), zero)
        return np.where(i == j, add_same, add_split)

    def _rows_bounded(self, req: DrtRequest, veh: np.ndarray, ipos: np.ndarray,
                      jpos: np.ndarray, width: int, arr_p: np.ndarray, lb: np.ndarray, *,
                      per_vehicle: bool) -> _Rows:
        """Simulate the rows with the smallest cost bounds first; then only those of the
        others whose bound does not exceed the best feasible cost found (of the fleet, or of
        their vehicle), plus a margin far above rounding. Rows skipped cost more than that
        best, so the cheapest feasible insertion (of the fleet or of each vehicle) and its
        tie-breaks are those of simulating every row; when nothing is feasible, every row
        is simulated."""
        n = veh.size
        k = max(self.bound_min_rows, n // _BOUND_FIRST_SHARE, 1)
        order = np.argsort(lb, kind="stable")
        first, rest = order[:k], order[k:]
        rows = self._rows(req, veh[first], ipos[first], jpos[first], width, arr_p,
                          classify=False)
        if rest.size == 0:
            return rows
        feas = rows.stage == FEASIBLE
        if feas.any():
            cost = self._cost(req, rows)[1]
            if per_vehicle:
                best = np.full(self._fleet.L.size, INF)
                np.minimum.at(best, rows.veh[feas], cost[feas])
                limit = best[veh[rest]]
            else:
                limit = np.full(rest.size, cost[feas].min())
            # NaN bounds (unreachable legs) are simulated
            keep = ~(lb[rest] > limit + _BOUND_TOL_S * (1.0 + np.abs(limit)))
            self.n_bound_skipped += int(rest.size - keep.sum())
            rest = rest[keep]
        if rest.size:
            rows = rows.concat(self._rows(req, veh[rest], ipos[rest], jpos[rest], width,
                                          arr_p, classify=False))
        return rows

    def _pruned_rows(
        self,
        req: DrtRequest,
        cand: np.ndarray,
        L: np.ndarray,
        width: int,
        arr_p: np.ndarray,
        reach_i: np.ndarray,
        vstage: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
        """Candidate rows worth simulating, decided per (vehicle, pick-up position).

        Skips pick-up positions not reached in time, and those after which some old stop
        has a latest time before the pick-up departure (their rows are all ``TIME_WINDOW``
        or ``CAPACITY``; ``vstage`` gets the better of the two). For the rest, drop-off
        positions past an old stop that cannot be left within the new passenger's max ride
        of the pick-up departure are deferred (returned apart): their rows break a ride
        limit, so only a rejection needs them.
        """
        f = self._fleet
        n_pos = width + 1
        pos = np.arange(n_pos)
        ok = reach_i[cand, :n_pos] & (pos[None, :] <= L[:, None])
        cv, ip = np.nonzero(ok)
        p_dep = np.maximum(arr_p[cand[cv], ip], req.earliest_pickup_s) + req.board_s
        lat_after = np.minimum.accumulate(f.latest_eff[cand, :width][:, ::-1], axis=1)[:, ::-1]
        lat_after = np.concatenate([lat_after, np.full((cand.size, 1), INF)], axis=1)
        lat_d = INF if req.latest_dropoff_s is None else req.latest_dropoff_s
        tw = (lat_after[cv, ip] < p_dep) | (lat_d < p_dep)
        if tw.any():
            v = cand[cv[tw]]
            la_ok = (f.load_before[v, 1:width + 1] <= f.capacity[v][:, None]).all(axis=1)
            room = la_ok & (f.load_before[v, ip[tw]] + req.n_pax <= f.capacity[v])
            np.maximum.at(vstage, v, np.where(room, _S_TW, _S_CAP))
        cv, ip, p_dep = cv[~tw], ip[~tw], p_dep[~tw]
        # capacity: rows of positions without room are all CAPACITY (vstage has that)
        v = cand[cv]
        cap = f.capacity[v][:, None]
        la = f.load_before[v, 1:width + 1]  # load after each old stop (pads: 0)
        room = (la <= cap).all(axis=1) & (f.load_before[v, ip] + req.n_pax <= f.capacity[v])
        cv, ip, p_dep, v, la, cap = cv[room], ip[room], p_dep[room], v[room], la[room], cap[room]
        cols = np.arange(width)
        ahead = (cols[None, :] >= ip[:, None]) & (cols[None, :] < L[cv][:, None])
        # the drop-off must come before the first old stop m >= i that would be over
        # capacity with the new passenger on board (j <= m), and before the first one that
        # cannot be left by pick-up departure + max ride (later j: set aside)
        j_cap = _first(ahead & (la + req.n_pax > cap), L[cv])
        es = (f.earliest + f.service)[v, :width]
        j_max = np.minimum(_first(ahead & (es - p_dep[:, None] > req.max_ride_s), L[cv]), j_cap)
        ci, ipos, jpos = _expand(cv, ip, ip, j_max)
        deferred = _expand(cv, ip, j_max + 1, j_cap)
        return ci, ipos, jpos, deferred

    def _rows(
        self,
        req: DrtRequest,
        veh: np.ndarray,
        ipos: np.ndarray,
        jpos: np.ndarray,
        width: int,
        arr_p: np.ndarray,
        *,
        classify: bool = True,
        pending: bool = False,
    ) -> _Rows:
        """Classify candidate rows and simulate those whose outcome is not yet certain.

        ``classify=False``: the caller knows every row must be simulated.
        ``pending=True``: the caller knows every row breaks a ride limit (set aside).

        Known without simulating (times never decrease along a route: legs are >= 0 and a
        service starts no earlier than the arrival): reaching the pick-up (exact: the stops
        before it keep their times); capacity (loads only); a time window, when an old stop
        after the pick-up, or the new drop-off, has a latest time before the pick-up
        departure; a broken ride limit (set aside as pending), when an old stop between
        pick-up and drop-off cannot be left within max ride of the pick-up departure.
        """
        nrows = veh.size
        self.n_evaluated_rows += nrows
        Tr = _new_order(ipos, jpos, width)
        p_arr = arr_p[veh, ipos]
        p_start = np.maximum(p_arr, req.earliest_pickup_s)
        p_dep = p_start + req.board_s
        stage = np.full(nrows, _S_RIDE if pending else -1, dtype=np.int64)
        if classify and not pending:
            self._classify(req, veh, ipos, jpos, width, p_arr, p_dep, stage)
        is_pending = stage == _S_RIDE
        drive = np.full(nrows, np.nan)
        d_arr = np.full(nrows, np.nan)
        sim = np.flatnonzero(stage < 0)
        if sim.size:
            aside = self._sim_pass(req, veh[sim], Tr[sim], width, sim, stage, drive, d_arr,
                                   drop_ride=True)
            is_pending[aside] = True
        self._battery(req, veh, ipos, jpos, stage)
        return _Rows(veh, ipos, jpos, Tr, stage, drive, d_arr, p_start, is_pending)

    def _battery(self, req: DrtRequest, veh: np.ndarray, i: np.ndarray, j: np.ndarray,
                 stage: np.ndarray) -> None:
        """Feasible rows of vehicles with a finite ``range_m`` whose new plan (with the drive
        back to the depot, when the vehicle has one) is longer than
        ``max(range_m, the current plan's distance)`` become ``BATTERY``.

        Distances do not depend on time, so the new plan's distance is the old one plus
        what the insertion adds (:meth:`_added`); the last stop may change the drive back.
        """
        f = self._fleet
        sel = np.flatnonzero((stage == FEASIBLE) & np.isfinite(f.range_m[veh]))
        if sel.size == 0:
            return
        d = self.tt.dist_m
        v, i, j = veh[sel], i[sel], j[sel]
        L = f.L[v]
        dn = req.dest
        zero = np.zeros(v.size)
        with np.errstate(invalid="ignore"):
            added = self._added(d, req, v, i, j)
            last_old = f.prev_node[v, L]
            last_new = np.where(j == L, dn, last_old)
            back_old = np.where(f.has_depot[v], d(last_old, f.depot[v]), zero)
            back_new = np.where(f.has_depot[v], d(last_new, f.depot[v]), zero)
            old = f.dist_total[v] + back_old
            new = f.dist_total[v] + added + back_new
            bad = ~(new <= np.maximum(f.range_m[v], old))
        stage[sel[bad]] = _S_BATTERY

    def _classify(
        self,
        req: DrtRequest,
        veh: np.ndarray,
        ipos: np.ndarray,
        jpos: np.ndarray,
        width: int,
        p_arr: np.ndarray,
        p_dep: np.ndarray,
        stage: np.ndarray,
    ) -> None:
        """Set the stage of rows whose outcome is certain without simulating (see above);
        rows breaking a ride limit for certain get a provisional ``_S_RIDE``."""
        f = self._fleet
        cols = np.arange(width)
        inside = (cols >= ipos[:, None]) & (cols < jpos[:, None])  # old stops between P and D
        load_after = f.load_before[veh, 1:width + 1]  # pads: 0
        n = req.n_pax
        cap_bad = (np.where(inside, load_after + n, load_after) > f.capacity[veh][:, None]).any(
            axis=1) | (f.load_before[veh, ipos] + n > f.capacity[veh])
        ride_lb = np.where(inside, (f.earliest + f.service)[veh, :width], -INF).max(
            axis=1, initial=-INF) - p_dep
        lat_after = np.where(cols >= ipos[:, None], f.latest_eff[veh, :width], INF).min(
            axis=1, initial=INF)
        lat_d = INF if req.latest_dropoff_s is None else req.latest_dropoff_s
        stage[ride_lb > req.max_ride_s] = _S_RIDE  # provisional
        stage[(lat_after < p_dep) | (lat_d < p_dep)] = _S_TW
        stage[cap_bad] = _S_CAP
        stage[p_arr > req.latest_pickup_s] = _S_LATE
        stage[~(p_arr < INF)] = _S_UNREACH

    def _sim_pass(
        self,
        req: DrtRequest,
        veh: np.ndarray,
        T: np.ndarray,
        width: int,
        rid: np.ndarray,
        stage_out: np.ndarray,
        drive_out: np.ndarray,
        d_arr_out: np.ndarray,
        *,
        drop_ride: bool,
    ) -> np.ndarray:
        """One simulation pass; returns the row ids set aside for a broken ride limit.

        A row leaves as soon as its outcome is known:

        * a stop starts after its (relaxed) latest time, or the vehicle already departs
          later than the latest time of a stop still ahead (times never decrease): the row
          is ``TIME_WINDOW`` (capacity is known fine, so nothing can make it worse);
        * after the new drop-off, it is back on the old schedule at an old stop (same
          departure, nobody picked up earlier than before): the rest is the old plan, which
          meets its own (relaxed) limits, so the row is ``FEASIBLE`` or ``RIDE_TIME``;
        * with ``drop_ride``: a ride limit broke, or the new passenger has already been on
          board longer than allowed before reaching the drop-off (set aside).
        """
        f = self._fleet
        leg_of = leg_fn(self.tt)
        n = veh.size
        k0 = int((T == width).argmax(axis=1).min())  # first column that can differ
        Tc = T[:, k0:]
        slot_new = f.n_slots
        lat_d = INF if req.latest_dropoff_s is None else float(req.latest_dropoff_s)

        is_p = Tc == width
        is_d = Tc == width + 1
        # per row and column, the flat index of the old stop in the fleet arrays (0 for P/D)
        flat = veh[:, None] * f.width + np.where(Tc < width, Tc, 0)

        def ext(arr: np.ndarray, p_val: object, d_val: object) -> np.ndarray:
            return np.where(is_p, p_val, np.where(is_d, d_val, arr.ravel()[flat]))

        node = ext(f.nodes, req.origin, req.dest)
        earliest = ext(f.earliest, req.earliest_pickup_s, -INF)
        latest = ext(f.latest_eff, req.latest_pickup_s, lat_d)
        service = ext(f.service, req.board_s, req.alight_s)
        slot = ext(f.slot, slot_new, slot_new)
        is_drop = ext(f.is_drop, False, True)
        maxride = ext(f.maxride_eff, INF, req.max_ride_s)
        old_dep = ext(f.dep, np.nan, np.nan)
        valid = np.arange(k0, width + 2)[None, :] < (f.L[veh] + 2)[:, None]
        # latest time of any stop after column k (pads: inf); the new pick-up is checked apart
        lat_ahead = np.where(valid & (Tc != width), latest, INF)
        lat_ahead = np.minimum.accumulate(lat_ahead[:, ::-1], axis=1)[:, ::-1]
        lat_ahead = np.concatenate([lat_ahead[:, 1:], np.full((n, 1), INF)], axis=1)
        is_old = valid & (Tc < width)
        rs0 = f.slot_start[veh]
        rs = np.empty((n, slot_new + 1))
        rs[:, :slot_new] = rs0
        rs[:, slot_new] = np.nan
        dep = f.prev_dep[veh, k0]
        prev = f.prev_node[veh, k0]
        drive = f.drive_before[veh, k0].copy()
        ride_bad = np.zeros(n, dtype=bool)
        d_passed = np.zeros(n, dtype=bool)
        live = np.ones(n, dtype=bool)
        d_arr = np.full(n, np.nan)
        p_dep = np.full(n, np.nan)
        max_ride_new = req.max_ride_s
        set_aside: list[np.ndarray] = []
        k = 0
        while k < Tc.shape[1]:
            v = valid[:, k]
            nd = node[:, k]
            arr, leg = leg_of(dep, prev, nd)
            st = np.maximum(arr, earliest[:, k])
            dp = st + service[:, k]
            ok_here = is_p[:, k] | ((st <= latest[:, k]) & (arr < INF))
            tw_fail = live & ~((ok_here | ~v) & ~(dp > lat_ahead[:, k]))
            sl = slot[:, k]
            dr = is_drop[:, k] & v
            rows = np.arange(dep.size)
            ride_bad |= dr & ~(arr - rs[rows, sl] <= maxride[:, k])
            isd = is_d[:, k]
            d_arr = np.where(isd, arr, d_arr)
            d_passed |= isd
            p_dep = np.where(is_p[:, k], dp, p_dep)
            pk = v & ~is_drop[:, k]
            rs[rows[pk], sl[pk]] = dp[pk]
            drive = np.where(v, drive + leg, drive)
            dep = np.where(v, dp, dep)
            prev = np.where(v, nd, prev)
            conv = live & d_passed & is_old[:, k] & (dp == old_dep[:, k]) & ~tw_fail
            if conv.any():
                c_idx = np.flatnonzero(conv)
                ok = ~(rs[c_idx, :slot_new] < rs0[c_idx]).any(axis=1)
                conv[c_idx[~ok]] = False
            k += 1
            if tw_fail.any():
                stage_out[rid[tw_fail]] = _S_TW
                live &= ~tw_fail
            if conv.any():
                r = rid[conv]
                stage_out[r] = np.where(ride_bad[conv], _S_RIDE, FEASIBLE)
                m = Tc[conv, k - 1]  # the old stop: the rest of the plan is unchanged after it
                vv = veh[conv]
                drive_out[r] = drive[conv] + (f.drive_total[vv] - f.drive_before[vv, m + 1])
                d_arr_out[r] = d_arr[conv]
                live &= ~conv
            if drop_ride:
                # the new passenger cannot arrive before the vehicle's current departure
                aside = live & (ride_bad | (~d_passed & (dep - p_dep > max_ride_new)))
                if aside.any():
                    stage_out[rid[aside]] = _S_RIDE  # provisional: RIDE_TIME or TIME_WINDOW
                    set_aside.append(rid[aside])
                    live &= ~aside
            n_live = int(live.sum())
            if n_live == 0:
                break
            if n_live <= live.size // 2:  # compact rows, drop finished columns
                (node, earliest, latest, service, slot, is_drop, maxride, old_dep, valid, is_p,
                 is_d, is_old, Tc, lat_ahead) = (
                    x[live, k:] for x in (
                        node, earliest, latest, service, slot, is_drop, maxride, old_dep,
                        valid, is_p, is_d, is_old, Tc, lat_ahead))
                (veh, rid, rs0, rs, dep, prev, drive, ride_bad, d_passed, d_arr, p_dep) = (
                    x[live] for x in (
                        veh, rid, rs0, rs, dep, prev, drive, ride_bad, d_passed, d_arr, p_dep))
                live = np.ones(n_live, dtype=bool)
                k = 0
        else:
            veh, rid, dep, prev = veh[live], rid[live], dep[live], prev[live]
            drive, ride_bad, d_arr = drive[live], ride_bad[live], d_arr[live]
            end = dep
            if self.config.return_to_depot:
                back = leg_of(dep, prev, f.depot[veh])[0]
                end = np.where(f.has_depot[veh], back, dep)
            late_end = ~(end <= f.shift_end_eff[veh])
            stage_out[rid] = np.where(late_end, _S_TW, np.where(ride_bad, _S_RIDE, FEASIBLE))
            drive_out[rid] = drive
            d_arr_out[rid] = d_arr
        return np.concatenate(set_aside) if set_aside else np.zeros(0, dtype=np.intp)

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
        elif best == _S_RIDE:
            msg = (
                f"every otherwise feasible insertion ({at.size} vehicle(s)) exceeds a maximum "
                "ride time"
            )
        else:
            msg = (
                f"every otherwise feasible insertion ({at.size} vehicle(s)) needs more road "
                "distance (with the drive back to the depot) than the battery range left "
                "above the reserve"
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

