"""DRT bookings prepared before simulated time starts (no simpy here).

Every DRT trip of a run becomes one :class:`DrtPax`: the service's own demand
(``source="drt_demand"``, drawn from the ``demand/drt`` stream), the World's requests with
``mode == "drt"`` (``source="demand"``; pre-booking and lead drawn from the ``drt`` stream
with the service's ``prebooked_share``/``lead_range_s``) and feeder legs of ``pt`` requests
(``source="first_mile"``: origin → transfer stop, booked at the departure;
``source="last_mile"``: transfer stop → destination, booked when the rider alights from the
timetabled vehicle; see :func:`plan_feeders`).

Preparation (documented rules, applied in this order; the first failing one is the
booking's rejection reason, logged when the booking reaches the dispatcher):

1. a point given by coordinates outside the ``area`` polygon → ``outside_area``; inside, it
   snaps to the nearest ``snap_nodes`` node (straight-line distance);
2. stop-based mode: origin and destination walk to their nearest virtual stop (walk-oracle
   distance from the snapped node, plus the snapping distance); none within ``max_walk_m``
   → ``no_stop_in_reach``; the earliest pick-up is the departure plus the access walk.
   Rules 1-2 are :func:`~tomakomai_maas.drt_world.snap_to_service` and
   :func:`~tomakomai_maas.drt_world.walk_to_virtual_stops`, which the mode-choice DRT skims
   call too, so a trip that chooses DRT has a stop in reach here;
3. the same pick-up and drop-off node → ``same_pickup_dropoff``;
4. a service whose vehicles are all autonomous, on a day whose weather suspends autonomous
   service in some hours (``suspend_autonomous``,
   :func:`~tomakomai_maas.drt_world.suspended_periods`): a booking whose earliest pick-up
   lies in a suspended period, or whose straight ride (boarding + direct drive + alighting)
   cannot be over before the next one starts → ``suspended_weather``
   (:func:`~tomakomai_maas.drt_world.blocked_by_suspension`, which the skims call too);
   otherwise its latest drop-off is the start of the next suspended period at the latest;
5. otherwise a :class:`~tomakomai_maas.dispatch.DrtRequest`: pick-up window ``[earliest,
   earliest + max_wait_s]``, max ride ``alpha * direct + beta``, latest drop-off
   ``earliest + direct + max_arrival_delay_s`` when set (first-mile feeders: also the
   connection's latest drop-off), boarding/alighting times of the service. Last-mile
   bookings get theirs when they are made (at the alighting time).

Cancellations: every booking gets two uniforms from the ``drt`` stream (in request-id order,
whatever happens later, so runs stay paired); a pre-booked trip is cancelled by its rider
with probability ``cancel_share`` at a time uniform between booking and earliest pick-up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tomakomai_maas.dispatch import (
    DrtRequest,
    SpeedProfile,
    make_request,
)
from tomakomai_maas.drt_world import (
    DrtService,
    DrtTrip,
    autonomous_only,
    blocked_by_suspension,
    day_speed_factors,
    direct_drive_s,
    driving_travel_times,
    snap_to_service,
    suspended_periods,
    suspension_at,
    walk_to_virtual_stops,
)
from tomakomai_maas.errors import SimulationError
from tomakomai_maas.journey import Itinerary, Leg, build_itinerary
from tomakomai_maas.rng import stream
from tomakomai_maas.world import Access, Request, World

__all__ = ["DrtPax", "FeederPlan", "prepare_drt", "plan_feeders", "node_label",
           "drt_itinerary", "feeder_itinerary", "last_mile_request", "last_mile_planned",
           "drt_speed_profile", "drt_run_world"]


def drt_speed_profile(world: World) -> SpeedProfile:
    """Hourly speed factors of DRT driving: ``ops.speed_factor_by_hour[h] ×
    weather_by_hour[h].speed_factor`` — the product timetabled vehicles use
    (:func:`~tomakomai_maas.drt_world.day_speed_factors`)."""
    return SpeedProfile(day_speed_factors(world.ops.speed_factor_by_hour, world.weather_by_hour))


def drt_run_world(world: World) -> World:
    """``world`` whose DRT service drives (and plans) with the day's speed profile.

    The service's ``tt`` becomes a :class:`~tomakomai_maas.dispatch.TimeDependentTravelTimes`
    over it with :func:`drt_speed_profile` (unchanged when every factor is 1, or when it is
    already time-dependent; :func:`~tomakomai_maas.drt_world.driving_travel_times`, which the
    mode-choice DRT skims use too). The simulator runs on this World, so the dispatcher, the
    vehicles and the booking preparation (direct drive times) all use the same travel times.
    """
    svc = world.drt
    if svc is None:
        return world
    tt = driving_travel_times(
        svc.tt, day_speed_factors(world.ops.speed_factor_by_hour, world.weather_by_hour))
    if tt is svc.tt:
        return world
    return replace(world, drt=replace(svc, tt=tt))


def _drive_s(svc: DrtService, o: Any, d: Any, t_dep: float) -> Any:
    """Drive time(s) ``o -> d`` leaving at ``t_dep`` (free-flow when ``t_dep`` is NaN)."""
    return direct_drive_s(svc.tt, o, d, t_dep)


def node_label(node: int) -> str:
    """Label of a road node used as a pick-up/drop-off point in the event log."""
    return f"n{int(node)}"


@dataclass(frozen=True)
class FeederPlan:
    """A DRT feeder leg and the timetabled part of the journey.

    ``kind="first"``: DRT from the origin (``end_node``) to ``stop_id``, then ``timetabled``
    (planned from the stop at the DRT ETA; its first leg is a 0-s walk to the stop), drop-off
    by ``latest_dropoff_s``. ``kind="last"``: ``timetabled`` to ``stop_id`` (its last leg is a
    0-s walk from the stop), then DRT to the destination (``end_node``). ``fallback`` is the
    walking itinerary (or ``None``).
    """

    kind: str
    stop_id: str
    stop_node: int
    end_node: int
    timetabled: Itinerary
    latest_dropoff_s: float | None
    est_cost_s: float
    fallback: Itinerary | None


@dataclass(eq=False)
class DrtPax:
    """One DRT booking of a run: static preparation (first block) and run state."""

    rid: str
    request: Request
    source: str
    pax_class: str
    n_pax: int
    prebooked: bool
    t_request_s: float
    o_node: int = -1
    d_node: int = -1
    o_label: str = ""
    d_label: str = ""
    walk_access_s: float = 0.0
    walk_egress_s: float = 0.0
    walk_m: float = 0.0
    earliest_pickup_s: float = math.nan
    direct_s: float = math.nan
    dreq: DrtRequest | None = None
    pre_reason: str = ""
    pre_detail: str = ""
    fare_yen: float = 0.0
    feeder: FeederPlan | None = None
    cancel_at: float | None = None
    # -- run state (set by the simulator) ---------------------------------------------------
    status: str = ""  # "", assigned, rejected, cancelled, served
    reject_reason: str = ""
    reject_detail: str = ""
    vehicle_id: str = ""
    picked: bool = False
    ready_logged: bool = False
    pickup_dep_s: float = math.nan
    model_pax: Any = None


def _snap_points(svc: DrtService, lats: np.ndarray, lons: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inside area, node, snap distance m) for points (:func:`snap_to_service`)."""
    try:
        return snap_to_service(svc, lats, lons)
    except ValueError as exc:
        raise SimulationError(f"drt: {exc}") from exc


def _booking_draws(svc: DrtService, generated: list[Request], rng: np.random.Generator
                   ) -> list[DrtTrip]:
    n = len(generated)
    u = rng.random(n)
    lead = rng.uniform(svc.lead_range_s[0], svc.lead_range_s[1], size=n)
    out = []
    for k, r in enumerate(generated):
        pre = bool(u[k] < svc.prebooked_share)
        out.append(DrtTrip(r, float(r.depart_s - lead[k]) if pre else float(r.depart_s), pre))
    return out


def prepare_drt(world: World, seed: int, requests: Sequence[Request],
                feeders: Mapping[str, FeederPlan]) -> list[DrtPax]:
    """All DRT bookings of one run, prepared (see the module docstring), in request-id order."""
    svc = world.drt
    if svc is None:
        return []
    rng_drt = stream(seed, "drt")
    own = list(svc.demand(stream(seed, "demand/drt"))) if svc.demand is not None else []
    generated = sorted((r for r in requests if r.mode == "drt"), key=lambda r: r.request_id)
    trips = own + _booking_draws(svc, generated, rng_drt)
    ids = [t.request.request_id for t in trips] + list(feeders)
    seen: set[str] = set()
    dup = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    if dup:
        raise SimulationError(f"DRT request ids are not unique: {dup[:10]}")
    pax: list[DrtPax] = []
    for t in trips:
        pax.append(DrtPax(t.request.request_id, t.request, "", t.request.pax_class,
                          int(t.n_pax), bool(t.prebooked), float(t.t_request_s),
                          o_node=-1 if t.o_node is None else int(t.o_node),
                          d_node=-1 if t.d_node is None else int(t.d_node)))
    req_by_id = {r.request_id: r for r in requests}
    for rid, fp in sorted(feeders.items()):
        r = req_by_id[rid]
        o, d = (fp.end_node, fp.stop_node) if fp.kind == "first" else (fp.stop_node, fp.end_node)
        t_book = float(r.depart_s) if fp.kind == "first" else math.nan  # last: at alighting
        pax.append(DrtPax(rid, r, f"{fp.kind}_mile", r.pax_class, 1, False, t_book,
                          o_node=o, d_node=d, feeder=fp))
    pax.sort(key=lambda p: p.rid)
    for p, src in zip(pax, _sources(pax, own), strict=True):
        p.source = src
    _locate(svc, pax)
    periods = suspended_periods(world.weather_by_hour)
    u = rng_drt.random((2, len(pax)))
    for k, p in enumerate(pax):
        _finish(svc, p, periods)
        if p.prebooked and u[0, k] < svc.cancel_share and p.dreq is not None:
            p.cancel_at = p.t_request_s + u[1, k] * (p.earliest_pickup_s - p.t_request_s)
    return pax


def _sources(pax: list[DrtPax], own: list[DrtTrip]) -> list[str]:
    own_ids = {t.request.request_id for t in own}
    return [f"{p.feeder.kind}_mile" if p.feeder is not None else "drt_demand"
            if p.rid in own_ids else "demand" for p in pax]


def _locate(svc: DrtService, pax: list[DrtPax]) -> None:
    """Snap coordinates, check the area, map to virtual stops, compute walks."""
    need_o = [p for p in pax if p.o_node < 0]
    need_d = [p for p in pax if p.d_node < 0]
    snap_m: dict[tuple[str, str], float] = {}
    for group, lat_f, lon_f, end in ((need_o, "o_lat", "o_lon", "o"), (need_d, "d_lat", "d_lon", "d")):
        if not group:
            continue
        lats = np.array([getattr(p.request, lat_f) for p in group], dtype=float)
        lons = np.array([getattr(p.request, lon_f) for p in group], dtype=float)
        inside, nodes, dist = _snap_points(svc, lats, lons)
        for p, ok, nd, dm in zip(group, inside, nodes, dist, strict=True):
            if not ok and not p.pre_reason:
                which = "origin" if end == "o" else "destination"
                p.pre_reason = "outside_area"
                p.pre_detail = (f"{which} ({getattr(p.request, lat_f):.6f}, "
                                f"{getattr(p.request, lon_f):.6f}) is outside the service area")
            setattr(p, f"{end}_node", int(nd))
            snap_m[(p.rid, end)] = float(dm)
    speed = svc.walk_speed_mps
    if svc.mode == "stop_based":
        vs = svc.virtual_stops
        live = [p for p in pax if not p.pre_reason and p.feeder is None]
        if live:
            for end in ("o", "d"):
                nodes = np.array([getattr(p, f"{end}_node") for p in live], dtype=np.intp)
                extra = np.array([snap_m.get((p.rid, end), 0.0) for p in live])
                best, best_d = walk_to_virtual_stops(svc, nodes, extra, end=end)
                for p, b, bd in zip(live, best.tolist(), best_d.tolist(), strict=True):
                    if not bd <= svc.max_walk_m:
                        if not p.pre_reason:
                            which = "origin" if end == "o" else "destination"
                            p.pre_reason = "no_stop_in_reach"
                            p.pre_detail = (f"no virtual stop within {svc.max_walk_m:g} m of the "
                                            f"{which} (nearest {bd:,.0f} m)")
                        continue
                    s = vs[b]
                    setattr(p, f"{end}_node", int(s.node))
                    setattr(p, f"{end}_label", s.stop_id)
                    setattr(p, "walk_access_s" if end == "o" else "walk_egress_s", bd / speed)
                    p.walk_m += bd
    for p in pax:
        if p.feeder is not None and p.feeder.kind == "last":
            p.o_label = p.feeder.stop_id
        if not p.o_label:
            p.o_label = node_label(p.o_node)
        if not p.d_label:
            first = p.feeder is not None and p.feeder.kind == "first"
            p.d_label = p.feeder.stop_id if first else node_label(p.d_node)


def _finish(svc: DrtService, p: DrtPax, periods: Sequence[tuple[float, float]] = ()
            ) -> None:
    p.fare_yen = svc.fare_for(p.pax_class) * p.n_pax
    last = p.feeder is not None and p.feeder.kind == "last"
    p.earliest_pickup_s = math.nan if last else float(p.request.depart_s + p.walk_access_s)
    if not p.pre_reason and p.o_node == p.d_node:
        p.pre_reason = "same_pickup_dropoff"
        p.pre_detail = f"origin and destination both map to {p.o_label}"
    if p.pre_reason:
        return
    p.direct_s = float(_drive_s(svc, p.o_node, p.d_node, p.earliest_pickup_s + svc.board_s))
    if not last and not _suspended(svc, p, periods):
        p.dreq = _request(svc, p, periods)


def _suspended(svc: DrtService, p: DrtPax, periods: Sequence[tuple[float, float]]) -> bool:
    """Rule 4: an all-autonomous service cannot give the ride in the weather's suspended
    periods (:func:`~tomakomai_maas.drt_world.blocked_by_suspension`) → ``suspended_weather``."""
    if not periods or not math.isfinite(p.direct_s) or not bool(blocked_by_suspension(
            svc, periods, p.earliest_pickup_s, p.direct_s)[0]):
        return False
    k = int(suspension_at(periods, p.earliest_pickup_s))
    if k < 0:
        k = next(i for i, (a, _) in enumerate(periods) if a > p.earliest_pickup_s)
    a, b = periods[k]
    p.pre_reason = "suspended_weather"
    p.pre_detail = (f"autonomous service suspended by the weather {_hhmm(a)}-{_hhmm(b)}; "
                    f"the ride from {_hhmm(p.earliest_pickup_s)} cannot be given outside it")
    return True


def _hhmm(t: float) -> str:
    m = int(round(t / 60.0))
    return f"{m // 60:02d}:{m % 60:02d}"


def last_mile_request(svc: DrtService, p: DrtPax, now_s: float,
                      periods: Sequence[tuple[float, float]] = ()) -> None:
    """Book a last-mile leg now: the rider is at the transfer stop (immediate request)."""
    p.t_request_s = p.earliest_pickup_s = float(now_s)
    if not p.pre_reason:
        p.direct_s = float(_drive_s(svc, p.o_node, p.d_node, p.earliest_pickup_s + svc.board_s))
        if not _suspended(svc, p, periods):
            p.dreq = _request(svc, p, periods)


def _request(svc: DrtService, p: DrtPax, periods: Sequence[tuple[float, float]] = ()
             ) -> DrtRequest:
    direct = p.direct_s
    latest_drop = None
    if svc.max_arrival_delay_s is not None and math.isfinite(direct):
        latest_drop = p.earliest_pickup_s + direct + svc.max_arrival_delay_s
    if periods and autonomous_only(svc):  # the ride must be over before the next suspension
        nxt = [a for a, _ in periods if a > p.earliest_pickup_s]
        if nxt:
            latest_drop = nxt[0] if latest_drop is None else min(latest_drop, nxt[0])
    if p.feeder is not None and p.feeder.latest_dropoff_s is not None:
        lf = p.feeder.latest_dropoff_s
        latest_drop = lf if latest_drop is None else min(latest_drop, lf)
    return make_request(
        p.rid, p.o_node, p.d_node, direct if math.isfinite(direct) else 0.0,
        t_request_s=p.t_request_s, earliest_pickup_s=p.earliest_pickup_s, n_pax=p.n_pax,
        max_wait_s=svc.max_wait_s, detour_alpha=svc.detour_alpha,
        detour_beta_s=svc.detour_beta_s, latest_dropoff_s=latest_drop, board_s=svc.board_s,
        alight_s=svc.alight_s, prebooked=p.prebooked,
    )


# -- itineraries for the tables ----------------------------------------------------------------
def drt_itinerary(p: DrtPax, pickup_s: float, dropoff_s: float, world: World) -> Itinerary:
    """Planned itinerary of a DRT-only trip: [walk access], DRT ride, walk egress (maybe 0 s)."""
    t0 = float(p.request.depart_s)
    legs: list[Leg] = []
    speed = world.drt.walk_speed_mps if world.drt is not None else 1.2
    if p.walk_access_s > 0:
        legs.append(Leg("walk", "access", "", p.o_label, t0, t0 + p.walk_access_s,
                        walk_s=p.walk_access_s, walk_m=p.walk_access_s * speed))
    ride_from = p.o_label if p.walk_access_s > 0 else ""
    ride_to = p.d_label if p.walk_egress_s > 0 else ""
    legs.append(Leg("ride", "ride", ride_from, ride_to, pickup_s, dropoff_s,
                    wait_s=pickup_s - p.earliest_pickup_s, route_id="drt"))
    t = dropoff_s + (world.drt.alight_s if world.drt is not None else 0.0)
    legs.append(Leg("walk", "egress", ride_to, "", t, t + p.walk_egress_s,
                    walk_s=p.walk_egress_s, walk_m=p.walk_egress_s * speed))
    return build_itinerary(p.rid, t0, tuple(legs), world.journey)


def feeder_itinerary(p: DrtPax, pickup_s: float, dropoff_s: float, world: World) -> Itinerary:
    """Planned itinerary of a feeder rider: the DRT ride at its planned times joined to the
    timetabled part (first mile: DRT, then rides from the transfer stop; last mile: rides to
    the transfer stop, then DRT and a 0-s walk)."""
    fp = p.feeder
    assert fp is not None
    t0 = float(p.request.depart_s)
    alight = world.drt.alight_s if world.drt is not None else 0.0
    if fp.kind == "first":
        drt_leg = Leg("ride", "ride", "", fp.stop_id, pickup_s, dropoff_s,
                      wait_s=pickup_s - p.earliest_pickup_s, route_id="drt")
        rest = fp.timetabled.legs[1:]  # drop the 0-s access walk to the transfer stop
        first = rest[0]
        rest = (replace(first, wait_s=first.start_s - (dropoff_s + alight)), *rest[1:])
        return build_itinerary(p.rid, t0, (drt_leg, *rest), world.journey)
    head = fp.timetabled.legs[:-1]  # drop the 0-s egress walk from the transfer stop
    at_stop = head[-1].end_s if head else t0
    drt_leg = Leg("ride", "ride", fp.stop_id, "", pickup_s, dropoff_s,
                  wait_s=pickup_s - at_stop, route_id="drt")
    t = dropoff_s + alight
    egress = Leg("walk", "egress", "", "", t, t)
    return build_itinerary(p.rid, t0, (*head, drt_leg, egress), world.journey)


# -- feeder planning ----------------------------------------------------------------------------
def plan_feeders(world: World, requests: Sequence[Request],
                 itineraries: Mapping[str, Itinerary | None], planner: Any
                 ) -> dict[str, FeederPlan]:
    """Feeder plans for ``pt`` requests (rules: :class:`~tomakomai_maas.drt_world.
    FeederParams`): first mile when the origin qualifies, else last mile when the destination
    does (not both in one journey). Deterministic: candidate stops in stop-id order, ties to
    the first."""
    svc = world.drt
    if svc is None or not svc.feeder.enabled:
        return {}
    fp = svc.feeder
    stops = [world.stops[s] for s in sorted(fp.transfer_stops) if s in world.stops]
    pt = [r for r in requests if r.mode == "pt"]
    if not pt or not stops:
        return {}
    out: dict[str, FeederPlan] = {}
    for kind in ("first", "last"):
        cands = []
        for r in pt:
            itin = itineraries.get(r.request_id)
            if r.request_id in out:
                continue
            if itin is not None:
                walk = itin.legs[0].walk_m if kind == "first" else itin.legs[-1].walk_m
                if itin.walk_only or walk <= fp.min_access_walk_m:
                    continue
            cands.append(r)
        if not cands:
            continue
        lat_f, lon_f = ("o_lat", "o_lon") if kind == "first" else ("d_lat", "d_lon")
        inside, nodes, _ = _snap_points(
            svc, np.array([getattr(r, lat_f) for r in cands], dtype=float),
            np.array([getattr(r, lon_f) for r in cands], dtype=float))
        for r, ok, end in zip(cands, inside.tolist(), nodes.tolist(), strict=True):
            if ok:
                plan = _best_feeder(world, r, kind, int(end), stops, planner,
                                    itineraries.get(r.request_id))
                if plan is not None:
                    out[r.request_id] = plan
    return out


def _best_feeder(world: World, r: Request, kind: str, end: int, stops: list, planner: Any,
                 fallback: Itinerary | None) -> FeederPlan | None:
    svc = world.drt
    fp = svc.feeder
    jp = world.journey
    nodes = np.array([s.node for s in stops], dtype=np.intp)
    ends = np.full(len(stops), end)
    # first mile: leaving after the assumed wait and boarding; last mile: the drive time at
    # the departure stands in for the (unknown) time of the transfer
    t0 = float(r.depart_s) + (fp.assumed_wait_s + svc.board_s if kind == "first" else 0.0)
    drive = np.asarray(_drive_s(svc, ends, nodes, t0) if kind == "first"
                       else _drive_s(svc, nodes, ends, t0), dtype=float)
    best: FeederPlan | None = None
    for s, t_drive in zip(stops, drive.tolist(), strict=True):
        if s.node == end or not math.isfinite(t_drive):
            continue
        drt_cost = (jp.wait_weight * fp.assumed_wait_s + jp.ivt_weight * t_drive
                    + jp.transfer_penalty_s)
        if kind == "first":
            eta = (r.depart_s + fp.assumed_wait_s + svc.board_s + t_drive + svc.alight_s
                   + fp.buffer_s)
            q = replace(r, depart_s=eta, access=(Access(s.stop_id, 0.0, 0.0),),
                        direct_walk_s=math.inf)
        else:
            q = replace(r, egress=(Access(s.stop_id, 0.0, 0.0),), direct_walk_s=math.inf)
        tt_part = planner.plan(q)
        if tt_part is None or tt_part.walk_only or len(tt_part.legs) < 2:
            continue
        cost = drt_cost + tt_part.cost_s
        latest = tt_part.legs[1].start_s - fp.buffer_s if kind == "first" else None
        if best is None or cost < best.est_cost_s:
            best = FeederPlan(kind, s.stop_id, int(s.node), end, tt_part, latest, cost, fallback)
    if best is not None and (fallback is None or best.est_cost_s < fallback.cost_s):
        return best
    return None


def last_mile_planned(world: World, plan: FeederPlan, request: Request) -> Itinerary:
    """The planned itinerary of a last-mile feeder before its booking: rides to the transfer
    stop, then DRT at the assumed wait and the direct drive (updated when it is assigned)."""
    svc = world.drt
    head = plan.timetabled.legs[:-1]
    at_stop = head[-1].end_s
    pick = at_stop + svc.feeder.assumed_wait_s
    drop = pick + svc.board_s + float(_drive_s(svc, plan.stop_node, plan.end_node,
                                               pick + svc.board_s))
    drt_leg = Leg("ride", "ride", plan.stop_id, "", pick, drop, wait_s=pick - at_stop,
                  route_id="drt")
    t = drop + svc.alight_s
    return build_itinerary(request.request_id, float(request.depart_s),
                           (*head, drt_leg, Leg("walk", "egress", "", "", t, t)), world.journey)
