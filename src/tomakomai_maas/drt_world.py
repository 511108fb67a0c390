"""The on-demand (DRT) part of a World: ``World.drt`` is a :class:`DrtService` or ``None``.

Plain, typed data that :func:`tomakomai_maas.scenario.build_drt.build_drt` produces (or a test
builds by hand) and :mod:`tomakomai_maas.sim` runs; no simpy, no pydantic. Units are in field
names: times of day are seconds since midnight of the service day (``*_s``), durations
seconds, distances metres, money yen. Node numbers are compact indices of the service's
travel-time provider ``tt`` (the same indices as the scenario's walk oracle).

What the service is
    a fleet (:class:`DrtVehicle`: capacity, vehicle type, depot node, one shift each; a car
    that works two shifts is two entries), a service area (``service_nodes``, from a
    lat/lon polygon ``area``), a mode (``door_to_door`` or ``stop_based`` with
    :class:`VirtualStop` s reached on foot within ``max_walk_m``), service hours (several
    windows), booking rules (immediate and pre-booked requests), fares per passenger class,
    the dispatcher's limits (max wait, max ride ``alpha * direct + beta``, optional latest
    drop-off, boarding/alighting times) and policies by name (dispatch, rebalancing, idle),
    the first-mile feeder option (:class:`FeederParams`), battery rules of electric
    vehicles (:class:`ChargingParams`) and the service's own demand (``demand``, a callable
    drawing :class:`DrtTrip` s). Costs are not part of the service: the cost model
    (:mod:`tomakomai_maas.metrics.cost`, scenario section ``cost:``) costs DRT shifts like
    every other vehicle.

Read by other layers
    ``demand.los.drt_level_of_service`` reads the attributes ``max_wait_min``,
    ``max_detour_factor``, ``fare_yen`` (adult), ``start_s``/``end_s`` (first start and last
    end of the service hours; ``service_hours_s`` has every window), and meets riders where
    the simulator does: :func:`snap_to_service` (area, snapping) and
    :func:`walk_to_virtual_stops` (the walk to a virtual stop) are the one rule of both; so
    are the day's driving times (:func:`driving_travel_times`, :func:`direct_drive_s`: the
    hourly x weather speed factors the dispatcher plans with) and the weather suspension of
    autonomous vehicles (:func:`suspended_periods`). The simulator reads everything else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.spatial import cKDTree

from tomakomai_maas.world import Request, VehicleType

__all__ = [
    "DrtMode",
    "DrtVehicle",
    "VirtualStop",
    "DrtTrip",
    "DrtOdRate",
    "DrtOdDemand",
    "FixedDrtTrips",
    "FeederParams",
    "ChargingParams",
    "DrtService",
    "ScaledTravelTimes",
    "SubsetTravelTimes",
    "Snapper",
    "SIM_REJECT_REASONS",
    "snap_to_service",
    "walk_to_virtual_stops",
    "day_speed_factors",
    "driving_travel_times",
    "direct_drive_s",
    "suspended_periods",
    "suspension_at",
    "autonomous_only",
    "blocked_by_suspension",
]

DrtMode = Literal["door_to_door", "stop_based"]
_EARTH_M = 6_371_008.8

#: Rejection reasons decided by the simulator before dispatching (the dispatcher's own
#: reasons are :class:`tomakomai_maas.dispatch.RejectReason`; ``outside_area`` is also used
#: for points outside the area polygon).
SIM_REJECT_REASONS: Mapping[str, str] = {
    "no_stop_in_reach": "stop-based service: no virtual stop within max_walk_m of the origin "
                        "or the destination",
    "same_pickup_dropoff": "origin and destination map to the same pick-up/drop-off point",
    "suspended_weather": "autonomous service suspended by the weather (suspend_autonomous) "
                         "when the ride would run, and no human-driven vehicle to take it",
}


@dataclass(frozen=True)
class DrtVehicle:
    """One DRT vehicle for one shift (``[shift_start_s, shift_end_s]``), starting at its depot."""

    vehicle_id: str
    vtype: VehicleType
    capacity: int
    depot_node: int
    shift_start_s: float
    shift_end_s: float
    depot_lat: float = math.nan
    depot_lon: float = math.nan


@dataclass(frozen=True)
class VirtualStop:
    """A pick-up/drop-off point of a stop-based service (``node`` of ``DrtService.tt``)."""

    stop_id: str
    name: str
    lat: float
    lon: float
    node: int


@dataclass(frozen=True)
class DrtTrip:
    """One DRT booking from the service's own demand.

    ``request`` has mode ``"drt"``; its ``depart_s`` is when the traveller leaves the origin
    (door-to-door: the requested pick-up time). ``t_request_s`` is the booking time
    (``== depart_s`` for immediate requests, earlier for pre-booked ones). ``o_node``/``d_node``
    (``tt`` indices) skip snapping the request's coordinates when given.
    """

    request: Request
    t_request_s: float
    prebooked: bool = False
    n_pax: int = 1
    o_node: int | None = None
    d_node: int | None = None


@dataclass(frozen=True)
class DrtOdRate:
    """Poisson DRT trips between two points: ``per_hour`` in each of ``windows_s``.

    ``class_shares`` are ``(pax_class, share)`` pairs summing to 1; pre-booked trips
    (probability ``prebooked_share``) are booked ``U(lead_range_s)`` seconds before.
    """

    o_node: int
    d_node: int
    o_lat: float
    o_lon: float
    d_lat: float
    d_lon: float
    per_hour: float
    windows_s: tuple[tuple[float, float], ...]
    prebooked_share: float = 0.0
    lead_range_s: tuple[float, float] = (0.0, 0.0)
    class_shares: tuple[tuple[str, float], ...] = (("adult", 1.0),)
    label: str = ""


@dataclass(frozen=True)
class DrtOdDemand:
    """The DRT section's demand: independent Poisson trips per rate and window.

    Draws, per rate and window in order: the count, the sorted times (uniform in the window),
    the pre-booking flags, the leads and the passenger classes. A pure function of the
    generator (common random numbers across scenarios with the same DRT demand).
    """

    rates: tuple[DrtOdRate, ...]
    prefix: str = "drt"

    def __call__(self, rng: np.random.Generator) -> list[DrtTrip]:
        out: list[DrtTrip] = []
        for k, r in enumerate(self.rates):
            names = [c for c, _ in r.class_shares]
            p = np.array([s for _, s in r.class_shares], dtype=float)
            p = p / p.sum()
            i = 0
            for a, b in r.windows_s:
                n = int(rng.poisson(r.per_hour * max(b - a, 0.0) / 3600.0))
                times = np.sort(rng.uniform(a, b, size=n))
                pre = rng.random(n) < r.prebooked_share
                lead = rng.uniform(r.lead_range_s[0], r.lead_range_s[1], size=n)
                cls = rng.choice(len(names), size=n, p=p)
                for t, pb, ld, c in zip(times, pre, lead, cls, strict=True):
                    rid = f"{self.prefix}{k:03d}-{i:05d}"
                    i += 1
                    req = Request(
                        request_id=rid, depart_s=float(t), o_lat=r.o_lat, o_lon=r.o_lon,
                        d_lat=r.d_lat, d_lon=r.d_lon, access=(), egress=(), mode="drt",
                        purpose=r.label, pax_class=names[int(c)],
                    )
                    out.append(DrtTrip(req, float(t - ld) if pb else float(t), bool(pb), 1,
                                       r.o_node, r.d_node))
        out.sort(key=lambda x: (x.request.depart_s, x.request.request_id))
        return out


@dataclass(frozen=True)
class FixedDrtTrips:
    """Deterministic DRT demand (tests, hand-built cases): the same trips every replication."""

    trips: tuple[DrtTrip, ...]

    def __call__(self, rng: np.random.Generator) -> list[DrtTrip]:
        return list(self.trips)


@dataclass(frozen=True)
class FeederParams:
    """DRT feeder legs to and from timetabled lines (first or last mile; not both in one trip).

    **First mile**: a ``pt`` request whose origin lies in the service area and whose itinerary
    needs an access walk longer than ``min_access_walk_m`` (or has no itinerary) is offered a
    DRT ride to each stop of ``transfer_stops`` (stop ids of the World, inside the area). The
    timetabled part from a stop is planned at the DRT ETA = depart + ``assumed_wait_s`` +
    boarding + direct drive + alighting + ``buffer_s``; the booking (made at the departure)
    must drop off by the planned departure of the first ride minus ``buffer_s``.
    **Last mile** (requests not given a first-mile leg): the destination lies in the area and
    the egress walk is longer than ``min_access_walk_m`` (or there is no itinerary): the
    timetabled part is planned to each transfer stop and the DRT ride from it is booked
    (immediately) when the rider alights there.
    The cheapest combination (generalised cost: the DRT wait ``assumed_wait_s`` at the wait
    weight, the direct drive at the in-vehicle weight, one transfer penalty, plus the
    timetabled part) is used if it beats the walking itinerary. A rejected first-mile booking
    falls back to the walking itinerary (if any); a rejected last-mile booking ends the trip.
    """

    enabled: bool = False
    transfer_stops: tuple[str, ...] = ()
    min_access_walk_m: float = 400.0
    buffer_s: float = 180.0
    assumed_wait_s: float = 450.0


@dataclass(frozen=True)
class ChargingParams:
    """Battery rules of electric DRT vehicles (vehicle types with ``powertrain="ev"`` and a
    ``battery_kwh``; ALL DEFAULTS ASSUMED, override in ``drt.charging``).

    Every vehicle shift starts with a full battery. Energy is used per leg as in the tables
    (:func:`tomakomai_maas.sim.energy.leg_energy`, weather at the leg's departure).

    * ``reserve_soc``: the dispatcher never gives a vehicle work whose road distance, plus
      the drive back to its depot, needs energy below this state of charge (assumed 15 %:
      a common fleet-operations margin; no Tomakomai figure). The energy per km used for
      that is the vehicle's ``energy_kwh_per_km`` times the day's largest weather
      ``ev_energy_factor`` (conservative).
    * ``return_below_soc``: an on-shift vehicle that becomes idle below this state of
      charge drives to its depot to charge (assumed 30 %).
    * ``power_kw``: charging power at the depot (assumed 6 kW, a 200 V AC normal charger;
      the NAVYA ARMA's charging power is NOT FOUND in the facts file). An on-shift vehicle
      charges whenever it stands at its depot, until it leaves or the shift ends (capped at
      a full battery); it stays available for bookings meanwhile.
    """

    reserve_soc: float = 0.15
    return_below_soc: float = 0.3
    power_kw: float = 6.0


@dataclass(frozen=True, eq=False)
class DrtService:
    """Everything the simulator needs to run an on-demand service (``World.drt``).

    ``tt`` is the vehicles' travel-time provider (``time_s``/``dist_m`` on node indices,
    broadcasting; a :class:`~tomakomai_maas.network.TravelTimes` or, in tests, a
    :class:`~tomakomai_maas.dispatch.MatrixTravelTimes`). ``walk`` (optional) is the walk
    oracle on the same nodes; without it walking distances are road distances. Requests
    given by coordinates are snapped to the nearest of ``service_nodes`` (``snap_lat``/
    ``snap_lon`` hold their coordinates); a point outside the ``area`` polygon is rejected as
    ``outside_area``. ``zone_of_node``/``zone_centroids`` are the rebalancing zones (grid
    cells over the area). ``demand`` draws the service's own trips (``None``: none); requests
    with mode ``"drt"`` from the World's demand are simulated too. ``tt`` holds free-flow
    times: the simulator applies the day's hourly × weather speed factors on top, and
    ``speed_forecast`` says whether the dispatcher plans with them (``"profile"``) or with
    the factor at dispatch time (``"at_dispatch"``), see :mod:`tomakomai_maas.sim.drt`.
    """

    name: str
    tt: Any
    vehicles: tuple[DrtVehicle, ...]
    mode: DrtMode = "door_to_door"
    walk: Any = None
    area: tuple[tuple[float, float], ...] | None = None  # (lat, lon) polygon
    service_nodes: frozenset[int] | None = None
    virtual_stops: tuple[VirtualStop, ...] = ()
    max_walk_m: float = 300.0
    walk_speed_mps: float = 1.2
    service_hours_s: tuple[tuple[float, float], ...] | None = None
    max_wait_s: float = 900.0
    detour_alpha: float = 1.5
    detour_beta_s: float = 300.0
    max_arrival_delay_s: float | None = None
    board_s: float = 30.0
    alight_s: float = 30.0
    prebooked_share: float = 0.0
    min_booking_lead_s: float = 0.0
    max_booking_lead_s: float = math.inf
    lead_range_s: tuple[float, float] = (0.0, 0.0)
    cancel_share: float = 0.0
    dispatch_policy: str = "insertion"
    speed_forecast: str = "profile"  # or "at_dispatch" (see tomakomai_maas.sim.drt)
    batch_interval_s: float = 30.0
    wait_weight: float = 0.0
    ride_weight: float = 0.0
    prune: bool = True
    rebalancing_policy: str = "none"
    rebalancing_interval_s: float = 300.0
    rebalancing_lookback_s: float = 1800.0
    zone_of_node: tuple[int, ...] = ()
    zone_centroids: tuple[int, ...] = ()
    max_move_s: float = math.inf
    idle_policy: str = "stay"
    shift_end_at_depot: bool = True
    fares_yen: Mapping[str, float] = field(default_factory=lambda: {"adult": 0.0})
    default_pax_class: str = "adult"
    feeder: FeederParams = FeederParams()
    charging: ChargingParams = ChargingParams()
    demand: Callable[[np.random.Generator], list[DrtTrip]] | None = None
    speed_factor: float = 1.0
    snap_nodes: tuple[int, ...] = ()  # nodes requests given by coordinates may snap to
    snap_lat: tuple[float, ...] = ()
    snap_lon: tuple[float, ...] = ()

    # -- attributes read by demand.los (planning-level level of service) -----------------
    @property
    def max_wait_min(self) -> float:
        return self.max_wait_s / 60.0

    @property
    def max_detour_factor(self) -> float:
        return self.detour_alpha

    @property
    def fare_yen(self) -> float:
        """Fare of the default passenger class (adult)."""
        return float(self.fares_yen.get(self.default_pax_class, 0.0))

    @property
    def start_s(self) -> float | None:
        return None if not self.service_hours_s else min(a for a, _ in self.service_hours_s)

    @property
    def end_s(self) -> float | None:
        return None if not self.service_hours_s else max(b for _, b in self.service_hours_s)

    def fare_for(self, pax_class: str) -> float:
        """Fare of one passenger of ``pax_class`` (unknown classes pay the default class fare)."""
        f = self.fares_yen.get(pax_class)
        return float(self.fare_yen if f is None else f)


class Snapper:
    """Nearest of a set of nodes to lat/lon points (local equirectangular metres)."""

    def __init__(self, nodes: Sequence[int], lats: Sequence[float], lons: Sequence[float]):
        self.nodes = np.asarray(nodes, dtype=np.intp)
        lat = np.asarray(lats, dtype=float)
        lon = np.asarray(lons, dtype=float)
        self.lat0 = math.radians(float(lat.mean())) if lat.size else 0.0
        self.tree = cKDTree(self.xy(lat, lon)) if lat.size else None

    def xy(self, lat: Any, lon: Any) -> np.ndarray:
        """Local equirectangular ``(x, y)`` metres of points (n x 2)."""
        lat_r, lon_r = np.radians(np.asarray(lat, float)), np.radians(np.asarray(lon, float))
        return np.column_stack([_EARTH_M * math.cos(self.lat0) * lon_r, _EARTH_M * lat_r])

    def snap(self, lats: Any, lons: Any) -> tuple[np.ndarray, np.ndarray]:
        if self.tree is None:
            raise ValueError("no nodes to snap to (the DRT service has no snap nodes: give trips "
                             "o_node/d_node)")
        d, i = self.tree.query(self.xy(lats, lons))
        return self.nodes[np.asarray(i, dtype=np.intp)], np.asarray(d, dtype=float)


class ScaledTravelTimes:
    """A travel-time provider whose times are another's divided by ``speed_factor``."""

    def __init__(self, base: Any, speed_factor: float) -> None:
        if not speed_factor > 0:
            raise ValueError(f"speed_factor must be > 0, got {speed_factor}")
        self.base = base
        self.speed_factor = float(speed_factor)

    def time_s(self, i: Any, j: Any) -> Any:
        return self.base.time_s(i, j) / self.speed_factor

    def dist_m(self, i: Any, j: Any) -> Any:
        return self.base.dist_m(i, j)

    def __getattr__(self, name: str) -> Any:  # lat, lon, snap_many, ... of the base oracle
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)


class SubsetTravelTimes:
    """Dense travel-time/distance tables between the nodes that matter (DESIGN: "tables over
    the nodes that matter"), for networks too large for full tables.

    Built once from ``base`` (any provider, e.g. a lazy :class:`~tomakomai_maas.network.
    TravelTimes`: rows are computed by Dijkstra on the whole graph, so times are exact);
    look-ups take **global** node indices. A node outside ``nodes`` is unreachable (``inf``
    to and from everything): the dispatcher pads its arrays with node 0, so look-ups must not
    fail; the simulator only uses subset nodes (requests snap to service nodes, depots are
    included). Memory: ``8 * len(nodes)**2`` bytes (float32 time and distance).
    """

    def __init__(self, base: Any, nodes: Any, *, chunk: int = 256) -> None:
        nodes = np.unique(np.asarray(nodes, dtype=np.intp))
        n_all = int(getattr(base, "n", nodes.max() + 1 if nodes.size else 0))
        k = nodes.size
        self.nodes = nodes
        self.n = n_all
        self._local = np.full(n_all, k, dtype=np.intp)  # k = the "not in the subset" slot
        self._local[nodes] = np.arange(k)
        self._local_list = self._local.tolist()
        self._time = np.full((k + 1, k + 1), np.inf, dtype=np.float32)
        self._dist = np.full((k + 1, k + 1), np.inf, dtype=np.float32)
        for a in range(0, k, chunk):
            b = min(a + chunk, k)
            src = nodes[a:b, None]
            self._time[a:b, :k] = base.time_s(src, nodes[None, :])
            self._dist[a:b, :k] = base.dist_m(src, nodes[None, :])
        self._time.setflags(write=False)
        self._dist.setflags(write=False)
        for name in ("lat", "lon"):
            if hasattr(base, name):
                setattr(self, name, getattr(base, name))

    def __contains__(self, node: int) -> bool:
        return 0 <= node < self.n and self._local[node] < self.nodes.size

    def time_s(self, i: Any, j: Any) -> Any:
        try:  # scalar fast path (plan scheduling calls this a lot)
            return self._time.item(self._local_list[i], self._local_list[j])
        except TypeError:
            return self._time[self._local[i], self._local[j]]

    def dist_m(self, i: Any, j: Any) -> Any:
        try:
            return self._dist.item(self._local_list[i], self._local_list[j])
        except TypeError:
            return self._dist[self._local[i], self._local[j]]


# -- where a rider meets the service (shared by the simulator and the mode-choice skims) ------
def snap_to_service(svc: DrtService, lats: Any, lons: Any
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(inside, node, snap_m)`` of points: inside the ``area`` polygon (all True without
    one), the nearest of the service's ``snap_nodes`` (straight-line) and its distance (m).

    The simulator's rule (:mod:`tomakomai_maas.sim.drt_prep`, rule 1) and the DRT skims of
    mode choice (:func:`tomakomai_maas.demand.los.drt_level_of_service`) both call this.
    Raises ``ValueError`` when the service has no snap nodes.
    """
    lats = np.asarray(lats, dtype=float)
    lons = np.asarray(lons, dtype=float)
    n = lats.size
    inside = np.ones(n, dtype=bool)
    if svc.area is not None and n:
        import shapely

        poly = shapely.Polygon([(lon, lat) for lat, lon in svc.area])
        inside = np.asarray(shapely.contains_xy(poly, lons, lats), dtype=bool)
    nodes = np.full(n, -1, dtype=np.intp)
    dist = np.zeros(n)
    if n:
        nodes, dist = Snapper(svc.snap_nodes, svc.snap_lat, svc.snap_lon).snap(lats, lons)
    return inside, nodes, dist


def walk_to_virtual_stops(svc: DrtService, nodes: Any, snap_m: Any, *, end: str
                          ) -> tuple[np.ndarray, np.ndarray]:
    """``(stop index, walk m)`` of the nearest virtual stop on foot for each snapped point.

    The walk is the walk-network distance (``svc.walk``, else ``svc.tt``) from the point's
    node to the stop (``end="o"``, an origin) or from the stop to the node (``end="d"``, a
    destination), plus the point's snapping distance ``snap_m``; ties go to the first stop.
    A point is in reach when its walk is at most ``svc.max_walk_m`` (else the simulator
    rejects it as ``no_stop_in_reach``).
    """
    if end not in ("o", "d"):
        raise ValueError(f"end must be 'o' or 'd', got {end!r}")
    nodes = np.asarray(nodes, dtype=np.intp)
    vs_nodes = np.array([s.node for s in svc.virtual_stops], dtype=np.intp)
    if nodes.size == 0 or vs_nodes.size == 0:
        return np.zeros(nodes.size, dtype=np.intp), np.full(nodes.size, np.inf)
    walk = svc.walk if svc.walk is not None else svc.tt
    if end == "o":
        d = np.asarray(walk.dist_m(nodes[:, None], vs_nodes[None, :]), dtype=float)
    else:
        d = np.asarray(walk.dist_m(vs_nodes[None, :], nodes[:, None]), dtype=float)
    d = d + np.asarray(snap_m, dtype=float)[:, None]
    best = np.argmin(d, axis=1)
    return best, d[np.arange(nodes.size), best]


# -- the day's driving times and weather suspension (shared by the simulator and the skims) ----
def day_speed_factors(speed_factor_by_hour: Sequence[float], weather_by_hour: Sequence[Any]
                      ) -> tuple[float, ...]:
    """The 24 hourly speed factors of road vehicles: ``ops.speed_factor_by_hour[h] ×
    weather_by_hour[h].speed_factor`` (the product timetabled vehicles, cars in mode choice
    and DRT vehicles all use)."""
    return tuple(float(speed_factor_by_hour[h]) * float(weather_by_hour[h].speed_factor)
                 for h in range(24))


def driving_travel_times(tt: Any, hour_factors: Sequence[float] | None) -> Any:
    """``tt`` driven at the day's ``hour_factors``: a time-dependent provider
    (:class:`~tomakomai_maas.dispatch.TimeDependentTravelTimes` over a
    :class:`~tomakomai_maas.dispatch.SpeedProfile`). ``tt`` itself when it already is
    time-dependent, when ``hour_factors`` is None or when every factor is 1.

    The simulator runs its DRT service on this provider (planning and driving,
    :func:`tomakomai_maas.sim.drt_prep.drt_run_world`) and the mode-choice DRT skims take
    their in-vehicle times from it, so both see the same drive at the same time of day.
    """
    from tomakomai_maas.dispatch.traveltimes import SpeedProfile, TimeDependentTravelTimes

    if hour_factors is None or isinstance(tt, TimeDependentTravelTimes):
        return tt
    prof = SpeedProfile(hour_factors)
    return tt if prof.is_identity else TimeDependentTravelTimes(tt, prof)


def direct_drive_s(tt: Any, o: Any, d: Any, t_dep: Any) -> Any:
    """Direct drive time(s) ``o -> d`` leaving at ``t_dep`` on ``tt`` (broadcasting; the
    free-flow table time where ``t_dep`` is not finite, or when ``tt`` is not
    time-dependent). The simulator's direct time of a booking (leaving at the earliest
    pick-up plus the boarding time: max ride, detour limits) and the skims' DRT in-vehicle
    time are this function."""
    from tomakomai_maas.dispatch.traveltimes import leg_fn

    scalar = np.ndim(o) == 0 and np.ndim(d) == 0 and np.ndim(t_dep) == 0
    if scalar:
        if not math.isfinite(float(t_dep)):
            return tt.time_s(o, d)
        return leg_fn(tt)(float(t_dep), o, d)[1]
    t = np.asarray(t_dep, dtype=float)
    free = np.asarray(tt.time_s(o, d), dtype=float)
    fin = np.isfinite(t)
    if not fin.any():
        return free
    t_use = np.where(fin, t, 0.0)
    dur = np.asarray(leg_fn(tt)(t_use, o, d)[1], dtype=float)
    return np.where(fin, dur, free)


def suspended_periods(weather_by_hour: Sequence[Any]) -> tuple[tuple[float, float], ...]:
    """``(start_s, end_s)`` of each run of hours whose weather has ``suspend_autonomous``
    (hours of the service day, 0-24 h; e.g. ``((36000.0, 43200.0),)`` for heavy snowfall
    from 10:00 to 12:00; the whole day is ``((0.0, 86400.0),)``)."""
    out: list[tuple[float, float]] = []
    for h in range(len(weather_by_hour)):
        if not getattr(weather_by_hour[h], "suspend_autonomous", False):
            continue
        if out and out[-1][1] == h * 3600.0:
            out[-1] = (out[-1][0], (h + 1) * 3600.0)
        else:
            out.append((h * 3600.0, (h + 1) * 3600.0))
    return tuple(out)


def suspension_at(periods: Sequence[tuple[float, float]], t_s: Any) -> Any:
    """Index of the suspended period containing ``t_s`` (``-1``: none; arrays broadcast).
    Times are of the service day: the hourly weather repeats every 24 h like the speed
    profile, so ``t_s`` is taken modulo a day."""
    t = np.mod(np.asarray(t_s, dtype=float), 86400.0)
    out = np.full(t.shape, -1, dtype=np.intp)
    for k, (a, b) in enumerate(periods):
        out[(t >= a) & (t < b) & (out < 0)] = k
    return int(out) if out.ndim == 0 else out


def autonomous_only(svc: Any) -> bool:
    """True when every vehicle of the service is autonomous (``automation_level >= 2``):
    a weather suspension then stops the whole service."""
    vs = getattr(svc, "vehicles", ())
    return bool(vs) and all(v.vtype.is_autonomous for v in vs)


def blocked_by_suspension(svc: Any, periods: Sequence[tuple[float, float]], earliest_s: Any,
                          direct_s: Any) -> np.ndarray:
    """Bookings an all-autonomous service cannot give because of a weather suspension:
    the earliest pick-up lies in a suspended period, or the straight ride from it (boarding +
    direct drive + alighting) cannot be over before the next suspended period starts.

    The simulator rejects those as ``suspended_weather`` before dispatch
    (:mod:`tomakomai_maas.sim.drt_prep`) and the mode-choice skims do not offer DRT for them.
    All False when the service has a human-driven vehicle or there is no suspension.
    """
    t = np.atleast_1d(np.asarray(earliest_s, dtype=float))
    out = np.zeros(t.shape, dtype=bool)
    if not periods or not autonomous_only(svc):
        return out
    end = t + float(svc.board_s) + np.atleast_1d(np.asarray(direct_s, dtype=float)) \
        + float(svc.alight_s)
    out |= suspension_at(periods, t) >= 0
    for a, _b in periods:
        out |= (t < a) & (end > a)
    return out
