"""On-demand (DRT) vehicles and riders inside the simpy model (:class:`DrtOperator`).

Operating rules (the dispatcher's schedule semantics, :mod:`tomakomai_maas.dispatch.model`,
are executed exactly; link-time noise of timetabled lines does **not** apply to DRT):

* **Speeds of the day.** DRT vehicles feel the same factor as timetabled vehicles,
  ``ops.speed_factor_by_hour[h] × weather_by_hour[h].speed_factor``
  (:func:`~tomakomai_maas.sim.drt_prep.drt_speed_profile`). The service's travel times become
  time-dependent (:class:`~tomakomai_maas.dispatch.TimeDependentTravelTimes`): a leg is driven
  at the factor in force at each moment, so a leg across an hour boundary uses both hours'
  factors (buses use the factor at the departure for the whole stop-to-stop leg; DRT legs are
  longer, and this rule keeps arrival times FIFO, which the as-early-as-possible schedule
  needs). **Planning = driving**: by default (``speed_forecast="profile"``) the dispatcher
  plans with exactly these time-dependent times — it knows the day's profile, as a real
  dispatcher knows rush hours and has the weather forecast — so an accepted booking keeps its
  windows whatever the factors, and a booking the slower day cannot serve in time is rejected
  instead of promised. With ``speed_forecast="at_dispatch"`` it plans the whole plan with the
  factor in force when it dispatches (no forecast); vehicles still drive the real factors, and
  when the factor changes in between, pick-ups and rides run late — recorded, not hidden
  (``pickup_late_min``/``ride_over_min`` in ``drt_requests``, ``drt.late_pickups``). Direct
  drive times (max ride, detour) are taken at the requested pick-up time. With every factor 1
  the travel times are the service's table, unchanged.
* **Autonomous vehicles** (vehicle type ``automation_level >= 2``): per leg, takeovers ~
  Poisson(``takeover_rate_per_km`` · km · weather ``takeover_multiplier``) and sudden stops ~
  Poisson(``sudden_stop_rate_per_km`` · km · ``sudden_stop_multiplier``), weather at the
  departure, each adding its penalty to the leg — the timetabled AV's event model and
  parameters (:mod:`tomakomai_maas.sim.model`). Two uniforms per leg from the vehicle's
  stream ``av_faults/drt/<vehicle_id>``. Logged as ``drt_takeover``/``drt_sudden_stop`` right
  after the ``drt_depart`` (value = time lost); the vehicle's plan then runs late (see above).
* **Weather suspension** (hours whose weather has ``suspend_autonomous``, e.g. heavy
  snowfall; :func:`~tomakomai_maas.drt_world.suspended_periods`). What an operator that stops
  its autonomous vehicles does: they carry no rider while service is suspended and wait at
  their depot (charging, if electric). The dispatcher sees each autonomous vehicle only
  within its current service period (between suspensions: its shift ends at the next
  suspension's start, so with ``shift_end_at_depot`` its plan ends back at the depot in time,
  and during a suspension its shift starts at the suspension's end), so it never plans a
  stop of an autonomous vehicle in a suspended hour or a plan across one. An autonomous
  vehicle idle in a suspended hour drives to its depot (``drt_depart`` purpose
  ``suspended``); one still finishing a ride there (an AV fault made it late) completes it
  first. Human-driven vehicles of a mixed fleet keep running and take what they can. A
  service whose vehicles are all autonomous rejects as ``suspended_weather`` (a) before
  dispatch, the bookings whose ride cannot be given outside the suspension
  (:mod:`tomakomai_maas.sim.drt_prep`, rule 4) and (b) at booking time, a booking for a
  pick-up after a suspension that has not begun yet (the operator takes bookings for after a
  suspension once it is under way and the vehicles are at the depot). Mode choice does not
  offer DRT for (a) (:func:`tomakomai_maas.demand.los.drt_level_of_service`); (b) depends on
  when a rider books and is not anticipated there.
* **Battery** (electric vehicle types with ``battery_kwh``; rules and assumed defaults in
  :class:`~tomakomai_maas.drt_world.ChargingParams`): each vehicle shift starts full; every leg
  uses its energy at its departure (as the tables count it). The dispatcher sees the vehicle's
  ``range_m`` = (energy − reserve) / (kWh per m × the day's largest ``ev_energy_factor``) and
  never gives it work that, with the drive back to the depot, would not fit (reason
  ``battery``); idle moves (rebalancing) must leave the range to get home too. An on-shift
  vehicle charges at ``power_kw`` whenever it stands at its depot (``drt_charge_start``, and
  ``drt_charge_end`` when it leaves or its shift ends; it stays bookable meanwhile, with the
  range of the energy it has at each dispatch), and one that becomes idle below
  ``return_below_soc`` drives to its depot to charge (``drt_depart`` purpose ``to_charge``).
  A state of charge below the reserve (possible only on the drive home after the shift) is
  logged as a warning; ``drt_vehicles`` reports ``min_soc``/``end_soc``.
* **Bookings** reach the dispatcher at their booking time (bookings made before the
  simulated day, e.g. 3 days ahead, at time 0, in booking order). With a dispatch policy
  whose ``batch_interval_s`` is 0 (``insertion``) each booking is dispatched at once; else
  (``batch_lsa``) bookings wait for the next multiple of the batch interval. Prepared
  rejections (:mod:`tomakomai_maas.sim.drt_prep`) are logged at the booking time.
* **Vehicles** (one :class:`~tomakomai_maas.dispatch.VehicleState` each, starting at the
  depot, free from the shift start) execute their plans with
  :func:`~tomakomai_maas.dispatch.advance`: one ``drt_depart`` per leg, ``drt_arrive`` at
  its end, the pick-up/drop-off when service starts (as early as possible, waiting at a
  stop reached early). A leg once started is driven to its end; new bookings are inserted
  into the rest of the plan.
* **Riders** door-to-door are ready at the requested time at their origin; stop-based
  riders walk to the virtual stop first (``walk_start`` at the departure, ``drt_ready`` on
  arrival). A rider boards when the pick-up starts, rides, and alights during the alighting
  time after the drop-off arrival, then walks on (``walk_start`` to ``""``) and arrives
  (``arrive_dest``). First-mile feeder riders book at their departure, reach the transfer
  stop (``arrive_stop``) and continue on their planned timetabled itinerary; if the booking
  is rejected they take their walking itinerary (if any), else they are ``rejected``.
  Last-mile feeder riders book (immediately) when they alight at the transfer stop; a
  rejection there ends their journey (``rejected``).
* **Idle vehicles**: the idle policy (``stay``, ``return_to_depot``) is applied whenever an
  on-shift vehicle becomes idle; the rebalancing policy every ``rebalancing_interval_s``
  from the first shift start to the last shift end, over on-shift vehicles, with the
  expected demand per zone = passengers whose requested pick-up fell in the last
  ``rebalancing_lookback_s`` (bookings known by then). After its shift a vehicle that is not
  at its depot drives there (``to_depot``) when ``shift_end_at_depot``.
* **Busy / idle**: an on-shift vehicle is *busy* while it drives (any leg), serves a stop
  or carries passengers, else *idle* — also when it stands empty waiting for a pick-up
  planned later (``drt_busy``/``drt_idle`` events).

Deterministic: bookings in (time, request id) order, vehicles in fleet order, timers
invalidated by per-vehicle tokens; nothing iterates over a set.
"""

from __future__ import annotations

import bisect
import inspect
import logging
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from tomakomai_maas.dispatch import (
    Assignment,
    DispatchConfig,
    Rejection,
    SpeedProfile,
    StopKind,
    TimeDependentTravelTimes,
    VehicleState,
    advance,
    apply_move,
    get_dispatch_policy,
    get_idle_policy,
    get_rebalancing_policy,
    leg_fn,
    next_event_s,
    vehicle_start_s,
)
from tomakomai_maas.drt_world import (
    DrtService,
    autonomous_only,
    suspended_periods,
    suspension_at,
)
from tomakomai_maas.errors import DispatchError, SimulationError
from tomakomai_maas.rng import stream
from tomakomai_maas.sim import events as ev
from tomakomai_maas.sim.drt_prep import (
    DrtPax,
    drt_itinerary,
    feeder_itinerary,
    last_mile_request,
    node_label,
)
from tomakomai_maas.sim.energy import leg_energy
from tomakomai_maas.sim.model import _poisson_inverse

if TYPE_CHECKING:
    from tomakomai_maas.sim.model import Model

__all__ = ["DrtOperator", "dispatch_config", "make_policies"]

log = logging.getLogger(__name__)


def dispatch_config(svc: DrtService) -> DispatchConfig:
    """The dispatcher's rules for a service."""
    return DispatchConfig(
        service_nodes=svc.service_nodes,
        service_hours_s=svc.service_hours_s,
        min_booking_lead_s=svc.min_booking_lead_s,
        max_booking_lead_s=svc.max_booking_lead_s,
        return_to_depot=svc.shift_end_at_depot,
        wait_weight=svc.wait_weight,
        ride_weight=svc.ride_weight,
    )


def _dispatch_policy(svc: DrtService, tt: Any) -> Any:
    cls = get_dispatch_policy(svc.dispatch_policy)
    kwargs: dict[str, Any] = {"config": dispatch_config(svc), "prune": svc.prune}
    if "batch_interval_s" in inspect.signature(cls).parameters:
        kwargs["batch_interval_s"] = svc.batch_interval_s
    return cls(tt, **kwargs)


def make_policies(svc: DrtService) -> tuple[Any, Any, Any]:
    """(dispatch, rebalancing, idle) policy objects of a service (registries by name)."""
    policy = _dispatch_policy(svc, svc.tt)
    rb_cls = get_rebalancing_policy(svc.rebalancing_policy)
    if svc.rebalancing_policy == "none":
        rebal = rb_cls(svc.tt)
    else:
        if not svc.zone_centroids:
            raise SimulationError(f"drt rebalancing policy {svc.rebalancing_policy!r} needs "
                                  "zones (zone_of_node, zone_centroids)")
        rebal = rb_cls(svc.tt, zone_of_node=np.asarray(svc.zone_of_node, dtype=np.intp),
                       zone_centroids=list(svc.zone_centroids), max_move_s=svc.max_move_s)
    idle = get_idle_policy(svc.idle_policy)(svc.tt)
    return policy, rebal, idle


class DrtOperator:
    """The DRT service of one replication, living in ``model.env``."""

    def __init__(self, model: Model, svc: DrtService, pax: Sequence[DrtPax]) -> None:
        self.m = model
        self.env = model.env
        self.svc = svc
        self.tt = svc.tt
        try:
            self.policy, self.rebal, self.idle_policy = make_policies(svc)
        except DispatchError as exc:
            raise SimulationError(f"drt: {exc}") from exc
        # speed_forecast "at_dispatch": plan with the factor in force at each dispatch call
        # (one policy per factor value, so each keeps its own fleet cache)
        self._naive: dict[float, Any] | None = None
        if svc.speed_forecast == "at_dispatch" and isinstance(svc.tt, TimeDependentTravelTimes):
            self._naive = {}
        self.batch_s = float(getattr(self.policy, "batch_interval_s", 0.0) or 0.0)
        self.world = world = model.world
        self.leg_of = leg_fn(self.tt)
        # weather suspension of autonomous vehicles (see the module docstring)
        self.periods = suspended_periods(world.weather_by_hour)
        self.is_av = [v.vtype.is_autonomous for v in svc.vehicles]
        self.suspends = bool(self.periods) and any(self.is_av)
        self.all_av = autonomous_only(svc)
        self._views: dict[int, tuple[Any, float, float, Any]] = {}
        self.specs = svc.vehicles
        n = len(svc.vehicles)
        # AV faults: per-vehicle streams, two uniforms per leg (takeovers, sudden stops)
        self.fault_rng = [stream(model.seed, f"av_faults/drt/{v.vehicle_id}")
                          if v.vtype.is_autonomous else None for v in svc.vehicles]
        # battery (electric types with battery_kwh): kWh left, charging session, lowest SOC
        ch = svc.charging
        e_max = max((w.ev_energy_factor for w in world.weather_by_hour), default=1.0)
        self.battery: list[float | None] = [
            float(v.vtype.battery_kwh) if v.vtype.powertrain == "ev" and v.vtype.battery_kwh
            else None for v in svc.vehicles]
        self.kwh = [b or 0.0 for b in self.battery]
        self.reserve_kwh = [ch.reserve_soc * b if b else 0.0 for b in self.battery]
        self.kwh_per_m = [v.vtype.energy_kwh_per_km * e_max / 1000.0 for v in svc.vehicles]
        self.charge_since: list[float | None] = [None] * n
        self.charged = [0.0] * n  # kWh of the current session
        self.soc_min = [1.0] * n
        self.states: list[VehicleState] = [
            VehicleState(v.vehicle_id, v.capacity, v.depot_node, v.shift_start_s,
                         shift_start_s=v.shift_start_s, shift_end_s=v.shift_end_s,
                         depot=v.depot_node, range_m=self._range(k))
            for k, v in enumerate(svc.vehicles)
        ]
        self.index = {v.vehicle_id: k for k, v in enumerate(self.states)}
        self.token = [0] * n
        self.leg_from: list[int | None] = [None] * n  # origin node of the leg being driven
        self.leg_dep: list[float] = [0.0] * n
        self.leg_label: list[str] = [""] * n
        self.on_shift = [False] * n
        self.idle: list[bool | None] = [None] * n  # None = off shift
        self.pax = list(pax)
        self.by_id = {p.rid: p for p in self.pax}
        self.queue: list[DrtPax] = []
        self.tick_pending = False
        # demand signal for rebalancing: requested pick-ups (sorted) and their origin zones
        zones = np.asarray(svc.zone_of_node, dtype=np.intp)
        sig = sorted((p.earliest_pickup_s, p.t_request_s, p.rid) for p in self.pax
                     if p.dreq is not None)
        self._sig_t = [s[0] for s in sig]
        self._sig_book = np.array([s[1] for s in sig], dtype=float)
        self._sig_zone = (np.array([zones[self.by_id[s[2]].o_node] for s in sig], dtype=np.intp)
                          if zones.size else np.zeros(len(sig), dtype=np.intp))
        self._sig_pax = np.array([self.by_id[s[2]].n_pax for s in sig], dtype=float)
        self.n_zones = len(svc.zone_centroids)

    # -- logging ------------------------------------------------------------------------------
    def _log(self, kind: str, vid: str = "", trip: str = "", pid: str = "", stop: str = "",
             value: float = 0.0) -> None:
        self.m._log(kind, vid, trip, pid, stop, value)

    # -- start --------------------------------------------------------------------------------
    def start(self) -> None:
        env = self.env
        env.process(self._bookings())
        for k, v in enumerate(self.specs):
            self._at(v.shift_start_s, lambda k=k: self._shift_start(k))
            self._at(v.shift_end_s, lambda k=k: self._shift_end(k))
        if self.suspends:
            for a, _b in self.periods:
                self._at(a, self._suspension_starts)
        if self.svc.rebalancing_policy != "none" and self.specs:
            t0 = min(v.shift_start_s for v in self.specs)
            self._at(t0 + self.svc.rebalancing_interval_s, self._rebalance)

    def _at(self, t: float, fn: Any) -> None:
        ev_ = self.env.timeout(max(t - self.env.now, 0.0))
        ev_.callbacks.append(lambda _e: fn())

    def finish(self) -> None:
        """After the run: every booking must have ended (else ``unfinished``); warn about
        batteries that went below the reserve."""
        for p in self.pax:
            if p.status in ("", "assigned") and p.model_pax is None:
                self._log(ev.UNFINISHED, pid=p.rid)
                p.status = "unfinished"
        reserve = self.svc.charging.reserve_soc
        for k, b in enumerate(self.battery):
            if b is not None and self.soc_min[k] < reserve:
                log.warning("drt vehicle %s: state of charge fell to %.0f %% (reserve %.0f %%%s)",
                            self.specs[k].vehicle_id, 100 * self.soc_min[k], 100 * reserve,
                            "; the battery ran flat" if self.soc_min[k] < 0 else "")

    # -- battery --------------------------------------------------------------------------------
    def _range(self, k: int) -> float:
        """Road distance vehicle ``k`` may still drive above its reserve (inf: no battery)."""
        if self.battery[k] is None or self.kwh_per_m[k] <= 0:
            return math.inf
        return (self.kwh[k] - self.reserve_kwh[k]) / self.kwh_per_m[k]

    def _sync_range(self, k: int) -> None:
        v = self.states[k]
        r = self._range(k)
        if r != v.range_m:
            self.states[k] = replace(v, range_m=r)

    def _low(self, k: int) -> bool:
        b = self.battery[k]
        return b is not None and self.kwh[k] < self.svc.charging.return_below_soc * b

    def _credit(self, k: int) -> None:
        """Add the energy charged since the last credit (capped at a full battery)."""
        t0 = self.charge_since[k]
        if t0 is None:
            return
        now = self.env.now
        b = self.battery[k]
        add = min(b - self.kwh[k], self.svc.charging.power_kw * (now - t0) / 3600.0)
        if add > 0:
            self.kwh[k] += add
            self.charged[k] += add
        self.charge_since[k] = now
        self._sync_range(k)

    def _credit_all(self) -> None:
        for k in range(len(self.states)):
            if self.charge_since[k] is not None:
                self._credit(k)

    def _maybe_charge(self, k: int) -> None:
        """An on-shift EV standing at its depot plugs in (unless full or already charging)."""
        b = self.battery[k]
        if (b is None or self.charge_since[k] is not None or not self.on_shift[k]
                or self.leg_from[k] is not None or self.kwh[k] >= b
                or self.states[k].node != self.specs[k].depot_node):
            return
        self.charge_since[k] = self.env.now
        self.charged[k] = 0.0
        self._log(ev.DRT_CHARGE_START, self.specs[k].vehicle_id,
                  stop=node_label(self.specs[k].depot_node), value=self.kwh[k] / b)

    def _stop_charging(self, k: int) -> None:
        if self.charge_since[k] is None:
            return
        self._credit(k)
        self.charge_since[k] = None
        self._log(ev.DRT_CHARGE_END, self.specs[k].vehicle_id,
                  stop=node_label(self.specs[k].depot_node), value=self.charged[k])

    # -- bookings -----------------------------------------------------------------------------
    def _bookings(self):
        env = self.env
        order = sorted((p for p in self.pax if p.feeder is None),
                       key=lambda p: (max(p.t_request_s, 0.0), p.rid))
        for p in order:
            t = max(p.t_request_s, 0.0)
            if t > env.now:
                yield env.timeout(t - env.now)
            self._log(ev.REQUEST, pid=p.rid, value=math.inf)
            self._book(p)

    def book_feeder(self, p: DrtPax) -> None:
        """A first-mile feeder booking made by the passenger process at its departure."""
        self._book(p)

    def book_last_mile(self, p: DrtPax) -> None:
        """A last-mile feeder booking made when the rider alights at the transfer stop."""
        last_mile_request(self.svc, p, self.env.now, self.periods if self.suspends else ())
        self._book(p)

    def _book(self, p: DrtPax) -> None:
        self._log(ev.DRT_REQUEST, pid=p.rid, stop=p.o_label, value=p.earliest_pickup_s)
        if p.dreq is None:
            self._reject(p, p.pre_reason, p.pre_detail)
            return
        if self.all_av and self.suspends:
            ahead = [(a, b) for a, b in self.periods if self.env.now < a <= p.earliest_pickup_s]
            if ahead:
                a, b = ahead[0]
                self._reject(p, "suspended_weather",
                             f"pick-up after the weather suspension {a / 3600:g}-{b / 3600:g} h, "
                             "booked before it began")
                return
        if self.batch_s > 0:
            self.queue.append(p)
            if not self.tick_pending:
                self.tick_pending = True
                t = (math.floor(self.env.now / self.batch_s) + 1) * self.batch_s
                self._at(t, self._tick)
            return
        self._credit_all()
        res = self._planner().dispatch([p.dreq], self._fleet(), now_s=self.env.now)
        self._apply(res, [p])

    def _tick(self) -> None:
        self.tick_pending = False
        batch, self.queue = self.queue, []
        if batch:
            self._credit_all()
            res = self._planner().dispatch([p.dreq for p in batch], self._fleet(),
                                           now_s=self.env.now)
            self._apply(res, batch)

    def _fleet(self) -> list[VehicleState]:
        """The vehicles as the dispatcher may use them now: an autonomous vehicle only within
        its current service period between weather suspensions (module docstring)."""
        if not self.suspends:
            return self.states
        now = self.env.now
        out = list(self.states)
        for k, v in enumerate(out):
            if not self.is_av[k]:
                continue
            t0 = vehicle_start_s(v, now)
            start, end = v.shift_start_s, v.shift_end_s
            i = suspension_at(self.periods, t0)
            if i >= 0:
                start = max(start, self.periods[i][1])
                t0 = max(t0, start)
            nxt = [a for a, _ in self.periods if a > t0]
            if nxt:
                end = min(end, nxt[0])
            end = max(end, start)
            if start == v.shift_start_s and end == v.shift_end_s:
                continue
            cached = self._views.get(k)
            if cached is not None and cached[0] is v and cached[1:3] == (start, end):
                out[k] = cached[3]
                continue
            view = replace(v, shift_start_s=start, shift_end_s=end)
            self._views[k] = (v, start, end, view)
            out[k] = view
        return out

    def _in_suspension(self, k: int) -> bool:
        return (self.suspends and self.is_av[k]
                and suspension_at(self.periods, self.env.now) >= 0)

    def _suspension_starts(self) -> None:
        """Idle autonomous vehicles go to their depot (busy ones when they become idle)."""
        for k in range(len(self.states)):
            v = self.states[k]
            if (self.is_av[k] and self.on_shift[k] and not v.plan and self.leg_from[k] is None
                    and v.available_s <= self.env.now):
                self._became_idle(k)

    def _planner(self) -> Any:
        """The dispatch policy to use now (see ``speed_forecast``)."""
        if self._naive is None:
            return self.policy
        f = self.tt.profile.factor_at(self.env.now)
        pol = self._naive.get(f)
        if pol is None:
            tt = TimeDependentTravelTimes(self.tt.base, SpeedProfile([f]))
            pol = self._naive[f] = _dispatch_policy(self.svc, tt)
        return pol

    def _apply(self, res: Any, batch: list[DrtPax]) -> None:
        outcome: dict[str, Assignment | Rejection] = {a.request_id: a for a in res.assignments}
        outcome.update({r.request_id: r for r in res.rejections})
        changed = sorted({self.index[a.vehicle_id] for a in res.assignments})
        for k in changed:
            v = res.vehicles[k]
            if v.shift_end_s != self.specs[k].shift_end_s:  # a suspension view: real shift end
                v = replace(v, shift_end_s=self.specs[k].shift_end_s)
            if v.shift_start_s != self.states[k].shift_start_s:
                # it waits for the suspension's end parked (idle), not busy: the raised shift
                # start keeps its plan from starting before then
                v = replace(v, available_s=max(self.states[k].available_s, self.env.now))
            self.states[k] = v
        for p in batch:
            o = outcome.get(p.rid)
            if isinstance(o, Assignment):
                self._assigned(p, o)
            elif isinstance(o, Rejection):
                self._reject(p, o.reason.value, o.detail)
            else:
                raise SimulationError(f"dispatch policy gave no outcome for DRT request {p.rid}")
        for k in changed:
            self._schedule(k)

    def _assigned(self, p: DrtPax, a: Assignment) -> None:
        env = self.env
        p.status = "assigned"
        p.vehicle_id = a.vehicle_id
        self._log(ev.DRT_ASSIGN, a.vehicle_id, pid=p.rid, value=a.pickup_s)
        itins = self.m.itineraries
        if p.feeder is not None:
            itins[p.rid] = feeder_itinerary(p, a.pickup_s, a.dropoff_s, self.m.world)
        else:
            itins[p.rid] = drt_itinerary(p, a.pickup_s, a.dropoff_s, self.m.world)
        t_dep = float(p.request.depart_s)
        if p.walk_access_s > 0:
            self._at(t_dep, lambda: self._walk_to_pickup(p))
        else:
            self._at(p.earliest_pickup_s, lambda: self._ready(p))
        if p.cancel_at is not None:
            self._at(max(p.cancel_at, env.now), lambda: self._cancel(p))

    def _walk_to_pickup(self, p: DrtPax) -> None:
        if p.status != "assigned":
            return
        self._log(ev.WALK_START, pid=p.rid, stop=p.o_label, value=p.walk_access_s)
        self._at(p.earliest_pickup_s, lambda: self._ready(p))

    def _ready(self, p: DrtPax) -> None:
        if p.status == "assigned" and not p.ready_logged and not p.picked:
            p.ready_logged = True
            self._log(ev.DRT_READY, pid=p.rid, stop=p.o_label)

    def _reject(self, p: DrtPax, reason: str, detail: str) -> None:
        p.status = "rejected"
        p.reject_reason, p.reject_detail = reason, detail
        self._log(ev.DRT_REJECT, trip=reason, pid=p.rid)
        fp = p.feeder
        if (fp is not None and fp.kind == "first" and fp.fallback is not None
                and p.model_pax is not None):
            self.m.itineraries[p.rid] = p.feeder.fallback
            self.m.start_pt(p.model_pax, p.feeder.fallback)
        else:
            if p.model_pax is not None:
                p.model_pax.done = True
            self._log(ev.REJECTED, pid=p.rid)

    def _cancel(self, p: DrtPax) -> None:
        if p.status != "assigned" or p.picked:
            return
        k = self.index[p.vehicle_id]
        v = self.states[k]
        plan = tuple(s for s in v.plan if s.request_id != p.rid)
        self.states[k] = replace(v, plan=plan, available_s=max(v.available_s, self.env.now))
        p.status = "cancelled"
        self.m.itineraries[p.rid] = None
        self._log(ev.DRT_CANCEL, p.vehicle_id, pid=p.rid)
        self._schedule(k)

    # -- vehicles -----------------------------------------------------------------------------
    def _refresh(self, k: int) -> None:
        """Log a change between busy and idle of an on-shift vehicle."""
        if not self.on_shift[k]:
            return
        v = self.states[k]
        busy = (self.leg_from[k] is not None or v.onboard_pax > 0
                or v.available_s > self.env.now)
        if busy and self.idle[k] is not False:
            self.idle[k] = False
            self._log(ev.DRT_BUSY, v.vehicle_id)
        elif not busy and self.idle[k] is not True:
            self.idle[k] = True
            self._log(ev.DRT_IDLE, v.vehicle_id)

    def _schedule(self, k: int) -> None:
        """(Re)arm vehicle ``k``'s next wake-up; a vehicle with nothing to do is handled at
        once (idle policy, drive to the depot after the shift)."""
        self._refresh(k)
        self._maybe_charge(k)
        now = self.env.now
        v = self.states[k]
        cands = []
        if self.leg_from[k] is not None:
            cands.append(v.available_s)
        if v.plan:
            cands.append(max(next_event_s(v, self.tt), now))
        elif v.available_s > now:
            cands.append(v.available_s)
        self.token[k] += 1
        if not cands:
            self._became_idle(k)
            return
        token = self.token[k]
        t = min(cands)
        timer = self.env.timeout(max(t - now, 0.0))
        timer.callbacks.append(lambda _e, k=k, token=token: self._wake(k, token))

    def _wake(self, k: int, token: int) -> None:
        if token != self.token[k]:
            return
        now = self.env.now
        v = self.states[k]
        vid = v.vehicle_id
        if self.leg_from[k] is not None and v.available_s <= now:
            self._log(ev.DRT_ARRIVE, vid, stop=self.leg_label[k], value=now - self.leg_dep[k])
            self.leg_from[k] = None
        v2, done = advance(v, now, self.tt)
        for sc in done:
            self._serve(k, sc)
        pos = done[-1].stop.node if done else v.node
        if v2.plan and v2.node != pos:  # committed to the leg towards the next stop
            label = self._stop_label(v2.plan[0])
            delay = self._depart(k, pos, v2.node, label, "service")
            if delay or self.battery[k] is not None:
                v2 = replace(v2, available_s=v2.available_s + delay, range_m=self._range(k))
        self.states[k] = v2
        self._schedule(k)

    def _stop_label(self, s: Any) -> str:
        p = self.by_id[s.request_id]
        return p.o_label if s.kind is StopKind.PICKUP else p.d_label

    def _depart(self, k: int, frm: int, to: int, label: str, purpose: str) -> float:
        """Log the departure of vehicle ``k`` on a leg and use its energy; an autonomous
        vehicle may have takeovers / sudden stops on it. Returns the time they cost (s)."""
        now = self.env.now
        self._stop_charging(k)
        self.leg_from[k] = frm
        self.leg_dep[k] = now
        self.leg_label[k] = label
        self._refresh(k)  # drt_busy (if it was idle) before the departure
        vid = self.states[k].vehicle_id
        dist = float(self.tt.dist_m(frm, to))
        self._log(ev.DRT_DEPART, vid, purpose, stop=label, value=dist)
        weather = self.world.weather_at(now)
        vtype = self.specs[k].vtype
        b = self.battery[k]
        if b is not None:
            self.kwh[k] -= leg_energy(vtype, dist, weather, self.world.energy)[0]
            self.soc_min[k] = min(self.soc_min[k], self.kwh[k] / b)
        rng = self.fault_rng[k]
        if rng is None:
            return 0.0
        u_takeover, u_sudden = rng.random(2).tolist()
        km = dist / 1000.0
        delay = 0.0
        mu = vtype.takeover_rate_per_km * km * weather.takeover_multiplier
        for _ in range(_poisson_inverse(u_takeover, mu)):
            self._log(ev.DRT_TAKEOVER, vid, stop=label, value=vtype.takeover_penalty_s)
            delay += vtype.takeover_penalty_s
        mu = vtype.sudden_stop_rate_per_km * km * weather.sudden_stop_multiplier
        for _ in range(_poisson_inverse(u_sudden, mu)):
            self._log(ev.DRT_SUDDEN_STOP, vid, stop=label, value=vtype.sudden_stop_penalty_s)
            delay += vtype.sudden_stop_penalty_s
        return delay

    def _serve(self, k: int, sc: Any) -> None:
        s = sc.stop
        p = self.by_id[s.request_id]
        vid = self.states[k].vehicle_id
        if s.kind is StopKind.PICKUP:
            if not p.ready_logged:
                self._ready(p)
            p.picked = True
            p.pickup_dep_s = sc.departure_s
            self._log(ev.DRT_PICKUP, vid, pid=p.rid, stop=p.o_label,
                      value=sc.start_s - p.earliest_pickup_s)
        else:
            self._log(ev.DRT_DROPOFF, vid, pid=p.rid, stop=p.d_label,
                      value=sc.arrival_s - p.pickup_dep_s)
            p.status = "served"
            self._at(sc.departure_s, lambda: self._after_dropoff(p))

    def _after_dropoff(self, p: DrtPax) -> None:
        if p.feeder is not None and p.feeder.kind == "first" and p.model_pax is not None:
            self.m.continue_pt(p.model_pax, self.m.itineraries[p.rid], start_leg=1)
            return
        self._log(ev.WALK_START, pid=p.rid, value=p.walk_egress_s)
        self._at(self.env.now + p.walk_egress_s, lambda: self._arrive(p))

    def _arrive(self, p: DrtPax) -> None:
        if p.model_pax is not None:
            p.model_pax.done = True
        self._log(ev.ARRIVE_DEST, pid=p.rid, value=self.env.now - p.request.depart_s)

    def _became_idle(self, k: int) -> None:
        v = self.states[k]
        now = self.env.now
        if self.on_shift[k]:
            depot = self.specs[k].depot_node
            if self._in_suspension(k):  # autonomous service suspended: wait at the depot
                if v.node != depot:
                    self._move_to(k, depot, "suspended")
                return
            if self._low(k) and v.node != depot:  # low battery: go and charge
                self._move_to(k, depot, "to_charge")
                return
            for mv in self.idle_policy.propose([v], now_s=now):
                self._move(k, mv, "return_to_depot")
        elif (now >= self.specs[k].shift_end_s and self.svc.shift_end_at_depot
              and v.node != self.specs[k].depot_node):
            self._move_to(k, self.specs[k].depot_node, "to_depot")

    def _move_to(self, k: int, node: int, purpose: str) -> None:
        v = self.states[k]
        now = self.env.now
        t = float(self.leg_of(now, v.node, node)[0])
        if not math.isfinite(t):
            log.warning("drt vehicle %s cannot reach node %d", v.vehicle_id, node)
            return
        self._start_move(k, v.node, node, replace(v, node=int(node), available_s=t), purpose)

    def _move(self, k: int, mv: Any, purpose: str) -> None:
        v = self.states[k]
        if v.plan or self.leg_from[k] is not None or mv.to_node == v.node:
            return
        if self.battery[k] is not None:  # an idle move must leave the range to get home
            depot = self.specs[k].depot_node
            if mv.to_node != depot and (self._low(k) or not (
                    float(self.tt.dist_m(v.node, mv.to_node))
                    + float(self.tt.dist_m(mv.to_node, depot)) <= v.range_m)):
                return
        self._start_move(k, v.node, mv.to_node, apply_move(v, mv), purpose)

    def _start_move(self, k: int, frm: int, to: int, v2: VehicleState, purpose: str) -> None:
        self.states[k] = v2
        delay = self._depart(k, frm, to, node_label(to), purpose)
        if delay or self.battery[k] is not None:
            self.states[k] = replace(v2, available_s=v2.available_s + delay,
                                     range_m=self._range(k))
        self._schedule(k)

    def _shift_start(self, k: int) -> None:
        v = self.states[k]
        self.on_shift[k] = True
        self.idle[k] = None
        self._log(ev.DRT_SHIFT_START, v.vehicle_id, stop=node_label(self.specs[k].depot_node))
        self._schedule(k)  # logs drt_busy or drt_idle

    def _shift_end(self, k: int) -> None:
        self._stop_charging(k)
        v = self.states[k]
        self.on_shift[k] = False
        self.idle[k] = None
        where = self.leg_label[k] if self.leg_from[k] is not None else node_label(v.node)
        self._log(ev.DRT_SHIFT_END, v.vehicle_id, stop=where)
        if not v.plan and self.leg_from[k] is None and v.available_s <= self.env.now:
            self._became_idle(k)

    # -- rebalancing ----------------------------------------------------------------------------
    def _rebalance(self) -> None:
        now = self.env.now
        svc = self.svc
        on = [k for k in range(len(self.states))
              if self.on_shift[k] and not self._in_suspension(k)]
        if on:
            self._credit_all()
            lo = bisect.bisect_left(self._sig_t, now - svc.rebalancing_lookback_s)
            hi = bisect.bisect_left(self._sig_t, now)
            known = self._sig_book[lo:hi] <= now
            counts = np.bincount(self._sig_zone[lo:hi][known],
                                 weights=self._sig_pax[lo:hi][known], minlength=self.n_zones)
            moves = self.rebal.propose([self.states[k] for k in on], now_s=now,
                                       expected_requests_by_zone=counts)
            for mv in moves:
                self._move(self.index[mv.vehicle_id], mv, "rebalance")
        t_end = max(v.shift_end_s for v in self.specs)
        if now + svc.rebalancing_interval_s < t_end:
            self._at(now + svc.rebalancing_interval_s, self._rebalance)
