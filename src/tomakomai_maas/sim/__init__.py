"""Discrete-event simulation of timetabled lines and on-demand (DRT) service (the only
package importing simpy).

Public API::

    result = simulate(world, seed)        # SimResult: events + tables + counters
    result.events                         # list of (t_s, seq, kind, vehicle_id, trip_id,
                                          #          pax_id, stop_id, value) tuples
    result.trips / .legs / .vehicle_trips / .vehicle_stops / .stops   # DataFrames
    result.drt_requests / .drt_vehicles / .drt_hourly    # when world.drt is set

Operating rules: :mod:`tomakomai_maas.sim.model` (timetabled lines) and
:mod:`tomakomai_maas.sim.drt` (on-demand); event kinds: :data:`EVENT_KINDS`;
table schemas: :data:`TABLE_SCHEMAS` (:mod:`tomakomai_maas.sim.tables`,
:mod:`tomakomai_maas.sim.drt_tables`).
"""

from __future__ import annotations

from tomakomai_maas.sim.core import SimResult, count_events, simulate, validate_world
from tomakomai_maas.sim.energy import leg_energy
from tomakomai_maas.sim.events import DRT_KINDS, EVENT_KINDS, TERMINAL_KINDS, Event
from tomakomai_maas.sim.tables import (
    DRT_HOURLY_SCHEMA,
    DRT_REQUESTS_SCHEMA,
    DRT_VEHICLES_SCHEMA,
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
    "DRT_KINDS",
    "TABLE_SCHEMAS",
    "TRIPS_SCHEMA",
    "LEGS_SCHEMA",
    "VEHICLE_TRIPS_SCHEMA",
    "VEHICLE_STOPS_SCHEMA",
    "STOPS_SCHEMA",
    "DRT_REQUESTS_SCHEMA",
    "DRT_VEHICLES_SCHEMA",
    "DRT_HOURLY_SCHEMA",
]
