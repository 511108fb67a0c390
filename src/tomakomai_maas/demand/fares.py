"""Backwards-compatible names for the one fare model in :mod:`tomakomai_maas.supply.fares`.

The mode-choice skims and the cost model's revenue price rides with the same
:class:`~tomakomai_maas.supply.fares.FareTable` (see that module for the GTFS fare rules,
transfers and the fare of rides without fare data).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tomakomai_maas.supply.fares import DEFAULT_FARE_YEN, FareTable, fare_table_from_feeds

__all__ = ["FareTable", "fares_from_feeds"]


def fares_from_feeds(feeds: Iterable[Any], *, default_yen: float = DEFAULT_FARE_YEN
                     ) -> FareTable:
    """:func:`~tomakomai_maas.supply.fares.fare_table_from_feeds` (old name)."""
    return fare_table_from_feeds(list(feeds), default_yen=default_yen)
