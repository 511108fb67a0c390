"""Level-of-service skims per trip and mode, taken from the scenario's actual supply.

No simpy here. Each function returns plain arrays over the trips (minutes, yen) and an
``available`` mask; :mod:`tomakomai_maas.demand.modechoice` stacks them into a
:class:`~tomakomai_maas.demand.choice.LevelOfService`.

* **walk** - the walk-network distance between the snapped trip ends plus the snapping
  distances, at the journey planner's walking speed.
* **bike** - the same distance at ``bike_speed_kph`` plus one minute to park (assumed).
* **car** - the drive oracle's fastest time between the snapped ends, slowed by the
  scenario's hourly speed factors and the weather's speed factor, plus the snapping
  distances at the connector speed; ``access_min`` walking to/from the car; the driver pays
  ``cost_yen_per_km`` and the destination's parking charge (all assumed, :class:`CarLos`).
* **bus / av_bus** - the journey planner's best itinerary over the human-driven lines
  (``bus``) or the autonomous lines (``av_bus``, automation level >= 2) alone, between the
  stops within ``journey.max_walk_m`` of each end: access/egress walks, waits, in-vehicle
  time, transfers, the fare of the rides (:meth:`~tomakomai_maas.supply.fares.FareTable.
  journey_fares`, the function the cost model books revenue with) and a reliability term from
  ``operations.link_time_cv``. On a line whose scheduled gap at the boarding stop is longer
  than ``timetable_headway_s`` the rider knows the timetable: they reach the stop
  ``u x arrival_margin_s`` before the departure and the rest of the gap is *schedule
  delay*, not waiting (the same behaviour as timetable-aware stop rates in
  :mod:`.od`). Public transport is not offered for a trip whose nearest access plus egress
  walk is no shorter than walking all the way.
* **drt** - :func:`drt_level_of_service`, unavailable when the World has no DRT service;
  in-vehicle time from the dispatcher's own time-dependent drive at the trip's time.

Weather and time of day: car and DRT in-vehicle times use ``ops.speed_factor_by_hour`` x the
weather's ``speed_factor`` (the driver knows the day; the DRT booking is planned with it),
the timetabled modes use the published timetable (what the operator promises and riders plan
with). Autonomous trips and all-autonomous DRT rides that the weather suspends
(``suspend_autonomous``) are not offered.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tomakomai_maas.supply.fares import FareTable
from tomakomai_maas.world import Access, JourneyParams, Request, Stop, TripSchedule, VehicleType

__all__ = [
    "PT_CHOICE_MODES",
    "PtSupply",
    "PtSkim",
    "CarLos",
    "pt_mode_of",
    "skim_pt",
    "car_level_of_service",
    "drt_level_of_service",
    "DrtSpec",
    "drt_spec_from_config",
    "DRT_DEFAULTS",
]

log = logging.getLogger(__name__)

PT_CHOICE_MODES = ("bus", "av_bus")
"""Timetabled modes of the choice model: human-driven lines and autonomous lines."""


def pt_mode_of(vtype: VehicleType) -> str:
    """``av_bus`` for autonomous vehicle types (automation level >= 2), else ``bus``."""
    return "av_bus" if vtype.is_autonomous else "bus"


@dataclass(frozen=True, eq=False)
class PtSupply:
    """The timetabled supply a mode-choice model skims (stops, trips, transfers, fares).

    Journey planners per choice mode (``bus``: human-driven lines only; ``av_bus``:
    autonomous lines only) are built lazily and are not pickled.
    """

    stops: Mapping[str, Stop]
    trips: tuple[TripSchedule, ...]
    vehicle_types: Mapping[str, VehicleType]
    transfers: Mapping[str, tuple[Access, ...]]
    journey: JourneyParams
    fares: FareTable
    start_s: float = 0.0
    end_s: float = 86400.0
    link_time_cv: float = 0.0
    _planners: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        by_mode: dict[str, list[TripSchedule]] = {m: [] for m in PT_CHOICE_MODES}
        for t in self.trips:
            by_mode[pt_mode_of(self.vehicle_types[t.vehicle_type])].append(t)
        object.__setattr__(self, "_mode_trips", {m: tuple(v) for m, v in by_mode.items()})
        ids = tuple(sorted(self.stops))
        object.__setattr__(self, "stop_ids", ids)
        mode_cols = {}
        for m, ts in by_mode.items():
            served = {s for t in ts for s in t.stop_ids}
            mode_cols[m] = np.array([k for k, s in enumerate(ids) if s in served], dtype=np.int64)
        object.__setattr__(self, "_mode_cols", mode_cols)
        deps: dict[tuple[str, int, str], list[float]] = {}
        for t in self.trips:
            for k, s in enumerate(t.stop_ids[:-1]):
                deps.setdefault((t.route_id, t.direction_id, s), []).append(t.dep_s[k])
        object.__setattr__(self, "_deps", {k: np.sort(np.asarray(v)) for k, v in deps.items()})

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_planners"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def modes(self) -> tuple[str, ...]:
        """Choice modes with at least one trip on the simulated day."""
        return tuple(m for m in PT_CHOICE_MODES if self._mode_trips[m])

    def mode_columns(self, mode: str) -> np.ndarray:
        """Positions in :attr:`stop_ids` of the stops served by ``mode``'s trips."""
        return self._mode_cols[mode]

    def planner(self, mode: str) -> Any:
        """A :class:`~tomakomai_maas.journey.JourneyPlanner` over ``mode``'s trips only."""
        pl = self._planners.get(mode)
        if pl is None:
            from tomakomai_maas.demand.od import FixedRequests
            from tomakomai_maas.journey import JourneyPlanner
            from tomakomai_maas.world import World

            w = World(name=f"skim-{mode}", start_s=self.start_s, end_s=self.end_s,
                      stops=self.stops, trips=self._mode_trips[mode],
                      vehicle_types=self.vehicle_types, sample_requests=FixedRequests(()),
                      transfers=self.transfers, journey=self.journey)
            pl = self._planners[mode] = JourneyPlanner(w)
        return pl

    def gap_s(self, route_id: str, direction_id: int, stop_id: str, dep_s: float) -> float:
        """Scheduled gap before the departure ``dep_s`` of the route/direction at the stop
        (``inf`` for the first departure of the day)."""
        deps = self._deps.get((route_id, direction_id, stop_id))
        if deps is None:
            return math.inf
        k = int(np.searchsorted(deps, dep_s - 1e-6, side="left"))
        return float(dep_s - deps[k - 1]) if k > 0 else math.inf


@dataclass(eq=False)
class PtSkim:
    """Skim of one timetabled choice mode over ``n`` trips (arrays of length ``n``).

    ``access``/``egress`` hold the walk options to this mode's stops (tuples of
    :class:`~tomakomai_maas.world.Access`, ``()`` when unavailable); ``depart_s`` is when a
    rider who chooses the mode leaves (later than desired on infrequent lines); ``route`` /
    ``board_stop`` / ``board_hour`` identify the first boarding (for feedback), ``""``/-1
    when unavailable.
    """

    available: np.ndarray
    walk_min: np.ndarray
    wait_min: np.ndarray
    ivt_min: np.ndarray
    transfers: np.ndarray
    fare_yen: np.ndarray
    reliability_sd_min: np.ndarray
    schedule_delay_min: np.ndarray
    depart_s: np.ndarray
    route: np.ndarray
    board_stop: np.ndarray
    board_hour: np.ndarray
    access: np.ndarray
    egress: np.ndarray

    @classmethod
    def empty(cls, n: int) -> PtSkim:
        z = np.zeros(n)
        obj = np.empty(n, dtype=object)
        for i in range(n):
            obj[i] = ()
        return cls(available=np.zeros(n, bool), walk_min=z.copy(), wait_min=z.copy(),
                   ivt_min=z.copy(), transfers=z.copy(), fare_yen=z.copy(),
                   reliability_sd_min=z.copy(), schedule_delay_min=z.copy(),
                   depart_s=np.full(n, np.nan), route=np.full(n, "", dtype=object),
                   board_stop=np.full(n, "", dtype=object), board_hour=np.full(n, -1),
                   access=obj, egress=obj.copy())


def _options(dist_row: np.ndarray, cols: np.ndarray, ids: Sequence[str], max_walk_m: float,
             speed_mps: float) -> tuple[Access, ...]:
    d = dist_row[cols]
    ok = np.flatnonzero(d <= max_walk_m)
    return tuple(Access(ids[cols[j]], float(d[j]) / speed_mps, float(d[j])) for j in ok)


def skim_pt(supply: PtSupply, mode: str, *, trip_ids: Sequence[str], depart_s: np.ndarray,
            dist_o: np.ndarray, dist_d: np.ndarray, direct_walk_m: np.ndarray,
            u_margin: np.ndarray, timetable_headway_s: float, arrival_margin_s: float,
            candidates: np.ndarray | None = None) -> PtSkim:
    """Best itinerary of ``mode`` for each trip (see the module docstring).

    ``dist_o[i, k]`` / ``dist_d[i, k]``: walking metres from trip ``i``'s origin to stop
    ``supply.stop_ids[k]`` / from that stop to the destination. ``candidates``: trips to
    consider (default all).
    """
    n = len(depart_s)
    out = PtSkim.empty(n)
    if mode not in supply.modes or n == 0:
        return out
    jp = supply.journey
    cols = supply.mode_columns(mode)
    ids = supply.stop_ids
    speed = jp.walk_speed_mps
    planner = supply.planner(mode)
    idx = np.arange(n) if candidates is None else np.flatnonzero(candidates)
    if len(cols) == 0:
        return out
    near_o = dist_o[:, cols].min(axis=1)
    near_d = dist_d[:, cols].min(axis=1)
    keep = (near_o <= jp.max_walk_m) & (near_d <= jp.max_walk_m) & \
        (near_o + near_d < direct_walk_m)
    idx = idx[keep[idx]]
    trips_by_id = {t.trip_id: t for t in supply.trips}
    for i in idx:
        acc = _options(dist_o[i], cols, ids, jp.max_walk_m, speed)
        egr = _options(dist_d[i], cols, ids, jp.max_walk_m, speed)
        t0 = float(depart_s[i])
        req = Request(request_id=str(trip_ids[i]), depart_s=t0, o_lat=0.0, o_lon=0.0,
                      d_lat=0.0, d_lon=0.0, access=acc, egress=egr)
        itin = planner.plan(req)
        if itin is None or itin.walk_only:
            continue
        rides = itin.rides
        first = rides[0]
        hidden = first.wait_s
        trip = trips_by_id[first.trip_id]
        gap = supply.gap_s(first.route_id, trip.direction_id, first.from_stop, first.start_s)
        if gap > timetable_headway_s:
            at_stop = min(hidden, float(u_margin[i]) * arrival_margin_s)
            delay = hidden - at_stop
        else:
            at_stop, delay = hidden, 0.0
        out.available[i] = True
        out.walk_min[i] = itin.walk_s / 60.0
        out.wait_min[i] = (itin.wait_s - hidden + at_stop) / 60.0
        out.ivt_min[i] = itin.ivt_s / 60.0
        out.transfers[i] = itin.n_transfers
        out.fare_yen[i] = supply.fares.itinerary_yen(rides, trips_by_id)
        out.reliability_sd_min[i] = supply.link_time_cv * itin.ivt_s / 60.0
        out.schedule_delay_min[i] = delay / 60.0
        out.depart_s[i] = t0 + delay
        out.route[i] = first.route_id
        out.board_stop[i] = first.from_stop
        out.board_hour[i] = int(first.start_s // 3600)
        out.access[i] = acc
        out.egress[i] = egr
    log.debug("skimmed %s for %d of %d trips", mode, int(out.available.sum()), n)
    return out


@dataclass(frozen=True)
class CarLos:
    """Car level of service settings (all **assumed**; see
    :class:`~tomakomai_maas.scenario.schema_demand.CarCostConfig`)."""

    access_min: float = 3.0
    cost_yen_per_km: float = 15.0
    parking_yen: Mapping[str, float] = field(default_factory=dict)
    reliability_sd_share: float = 0.1
    connector_speed_kph: float = 15.0


def car_level_of_service(drive: Any, *, o_node: np.ndarray, d_node: np.ndarray,
                         o_snap_m: np.ndarray, d_snap_m: np.ndarray, depart_s: np.ndarray,
                         d_zone: np.ndarray, hour_speed_factor: Sequence[float],
                         cfg: CarLos) -> dict[str, np.ndarray]:
    """Car skims: ``ivt_min``, ``walk_min``, ``fare_driver_yen``, ``reliability_sd_min``,
    ``dist_km`` and ``available`` (a drivable path exists). ``hour_speed_factor[h]``
    multiplies speeds in hour ``h`` (operations x weather)."""
    t = np.asarray(drive.time_s(np.asarray(o_node), np.asarray(d_node)), dtype=float)
    d = np.asarray(drive.dist_m(np.asarray(o_node), np.asarray(d_node)), dtype=float)
    ok = np.isfinite(t) & np.isfinite(d)
    hours = (np.asarray(depart_s, dtype=float) // 3600).astype(np.int64) % 24
    f = np.asarray(hour_speed_factor, dtype=float)[hours]
    conn_s = (np.asarray(o_snap_m) + np.asarray(d_snap_m)) / (cfg.connector_speed_kph / 3.6)
    ivt = np.where(ok, t / f + conn_s, 0.0) / 60.0
    km = np.where(ok, d + np.asarray(o_snap_m) + np.asarray(d_snap_m), 0.0) / 1000.0
    parking = np.array([float(cfg.parking_yen.get(str(z), 0.0)) for z in d_zone])
    return {
        "ivt_min": ivt,
        "walk_min": np.full(len(ivt), float(cfg.access_min)),
        "fare_driver_yen": km * cfg.cost_yen_per_km + parking,
        "reliability_sd_min": ivt * cfg.reliability_sd_share,
        "dist_km": km,
        "available": ok,
    }


#: Assumed DRT service figures used when the DRT spec does not give them.
DRT_DEFAULTS = {"mean_wait_min": 10.0, "detour_factor": 1.3, "fare_yen": 500.0,
                "reliability_sd_min": 5.0}


@dataclass(frozen=True)
class DrtSpec:
    """What the DRT level of service reads of a DRT service (planning level).

    The World's :class:`~tomakomai_maas.drt_world.DrtService` exposes the same attribute
    names; :func:`drt_spec_from_config` makes one from the scenario's ``drt:`` section so a
    World's demand can be sampled without the service object.
    """

    max_wait_min: float = 15.0
    max_detour_factor: float = 1.5
    fare_yen: float = DRT_DEFAULTS["fare_yen"]
    service_hours_s: tuple[tuple[float, float], ...] | None = None
    area: tuple[tuple[float, float], ...] | None = None


def drt_spec_from_config(cfg: Any) -> DrtSpec | None:
    """A :class:`DrtSpec` from a ``drt:`` config (None -> None)."""
    if cfg is None:
        return None
    from tomakomai_maas.scenario.schema import parse_time_s

    c = getattr(cfg, "constraints", None)
    hours = getattr(cfg, "service_hours", None)
    fares = getattr(cfg, "fares_yen", None) or {}
    area = getattr(cfg, "area", None)
    return DrtSpec(
        max_wait_min=float(getattr(c, "max_wait_min", 15.0)),
        max_detour_factor=float(getattr(c, "detour_alpha", 1.5)),
        fare_yen=float(fares.get("adult", DRT_DEFAULTS["fare_yen"])),
        service_hours_s=(tuple((parse_time_s(a), parse_time_s(b)) for a, b in hours)
                         if hours else None),
        area=tuple((float(a), float(b)) for a, b in area) if area else None)


def _in_polygon(lat: np.ndarray, lon: np.ndarray, poly: Sequence[tuple[float, float]]
                ) -> np.ndarray:
    """Even-odd rule point-in-polygon for ``(lat, lon)`` vertices."""
    y = np.asarray(lat, dtype=float)
    x = np.asarray(lon, dtype=float)
    inside = np.zeros(y.shape, dtype=bool)
    pts = list(poly)
    for (ya, xa), (yb, xb) in zip(pts, pts[1:] + pts[:1], strict=True):
        cross = (ya > y) != (yb > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xint = xa + (y - ya) * (xb - xa) / (yb - ya)
        inside ^= cross & (x < xint)
    return inside


def drt_level_of_service(drt: Any, *, car_ivt_min: np.ndarray, car_available: np.ndarray,
                         depart_s: np.ndarray, fare_yen: float | None = None,
                         o_lat: np.ndarray | None = None, o_lon: np.ndarray | None = None,
                         d_lat: np.ndarray | None = None, d_lon: np.ndarray | None = None,
                         hour_speed_factor: Sequence[float] | None = None,
                         suspended_s: Sequence[tuple[float, float]] = ()
                         ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """DRT skims (``wait_min``, ``ivt_min``, ``fare_yen``, ``reliability_sd_min``) and the
    availability mask. **Unavailable for every trip when ``drt`` is None** (no ``drt:``
    section / ``world.drt is None``).

    ``drt`` is the World's DRT service or a :class:`DrtSpec`. The estimate is a
    planning-level one that does not run the dispatcher: wait = the spec's mean wait (or half
    its maximum), in-vehicle time = direct drive x detour factor (the spec's ``detour_factor``,
    else the midpoint between 1 and the maximum detour factor: an expected sharing detour),
    fare = the spec's fare or ``fare_yen``. Missing attributes take :data:`DRT_DEFAULTS`
    (assumed). The feedback loop replaces the waits with simulated ones when DRT rides are
    simulated.

    **Direct drive = the dispatcher's.** With the World's service and coordinates, the direct
    drive is the service's own vehicles' time (their speed cap, e.g. 20 km/h for the ARMA)
    from the pick-up node to the drop-off node (virtual stops for a stop-based service),
    leaving at the earliest pick-up plus the boarding time, at the day's hourly x weather
    factors ``hour_speed_factor`` integrated over the drive
    (:func:`~tomakomai_maas.drt_world.driving_travel_times`,
    :func:`~tomakomai_maas.drt_world.direct_drive_s`): exactly the ride the dispatcher plans
    for a lone request and the direct time the simulator books (max ride, detour limits). So
    on a snowy day riders expect the slower DRT the simulation gives. Without the service
    (a bare :class:`DrtSpec`) the direct drive is ``car_ivt_min`` (the car skim, already at
    the departure hour's factor). The timetabled skims (:func:`skim_pt`) keep the published
    timetable instead: in both cases the level of service is the operator's own promise (the
    timetable; the dispatcher's plan, which knows the day's profile), and the simulated buses'
    lateness on a slow day is measured in the simulation, not anticipated in choice.

    **Weather suspension.** ``suspended_s`` holds the day's periods with ``suspend_autonomous``
    (:func:`~tomakomai_maas.drt_world.suspended_periods`). A service whose vehicles are all
    autonomous is not offered for a trip whose ride it cannot give because of them
    (:func:`~tomakomai_maas.drt_world.blocked_by_suspension`: the simulator's
    ``suspended_weather`` rule), as the timetabled AV trips cancelled by the weather are not
    offered (:func:`~tomakomai_maas.world.trip_suspended`).

    Availability: a drivable path, and a departure inside a service window
    (``service_hours_s``, else ``start_s``/``end_s``). When ``drt`` is the World's
    :class:`~tomakomai_maas.drt_world.DrtService` and coordinates are given, the ends are
    placed by the **simulator's own rules** (:func:`~tomakomai_maas.drt_world.
    snap_to_service`, :func:`~tomakomai_maas.drt_world.walk_to_virtual_stops`): both ends
    inside the ``area`` polygon; for a stop-based service a virtual stop within
    ``max_walk_m`` **on the walk network** (plus the snapping distance) of each end, and
    different pick-up and drop-off stops (door-to-door: different snapped nodes); the walks
    are the skim's ``walk_min`` and the window is checked at the departure plus the access
    walk (the earliest pick-up the simulator books). So a trip for which DRT is available
    is not rejected as ``outside_area``, ``no_stop_in_reach``, ``same_pickup_dropoff`` or
    (late-by-walking) ``outside_hours`` before dispatch. A bare specification
    (:class:`DrtSpec`) only checks its ``area`` polygon.
    """
    n = len(car_ivt_min)
    zero = np.zeros(n)
    if drt is None:
        return ({"wait_min": zero, "ivt_min": zero, "fare_yen": zero,
                 "reliability_sd_min": zero}, np.zeros(n, dtype=bool))

    def num(*names: str, default: float) -> float:
        for nm in names:
            v = getattr(drt, nm, None)
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                return float(v)
        return float(default)

    wait = num("mean_wait_min", default=math.nan)
    if math.isnan(wait):
        mx = num("max_wait_min", default=math.nan)
        wait = 0.5 * mx if math.isfinite(mx) else DRT_DEFAULTS["mean_wait_min"]
    detour = num("detour_factor", default=math.nan)
    if math.isnan(detour):
        mx = num("max_detour_factor", default=math.nan)
        detour = 0.5 * (1.0 + mx) if math.isfinite(mx) else DRT_DEFAULTS["detour_factor"]
    fare = num("fare_yen", default=fare_yen if fare_yen is not None
               else DRT_DEFAULTS["fare_yen"])
    avail = np.asarray(car_available, dtype=bool).copy()
    walk_min = np.zeros(n)
    access_s = np.zeros(n)
    direct_min = np.asarray(car_ivt_min, dtype=float)
    pick = drop = None
    have_xy = o_lat is not None and o_lon is not None and d_lat is not None \
        and d_lon is not None and n > 0
    if have_xy and getattr(drt, "snap_nodes", ()):
        # the World's service: meet riders where the simulator does (drt_world rules)
        from tomakomai_maas.drt_world import snap_to_service, walk_to_virtual_stops

        o_in, o_node, o_snap = snap_to_service(drt, o_lat, o_lon)
        d_in, d_node, d_snap = snap_to_service(drt, d_lat, d_lon)
        avail &= o_in & d_in
        if getattr(drt, "mode", "") == "stop_based":
            vs = drt.virtual_stops
            o_k, o_m = walk_to_virtual_stops(drt, o_node, o_snap, end="o")
            d_k, d_m = walk_to_virtual_stops(drt, d_node, d_snap, end="d")
            reach = float(drt.max_walk_m)
            stop_node = np.array([v.node for v in vs], dtype=np.intp)
            avail &= (o_m <= reach) & (d_m <= reach) & (stop_node[o_k] != stop_node[d_k])
            speed = float(drt.walk_speed_mps)
            ok = np.isfinite(o_m) & np.isfinite(d_m)
            access_s = np.where(ok, o_m / speed, 0.0)
            walk_min = np.where(ok, (o_m + d_m) / speed / 60.0, 0.0)
            pick, drop = stop_node[o_k], stop_node[d_k]
        else:
            avail &= o_node != d_node
            pick, drop = o_node, d_node
        if getattr(drt, "tt", None) is not None:
            # the dispatcher's direct drive from the earliest pick-up (+ boarding)
            from tomakomai_maas.drt_world import direct_drive_s, driving_travel_times

            tt = driving_travel_times(drt.tt, hour_speed_factor)
            t_dep = np.asarray(depart_s, dtype=float) + access_s + float(drt.board_s)
            direct = np.asarray(direct_drive_s(tt, pick, drop, t_dep), dtype=float)
            ok = np.isfinite(direct)
            avail &= ok
            direct_min = np.where(ok, direct, 0.0) / 60.0
            if suspended_s:
                from tomakomai_maas.drt_world import blocked_by_suspension

                avail &= ~blocked_by_suspension(
                    drt, suspended_s, np.asarray(depart_s, dtype=float) + access_s,
                    np.where(ok, direct, 0.0))
    elif getattr(drt, "virtual_stops", ()):
        raise ValueError("stop-based DRT skims need the World's DRT service (virtual stops on "
                         "its walk network, snap nodes), not a bare specification")
    else:
        area = getattr(drt, "area", None)
        if area and have_xy:
            avail &= _in_polygon(o_lat, o_lon, area) & _in_polygon(d_lat, d_lon, area)
    windows = _drt_windows(drt)
    if windows:
        # the simulator checks the earliest pick-up: departure + the walk to the stop
        t = np.asarray(depart_s, dtype=float) + access_s
        inside = np.zeros(n, dtype=bool)
        for a, b in windows:
            inside |= (t >= a) & (t < b)
        avail &= inside
    return ({"wait_min": np.full(n, wait), "ivt_min": direct_min * detour,
             "walk_min": walk_min, "fare_yen": np.full(n, fare),
             "reliability_sd_min": np.full(n, DRT_DEFAULTS["reliability_sd_min"])}, avail)


def _drt_windows(drt: Any) -> list[tuple[float, float]]:
    hours = getattr(drt, "service_hours_s", None)
    if hours:
        return [(float(a), float(b)) for a, b in hours]
    s, e = getattr(drt, "start_s", None), getattr(drt, "end_s", None)
    if isinstance(s, int | float) and isinstance(e, int | float):
        return [(float(s), float(e))]
    s, e = getattr(drt, "start_time", None), getattr(drt, "end_time", None)
    if isinstance(s, str) and isinstance(e, str):
        from tomakomai_maas.scenario.schema import parse_time_s

        try:
            return [(parse_time_s(s), parse_time_s(e))]
        except ValueError:
            return []
    return []
