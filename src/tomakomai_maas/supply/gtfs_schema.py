"""Pinned schema of the GTFS / GTFS-JP tables held by :class:`tomakomai_maas.supply.gtfs.Feed`.

Every table of a :class:`Feed` has exactly the columns of :data:`SCHEMA` (in that order) with
the dtypes given there, whatever subset of columns the file had. Absent optional columns are
all-missing. Dtype vocabulary:

``"string"``
    pandas nullable string (``pd.NA`` for blank).
``"float64"``
    numpy float (``NaN`` for blank).
``"int64"``
    numpy integer; only used for columns whose value is required.
``"Int64"``
    pandas nullable integer (``pd.NA`` for blank).

Dates (``start_date``, ``end_date``, ``date``, ``feed_start_date``, ...) stay ``"string"`` in
GTFS form ``YYYYMMDD`` (validated on read). Times of day are **not** kept as strings:
``stop_times.arrival_time``/``departure_time`` become ``arrival_s``/``departure_s``, seconds
since midnight of the service day (float, ``NaN`` where the file leaves the time blank;
GTFS allows hours >= 24 for trips running past midnight). Times are whole seconds.

Columns of the files that are not listed here (e.g. GTFS-JP ``jp_trip_desc``) are dropped on
read with a log message; whole files that are not listed (GTFS-JP ``agency_jp.txt``,
``office_jp.txt``, ``routes_jp.txt``, ``translations.txt``, ...) are kept verbatim as strings
in ``Feed.extras`` and written back unchanged.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = [
    "SCHEMA",
    "TABLES",
    "REQUIRED_TABLES",
    "REQUIRED_COLUMNS",
    "REQUIRED_VALUES",
    "SORT_KEYS",
    "TIME_COLUMNS",
    "DATE_COLUMNS",
    "ENUMS",
    "ROUTE_TYPES",
    "parse_time_s",
    "format_time_s",
]

#: table -> {column: dtype}, in file column order.
SCHEMA: dict[str, dict[str, str]] = {
    "agency": {
        "agency_id": "string",
        "agency_name": "string",
        "agency_url": "string",
        "agency_timezone": "string",
        "agency_lang": "string",
        "agency_phone": "string",
        "agency_fare_url": "string",
        "agency_email": "string",
    },
    "stops": {
        "stop_id": "string",
        "stop_code": "string",
        "stop_name": "string",
        "stop_desc": "string",
        "stop_lat": "float64",  # WGS84 degrees, rounded to 1e-7 (~1 cm)
        "stop_lon": "float64",
        "zone_id": "string",
        "stop_url": "string",
        "location_type": "Int64",  # blank/0 stop, 1 station, 2 entrance, 3 node, 4 boarding area
        "parent_station": "string",
        "stop_timezone": "string",
        "wheelchair_boarding": "Int64",
        "platform_code": "string",
    },
    "routes": {
        "route_id": "string",
        "agency_id": "string",
        "route_short_name": "string",
        "route_long_name": "string",
        "route_desc": "string",
        "route_type": "int64",  # 3 = bus; see ROUTE_TYPES
        "route_url": "string",
        "route_color": "string",
        "route_text_color": "string",
        "route_sort_order": "Int64",
    },
    "trips": {
        "route_id": "string",
        "service_id": "string",
        "trip_id": "string",
        "trip_headsign": "string",
        "trip_short_name": "string",
        "direction_id": "Int64",  # 0/1
        "block_id": "string",  # trips of one block are run by one vehicle
        "shape_id": "string",
        "wheelchair_accessible": "Int64",
        "bikes_allowed": "Int64",
    },
    "stop_times": {
        "trip_id": "string",
        "arrival_s": "float64",  # file column arrival_time; seconds since midnight
        "departure_s": "float64",  # file column departure_time; seconds since midnight
        "stop_id": "string",
        "stop_sequence": "int64",
        "stop_headsign": "string",
        "pickup_type": "Int64",
        "drop_off_type": "Int64",
        "shape_dist_traveled": "float64",  # in the feed's own units (not interpreted)
        "timepoint": "Int64",  # 1 exact, 0 approximate, blank = unspecified
    },
    "calendar": {
        "service_id": "string",
        "monday": "int64",
        "tuesday": "int64",
        "wednesday": "int64",
        "thursday": "int64",
        "friday": "int64",
        "saturday": "int64",
        "sunday": "int64",
        "start_date": "string",  # YYYYMMDD
        "end_date": "string",  # YYYYMMDD, inclusive
    },
    "calendar_dates": {
        "service_id": "string",
        "date": "string",  # YYYYMMDD
        "exception_type": "int64",  # 1 added, 2 removed
    },
    "shapes": {
        "shape_id": "string",
        "shape_pt_lat": "float64",
        "shape_pt_lon": "float64",
        "shape_pt_sequence": "int64",
        "shape_dist_traveled": "float64",
    },
    "feed_info": {
        "feed_publisher_name": "string",
        "feed_publisher_url": "string",
        "feed_lang": "string",
        "default_lang": "string",
        "feed_start_date": "string",
        "feed_end_date": "string",
        "feed_version": "string",
        "feed_contact_email": "string",
        "feed_contact_url": "string",
    },
    "fare_attributes": {
        "fare_id": "string",
        "price": "float64",
        "currency_type": "string",  # ISO 4217, e.g. JPY
        "payment_method": "int64",  # 0 on board, 1 before boarding
        "transfers": "Int64",  # 0, 1, 2; blank = unlimited
        "agency_id": "string",
        "transfer_duration": "Int64",  # seconds
    },
    "fare_rules": {
        "fare_id": "string",
        "route_id": "string",
        "origin_id": "string",
        "destination_id": "string",
        "contains_id": "string",
    },
}

TABLES: tuple[str, ...] = tuple(SCHEMA)
REQUIRED_TABLES: tuple[str, ...] = ("agency", "stops", "routes", "trips", "stop_times")
# Plus: at least one of calendar / calendar_dates.

#: Columns that must be present in the file when the file is present.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "agency": ("agency_name", "agency_url", "agency_timezone"),
    "stops": ("stop_id", "stop_name", "stop_lat", "stop_lon"),
    "routes": ("route_id", "route_type"),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "calendar": tuple(SCHEMA["calendar"]),
    "calendar_dates": ("service_id", "date", "exception_type"),
    "shapes": ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"),
    "feed_info": ("feed_publisher_name", "feed_publisher_url", "feed_lang"),
    "fare_attributes": ("fare_id", "price", "currency_type", "payment_method", "transfers"),
    "fare_rules": ("fare_id",),
}

#: Columns whose value must not be blank on any row (a simplification of GTFS's conditional
#: requirements: stops are required to have names and coordinates whatever location_type).
REQUIRED_VALUES: dict[str, tuple[str, ...]] = {
    **{t: cols for t, cols in REQUIRED_COLUMNS.items()},
    "stop_times": ("trip_id", "stop_id", "stop_sequence"),
    "fare_attributes": ("fare_id", "price", "currency_type", "payment_method"),
}

#: Row order of every table in a Feed and in written files (deterministic output).
SORT_KEYS: dict[str, tuple[str, ...]] = {
    "agency": ("agency_id", "agency_name"),
    "stops": ("stop_id",),
    "routes": ("route_id",),
    "trips": ("trip_id",),
    "stop_times": ("trip_id", "stop_sequence"),
    "calendar": ("service_id",),
    "calendar_dates": ("service_id", "date"),
    "shapes": ("shape_id", "shape_pt_sequence"),
    "feed_info": (),
    "fare_attributes": ("fare_id",),
    "fare_rules": ("fare_id", "route_id", "origin_id", "destination_id", "contains_id"),
}

#: file column -> Feed column for times of day.
TIME_COLUMNS: dict[str, str] = {"arrival_time": "arrival_s", "departure_time": "departure_s"}

DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "calendar": ("start_date", "end_date"),
    "calendar_dates": ("date",),
    "feed_info": ("feed_start_date", "feed_end_date"),
}

#: Basic GTFS route types plus the extended (Hierarchical Vehicle Type) range 100-1799.
ROUTE_TYPES: frozenset[int] = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 11, 12}) | frozenset(
    range(100, 1800)
)
ROUTE_TYPES_TEXT = "0-7, 11, 12 (3 = bus) or an extended route type 100-1799"

#: (table, column) -> (allowed values, text for messages). Blank is allowed unless required.
ENUMS: dict[tuple[str, str], tuple[frozenset[int], str]] = {
    ("stops", "location_type"): (frozenset(range(5)), "0-4"),
    ("stops", "wheelchair_boarding"): (frozenset(range(3)), "0-2"),
    ("routes", "route_type"): (ROUTE_TYPES, ROUTE_TYPES_TEXT),
    ("trips", "direction_id"): (frozenset({0, 1}), "0 or 1"),
    ("trips", "wheelchair_accessible"): (frozenset(range(3)), "0-2"),
    ("trips", "bikes_allowed"): (frozenset(range(3)), "0-2"),
    ("stop_times", "pickup_type"): (frozenset(range(4)), "0-3"),
    ("stop_times", "drop_off_type"): (frozenset(range(4)), "0-3"),
    ("stop_times", "timepoint"): (frozenset({0, 1}), "0 or 1"),
    **{
        ("calendar", day): (frozenset({0, 1}), "0 or 1")
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    },
    ("calendar_dates", "exception_type"): (frozenset({1, 2}), "1 (added) or 2 (removed)"),
    ("fare_attributes", "payment_method"): (frozenset({0, 1}), "0 or 1"),
    ("fare_attributes", "transfers"): (frozenset({0, 1, 2}), "0, 1, 2 or blank (unlimited)"),
}

TIME_FORMAT_TEXT = "H:MM:SS or HH:MM:SS, minutes and seconds 00-59 (hours may be 24 or more)"
_TIME_RE = re.compile(r"^(\d{1,3}):([0-5]\d):([0-5]\d)$")


def parse_time_s(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse GTFS times (strings) to seconds since midnight.

    Returns ``(seconds, bad)``: float seconds (``NaN`` for blank or bad) and a boolean mask of
    non-blank values that are not valid GTFS times.
    """
    s = values.astype("string").str.strip()
    blank = s.isna().to_numpy() | (s == "").fillna(True).to_numpy(dtype=bool)
    parts = s.str.extract(_TIME_RE.pattern)
    ok = parts[0].notna().to_numpy(dtype=bool)
    h = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    m = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    sec = pd.to_numeric(parts[2], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    out = np.where(ok, h * 3600.0 + m * 60.0 + sec, np.nan)
    return out, ~blank & ~ok


def format_time_s(seconds: float) -> str:
    """Seconds since midnight -> ``HH:MM:SS`` (hours may exceed 23); ``""`` for NaN."""
    if seconds is None or seconds is pd.NA or np.isnan(seconds):
        return ""
    total = int(round(float(seconds)))
    if total < 0:
        raise ValueError(f"negative time of day: {seconds!r} s")
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"
