"""Discrete-event simulation of timetabled lines (the only package importing simpy).

Public API::

    result = simulate(world, seed)        # SimResult: events + tables + counters
    result.events                         # list of (t_s, seq, kind, vehicle_id, trip_id,
                                          #          pax_id, stop_id, value) tuples
    result.trips / .legs / .vehicle_trips / .vehicle_stops / .stops   # DataFrames

Operating rules: :mod:`tomakomai_maas.sim.model`; event kinds: :data:`EVENT_KINDS`;
table schemas: :data:`TABLE_SCHEMAS` (:mod:`tomakomai_maas.sim.tables`).
"""

from __future__ import annotations

from tomakomai_maas.sim.core import SimResult, count_events, simulate, validate_world
from tomakomai_maas.sim.energy import leg_energy
from tomakomai_maas.sim.events import EVENT_KINDS, TERMINAL_KINDS, Event
from tomakomai_maas.sim.tables import (
    LEGS_SCHEMA,
    STOPS_SCHEMA,
    TABLE_SCHEMAS,
    TRIPS_SCHEMA,
    VEHICLE_STOPS_SCHEMA,
    VEHICLE_TRIPS_SCHEMA,
    build_tables,
)

__all__ = [
    "simulate",
    "SimResult",
    "validate_world",
    "count_events",
    "build_tables",
    "leg_energy",
    "Event",
    "EVENT_KINDS",
    "TERMINAL_KINDS",
    "TABLE_SCHEMAS",
    "TRIPS_SCHEMA",
    "LEGS_SCHEMA",
    "VEHICLE_TRIPS_SCHEMA",
    "VEHICLE_STOPS_SCHEMA",
    "STOPS_SCHEMA",
]
