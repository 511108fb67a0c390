"""Helpers for the DRT simulation tests: hand-built Worlds and an event-log checker.

(Named ``test_drt_*`` so it belongs with the DRT tests; the one test here checks the checker.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

import simworlds as sw
from tomakomai_maas.demand.od import FixedRequests
from tomakomai_maas.dispatch import MatrixTravelTimes, RejectReason, leg_fn
from tomakomai_maas.drt_world import (
    SIM_REJECT_REASONS,
    DrtService,
    DrtTrip,
    DrtVehicle,
    FixedDrtTrips,
)
from tomakomai_maas.sim import TERMINAL_KINDS
from tomakomai_maas.sim import events as ev
from tomakomai_maas.sim.drt_prep import drt_run_world
from tomakomai_maas.world import Request, VehicleType, World

INF = math.inf
HOP_S = 60.0
HOP_M = 100.0
CAR = VehicleType("car", capacity=4, powertrain="diesel", fuel_l_per_km=0.07)
VALID_REASONS = {r.value for r in RejectReason} | set(SIM_REJECT_REASONS)


def line_tt(n: int = 11, *, unreachable: Sequence[int] = ()) -> MatrixTravelTimes:
    """Nodes 0..n-1 on a line, 60 s and 100 m between neighbours; ``unreachable`` nodes are
    cut off (inf both ways)."""
    hops = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :]).astype(float)
    t = hops * HOP_S
    for u in unreachable:
        t[u, :] = INF
        t[:, u] = INF
        t[u, u] = 0.0
    return MatrixTravelTimes(t, hops * HOP_M)


def city_tt(n: int, rng: np.random.Generator, side_m: float = 3000.0,
            speed_mps: float = 8.0) -> tuple[MatrixTravelTimes, np.ndarray]:
    """Random points in a square, Manhattan distances (triangle inequality holds)."""
    xy = rng.uniform(0.0, side_m, size=(n, 2))
    d = np.abs(xy[:, None, 0] - xy[None, :, 0]) + np.abs(xy[:, None, 1] - xy[None, :, 1])
    return MatrixTravelTimes(d / speed_mps, d), xy


def trip(rid: str, t: float, o: int, d: int, *, n_pax: int = 1, t_request: float | None = None,
         pax_class: str = "adult", lat: tuple[float, float] = (0.0, 0.0),
         dlat: tuple[float, float] = (0.0, 0.0), nodes: bool = True) -> DrtTrip:
    """A DRT trip wanting to leave node ``o`` at ``t`` for node ``d`` (pre-booked when
    ``t_request < t``)."""
    req = Request(rid, float(t), lat[0], lat[1], dlat[0], dlat[1], (), (), mode="drt",
                  pax_class=pax_class)
    tr = float(t) if t_request is None else float(t_request)
    return DrtTrip(req, tr, tr < t, n_pax, o if nodes else None, d if nodes else None)


def vehicle(vid: str = "v1", depot: int = 0, *, cap: int = 4, shift: tuple[float, float] = (0.0,
            86400.0), vtype: VehicleType = CAR) -> DrtVehicle:
    return DrtVehicle(vid, vtype, cap, depot, shift[0], shift[1])


def service(tt, vehicles: Sequence[DrtVehicle], trips: Sequence[DrtTrip] = (), **kw
            ) -> DrtService:
    """A DRT service on ``tt`` (board/alight 0 s unless given), with fixed trips."""
    kw.setdefault("board_s", 0.0)
    kw.setdefault("alight_s", 0.0)
    return DrtService("test", tt, tuple(vehicles), demand=FixedDrtTrips(tuple(trips)), **kw)


def drt_world(svc: DrtService, *, requests: Sequence[Request] = (), trips=(), stops=None
              ) -> World:
    world = sw.make_world(list(trips), demand=FixedRequests(tuple(requests)), stops=stops)
    return replace(world, drt=svc)


def by_pax(events) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for e in events:
        if e[5]:
            out.setdefault(e[5], []).append(e)
    return out


def check_drt_log(world: World, res) -> None:
    """Invariants of a run with DRT, checked on the event log (windows from drt_requests).

    Times non-decreasing; each request exactly one terminal event, last; served DRT trips
    picked up once before dropped off once, at the vehicle's position, within their pick-up
    window, latest drop-off and max ride (unless AV takeovers / sudden stops delayed the
    vehicles, or the dispatcher plans without the speed profile: then lateness must be what
    the tables report); rejected ones have a valid reason;
    vehicle load never above capacity; every leg's duration is the travel time of the service
    at its departure time (with the day's speed factors) plus the faults logged on it;
    busy/idle only on shift; charging only at the depot, while standing.
    """
    svc = world.drt
    leg_of = leg_fn(drt_run_world(world).drt.tt)  # the travel times the vehicles drive
    events = res.events
    assert [e[1] for e in events] == list(range(len(events)))
    assert all(a[0] <= b[0] for a, b in zip(events, events[1:], strict=False))
    reqs = res.drt_requests.set_index("request_id")
    npax = reqs["n_pax"].to_dict()
    node_of = {s.stop_id: s.node for s in svc.virtual_stops}
    node_of.update({sid: st.node for sid, st in world.stops.items()})

    def node(label: str) -> int:
        return node_of[label] if label in node_of else int(label[1:])

    caps = {v.vehicle_id: v.capacity for v in svc.vehicles}
    pos = {v.vehicle_id: v.depot_node for v in svc.vehicles}
    leg: dict[str, list | None] = dict.fromkeys(caps)
    charging = dict.fromkeys(caps, False)
    depots = {v.vehicle_id: v.depot_node for v in svc.vehicles}
    faults = svc.speed_forecast == "at_dispatch"  # plans may not hold: lateness allowed
    load = dict.fromkeys(caps, 0)
    on_shift = dict.fromkeys(caps, False)
    pick: dict[str, tuple[float, int]] = {}
    drop: dict[str, tuple[float, int]] = {}
    for e in events:
        t, seq, kind, vid, trip_id, pid, stop, value = e
        if kind == ev.DRT_DEPART:
            assert leg[vid] is None, f"{vid} departs while driving at {t}"
            assert not charging[vid], f"{vid} departs while charging at {t}"
            leg[vid] = [pos[vid], node(stop), t, 0.0]
            assert abs(value - float(svc.tt.dist_m(pos[vid], node(stop)))) < 1e-6
        elif kind in (ev.DRT_TAKEOVER, ev.DRT_SUDDEN_STOP):
            assert leg[vid] is not None and leg[vid][2] == t and value > 0
            leg[vid][3] += value
            faults = True
        elif kind == ev.DRT_CHARGE_START:
            assert leg[vid] is None and pos[vid] == depots[vid] and not charging[vid]
            assert on_shift[vid]
            charging[vid] = True
        elif kind == ev.DRT_CHARGE_END:
            assert charging[vid] and value >= 0
            charging[vid] = False
        elif kind == ev.DRT_ARRIVE:
            frm, to, t0, lost = leg[vid]
            drive = float(leg_of(t0, frm, to)[1])
            assert math.isclose(t - t0, drive + lost, abs_tol=1e-6), (vid, t, t0, drive, lost)
            assert math.isclose(value, t - t0, abs_tol=1e-6)
            pos[vid], leg[vid] = to, None
        elif kind in (ev.DRT_PICKUP, ev.DRT_DROPOFF):
            assert leg[vid] is None, f"{kind} of {pid} while {vid} drives"
            assert node(stop) == pos[vid], f"{kind} of {pid} at {stop}, vehicle at n{pos[vid]}"
            if kind == ev.DRT_PICKUP:
                assert pid not in pick
                pick[pid] = (t, seq)
                load[vid] += npax[pid]
                assert load[vid] <= caps[vid], f"{vid} over capacity at {t}"
            else:
                assert pid in pick and pid not in drop
                drop[pid] = (t, seq)
                load[vid] -= npax[pid]
        elif kind == ev.DRT_SHIFT_START:
            on_shift[vid] = True
        elif kind == ev.DRT_SHIFT_END:
            on_shift[vid] = False
        elif kind in (ev.DRT_BUSY, ev.DRT_IDLE):
            assert on_shift[vid]
        elif kind == ev.DRT_REJECT:
            assert trip_id in VALID_REASONS, trip_id
    assert all(v == 0 for v in load.values())
    assert all(v is None for v in leg.values())
    assert not any(charging.values())
    pax_events = by_pax(events)
    alpha, beta = svc.detour_alpha, svc.detour_beta_s
    for rid, r in reqs.iterrows():
        evs = pax_events[rid]
        terms = [e for e in evs if e[2] in TERMINAL_KINDS]
        assert len(terms) == 1 and terms[0] is evs[-1], (rid, [e[2] for e in evs])
        kinds = [e[2] for e in evs]
        if r["status"] == "served":
            assert kinds.count(ev.DRT_PICKUP) == kinds.count(ev.DRT_DROPOFF) == 1
            (tp, sp), (td, sd) = pick[rid], drop[rid]
            assert sp < sd and tp <= td
            assert kinds.index(ev.DRT_READY) < kinds.index(ev.DRT_PICKUP)
            assert r["earliest_pickup_s"] - 1e-6 <= tp, rid
            late = max(0.0, tp - r["latest_pickup_s"])
            assert math.isclose(r["pickup_late_min"], late / 60, abs_tol=1e-9), rid
            ride = td - (tp + svc.board_s)
            assert math.isclose(ride / 60, r["ride_min"], abs_tol=1e-9)
            assert math.isclose(r["max_ride_min"] * 60, alpha * r["direct_min"] * 60 + beta,
                                abs_tol=1e-6)
            over = max(0.0, ride - r["max_ride_min"] * 60)
            assert math.isclose(r["ride_over_min"], over / 60, abs_tol=1e-9), rid
            if not faults:  # only unplanned delays may break a promise
                assert late <= 1e-6 and over <= 1e-6, rid
                if not math.isnan(r["latest_dropoff_s"]):
                    assert td <= r["latest_dropoff_s"] + 1e-6, rid
        elif r["status"] == "rejected":
            rej = [e for e in evs if e[2] == ev.DRT_REJECT]
            assert len(rej) == 1 and rej[0][4] == r["reject_reason"] in VALID_REASONS
            assert ev.DRT_PICKUP not in kinds
        elif r["status"] == "cancelled":
            assert ev.DRT_PICKUP not in kinds and terms[0][2] == ev.DRT_CANCEL
        elif r["status"] == "not_booked":  # a last-mile rider who never reached the stop
            assert not any(k.startswith("drt_") for k in kinds)
        else:
            raise AssertionError(f"{rid} ends {r['status']}")


def test_line_tt_is_a_metric() -> None:
    tt = line_tt(5, unreachable=[4])
    assert tt.time_s(0, 3) == 180 and tt.dist_m(3, 0) == 300
    assert tt.time_s(0, 4) == INF and tt.time_s(4, 4) == 0
