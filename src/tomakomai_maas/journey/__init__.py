"""Journey planning over timetabled trips (pure Python; no simpy).

Public API::

    planner = JourneyPlanner(world)          # sorts the connections once
    itinerary = planner.plan(request)        # Itinerary | None
"""

from __future__ import annotations

from tomakomai_maas.journey.csa import JourneyPlanner, walk_only_itinerary
from tomakomai_maas.journey.itinerary import Itinerary, Leg, build_itinerary, generalised_cost_s

__all__ = [
    "JourneyPlanner",
    "Itinerary",
    "Leg",
    "build_itinerary",
    "generalised_cost_s",
    "walk_only_itinerary",
]
