"""The fare of timetabled rides: ONE implementation for mode choice and revenue (pure data).

:class:`FareTable` answers "what does this ride / this journey cost, before concessions and
MaaS discounts?". The mode-choice skims (:mod:`tomakomai_maas.demand.los`, the fare a
traveller sees for an itinerary) and the cost model (:mod:`tomakomai_maas.metrics.cost`, the
fare the operator books for each boarding) both call :meth:`FareTable.journey_fares`, so for
the same rides they get the same yen. Passenger classes (concessions) and MaaS discounts are
applied afterwards by each caller, where they were applied before (the cost model's
``FareConfig``, the choice model's levers).

Resolution of one ride on route ``r`` from stop ``a`` to stop ``b``, in this order:

1. ``r`` in ``free_routes`` -> 0 (e.g. a free trial);
2. ``r`` in ``route_fares_yen`` -> that flat fare;
3. GTFS fares v1 (``fare_attributes`` / ``fare_rules``, reference:
   https://gtfs.org/documentation/schedule/reference/#fare_rulestxt), unless
   ``use_feed_fares`` is off: a fare matches when one of its rules matches the route (an
   empty ``route_id`` = every route of the *same feed*), the zone of the boarding stop
   (``origin_id``, empty = any) and of the alighting stop (``destination_id``, empty = any)
   (zones from ``stops.zone_id``); a fare with ``contains_id`` rules for the route matches
   only if the set of zones the ride passes through (boarding to alighting stop of the trip
   ridden; without the trip: the two end zones) equals its set of ``contains_id``. When
   several fares match, the **cheapest** is used. A feed with ``fare_attributes`` but no
   ``fare_rules`` applies its fares to all its routes. A ``fare_id`` repeated in a later feed
   is ignored (warning);
4. **no fare data** (no matching fare: the route's feed has no fares, or no rule matches its
   route and zones) -> ``default_yen``. The scenario sets it from
   ``cost.fares.flat_fare_yen`` (230 yen, the 道南バス central 1-zone fare from 2023-12-01,
   facts §2.3) for every timetabled route; the cost model passes its DRT fare for rides that
   are not on a timetabled route (:attr:`FareRide.default_yen`).

Transfers (``fare_attributes.transfers`` / ``transfer_duration``, when ``apply_transfers``):
within one journey, a later ride that resolves to the same ``fare_id`` as the journey's
current ticket, boards within ``transfer_duration`` seconds of that ticket's first boarding
and has transfers left (empty ``transfers`` = unlimited, ``0`` = none) is free; a ride with
another fare starts a new ticket. Rides priced by rules 1, 2 or 4 neither use nor start a
ticket. The shipped 道南バス fares have ``transfers = 0`` (no free transfer; 道南バス transfer
tickets are not modelled).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from tomakomai_maas.supply.gtfs import Feed

__all__ = [
    "FareRule",
    "FareRide",
    "RideFare",
    "FareTable",
    "fare_table_from_feeds",
    "fare_ride",
    "stops_ridden",
    "DEFAULT_FARE_YEN",
]

log = logging.getLogger(__name__)

DEFAULT_FARE_YEN = 230.0
"""Fare of a timetabled ride without fare data unless configured: the 道南バス central 1-zone
fare from 2023-12-01 (facts §2.3)."""


@dataclass(frozen=True)
class FareRule:
    """One ``fare_rules`` row; ``""`` = not constrained. ``feed`` scopes empty route_ids."""

    fare_id: str
    route_id: str = ""
    origin_id: str = ""
    destination_id: str = ""
    contains_id: str = ""
    feed: str = ""


@dataclass(frozen=True)
class FareRide:
    """One ride to price: route, boarding and alighting stop, boarding time (seconds; NaN
    when unknown: transfer time limits then do not apply), the stops passed from boarding to
    alighting (``None`` = unknown: only the two ends) and the fare when no fare data matches
    (``None`` = the table's ``default_yen``)."""

    route_id: str
    from_stop: str
    to_stop: str
    board_s: float = math.nan
    stops_passed: tuple[str, ...] | None = None
    default_yen: float | None = None


@dataclass(frozen=True)
class RideFare:
    """The fare of one ride: ``source`` is ``free_route``, ``route_fare``, ``feed``,
    ``transfer`` (free within a ticket of ``fare_id``) or ``default`` (no fare data)."""

    yen: float
    fare_id: str = ""
    source: str = "default"


def stops_ridden(stop_ids: Sequence[str], from_stop: str, to_stop: str
                 ) -> tuple[str, ...] | None:
    """The stops of a trip from ``from_stop`` to ``to_stop`` inclusive (first occurrence of
    the boarding stop, then the first occurrence of the alighting stop after it; only the
    boarding stop when the alighting stop does not follow). ``None`` when the trip does not
    call at ``from_stop``."""
    if from_stop not in stop_ids:
        return None
    a = list(stop_ids).index(from_stop)
    rest = list(stop_ids[a:])
    b = a + rest.index(to_stop) if to_stop in rest else a
    return tuple(stop_ids[a:b + 1])


def fare_ride(route_id: str, from_stop: str, to_stop: str, board_s: float = math.nan,
              trip_stop_ids: Sequence[str] | None = None, *,
              default_yen: float | None = None) -> FareRide:
    """A :class:`FareRide`, with the stops passed taken from the trip's stop sequence."""
    passed = stops_ridden(trip_stop_ids, from_stop, to_stop) if trip_stop_ids else None
    return FareRide(str(route_id), str(from_stop), str(to_stop), float(board_s), passed,
                    default_yen)


@dataclass(frozen=True)
class FareTable:
    """Fares of one or more GTFS feeds plus the scenario's fare overrides (module docstring).

    ``prices_yen``: fare_id -> price; ``transfers``: fare_id -> allowed transfers (``None`` =
    unlimited); ``transfer_duration_s``: fare_id -> validity (``None`` = unlimited);
    ``stop_zones``: stop_id -> zone_id; ``feed_routes``: feed -> its route_ids.
    """

    prices_yen: Mapping[str, float] = field(default_factory=dict)
    rules: tuple[FareRule, ...] = ()
    transfers: Mapping[str, int | None] = field(default_factory=dict)
    transfer_duration_s: Mapping[str, float | None] = field(default_factory=dict)
    stop_zones: Mapping[str, str] = field(default_factory=dict)
    feed_routes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    default_yen: float = DEFAULT_FARE_YEN
    route_fares_yen: Mapping[str, float] = field(default_factory=dict)
    free_routes: frozenset[str] = frozenset()
    use_feed_fares: bool = True
    apply_transfers: bool = True

    def configured(self, *, default_yen: float | None = None,
                   route_fares_yen: Mapping[str, float] | None = None,
                   free_routes: Iterable[str] | None = None, use_feed_fares: bool | None = None,
                   apply_transfers: bool | None = None) -> FareTable:
        """The same feed fares with other overrides (``None`` keeps the current value)."""
        upd: dict[str, Any] = {}
        if default_yen is not None:
            upd["default_yen"] = float(default_yen)
        if route_fares_yen is not None:
            upd["route_fares_yen"] = {str(k): float(v) for k, v in sorted(route_fares_yen.items())}
        if free_routes is not None:
            upd["free_routes"] = frozenset(str(r) for r in free_routes)
        if use_feed_fares is not None:
            upd["use_feed_fares"] = bool(use_feed_fares)
        if apply_transfers is not None:
            upd["apply_transfers"] = bool(apply_transfers)
        return replace(self, **upd)

    # ------------------------------------------------------------------ feed rules
    def fare_for(self, route_id: str, from_stop: str, to_stop: str,
                 zones_passed: Iterable[str] | None = None) -> tuple[str, float] | None:
        """``(fare_id, price)`` of the cheapest matching feed fare, or ``None`` (rule 3 of the
        module docstring only: no overrides, no default)."""
        oz = self.stop_zones.get(from_stop, "")
        dz = self.stop_zones.get(to_stop, "")
        passed = set(zones_passed) if zones_passed is not None else {z for z in (oz, dz) if z}
        by_fare: dict[str, list[FareRule]] = {}
        for r in self.rules:
            if r.route_id:
                if r.route_id != route_id:
                    continue
            elif route_id not in self.feed_routes.get(r.feed, frozenset()):
                continue
            by_fare.setdefault(r.fare_id, []).append(r)
        best: tuple[str, float] | None = None
        for fare_id in sorted(by_fare):
            rules = by_fare[fare_id]
            contains = {r.contains_id for r in rules if r.contains_id}
            if contains and contains != passed:
                continue
            ok = any((not r.origin_id or r.origin_id == oz)
                     and (not r.destination_id or r.destination_id == dz) for r in rules)
            if not ok or fare_id not in self.prices_yen:
                continue
            price = float(self.prices_yen[fare_id])
            if best is None or price < best[1]:
                best = (fare_id, price)
        return best

    # ------------------------------------------------------------------ rides and journeys
    def ride_fare(self, ride: FareRide) -> RideFare:
        """Fare of one ride on its own (rules 1-4, no transfer)."""
        route = ride.route_id
        if route in self.free_routes:
            return RideFare(0.0, "", "free_route")
        if route in self.route_fares_yen:
            return RideFare(float(self.route_fares_yen[route]), "", "route_fare")
        if self.use_feed_fares:
            passed = None
            if ride.stops_passed is not None:
                passed = {self.stop_zones[s] for s in ride.stops_passed if s in self.stop_zones}
            hit = self.fare_for(route, ride.from_stop, ride.to_stop, passed)
            if hit is not None:
                return RideFare(hit[1], hit[0], "feed")
        dflt = self.default_yen if ride.default_yen is None else ride.default_yen
        return RideFare(float(dflt), "", "default")

    def journey_fares(self, rides: Iterable[FareRide]) -> list[RideFare]:
        """Fares of the rides of ONE journey, in boarding order, with feed transfers."""
        out: list[RideFare] = []
        ticket: tuple[str, float, int | None] | None = None  # (fare_id, first board, left)
        for ride in rides:
            f = self.ride_fare(ride)
            if f.source != "feed" or not self.apply_transfers:
                out.append(f)
                continue
            t = float(ride.board_s)
            if ticket is not None and ticket[0] == f.fare_id:
                dur = self.transfer_duration_s.get(f.fare_id)
                left = ticket[2]
                in_time = dur is None or not math.isfinite(t) or t - ticket[1] <= dur
                if (left is None or left > 0) and in_time:
                    ticket = (f.fare_id, ticket[1], None if left is None else left - 1)
                    out.append(RideFare(0.0, f.fare_id, "transfer"))
                    continue
            ticket = (f.fare_id, t, self.transfers.get(f.fare_id))
            out.append(f)
        return out

    def journey_yen(self, rides: Iterable[FareRide]) -> float:
        """Total fare of one journey (:meth:`journey_fares` summed)."""
        return float(sum(f.yen for f in self.journey_fares(rides)))

    def ride_yen(self, route_id: str, from_stop: str, to_stop: str) -> float:
        """Fare of a single ride between two stops (no trip known, no transfer)."""
        return self.ride_fare(FareRide(route_id, from_stop, to_stop)).yen

    def itinerary_yen(self, legs: Iterable[Any],
                      trips: Mapping[str, Any] | None = None) -> float:
        """Fare of planned ride legs (objects with ``route_id``, ``from_stop``, ``to_stop``,
        ``start_s`` and ``trip_id``, e.g. :class:`~tomakomai_maas.journey.Leg`); ``trips``
        maps trip ids to schedules with ``stop_ids`` (for ``contains_id`` zones)."""
        rides = []
        for leg in legs:
            trip = trips.get(getattr(leg, "trip_id", "")) if trips is not None else None
            rides.append(fare_ride(leg.route_id, leg.from_stop, leg.to_stop,
                                   float(getattr(leg, "start_s", math.nan)),
                                   trip.stop_ids if trip is not None else None))
        return self.journey_yen(rides)


def _opt(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA else v


def fare_table_from_feeds(feeds: Iterable[Feed] | Mapping[str, Feed], *,
                          default_yen: float = DEFAULT_FARE_YEN) -> FareTable:
    """Merge the fares of several feeds (e.g. ``BuildContext.feeds``) into a :class:`FareTable`.

    A fare_id repeated in a later feed is ignored (warning); fares of a feed without
    ``fare_rules`` apply to all routes of that feed. Feeds given as a sequence are keyed by
    their ``source`` (scopes empty ``route_id`` rules).
    """
    items = list(feeds.items()) if isinstance(feeds, Mapping) else [
        (getattr(f, "source", None) or f"feed{i}", f) for i, f in enumerate(feeds)]
    prices: dict[str, float] = {}
    transfers: dict[str, int | None] = {}
    durations: dict[str, float | None] = {}
    rules: list[FareRule] = []
    zones: dict[str, str] = {}
    feed_routes: dict[str, frozenset[str]] = {}
    for key, feed in items:
        key = str(key)
        feed_routes[key] = frozenset(str(r) for r in feed.routes["route_id"])
        if "zone_id" in feed.stops.columns:
            for sid, z in zip(feed.stops["stop_id"], feed.stops["zone_id"], strict=True):
                if _opt(z) is not None and str(z):
                    zones[str(sid)] = str(z)
        fa = getattr(feed, "fare_attributes", None)
        if fa is None or not len(fa):
            continue
        own: list[str] = []
        for row in fa.to_dict("records"):
            fid = str(row["fare_id"])
            if fid in prices:
                log.warning("fare_id %s of %s already defined by another feed; ignored", fid, key)
                continue
            own.append(fid)
            prices[fid] = float(row["price"])
            t = _opt(row.get("transfers"))
            transfers[fid] = None if t is None or str(t) == "" else int(t)
            d = _opt(row.get("transfer_duration"))
            durations[fid] = None if d is None or str(d) == "" else float(d)
        fr = getattr(feed, "fare_rules", None)
        if fr is None or not len(fr):
            rules.extend(FareRule(fid, feed=key) for fid in own)
            continue
        for row in fr.to_dict("records"):
            fid = str(row["fare_id"])
            if fid not in own:
                continue
            rules.append(FareRule(
                fid, *(str(_opt(row.get(c)) or "") for c in
                       ("route_id", "origin_id", "destination_id", "contains_id")), feed=key))
    return FareTable(prices, tuple(rules), transfers, durations, dict(sorted(zones.items())),
                     feed_routes, default_yen=float(default_yen))
