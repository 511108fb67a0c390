"""Itineraries: what the journey planner returns and the simulator follows.

Times are seconds since midnight of the service day; durations seconds. An itinerary is a
sequence of legs::

    walk(access) ride [transfer-walk] ride ... walk(egress)      (public transport)
    walk(direct)                                                  (walk-only)

A transfer at the same stop has no transfer leg (two consecutive ride legs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tomakomai_maas.world import JourneyParams

__all__ = ["Leg", "Itinerary", "generalised_cost_s", "build_itinerary"]

LegKind = Literal["walk", "ride"]
LegRole = Literal["access", "ride", "transfer", "egress", "direct"]


@dataclass(frozen=True)
class Leg:
    """One planned leg.

    ``from_stop``/``to_stop`` are stop ids; ``""`` stands for the request's origin (as
    ``from_stop``) or destination (as ``to_stop``). For ride legs they are the boarding and
    alighting stops, ``start_s``/``end_s`` the planned departure from the boarding stop and
    arrival at the alighting stop of the planned trip, ``wait_s`` the planned wait at the
    boarding stop (from arrival on foot or by the previous ride) and ``board_index``/
    ``alight_index`` the positions in the planned trip's stop sequence. For walk legs
    ``walk_s == end_s - start_s``.
    """

    kind: LegKind
    role: LegRole
    from_stop: str
    to_stop: str
    start_s: float
    end_s: float
    walk_s: float = 0.0
    walk_m: float = 0.0
    wait_s: float = 0.0
    route_id: str = ""
    trip_id: str = ""
    board_index: int = -1
    alight_index: int = -1

    @property
    def ivt_s(self) -> float:
        """Planned in-vehicle time (0 for walk legs)."""
        return self.end_s - self.start_s if self.kind == "ride" else 0.0


@dataclass(frozen=True)
class Itinerary:
    """A planned door-to-door journey and its generalised cost.

    ``cost_s`` is the generalised cost in weighted seconds (see :func:`generalised_cost_s`);
    ``walk_s``/``wait_s``/``ivt_s`` are the planned totals, ``n_transfers`` the number of
    rides minus one (0 for walk-only itineraries).
    """

    request_id: str
    legs: tuple[Leg, ...]
    cost_s: float
    depart_s: float
    arrive_s: float
    walk_s: float
    wait_s: float
    ivt_s: float
    n_transfers: int

    @property
    def walk_only(self) -> bool:
        return all(leg.kind == "walk" for leg in self.legs)

    @property
    def rides(self) -> tuple[Leg, ...]:
        return tuple(leg for leg in self.legs if leg.kind == "ride")

    @property
    def travel_s(self) -> float:
        return self.arrive_s - self.depart_s


def generalised_cost_s(
    walk_s: float, wait_s: float, ivt_s: float, n_transfers: int, params: JourneyParams
) -> float:
    """Generalised cost in weighted seconds.

    ``walk_weight·walk + wait_weight·wait + ivt_weight·ivt + transfer_penalty_s·transfers``.
    """
    return (
        params.walk_weight * walk_s
        + params.wait_weight * wait_s
        + params.ivt_weight * ivt_s
        + params.transfer_penalty_s * n_transfers
    )


def build_itinerary(
    request_id: str, depart_s: float, legs: tuple[Leg, ...], params: JourneyParams
) -> Itinerary:
    """Assemble an :class:`Itinerary` from legs, summing components and the cost."""
    walk_s = sum(leg.walk_s for leg in legs)
    wait_s = sum(leg.wait_s for leg in legs)
    ivt_s = sum(leg.ivt_s for leg in legs)
    n_rides = sum(1 for leg in legs if leg.kind == "ride")
    n_transfers = max(n_rides - 1, 0)
    return Itinerary(
        request_id=request_id,
        legs=legs,
        cost_s=generalised_cost_s(walk_s, wait_s, ivt_s, n_transfers, params),
        depart_s=depart_s,
        arrive_s=legs[-1].end_s if legs else depart_s,
        walk_s=walk_s,
        wait_s=wait_s,
        ivt_s=ivt_s,
        n_transfers=n_transfers,
    )
