"""Build the on-demand (DRT) part of a World from the scenario's ``drt:`` section.

``build_drt(sc, ctx, stops, vtypes, problems)`` returns a
:class:`~tomakomai_maas.drt_world.DrtService` (or ``None`` when a problem was found) and
appends every problem it finds to ``problems`` (named by field path) instead of raising,
so ``build()`` reports all of them at once. Checks, before simulated time starts:

* policy names (dispatch, rebalancing, idle) exist in the dispatch registries — the
  registry's message lists the valid names;
* fleet vehicle types exist (scenario types or presets) and share one speed cap (one
  travel-time table per service); depots (landmark key or ``[lat, lon]``) snap to the road
  within ``network.max_snap_m`` and can drive to and from the service area;
* the area polygon contains road nodes; nodes that cannot be reached from, or cannot reach,
  the area's central node (one-way dead ends) are left out of the service area (logged);
* the service gets its own dense travel-time table over the area's nodes and the depots
  (:class:`~tomakomai_maas.drt_world.SubsetTravelTimes`, exact times from the drive oracle,
  speed factor applied once): O(1) look-ups without per-call checks, also on large
  extracts whose oracle computes rows lazily;
* stop-based mode has at least one virtual stop (listed points must lie in the area);
* demand items and feeder transfer stops lie in the area.

Place names are the keys of the network's ``landmarks.csv``
(:func:`tomakomai_maas.network.load_landmarks`).
"""

from __future__ import annotations

import difflib
import logging
import math
from typing import Any

import numpy as np

from tomakomai_maas.dispatch import (
    get_dispatch_policy,
    get_idle_policy,
    get_rebalancing_policy,
)
from tomakomai_maas.drt_world import (
    ChargingParams,
    DrtOdDemand,
    DrtOdRate,
    DrtService,
    DrtVehicle,
    FeederParams,
    ScaledTravelTimes,
    Snapper,
    SubsetTravelTimes,
    VirtualStop,
)
from tomakomai_maas.errors import DispatchError, NetworkError

__all__ = ["build_drt"]

log = logging.getLogger(__name__)


def _did_you_mean(value: str, options: Any) -> str:
    near = difflib.get_close_matches(str(value), [str(o) for o in options], n=1, cutoff=0.5)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _time_s(value: str) -> float:
    from tomakomai_maas.scenario.schema import parse_time_s

    return parse_time_s(value)


class _Ctx:
    """Shared state of one build_drt call."""

    def __init__(self, where: str, problems: list[str]) -> None:
        self.where = where
        self.problems = problems
        self._landmarks: dict[str, tuple[float, float, str]] | None = None

    def problem(self, path: str, msg: str) -> None:
        self.problems.append(f"{self.where}.{path}: {msg}")

    def landmarks(self) -> dict[str, tuple[float, float, str]]:
        if self._landmarks is None:
            from tomakomai_maas.network import load_landmarks

            try:
                df = load_landmarks()
            except NetworkError as exc:
                self.problems.append(f"{self.where}: landmarks: {exc}")
                df = None
            self._landmarks = {} if df is None else {
                str(k): (float(a), float(b), str(n))
                for k, a, b, n in zip(df["key"], df["lat"], df["lon"], df["name"], strict=True)}
        return self._landmarks

    def place(self, p: Any, path: str) -> tuple[float, float, str] | None:
        """(lat, lon, name) of a landmark key or a [lat, lon] pair."""
        if isinstance(p, str):
            lm = self.landmarks()
            if p not in lm:
                self.problem(path, f"unknown place {p!r}{_did_you_mean(p, lm)}; give a landmark "
                             "key of the network's landmarks.csv or [lat, lon]")
                return None
            return lm[p]
        lat, lon = float(p[0]), float(p[1])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            self.problem(path, f"[{lat}, {lon}] is not a [lat, lon] point")
            return None
        return lat, lon, f"({lat:.5f}, {lon:.5f})"


def _drive_oracle(sc: Any, ctx: Any, cap: float | None) -> Any:
    from tomakomai_maas.network import SpeedSettings, TravelTimes

    if cap not in ctx.drive_oracles:
        ctx.drive_oracles[cap] = TravelTimes(
            ctx.graph, speeds=SpeedSettings(speed_factor=sc.network.speed_factor,
                                            max_speed_kph=cap), cache_dir=None)
    return ctx.drive_oracles[cap]


def _area_nodes(c: _Ctx, cfg: Any, tt: Any) -> tuple[np.ndarray, Any]:
    """Road nodes inside the area polygon (all nodes without a polygon) and the polygon."""
    if cfg.area is None:
        return np.arange(tt.n, dtype=np.intp), None
    import shapely

    poly = shapely.Polygon([(lon, lat) for lat, lon in cfg.area])
    if not poly.is_valid or poly.area <= 0:
        c.problem("area", f"the polygon is not valid ({shapely.is_valid_reason(poly)}); list "
                  "[lat, lon] corners in order around the area, without crossings")
        return np.zeros(0, dtype=np.intp), None
    inside = np.flatnonzero(shapely.contains_xy(poly, tt.lon, tt.lat))
    if inside.size == 0:
        c.problem("area", "no road node lies inside the polygon (check the [lat, lon] order "
                  "and that the network covers it)")
    return inside, poly


def _grid_points(poly: Any, nodes_xy: Snapper, spacing_m: float
                 ) -> list[tuple[float, float]]:
    """(lat, lon) of a square grid of ``spacing_m`` over the polygon, inside it."""
    import shapely

    w, s, e, n = poly.bounds  # lon/lat
    lat0 = math.radians((s + n) / 2)
    m_lat = math.pi * 6_371_008.8 / 180.0
    m_lon = m_lat * math.cos(lat0)
    lats = np.arange(s + spacing_m / m_lat / 2, n, spacing_m / m_lat)
    lons = np.arange(w + spacing_m / m_lon / 2, e, spacing_m / m_lon)
    pts = [(float(a), float(b)) for a in lats[::-1] for b in lons]
    if not pts:
        return []
    ok = shapely.contains_xy(poly, [p[1] for p in pts], [p[0] for p in pts])
    return [p for p, k in zip(pts, ok, strict=True) if k]


def _zones(service: np.ndarray, tt: Any, size_m: float) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Square zones of ``size_m`` over the service nodes; every node gets the nearest zone."""
    from scipy.spatial import cKDTree

    sn = Snapper(service, tt.lat[service], tt.lon[service])
    xy = sn.xy(tt.lat[service], tt.lon[service])
    cell = np.floor((xy - xy.min(axis=0)) / size_m).astype(np.int64)
    keys = sorted({(int(r), int(q)) for q, r in cell})  # (row = y, col = x)
    index = {k: i for i, k in enumerate(keys)}
    zone = np.array([index[(int(r), int(q))] for q, r in cell], dtype=np.intp)
    centroids = []
    for z in range(len(keys)):
        members = np.flatnonzero(zone == z)
        mean = xy[members].mean(axis=0)
        best = members[np.argmin(((xy[members] - mean) ** 2).sum(axis=1))]
        centroids.append(int(service[best]))
    all_xy = sn.xy(tt.lat, tt.lon)
    cent_xy = all_xy[np.array(centroids)]
    _, nearest = cKDTree(cent_xy).query(all_xy)
    zone_of_node = np.asarray(nearest, dtype=np.intp)
    zone_of_node[service] = zone
    return tuple(int(z) for z in zone_of_node), tuple(centroids)


def build_drt(sc: Any, ctx: Any, stops: Any, vtypes: Any, problems: list[str]
              ) -> DrtService | None:
    """Validate the ``drt:`` section and build the World's DRT service (see module doc)."""
    cfg = sc.drt
    label = sc.label
    c = _Ctx(f"{label}: drt", problems)
    n0 = len(problems)

    for path, getter, name in (("dispatch.policy", get_dispatch_policy, cfg.dispatch.policy),
                               ("rebalancing.policy", get_rebalancing_policy,
                                cfg.rebalancing.policy),
                               ("idle_policy", get_idle_policy, cfg.idle_policy)):
        try:
            getter(name)
        except DispatchError as exc:
            c.problem(path, str(exc))

    fleet_types = []
    for i, f in enumerate(cfg.fleet):
        vt = vtypes.get(f.vehicle_type)
        if vt is None:
            c.problem(f"fleet[{i}].vehicle_type", f"unknown vehicle type {f.vehicle_type!r}"
                      f"{_did_you_mean(f.vehicle_type, vtypes)}; allowed: "
                      f"{', '.join(sorted(vtypes))}")
        elif (f.capacity or vt.capacity) < 1:
            c.problem(f"fleet[{i}].capacity", f"vehicle type {vt.name!r} has no seats; set "
                      "capacity")
        fleet_types.append(vt)
    caps = sorted({vt.cruise_speed_kph for vt in fleet_types if vt is not None},
                  key=lambda x: (x is None, x or 0.0))
    if len(caps) > 1:
        c.problem("fleet", f"vehicle types with different speed caps {caps} (km/h; one "
                  "travel-time table per service): use one cruise_speed_kph for the fleet")
    if ctx.graph is None:
        c.problem("fleet", "no road network")
        return None
    tt_base = _drive_oracle(sc, ctx, caps[0] if caps else None)
    tt = tt_base if cfg.speed_factor == 1.0 else ScaledTravelTimes(tt_base, cfg.speed_factor)
    walk = ctx.walk_oracle
    if walk is not None and (walk.n != tt_base.n
                             or not np.array_equal(walk.node_ids, tt_base.node_ids)):
        log.warning("drt: walk oracle nodes differ from the drive oracle's; walking distances "
                    "use road distances")
        walk = None

    # ---- area, depots and the travel-time table
    inside, poly = _area_nodes(c, cfg, tt_base)
    hours = tuple((_time_s(a), _time_s(b)) for a, b in cfg.service_hours)
    default_shift = (min(a for a, _ in hours), max(b for _, b in hours))
    max_snap = float(sc.network.max_snap_m)
    depots: list[tuple[int, tuple[float, float, str]] | None] = []
    for i, f in enumerate(cfg.fleet):
        p = c.place(f.depot, f"fleet[{i}].depot")
        depot = None
        if p is not None:
            try:
                depot, _ = tt_base.snap(p[0], p[1], max_snap_m=max_snap)
            except NetworkError as exc:
                c.problem(f"fleet[{i}].depot", str(exc))
        depots.append(None if depot is None else (int(depot), p))
    if inside.size:
        keep = np.union1d(inside, [d[0] for d in depots if d is not None])
        if keep.size > 10_000:
            log.warning("drt: the service area has %d road nodes; its travel-time table takes "
                        "%.0f MB", keep.size, 8 * keep.size ** 2 / 1e6)
        tt = SubsetTravelTimes(tt, keep)
    service = inside
    hub = -1
    if inside.size:
        lat_c, lon_c = float(tt_base.lat[inside].mean()), float(tt_base.lon[inside].mean())
        sn = Snapper(inside, tt_base.lat[inside], tt_base.lon[inside])
        hub = int(sn.snap([lat_c], [lon_c])[0][0])
        fwd = np.isfinite(np.asarray(tt.time_s(np.full(inside.size, hub), inside), float))
        bwd = np.isfinite(np.asarray(tt.time_s(inside, np.full(inside.size, hub)), float))
        service = inside[fwd & bwd]
        if service.size < inside.size:
            log.warning("drt: %d of %d road nodes in the area cannot be reached from / cannot "
                        "reach the rest of it (one-way dead ends); they are not served",
                        inside.size - service.size, inside.size)
    snapper = Snapper(service, tt_base.lat[service], tt_base.lon[service]) if service.size \
        else None

    def snap_in_area(p: tuple[float, float, str], path: str) -> int | None:
        if snapper is None:
            return None
        if poly is not None:
            import shapely

            if not shapely.contains_xy(poly, p[1], p[0]):
                c.problem(path, f"{p[2]} ({p[0]:.6f}, {p[1]:.6f}) is outside the service area")
                return None
        node, dist = snapper.snap([p[0]], [p[1]])
        if dist[0] > max_snap:
            c.problem(path, f"{p[2]} is {dist[0]:.0f} m from the nearest served road node "
                      f"(network.max_snap_m = {max_snap:g})")
            return None
        return int(node[0])

    # ---- fleet
    vehicles: list[DrtVehicle] = []
    seen: set[str] = set()
    for i, (f, vt, dp) in enumerate(zip(cfg.fleet, fleet_types, depots, strict=True)):
        if dp is not None and hub >= 0:
            there = float(tt.time_s(dp[0], hub))
            back = float(tt.time_s(hub, dp[0]))
            if not (math.isfinite(there) and math.isfinite(back)):
                c.problem(f"fleet[{i}].depot", f"{dp[1][2]} cannot drive to and from the "
                          "service area")
        shift = ((_time_s(f.shift[0]), _time_s(f.shift[1])) if f.shift is not None
                 else default_shift)
        if shift[1] <= shift[0]:
            c.problem(f"fleet[{i}].shift", "the shift ends at or before it starts")
        if vt is None or dp is None:
            continue
        for k in range(f.count):
            vid = f.id if f.count == 1 else f"{f.id}{k + 1}"
            if vid in seen:
                c.problem(f"fleet[{i}].id", f"vehicle id {vid!r} is used twice")
            seen.add(vid)
            vehicles.append(DrtVehicle(vid, vt, int(f.capacity or vt.capacity), dp[0],
                                       shift[0], shift[1], dp[1][0], dp[1][1]))

    # ---- virtual stops
    vstops: list[VirtualStop] = []
    vs_cfg = cfg.virtual_stops
    if cfg.mode == "stop_based":
        used: set[int] = set()
        for j, pt in enumerate(vs_cfg.points):
            p = c.place(pt, f"virtual_stops.points[{j}]")
            node = snap_in_area(p, f"virtual_stops.points[{j}]") if p is not None else None
            if node is not None and node not in used:
                used.add(node)
                key = pt if isinstance(pt, str) else f"vs{j + 1:03d}"
                vstops.append(VirtualStop(key, p[2], p[0], p[1], node))
        if vs_cfg.grid_m is not None and snapper is not None:
            pts = (_grid_points(poly, snapper, vs_cfg.grid_m) if poly is not None else
                   _grid_points(_bbox_poly(tt_base, service), snapper, vs_cfg.grid_m))
            if pts:
                nodes, dist = snapper.snap([q[0] for q in pts], [q[1] for q in pts])
                for g, (node, dm) in enumerate(zip(nodes.tolist(), dist.tolist(),
                                                      strict=True)):
                    if dm > vs_cfg.grid_m / 2 or node in used:
                        continue
                    used.add(node)
                    vstops.append(VirtualStop(f"grid{g + 1:03d}", f"grid point {g + 1}",
                                              float(tt_base.lat[node]), float(tt_base.lon[node]),
                                              int(node)))
        if not vstops:
            c.problem("virtual_stops", "stop_based mode needs virtual stops: list points or "
                      "give grid_m")

    # ---- rebalancing zones
    zone_of_node: tuple[int, ...] = ()
    centroids: tuple[int, ...] = ()
    rb = cfg.rebalancing
    if rb.policy != "none" and service.size:
        zone_of_node, centroids = _zones(service, tt_base, rb.zone_size_m)

    # ---- demand items
    bk = cfg.booking
    lead_lo, lead_hi = bk.lead_range_h()
    rates: list[DrtOdRate] = []
    for j, item in enumerate(cfg.demand):
        path = f"demand[{j}]"
        po = c.place(item.origin, f"{path}.origin")
        pd_ = c.place(item.destination, f"{path}.destination")
        o = snap_in_area(po, f"{path}.origin") if po is not None else None
        d = snap_in_area(pd_, f"{path}.destination") if pd_ is not None else None
        if o is None or d is None:
            continue
        wins = (tuple((_time_s(a), _time_s(b)) for a, b in item.windows)
                if item.windows is not None else hours)
        span_h = sum(b - a for a, b in wins) / 3600.0
        per_hour = item.per_hour if item.per_hour is not None else item.per_day / span_h
        shares = item.pax_classes if item.pax_classes is not None else cfg.pax_classes
        rates.append(DrtOdRate(
            o, d, po[0], po[1], pd_[0], pd_[1], float(per_hour), wins,
            prebooked_share=(item.prebooked_share if item.prebooked_share is not None
                             else bk.prebooked_share),
            lead_range_s=(lead_lo * 3600.0, lead_hi * 3600.0),
            class_shares=tuple(sorted(shares.items())), label=item.label,
        ))

    # ---- feeder
    fr = cfg.feeder_rules
    transfer: tuple[str, ...] = ()
    if cfg.feeder:
        svc_set = set(service.tolist())
        if fr.transfer_stops is not None:
            ok = []
            for j, sid in enumerate(fr.transfer_stops):
                if sid not in stops:
                    c.problem(f"feeder_rules.transfer_stops[{j}]", f"unknown stop {sid!r}"
                              f"{_did_you_mean(sid, stops)} (stops come from the lines' feeds)")
                elif stops[sid].node not in svc_set:
                    c.problem(f"feeder_rules.transfer_stops[{j}]", f"stop {sid} is outside the "
                              "service area")
                else:
                    ok.append(sid)
            transfer = tuple(ok)
        else:
            transfer = tuple(sorted(s for s, st in stops.items() if st.node in svc_set))
            if not transfer:
                c.problem("feeder", "no timetabled stop lies inside the service area; list "
                          "feeder_rules.transfer_stops or widen the area")

    for cls in sorted(set(cfg.pax_classes) - set(cfg.fares_yen)):
        log.warning("drt: passenger class %r has no fare in drt.fares_yen; it pays the adult "
                    "fare", cls)
    if len(problems) > n0:
        return None
    cons = cfg.constraints
    return DrtService(
        name=cfg.name,
        tt=tt,
        vehicles=tuple(vehicles),
        mode=cfg.mode,
        walk=walk,
        area=tuple((float(a), float(b)) for a, b in cfg.area) if cfg.area is not None else None,
        service_nodes=frozenset(int(x) for x in service),
        virtual_stops=tuple(vstops),
        max_walk_m=vs_cfg.max_walk_m,
        walk_speed_mps=sc.journey.walk_speed_kph / 3.6,
        service_hours_s=hours,
        max_wait_s=cons.max_wait_min * 60.0,
        detour_alpha=cons.detour_alpha,
        detour_beta_s=cons.detour_beta_min * 60.0,
        max_arrival_delay_s=(cons.max_arrival_delay_min * 60.0
                             if cons.max_arrival_delay_min is not None else None),
        board_s=cons.board_s,
        alight_s=cons.alight_s,
        prebooked_share=bk.prebooked_share,
        min_booking_lead_s=bk.min_lead_h * 3600.0,
        max_booking_lead_s=bk.max_lead_h * 3600.0 if bk.max_lead_h is not None else math.inf,
        lead_range_s=(lead_lo * 3600.0, lead_hi * 3600.0),
        cancel_share=bk.cancel_share,
        dispatch_policy=cfg.dispatch.policy,
        speed_forecast=cfg.dispatch.speed_forecast,
        batch_interval_s=cfg.dispatch.batch_interval_s,
        wait_weight=cfg.dispatch.wait_weight,
        ride_weight=cfg.dispatch.ride_weight,
        rebalancing_policy=rb.policy,
        rebalancing_interval_s=rb.interval_min * 60.0,
        rebalancing_lookback_s=rb.lookback_min * 60.0,
        zone_of_node=zone_of_node,
        zone_centroids=centroids,
        max_move_s=rb.max_move_min * 60.0 if rb.max_move_min is not None else math.inf,
        idle_policy=cfg.idle_policy,
        shift_end_at_depot=cons.shift_end_at_depot,
        fares_yen=dict(cfg.fares_yen),
        feeder=FeederParams(
            enabled=cfg.feeder, transfer_stops=transfer,
            min_access_walk_m=fr.min_access_walk_m, buffer_s=fr.buffer_min * 60.0,
            assumed_wait_s=(fr.assumed_wait_min * 60.0 if fr.assumed_wait_min is not None
                            else cons.max_wait_min * 30.0)),
        charging=ChargingParams(**cfg.charging.model_dump()),
        demand=DrtOdDemand(tuple(rates)) if rates else None,
        speed_factor=cfg.speed_factor,
        snap_nodes=tuple(int(x) for x in service),
        snap_lat=tuple(float(x) for x in tt_base.lat[service]),
        snap_lon=tuple(float(x) for x in tt_base.lon[service]),
    )


def _bbox_poly(tt: Any, nodes: np.ndarray) -> Any:
    import shapely

    lon, lat = tt.lon[nodes], tt.lat[nodes]
    return shapely.box(lon.min(), lat.min(), lon.max(), lat.max())
