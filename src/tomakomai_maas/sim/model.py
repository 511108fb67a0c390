"""simpy processes: vehicles (one per block), passengers (one per request), stop queues.

Operating rules (documented here once; ``sim/__init__`` points to this module):

* **Vehicles.** Trips of one ``block_id`` run on one vehicle in departure order (else one
  vehicle per trip; ``vehicle_id`` = block id or trip id). A vehicle appears at the first stop
  of a trip at its scheduled ``arr_s[0]`` (or when it finished the previous trip of its
  block, if later; deadheading between trips is not modelled) and moves stop to stop, one
  event per leg. Leg time = ``leg_time_s / (speed_factor_by_hour[h] · weather.speed_factor)
  × f`` with ``h``/weather taken at the departure from the stop and ``f`` lognormal with
  mean 1 and CV ``ops.link_time_cv`` (substream ``links/<trip_id>``).
* **Dwell.** At a stop the vehicle alights, then boards the queue; it dwells
  ``dwell_fixed_s + per_boarding·boardings + per_alighting·alightings`` if anyone boarded or
  alighted or the stop is a timepoint, else 0 s (passes through). With ``ops.holding`` it
  never departs a timepoint (other than the last stop) before ``dep_s``. While it stands at
  the stop (dwell or holding) passengers arriving for its route board at once; each such
  boarding makes the earliest departure at least ``now + dwell_per_boarding_s``.
* **Boarding.** Passengers queue per (stop, route) in arrival order. A vehicle of the route
  takes a waiting passenger if its current trip visits the passenger's alighting stop later
  (any trip of the route, not only the planned one) and it has room (``capacity``);
  otherwise the passenger is *denied* (logged once per vehicle visit) and keeps waiting.
* **Patience.** A passenger gives up when the cumulative wait over the journey exceeds the
  planned total wait of the itinerary plus ``ops.patience_s`` (patience is for *unplanned*
  waiting, so a planned 40-min wait for an hourly line is not abandoned).
* **Autonomous vehicles** (``automation_level >= 2``): per leg, takeovers ~ Poisson(rate/km ·
  km · weather.takeover_multiplier) and sudden stops ~ Poisson(rate/km · km ·
  weather.sudden_stop_multiplier), each adding its penalty to the leg time (substream
  ``av_faults/<trip_id>``, weather at the departure from the stop). A trip whose scheduled
  departure falls in a weather state with ``suspend_autonomous`` is cancelled
  (:func:`~tomakomai_maas.world.trip_suspended`; mode choice does not offer it either).
  Autonomous DRT vehicles stop carrying riders in those hours too (:mod:`.drt`).

* **On-demand (DRT)** vehicles and riders run in the same environment; their rules are in
  :mod:`tomakomai_maas.sim.drt`. Requests with mode ``"drt"`` go to the World's DRT service
  (``skipped`` when it has none); ``pt`` requests given a feeder plan
  (:func:`tomakomai_maas.sim.drt_prep.plan_feeders`) book a first-mile DRT ride at their
  departure and continue on their itinerary from the transfer stop (or walk their own
  itinerary if the booking is rejected), or ride to the transfer stop and book the last-mile
  DRT ride when they alight.

Equal-time events run in simpy's FIFO order of scheduling, which is deterministic here:
requests start in (depart_s, input order), vehicles in (first departure, vehicle id), queues
are insertion-ordered dicts, and nothing iterates over a set.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import simpy

from tomakomai_maas.journey import Itinerary, Leg
from tomakomai_maas.rng import stream
from tomakomai_maas.sim import events as ev
from tomakomai_maas.world import Request, TripSchedule, VehicleType, World, trip_suspended

if TYPE_CHECKING:
    from tomakomai_maas.sim.drt_prep import DrtPax

__all__ = ["Model"]

log = logging.getLogger(__name__)

_BOARDED = "boarded"
_GAVE_UP = "gave_up"


def _poisson_inverse(u: float, mu: float) -> int:
    """Poisson(mu) quantile of ``u`` (inversion; mu is small: faults per leg)."""
    if mu <= 0.0:
        return 0
    p = math.exp(-mu)
    cdf = p
    k = 0
    while u > cdf and k < 10_000:
        k += 1
        p *= mu / k
        cdf += p
    return k


class _Pax:
    __slots__ = (
        "req", "itin", "pid", "wait_budget", "waited", "wait_start", "wake", "alight_ev",
        "route", "alight_stop", "token", "queued_at", "board_t", "done", "drt",
    )  # fmt: skip

    def __init__(self, req: Request, itin: Itinerary | None, patience_s: float) -> None:
        self.req = req
        self.itin = itin
        self.pid = req.request_id
        planned_wait = itin.wait_s if itin is not None else 0.0
        self.wait_budget = planned_wait + patience_s
        self.waited = 0.0
        self.wait_start = 0.0
        self.wake: simpy.Event | None = None
        self.alight_ev: simpy.Event | None = None
        self.route = ""
        self.alight_stop = ""
        self.token = 0
        self.queued_at: _StopState | None = None
        self.board_t = 0.0
        self.done = False
        self.drt: DrtPax | None = None  # the first-mile DRT booking of a feeder passenger


class _StopState:
    __slots__ = ("stop_id", "queues", "present")

    def __init__(self, stop_id: str) -> None:
        self.stop_id = stop_id
        self.queues: dict[str, dict[int, _Pax]] = {}  # route -> {pax seq: pax}, FIFO
        self.present: list[_Vehicle] = []  # vehicles standing at the stop, arrival order


class _TripPlan:
    """Per-trip static data and pre-drawn random numbers."""

    __slots__ = ("trip", "vtype", "positions", "link_factor", "u_takeover", "u_sudden", "cancel")

    def __init__(self, trip: TripSchedule, vtype: VehicleType) -> None:
        self.trip = trip
        self.vtype = vtype
        positions: dict[str, list[int]] = {}
        for i, s in enumerate(trip.stop_ids):
            positions.setdefault(s, []).append(i)
        self.positions = positions
        self.link_factor: Sequence[float] | None = None
        self.u_takeover: Sequence[float] | None = None
        self.u_sudden: Sequence[float] | None = None
        self.cancel = False

    def alight_index(self, stop_id: str, after: int) -> int:
        """First index > ``after`` where the trip visits ``stop_id``, or -1."""
        for i in self.positions.get(stop_id, ()):
            if i > after:
                return i
        return -1


class _Vehicle:
    __slots__ = ("vid", "plans", "plan", "k", "load", "capacity", "onboard", "ready", "denied")

    def __init__(self, vid: str, plans: list[_TripPlan]) -> None:
        self.vid = vid
        self.plans = plans
        self.plan: _TripPlan = plans[0]
        self.k = 0
        self.load = 0
        self.capacity = plans[0].vtype.capacity
        self.onboard: dict[int, list[_Pax]] = {}  # alight index -> passengers
        self.ready = 0.0
        self.denied: set[int] = set()  # ids of pax denied during the current visit


class Model:
    """One replication: builds the processes and runs them; ``events`` is the log."""

    def __init__(
        self,
        world: World,
        seed: int,
        requests: list[Request],
        itineraries: dict[str, Itinerary | None],
        *,
        trace: bool = False,
        drt_pax: Sequence[DrtPax] = (),
    ) -> None:
        self.world = world
        self.seed = seed
        self.ops = world.ops
        self.env = simpy.Environment(initial_time=0.0)
        self.events: list[tuple] = []
        self.trace = trace
        self.itineraries = itineraries  # DRT assignments add/replace planned itineraries
        self.stops = {s: _StopState(s) for s in sorted(world.stops)}
        self._init_vehicles(seed)
        has_drt = world.drt is not None
        order = sorted(range(len(requests)), key=lambda i: (requests[i].depart_s, i))
        self.pax = [
            _Pax(requests[i], itineraries.get(requests[i].request_id), self.ops.patience_s)
            for i in order
            if not (has_drt and requests[i].mode == "drt")
        ]
        self.drt = None
        if has_drt:
            from tomakomai_maas.sim.drt import DrtOperator

            self.drt = DrtOperator(self, world.drt, drt_pax)
            by_id = {pax.pid: pax for pax in self.pax}
            for dp in drt_pax:
                if dp.feeder is not None:
                    dp.model_pax = by_id[dp.rid]
                    by_id[dp.rid].drt = dp

    # -- setup -----------------------------------------------------------------------------
    def _init_vehicles(self, seed: int) -> None:
        world, ops = self.world, self.ops
        blocks: dict[str, list[_TripPlan]] = {}
        cv = ops.link_time_cv
        sigma = math.sqrt(math.log1p(cv * cv)) if cv > 0 else 0.0
        for trip in world.trips:
            vtype = world.vehicle_types[trip.vehicle_type]
            plan = _TripPlan(trip, vtype)
            n_legs = len(trip.leg_time_s)
            if sigma > 0:
                rng = stream(seed, f"links/{trip.trip_id}")
                plan.link_factor = rng.lognormal(-0.5 * sigma * sigma, sigma, n_legs).tolist()
            if vtype.is_autonomous:
                rng = stream(seed, f"av_faults/{trip.trip_id}")
                u = rng.random((2, n_legs))
                plan.u_takeover = u[0].tolist()
                plan.u_sudden = u[1].tolist()
                plan.cancel = trip_suspended(trip, vtype, world.weather_by_hour)
            blocks.setdefault(trip.block_id or trip.trip_id, []).append(plan)
        vehicles = []
        for vid, plans in blocks.items():
            plans.sort(key=lambda p: (p.trip.dep_s[0], p.trip.trip_id))
            vehicles.append(_Vehicle(vid, plans))
        vehicles.sort(key=lambda v: (v.plans[0].trip.arr_s[0], v.vid))
        self.vehicles = vehicles

    # -- logging ---------------------------------------------------------------------------
    def _log(
        self, kind: str, vid: str = "", trip: str = "", pid: str = "", stop: str = "",
        value: float = 0.0,
    ) -> None:  # fmt: skip
        e = (self.env.now, len(self.events), kind, vid, trip, pid, stop, float(value))
        self.events.append(e)
        if self.trace:
            log.debug("%9.1f %6d %-14s veh=%s trip=%s pax=%s stop=%s value=%g", *e)

    # -- run -------------------------------------------------------------------------------
    def run(self) -> None:
        env = self.env
        for veh in self.vehicles:
            env.process(self._vehicle(veh))
        env.process(self._source())
        if self.drt is not None:
            self.drt.start()
        env.run()
        if self.drt is not None:
            self.drt.finish()
        for pax in self.pax:  # only possible with infinite patience
            if not pax.done:
                self._finish(pax, ev.UNFINISHED, pax.queued_at.stop_id if pax.queued_at else "",
                             pax.waited + (env.now - pax.wait_start))  # fmt: skip

    def n_simpy_events(self) -> int:
        """Number of events simpy scheduled (read from its event-id counter)."""
        eid = getattr(self.env, "_eid", None)  # simpy has no public counter
        return next(eid) if eid is not None else -1

    # -- passengers ------------------------------------------------------------------------
    def _source(self):
        env = self.env
        for pax in self.pax:
            dt = pax.req.depart_s - env.now
            if dt > 0:
                yield env.timeout(dt)
            self._start(pax)

    def _start(self, pax: _Pax) -> None:
        itin = pax.itin
        cost = itin.cost_s if itin is not None else math.inf
        self._log(ev.REQUEST, pid=pax.pid, value=cost)
        if pax.drt is not None and pax.drt.feeder.kind == "first":  # book the DRT leg now
            self.drt.book_feeder(pax.drt)
        elif pax.req.mode not in ("pt", "walk"):
            self._finish(pax, ev.SKIPPED, "", 0.0)
        elif itin is None:
            self._finish(pax, ev.NO_ROUTE, "", 0.0)
        else:
            self.env.process(self._passenger(pax, itin))

    def _finish(self, pax: _Pax, kind: str, stop: str, value: float) -> None:
        pax.done = True
        self._log(kind, pid=pax.pid, stop=stop, value=value)

    def start_pt(self, pax: _Pax, itin: Itinerary) -> None:
        """Start ``pax`` on ``itin`` now (a feeder whose DRT booking was rejected)."""
        pax.itin = itin
        pax.wait_budget = itin.wait_s + self.ops.patience_s
        self.env.process(self._passenger(pax, itin))

    def continue_pt(self, pax: _Pax, itin: Itinerary, *, start_leg: int) -> None:
        """Continue ``pax`` on ``itin`` from leg ``start_leg`` (after a DRT feeder ride)."""
        pax.itin = itin
        pax.wait_budget = sum(leg.wait_s for leg in itin.legs[start_leg:]) + self.ops.patience_s
        pax.waited = 0.0
        self.env.process(self._passenger(pax, itin, start_leg))

    def _passenger(self, pax: _Pax, itin: Itinerary, start_leg: int = 0):
        env = self.env
        for leg in itin.legs[start_leg:]:
            if leg.kind == "walk":
                self._log(ev.WALK_START, pid=pax.pid, stop=leg.to_stop, value=leg.walk_s)
                if leg.walk_s > 0:
                    yield env.timeout(leg.walk_s)
                if not leg.to_stop:
                    self._finish(pax, ev.ARRIVE_DEST, "", env.now - pax.req.depart_s)
                    return
                continue
            if leg.route_id == "drt" and pax.drt is not None:  # last-mile feeder: book now
                self.drt.book_last_mile(pax.drt)
                return
            self._log(ev.ARRIVE_STOP, pid=pax.pid, stop=leg.from_stop)
            pax.wake = env.event()
            self._wait(pax, leg)
            outcome = yield pax.wake
            if outcome == _GAVE_UP:
                return
            yield pax.alight_ev

    def _wait(self, pax: _Pax, leg: Leg) -> None:
        env = self.env
        stop = self.stops[leg.from_stop]
        pax.route = leg.route_id
        pax.alight_stop = leg.to_stop
        pax.wait_start = env.now
        for veh in stop.present:  # a vehicle of the route standing at the stop
            plan = veh.plan
            if plan.trip.route_id != pax.route:
                continue
            ai = plan.alight_index(pax.alight_stop, veh.k)
            if ai < 0:
                continue
            if veh.load < veh.capacity:
                self._board(veh, pax, ai)
                veh.ready = max(veh.ready, env.now + self.ops.dwell_per_boarding_s)
                return
            self._deny(veh, pax, stop.stop_id)
        stop.queues.setdefault(pax.route, {})[id(pax)] = pax
        pax.queued_at = stop
        pax.token += 1
        remaining = pax.wait_budget - pax.waited
        if math.isfinite(remaining):
            timer = env.timeout(max(remaining, 0.0))
            token = pax.token
            timer.callbacks.append(lambda _e, pax=pax, token=token: self._give_up(pax, token))

    def _give_up(self, pax: _Pax, token: int) -> None:
        if pax.token != token or pax.queued_at is None:
            return
        stop = pax.queued_at
        del stop.queues[pax.route][id(pax)]
        pax.queued_at = None
        pax.waited += self.env.now - pax.wait_start
        self._finish(pax, ev.GIVE_UP, stop.stop_id, pax.waited)
        pax.wake.succeed(_GAVE_UP)

    def _deny(self, veh: _Vehicle, pax: _Pax, stop_id: str) -> None:
        key = id(pax)
        if key in veh.denied:
            return
        veh.denied.add(key)
        self._log(ev.DENIED, veh.vid, veh.plan.trip.trip_id, pax.pid, stop_id, veh.load)

    def _board(self, veh: _Vehicle, pax: _Pax, alight_index: int) -> None:
        env = self.env
        if pax.queued_at is not None:
            del pax.queued_at.queues[pax.route][id(pax)]
            pax.queued_at = None
        pax.token += 1  # disarms the give-up timer
        wait = env.now - pax.wait_start
        pax.waited += wait
        pax.board_t = env.now
        veh.load += 1
        veh.onboard.setdefault(alight_index, []).append(pax)
        trip = veh.plan.trip
        self._log(ev.BOARD, veh.vid, trip.trip_id, pax.pid, trip.stop_ids[veh.k], wait)
        pax.alight_ev = env.event()
        pax.wake.succeed(_BOARDED)

    def _board_queue(self, veh: _Vehicle, stop: _StopState) -> int:
        queue = stop.queues.get(veh.plan.trip.route_id)
        if not queue:
            return 0
        n = 0
        plan = veh.plan
        for pax in list(queue.values()):
            ai = plan.alight_index(pax.alight_stop, veh.k)
            if ai < 0:
                continue
            if veh.load < veh.capacity:
                self._board(veh, pax, ai)
                n += 1
            else:
                self._deny(veh, pax, stop.stop_id)
        return n

    # -- vehicles --------------------------------------------------------------------------
    def _vehicle(self, veh: _Vehicle):
        env, ops, world = self.env, self.ops, self.world
        hours = ops.speed_factor_by_hour
        for plan in veh.plans:
            trip = plan.trip
            veh.plan = plan
            veh.capacity = plan.vtype.capacity
            if plan.cancel:
                if trip.dep_s[0] > env.now:
                    yield env.timeout(trip.dep_s[0] - env.now)
                self._log(ev.TRIP_CANCELLED, veh.vid, trip.trip_id, stop=trip.stop_ids[0])
                continue
            if trip.arr_s[0] > env.now:
                yield env.timeout(trip.arr_s[0] - env.now)
            n = len(trip.stop_ids)
            vtype = plan.vtype
            for k in range(n):
                stop_id = trip.stop_ids[k]
                stop = self.stops[stop_id]
                veh.k = k
                now = env.now
                self._log(ev.VEH_ARRIVE, veh.vid, trip.trip_id, stop=stop_id,
                          value=now - trip.arr_s[k])  # fmt: skip
                alighters = veh.onboard.pop(k, ())
                for pax in alighters:
                    veh.load -= 1
                    self._log(ev.ALIGHT, veh.vid, trip.trip_id, pax.pid, stop_id, now - pax.board_t)
                    pax.alight_ev.succeed()
                last = k == n - 1
                nb = 0
                if not last:
                    veh.denied.clear()
                    stop.present.append(veh)
                    nb = self._board_queue(veh, stop)
                if nb or alighters or trip.timepoint[k]:
                    veh.ready = (
                        now
                        + ops.dwell_fixed_s
                        + ops.dwell_per_boarding_s * nb
                        + ops.dwell_per_alighting_s * len(alighters)
                    )
                else:
                    veh.ready = now
                hold = trip.dep_s[k] if (ops.holding and trip.timepoint[k] and not last) else now
                while True:
                    target = max(veh.ready, hold)
                    if env.now >= target:
                        break
                    yield env.timeout(target - env.now)
                if last:
                    break
                stop.present.remove(veh)
                now = env.now
                self._log(ev.VEH_DEPART, veh.vid, trip.trip_id, stop=stop_id,
                          value=now - trip.dep_s[k])  # fmt: skip
                weather = world.weather_at(now)
                dt = trip.leg_time_s[k] / (hours[int(now // 3600) % 24] * weather.speed_factor)
                if plan.link_factor is not None:
                    dt *= plan.link_factor[k]
                if plan.u_takeover is not None:
                    km = trip.leg_dist_m[k] / 1000.0
                    mu = vtype.takeover_rate_per_km * km * weather.takeover_multiplier
                    for _ in range(_poisson_inverse(plan.u_takeover[k], mu)):
                        self._log(ev.TAKEOVER, veh.vid, trip.trip_id, stop=stop_id,
                                  value=vtype.takeover_penalty_s)  # fmt: skip
                        dt += vtype.takeover_penalty_s
                    mu = vtype.sudden_stop_rate_per_km * km * weather.sudden_stop_multiplier
                    for _ in range(_poisson_inverse(plan.u_sudden[k], mu)):
                        self._log(ev.SUDDEN_STOP, veh.vid, trip.trip_id, stop=stop_id,
                                  value=vtype.sudden_stop_penalty_s)  # fmt: skip
                        dt += vtype.sudden_stop_penalty_s
                yield env.timeout(dt)
            if veh.load:
                raise AssertionError(f"vehicle {veh.vid} ends trip {trip.trip_id} with load")
