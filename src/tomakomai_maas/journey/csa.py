"""Connection Scan journey planner minimising generalised cost with bounded transfers.

Model (the brute-force reference in ``tests/test_journey.py`` enumerates the same set):

* walk from the origin to an access stop (``request.access``, ``walk_m <= max_walk_m``),
  leaving at ``request.depart_s``;
* ride a timetabled trip from stop ``k`` (boarding at its scheduled ``dep_s[k]``) to a later
  stop ``m`` (arriving at ``arr_s[m]``); boarding needs arrival at the stop at or before
  ``dep_s[k]``;
* between rides either stay at the alighting stop or walk once to another stop listed in
  ``world.transfers[stop]`` (``walk_m <= max_transfer_walk_m``);
* at most ``max_transfers + 1`` rides;
* walk from the last alighting stop to the destination (``request.egress``).

Cost = walk_weight·walk + wait_weight·wait + ivt_weight·in-vehicle + transfer_penalty·
transfers, with waits counted from the arrival at a stop to the departure of the boarded trip.
Walking all the way (``direct_walk_s``) is chosen when it is not more expensive.

The scan keeps, per stop and number of rides, labels in *reduced* form
``r = cost − wait_weight·t`` (``t`` = arrival at the stop): waiting longer at a stop adds
``wait_weight`` per second, so among labels that have arrived by time ``d`` the one with the
smallest ``r`` is the cheapest way to be there at ``d``. Trip labels use
``q = cost − ivt_weight·t`` likewise. Connections are scanned once in departure order, which
makes the search exact for the model above (given positive connection durations).

Pruning (never changes the result): a static lower bound of the cost from every stop to
every other stop (ride edges at ``ivt_weight ×`` their shortest scheduled time, transfer
walks at ``walk_weight``; all-pairs Dijkstra once per planner, for up to ``_MAX_LB_STOPS``
stops) discards boardings and labels that cannot beat the best itinerary found so far, and
the scan stops once ``min(weights) · (t − depart_s)`` alone exceeds it.
"""

from __future__ import annotations

import bisect
import heapq
import logging
import math
from collections.abc import Iterable

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from tomakomai_maas.journey.itinerary import Itinerary, Leg, build_itinerary
from tomakomai_maas.world import Access, JourneyParams, Request, World

__all__ = ["JourneyPlanner", "walk_only_itinerary"]

log = logging.getLogger(__name__)

_MAX_LB_STOPS = 2500  # all-pairs lower-bound matrix up to this many stops (50 MB)


def walk_only_itinerary(request: Request, params: JourneyParams) -> Itinerary:
    """The itinerary that walks from origin to destination (``request.direct_walk_s``)."""
    t0 = request.depart_s
    w = request.direct_walk_s
    leg = Leg(
        kind="walk",
        role="direct",
        from_stop="",
        to_stop="",
        start_s=t0,
        end_s=t0 + w,
        walk_s=w,
        walk_m=w * params.walk_speed_mps,
    )
    return build_itinerary(request.request_id, t0, (leg,), params)


class JourneyPlanner:
    """Plans requests over a World's timetabled trips.

    Build once per World (sorting the connections is the expensive part), then call
    :meth:`plan` per request. ``params`` overrides ``world.journey``.
    """

    def __init__(self, world: World, *, params: JourneyParams | None = None) -> None:
        self.world = world
        self.params = params if params is not None else world.journey
        p = self.params
        if p.max_transfers < 0:
            raise ValueError(f"journey.max_transfers must be >= 0, got {p.max_transfers}")
        stop_ids = sorted(set(world.stops) | {s for t in world.trips for s in t.stop_ids})
        self._stop_ids = stop_ids
        self._stop_index = {s: i for i, s in enumerate(stop_ids)}
        conns = []
        for ti, trip in enumerate(world.trips):
            for k in range(len(trip.stop_ids) - 1):
                conns.append((trip.dep_s[k], trip.arr_s[k + 1], ti, k))
        conns.sort()
        idx = self._stop_index
        trips = world.trips
        self._dep = [c[0] for c in conns]
        # (dep_s, arr_s, trip index, stop position k, from-stop index, to-stop index)
        self._conns = [
            (d, a, ti, k, idx[trips[ti].stop_ids[k]], idx[trips[ti].stop_ids[k + 1]])
            for d, a, ti, k in conns
        ]
        self._c_from = [c[4] for c in self._conns]
        self._c_trip = [c[2] for c in self._conns]
        transfers: list[tuple[tuple[int, float, Access], ...]] = []
        for s in stop_ids:
            out = []
            for acc in world.transfers.get(s, ()):
                if acc.stop_id == s or acc.stop_id not in idx:
                    continue
                if acc.walk_m > p.max_transfer_walk_m:
                    continue
                out.append((idx[acc.stop_id], float(acc.walk_s), acc))
            transfers.append(tuple(out))
        self._transfers = transfers
        self._lb = self._cost_lower_bounds(trips) if len(stop_ids) <= _MAX_LB_STOPS else None
        log.debug("journey planner: %d connections over %d trips", len(conns), len(trips))

    def _cost_lower_bounds(self, trips) -> np.ndarray:
        """``lb[s, e]``: a lower bound of the cost of getting from stop s to stop e.

        Shortest path over ride edges weighted ``ivt_weight · min scheduled connection time``
        and transfer edges weighted ``walk_weight · walk_s``; waits and penalties are >= 0,
        so this never exceeds the cost of any itinerary (it prunes, never changes results).
        """
        p = self.params
        n = len(self._stop_ids)
        best: dict[tuple[int, int], float] = {}
        for d, a, _, _, s, s2 in self._conns:
            w = p.ivt_weight * (a - d)
            if s != s2 and w < best.get((s, s2), math.inf):
                best[(s, s2)] = w
        for s, out in enumerate(self._transfers):
            for s3, w, _ in out:
                w = p.walk_weight * w
                if w < best.get((s, s3), math.inf):
                    best[(s, s3)] = w
        if not best:
            return np.full((n, n), math.inf)
        keys = sorted(best)
        rows = [k[0] for k in keys]
        cols = [k[1] for k in keys]
        vals = [best[k] for k in keys]  # explicit zeros stay edges in csgraph
        graph = csr_matrix((vals, (rows, cols)), shape=(n, n))
        dist = dijkstra(graph, directed=True)
        return dist * (1.0 - 1e-9)  # guard against rounding making the bound too tight

    @property
    def n_connections(self) -> int:
        return len(self._conns)

    def plan_all(self, requests: Iterable[Request]) -> dict[str, Itinerary | None]:
        """Plan many requests; returns ``{request_id: itinerary or None}`` in input order."""
        return {r.request_id: self.plan(r) for r in requests}

    def plan(self, request: Request) -> Itinerary | None:
        """Minimum-generalised-cost itinerary for ``request``, or ``None`` if there is none."""
        p = self.params
        ww, wt, wi, pen = p.walk_weight, p.wait_weight, p.ivt_weight, p.transfer_penalty_s
        t0 = float(request.depart_s)
        n_layers = p.max_transfers + 1
        idx = self._stop_index

        best_cost = math.inf
        if math.isfinite(request.direct_walk_s):
            best_cost = ww * request.direct_walk_s
        best = None

        egress: dict[int, Access] = {}
        for acc in request.egress:
            s = idx.get(acc.stop_id)
            if s is None or acc.walk_m > p.max_walk_m:
                continue
            if s not in egress or acc.walk_s < egress[s].walk_s:
                egress[s] = acc

        # labels[lid] = ("access", Access) | ("ride", trip, board_k, parent_lid, alight_k, walk)
        labels: list[tuple] = []
        settled: list[dict[int, tuple[float, int]]] = [{} for _ in range(n_layers)]
        pending: list[dict[int, list[tuple[float, int, float]]]] = [{} for _ in range(n_layers)]
        trip_lab: list[dict[int, tuple[float, int, int]]] = [{} for _ in range(n_layers + 1)]

        min_tau = math.inf
        if egress:
            for acc in request.access:
                s = idx.get(acc.stop_id)
                if s is None or acc.walk_m > p.max_walk_m:
                    continue
                c = ww * acc.walk_s
                if c >= best_cost:
                    continue
                tau = t0 + acc.walk_s
                lid = len(labels)
                labels.append(("access", acc))
                heapq.heappush(pending[0].setdefault(s, []), (tau, lid, c - wt * tau))
                min_tau = min(min_tau, tau)

        if pending[0]:
            conns, transfers = self._conns, self._transfers
            wmin = min(ww, wt, wi)
            min_eg = ww * min(acc.walk_s for acc in egress.values())
            # togo[s]: lower bound of the cost from stop s to the destination
            if self._lb is not None:
                cols = list(egress)
                eg_cost = np.array([ww * egress[e].walk_s for e in cols])
                togo = (self._lb[:, cols] + eg_cost).min(axis=1).tolist()
            else:
                togo = [min_eg] * len(self._stop_ids)
            heappop, heappush = heapq.heappop, heapq.heappush
            # bit j-1 of stop_bits[s]: stop s has a label with j-1 rides (may board ride j);
            # bit j-1 of trip_bits[tr]: trip tr has a label as ride j
            stop_bits = dict.fromkeys(pending[0], 1)
            trip_bits: dict[int, int] = {}
            sget, tget = stop_bits.get, trip_bits.get
            c_from, c_trip = self._c_from, self._c_trip
            for i in range(bisect.bisect_left(self._dep, min_tau), len(conns)):
                # fast skip: neither the departure stop nor the trip carries a label
                if c_from[i] not in stop_bits and c_trip[i] not in trip_bits:
                    continue
                d, a, tr, k, s, s2 = conns[i]
                bits = sget(s, 0) | tget(tr, 0)
                if wmin > 0 and wmin * (d - t0) + min_eg >= best_cost:
                    break
                j = 0
                while bits:
                    j += 1
                    if not bits & 1:
                        bits >>= 1
                        continue
                    bits >>= 1
                    # boarding from labels with j-1 rides at stop s that arrived by d
                    sj = settled[j - 1]
                    lab = sj.get(s)
                    pj = pending[j - 1]
                    h = pj.get(s)
                    if h is not None and h[0][0] <= d:
                        while h and h[0][0] <= d:
                            _, lid, r = heappop(h)
                            if lab is None or r < lab[0]:
                                lab = (r, lid)
                        sj[s] = lab
                        if not h:
                            del pj[s]
                    tl = trip_lab[j]
                    tq = tl.get(tr)
                    if lab is not None:
                        cb = lab[0] + wt * d + (pen if j >= 2 else 0.0)  # cost when boarding
                        if cb + togo[s] < best_cost:
                            q = cb - wi * d
                            if tq is None or q < tq[0]:
                                tq = (q, k, lab[1])
                                tl[tr] = tq
                                trip_bits[tr] = tget(tr, 0) | (1 << (j - 1))
                    if tq is None:
                        continue
                    c = tq[0] + wi * a
                    if c + togo[s2] >= best_cost:
                        # riding on cannot beat the best: drop this trip label
                        del tl[tr]
                        tb = trip_bits[tr] & ~(1 << (j - 1))
                        if tb:
                            trip_bits[tr] = tb
                        else:
                            del trip_bits[tr]
                        continue
                    eg = egress.get(s2)
                    if eg is not None:
                        ce = c + ww * eg.walk_s
                        if ce < best_cost:
                            best_cost = ce
                            best = (tr, tq[1], tq[2], k + 1, eg)
                    if j == n_layers:
                        continue
                    sj2 = settled[j]
                    pj2 = pending[j]
                    bit = 1 << j
                    r = c - wt * a
                    cur = sj2.get(s2)
                    if cur is None or r < cur[0]:
                        lid = len(labels)
                        labels.append(("ride", tr, tq[1], tq[2], k + 1, None))
                        heappush(pj2.setdefault(s2, []), (a, lid, r))
                        stop_bits[s2] = sget(s2, 0) | bit
                    for s3, w, acc in transfers[s2]:
                        c3 = c + ww * w
                        if c3 + togo[s3] >= best_cost:
                            continue
                        r3 = c3 - wt * (a + w)
                        cur = sj2.get(s3)
                        if cur is None or r3 < cur[0]:
                            lid = len(labels)
                            labels.append(("ride", tr, tq[1], tq[2], k + 1, acc))
                            heappush(pj2.setdefault(s3, []), (a + w, lid, r3))
                            stop_bits[s3] = sget(s3, 0) | bit

        if best is None:
            if math.isfinite(request.direct_walk_s):
                return walk_only_itinerary(request, p)
            return None
        itin = self._reconstruct(request, best, labels)
        if not math.isclose(itin.cost_s, best_cost, rel_tol=1e-9, abs_tol=1e-6):
            log.warning(
                "request %s: reconstructed cost %.6f differs from scan cost %.6f",
                request.request_id,
                itin.cost_s,
                best_cost,
            )
        return itin

    def _reconstruct(self, request: Request, best: tuple, labels: list[tuple]) -> Itinerary:
        trips = self.world.trips
        tr, bk, plid, ak, egress_acc = best
        # walk back: rides in reverse, each with the transfer walk that follows it
        rides: list[tuple[int, int, int, Access | None]] = [(tr, bk, ak, None)]
        while True:
            rec = labels[plid]
            if rec[0] == "access":
                access_acc = rec[1]
                break
            _, tr2, bk2, plid2, ak2, walk = rec
            rides.append((tr2, bk2, ak2, walk))
            plid = plid2
        rides.reverse()

        t0 = float(request.depart_s)
        legs: list[Leg] = []
        first_stop = access_acc.stop_id
        legs.append(
            Leg(
                kind="walk",
                role="access",
                from_stop="",
                to_stop=first_stop,
                start_s=t0,
                end_s=t0 + access_acc.walk_s,
                walk_s=access_acc.walk_s,
                walk_m=access_acc.walk_m,
            )
        )
        t_at_stop = t0 + access_acc.walk_s
        for tr_i, b, a, walk in rides:
            trip = trips[tr_i]
            legs.append(
                Leg(
                    kind="ride",
                    role="ride",
                    from_stop=trip.stop_ids[b],
                    to_stop=trip.stop_ids[a],
                    start_s=trip.dep_s[b],
                    end_s=trip.arr_s[a],
                    wait_s=trip.dep_s[b] - t_at_stop,
                    route_id=trip.route_id,
                    trip_id=trip.trip_id,
                    board_index=b,
                    alight_index=a,
                )
            )
            t_at_stop = trip.arr_s[a]
            if walk is not None:
                legs.append(
                    Leg(
                        kind="walk",
                        role="transfer",
                        from_stop=trip.stop_ids[a],
                        to_stop=walk.stop_id,
                        start_s=t_at_stop,
                        end_s=t_at_stop + walk.walk_s,
                        walk_s=walk.walk_s,
                        walk_m=walk.walk_m,
                    )
                )
                t_at_stop += walk.walk_s
        legs.append(
            Leg(
                kind="walk",
                role="egress",
                from_stop=legs[-1].to_stop,
                to_stop="",
                start_s=t_at_stop,
                end_s=t_at_stop + egress_acc.walk_s,
                walk_s=egress_acc.walk_s,
                walk_m=egress_acc.walk_m,
            )
        )
        return build_itinerary(request.request_id, t0, tuple(legs), self.params)
