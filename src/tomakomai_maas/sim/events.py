"""The event log: plain tuples, the source of truth for tables and tests.

Every event is a tuple ``(t_s, seq, kind, vehicle_id, trip_id, pax_id, stop_id, value)``:

* ``t_s`` simulation time (seconds since midnight), non-decreasing along the log;
* ``seq`` position in the log (0, 1, 2, ...), the tie-breaker for equal times;
* ``vehicle_id``/``trip_id``/``pax_id``/``stop_id`` are ``""`` when not applicable
  (``pax_id`` is the request id);
* ``value`` is a float whose meaning depends on ``kind`` (see :data:`EVENT_KINDS`).

Terminal passenger events (exactly one per request): ``arrive_dest``, ``give_up``,
``no_route``, ``skipped``, ``unfinished``.
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

#: kind -> meaning of the event and of its ``value``.
EVENT_KINDS: dict[str, str] = {
    REQUEST: "a request enters the model at its depart_s; value = planned generalised cost "
    "in weighted seconds (inf when there is no itinerary)",
    NO_ROUTE: "terminal: no itinerary (no PT connection and no finite direct walk); value 0",
    SKIPPED: "terminal: request mode not simulated by this core (not 'pt'/'walk'); value 0",
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
}

TERMINAL_KINDS = frozenset({ARRIVE_DEST, GIVE_UP, NO_ROUTE, SKIPPED, UNFINISHED})
