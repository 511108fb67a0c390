"""The event log: plain tuples, the source of truth for tables and tests.

Every event is a tuple ``(t_s, seq, kind, vehicle_id, trip_id, pax_id, stop_id, value)``:

* ``t_s`` simulation time (seconds since midnight), non-decreasing along the log;
* ``seq`` position in the log (0, 1, 2, ...), the tie-breaker for equal times;
* ``vehicle_id``/``trip_id``/``pax_id``/``stop_id`` are ``""`` when not applicable
  (``pax_id`` is the request id);
* ``value`` is a float whose meaning depends on ``kind`` (see :data:`EVENT_KINDS`).

Terminal passenger events (exactly one per request): ``arrive_dest``, ``give_up``,
``no_route``, ``skipped``, ``unfinished``, ``rejected``, ``drt_cancel``.

On-demand (DRT) events start with ``drt_``. For them ``trip_id`` is ``""`` except where
:data:`EVENT_KINDS` says otherwise, and ``stop_id`` names a pick-up/drop-off point: a virtual
stop id, a timetabled stop id (feeder transfers) or ``"n<node>"`` for a road node.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "Event",
    "EVENT_KINDS",
    "TERMINAL_KINDS",
    "REQUEST",
    "NO_ROUTE",
    "SKIPPED",
    "WALK_START",
    "ARRIVE_STOP",
    "DENIED",
    "BOARD",
    "ALIGHT",
    "GIVE_UP",
    "ARRIVE_DEST",
    "UNFINISHED",
    "VEH_ARRIVE",
    "VEH_DEPART",
    "TAKEOVER",
    "SUDDEN_STOP",
    "TRIP_CANCELLED",
    "REJECTED",
    "DRT_REQUEST",
    "DRT_ASSIGN",
    "DRT_REJECT",
    "DRT_CANCEL",
    "DRT_READY",
    "DRT_PICKUP",
    "DRT_DROPOFF",
    "DRT_DEPART",
    "DRT_ARRIVE",
    "DRT_BUSY",
    "DRT_IDLE",
    "DRT_SHIFT_START",
    "DRT_SHIFT_END",
    "DRT_TAKEOVER",
    "DRT_SUDDEN_STOP",
    "DRT_CHARGE_START",
    "DRT_CHARGE_END",
    "DRT_KINDS",
]


class Event(NamedTuple):
    """Field names of an event tuple (events are stored as plain tuples)."""

    t_s: float
    seq: int
    kind: str
    vehicle_id: str
    trip_id: str
    pax_id: str
    stop_id: str
    value: float


REQUEST = "request"
NO_ROUTE = "no_route"
SKIPPED = "skipped"
WALK_START = "walk_start"
ARRIVE_STOP = "arrive_stop"
DENIED = "denied"
BOARD = "board"
ALIGHT = "alight"
GIVE_UP = "give_up"
ARRIVE_DEST = "arrive_dest"
UNFINISHED = "unfinished"
VEH_ARRIVE = "veh_arrive"
VEH_DEPART = "veh_depart"
TAKEOVER = "takeover"
SUDDEN_STOP = "sudden_stop"
TRIP_CANCELLED = "trip_cancelled"
REJECTED = "rejected"
DRT_REQUEST = "drt_request"
DRT_ASSIGN = "drt_assign"
DRT_REJECT = "drt_reject"
DRT_CANCEL = "drt_cancel"
DRT_READY = "drt_ready"
DRT_PICKUP = "drt_pickup"
DRT_DROPOFF = "drt_dropoff"
DRT_DEPART = "drt_depart"
DRT_ARRIVE = "drt_arrive"
DRT_BUSY = "drt_busy"
DRT_IDLE = "drt_idle"
DRT_SHIFT_START = "drt_shift_start"
DRT_SHIFT_END = "drt_shift_end"
DRT_TAKEOVER = "drt_takeover"
DRT_SUDDEN_STOP = "drt_sudden_stop"
DRT_CHARGE_START = "drt_charge_start"
DRT_CHARGE_END = "drt_charge_end"

#: kind -> meaning of the event and of its ``value``.
EVENT_KINDS: dict[str, str] = {
    REQUEST: "a request enters the model at its depart_s (DRT-only requests: at their booking "
    "time, earlier for pre-booked trips; bookings made before the simulated day at 0); value = "
    "planned generalised cost in weighted seconds (inf when there is no itinerary yet)",
    NO_ROUTE: "terminal: no itinerary (no PT connection and no finite direct walk); value 0",
    SKIPPED: "terminal: request mode not simulated (not 'pt'/'walk', nor 'drt' with a DRT "
    "service in the World); value 0",
    WALK_START: "a walk leg starts; stop_id = stop walked to ('' = destination); "
    "value = walk duration s",
    ARRIVE_STOP: "passenger starts waiting at stop_id for the next ride (after a walk or an "
    "alighting); value 0",
    DENIED: "passenger left behind by a full vehicle of its route (once per vehicle visit); "
    "value = vehicle load",
    BOARD: "passenger boards vehicle_id/trip_id at stop_id; value = wait at this stop s",
    ALIGHT: "passenger alights at stop_id; value = in-vehicle time of this ride s",
    GIVE_UP: "terminal: passenger stops waiting at stop_id (cumulative wait exceeded planned "
    "waits + ops.patience_s); value = cumulative wait s",
    ARRIVE_DEST: "terminal: passenger reaches the destination; value = door-to-door time s",
    UNFINISHED: "terminal: still waiting when the model ran out of events (only with "
    "infinite patience); value = cumulative wait s",
    VEH_ARRIVE: "vehicle arrives at stop_id of trip_id; value = arrival delay s "
    "(actual - scheduled arr_s)",
    VEH_DEPART: "vehicle departs stop_id (not logged at the last stop); value = departure delay "
    "s (actual - scheduled dep_s)",
    TAKEOVER: "manual takeover on the leg starting now (AV only); value = time lost s",
    SUDDEN_STOP: "sudden stop on the leg starting now (AV only); value = time lost s",
    TRIP_CANCELLED: "trip not run (autonomous service suspended by weather at its scheduled "
    "departure), logged at that time; value 0",
    REJECTED: "terminal: the DRT booking was rejected and the traveller has no other itinerary; "
    "value 0 (the reason is on the drt_reject event just before)",
    DRT_REQUEST: "a DRT booking reaches the dispatcher (queued for the next batch with "
    "batch_lsa); stop_id = pick-up point; value = earliest pick-up s",
    DRT_ASSIGN: "booking accepted: vehicle_id will serve it; value = planned pick-up (service "
    "start) s",
    DRT_REJECT: "booking rejected; trip_id = reason (a dispatch RejectReason value or "
    "no_stop_in_reach / same_pickup_dropoff); value 0",
    DRT_CANCEL: "terminal: the rider cancels an accepted pre-booked trip before pick-up "
    "(drt.booking.cancel_share); its stops leave the vehicle's plan; value 0",
    DRT_READY: "passenger is at the pick-up point (its earliest pick-up, after any walk); "
    "stop_id = pick-up point; value 0",
    DRT_PICKUP: "vehicle_id starts serving the pick-up (the passenger boards); stop_id = "
    "pick-up point; value = wait s (pick-up start - earliest pick-up)",
    DRT_DROPOFF: "vehicle_id arrives at the drop-off (the passenger alights during the "
    "alighting time); value = ride s (this arrival - departure from the pick-up)",
    DRT_DEPART: "vehicle leaves its node for stop_id; trip_id = purpose (service / rebalance / "
    "return_to_depot / to_depot / to_charge / suspended); value = road distance of the leg m",
    DRT_ARRIVE: "vehicle reaches stop_id at the end of a leg; value = leg duration s (the "
    "day's speed factors and any takeover / sudden stop included)",
    DRT_BUSY: "an on-shift vehicle gets work (plan stops or a repositioning drive); value 0",
    DRT_IDLE: "an on-shift vehicle has nothing to do (empty plan, standing); value 0",
    DRT_SHIFT_START: "vehicle starts its shift at stop_id (its depot node); value 0",
    DRT_SHIFT_END: "vehicle ends its shift; stop_id = where it is (or is heading); value 0",
    DRT_TAKEOVER: "manual takeover on the DRT leg starting now (autonomous vehicle types only, "
    "logged right after its drt_depart); stop_id = the leg's destination; value = time lost s",
    DRT_SUDDEN_STOP: "sudden stop on the DRT leg starting now (autonomous vehicle types only); "
    "stop_id = the leg's destination; value = time lost s",
    DRT_CHARGE_START: "an electric vehicle starts charging at its depot (stop_id); value = "
    "state of charge (0..1)",
    DRT_CHARGE_END: "it stops charging (it leaves the depot or its shift ends); value = kWh "
    "charged in this session",
}

TERMINAL_KINDS = frozenset({ARRIVE_DEST, GIVE_UP, NO_ROUTE, SKIPPED, UNFINISHED, REJECTED,
                            DRT_CANCEL})

#: Event kinds of the on-demand service.
DRT_KINDS = frozenset(k for k in EVENT_KINDS if k.startswith("drt_"))
