"""Fares of timetabled rides from GTFS ``fare_attributes`` / ``fare_rules`` (pure data).

A ride on route ``r`` from stop ``a`` to stop ``b`` costs the cheapest fare whose rule
matches: ``route_id`` empty or ``r``, ``origin_id`` empty or the zone of ``a``,
``destination_id`` empty or the zone of ``b`` (``stops.zone_id``); ``contains_id`` rules are
not supported (ignored). Without a matching rule the ride costs ``default_yen`` (the central
1-zone bus fare of 230 yen from 2023-12-01, facts §2.3). An itinerary costs the sum of its
rides: no transfer discounts (道南バス transfer tickets are not modelled).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["FareTable", "fares_from_feeds"]


@dataclass(frozen=True)
class FareTable:
    """Fare rules by route: ``rules[route_id]`` = ``((origin_zone, dest_zone, price), ...)``
    where ``""`` matches anything; route ``""`` holds rules that apply to every route."""

    rules: Mapping[str, tuple[tuple[str, str, float], ...]] = field(default_factory=dict)
    stop_zone: Mapping[str, str] = field(default_factory=dict)
    default_yen: float = 230.0

    def ride_yen(self, route_id: str, from_stop: str, to_stop: str) -> float:
        """Fare of one ride (the cheapest matching rule, else ``default_yen``)."""
        zo = self.stop_zone.get(from_stop, "")
        zd = self.stop_zone.get(to_stop, "")
        best = math.inf
        for key in (route_id, ""):
            for o, d, price in self.rules.get(key, ()):
                if (o == "" or o == zo) and (d == "" or d == zd):
                    best = min(best, price)
        return float(best) if math.isfinite(best) else float(self.default_yen)

    def itinerary_yen(self, rides: Iterable[Any]) -> float:
        """Sum of the fares of ride legs (objects with route_id, from_stop, to_stop)."""
        return float(sum(self.ride_yen(r.route_id, r.from_stop, r.to_stop) for r in rides))


def _col(df: pd.DataFrame, name: str) -> list[str]:
    if name not in df.columns:
        return [""] * len(df)
    return ["" if pd.isna(v) else str(v) for v in df[name]]


def fares_from_feeds(feeds: Iterable[Any], *, default_yen: float = 230.0) -> FareTable:
    """Collect the fare rules of several feeds (objects with ``fare_attributes``,
    ``fare_rules`` and ``stops`` tables, e.g. :class:`~tomakomai_maas.supply.gtfs.Feed`).

    A feed whose ``fare_attributes`` exist but has no ``fare_rules`` applies its cheapest fare
    to all of its routes (GTFS: a single fare applies to the whole feed).
    """
    rules: dict[str, list[tuple[str, str, float]]] = {}
    stop_zone: dict[str, str] = {}
    for feed in feeds:
        stops = feed.stops
        if "zone_id" in stops.columns:
            for sid, z in zip(_col(stops, "stop_id"), _col(stops, "zone_id"), strict=True):
                if z:
                    stop_zone[sid] = z
        fa = getattr(feed, "fare_attributes", None)
        if fa is None or fa.empty:
            continue
        price = {fid: float(p) for fid, p in zip(_col(fa, "fare_id"), fa["price"], strict=True)}
        fr = getattr(feed, "fare_rules", None)
        if fr is None or fr.empty:
            cheapest = min(price.values())
            for rid in _col(feed.routes, "route_id"):
                rules.setdefault(rid, []).append(("", "", cheapest))
            continue
        for fid, rid, o, d in zip(_col(fr, "fare_id"), _col(fr, "route_id"),
                                  _col(fr, "origin_id"), _col(fr, "destination_id"),
                                  strict=True):
            if fid in price:
                rules.setdefault(rid, []).append((o, d, price[fid]))
    return FareTable(rules={k: tuple(v) for k, v in sorted(rules.items())},
                     stop_zone=dict(sorted(stop_zone.items())), default_yen=float(default_yen))
