"""Timetabled lines: GTFS trips -> :class:`~tomakomai_maas.world.TripSchedule`, and synthetic
lines (e.g. a proposed AV route) -> GTFS :class:`~tomakomai_maas.supply.gtfs.Feed`.

Nothing here runs in time; travel times and distances between stops come from the caller's
``leg`` function (the scenario build passes the network's TravelTimes oracle).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from tomakomai_maas.errors import GTFSError, TomakomaiError
from tomakomai_maas.supply.gtfs import Feed, build_feed, trips_on
from tomakomai_maas.supply.gtfs_schema import format_time_s
from tomakomai_maas.world import Stop, TripSchedule

__all__ = ["schedules_from_feed", "synthetic_line_feed", "LegFn", "WEEKDAY_NAMES"]

log = logging.getLogger(__name__)

#: ``leg(stop_a, stop_b, vehicle_type_name) -> (travel_time_s, dist_m)``
LegFn = Callable[[str, str, str], tuple[float, float]]

WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# ---------------------------------------------------------------------- GTFS -> schedules


def _route_name(short: object, long: object) -> str:
    parts = [str(x) for x in (short, long) if x is not None and x is not pd.NA and str(x)]
    return " ".join(parts)


def _fill_times(arr: np.ndarray, dep: np.ndarray, leg_time: Sequence[float],
                leg_dist: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Fill blank stop times by interpolating between timed stops.

    A stop with only one of arrival/departure gets the other equal to it. Untimed stops get
    times proportional to the cumulative leg travel time between the surrounding timed stops
    (road distance if all those travel times are 0, equal shares if distances are 0 too).
    """
    arr, dep = arr.copy(), dep.copy()
    arr = np.where(np.isnan(arr), dep, arr)
    dep = np.where(np.isnan(dep), arr, dep)
    timed = np.flatnonzero(~np.isnan(arr))
    for i, j in zip(timed[:-1], timed[1:], strict=True):
        if j - i < 2:
            continue
        for weights in (leg_time[i:j], leg_dist[i:j], [1.0] * (j - i)):
            cum = np.concatenate([[0.0], np.cumsum(weights, dtype="float64")])
            if cum[-1] > 0:
                break
        frac = cum[1:-1] / cum[-1]
        times = dep[i] + (arr[j] - dep[i]) * frac
        arr[i + 1:j] = times
        dep[i + 1:j] = times
    return arr, dep


def schedules_from_feed(
    feed: Feed,
    *,
    service_date: dt.date | str,
    stops: Mapping[str, Stop],
    leg: LegFn,
    vehicle_type_for_route: Mapping[str, str] | None = None,
    default_vehicle_type: str,
) -> tuple[TripSchedule, ...]:
    """Build the :class:`TripSchedule` of every trip running on ``service_date``.

    ``stops`` are the feed's stops snapped to the network (every stop used by a running trip
    must be there). ``leg(a, b, vehicle_type)`` gives the base travel time (s) and road
    distance (m) between consecutive stops; results are cached per (a, b, type).
    ``vehicle_type_for_route`` maps route_id -> vehicle type name (default
    ``default_vehicle_type``). ``block_id`` is copied from trips.txt. Stop times left blank
    in the feed are interpolated (see :func:`_fill_times`). ``timepoint`` is the feed's
    value where given; where blank, a stop is a timepoint when the feed gives its time (so
    always the first and last stop). Trips are returned ordered by first departure, then
    trip_id. Raises :class:`GTFSError` listing every unknown stop and failed leg.
    """
    vt_map = dict(vehicle_type_for_route or {})
    unknown_routes = sorted(set(vt_map) - set(feed.routes["route_id"]))
    if unknown_routes:
        log.warning("vehicle_type_for_route names routes not in the feed: %s", unknown_routes)
    trips = trips_on(feed, service_date)
    if trips.empty:
        log.warning("%s: no trips run on %s", feed.source or "feed", service_date)
        return ()
    routes = feed.routes.set_index("route_id")
    st = feed.stop_times[feed.stop_times["trip_id"].isin(trips["trip_id"].tolist())]
    st = st.sort_values(["trip_id", "stop_sequence"], kind="stable")
    by_trip = {tid: g for tid, g in st.groupby("trip_id", sort=False)}

    problems: list[str] = []
    missing = sorted(set(st["stop_id"]) - set(stops))
    for sid in missing:
        users = sorted(set(st.loc[st["stop_id"] == sid, "trip_id"]))
        shown = ", ".join(users[:5]) + (f" and {len(users) - 5} more" if len(users) > 5 else "")
        problems.append(f"stop_id {sid!r} (used by trips {shown}) is not among the snapped "
                        f"stops; allowed: stops passed in `stops` ({len(stops)} given)")
    if problems:
        raise GTFSError(f"{feed.source or 'feed'}: cannot build schedules:\n"
                        + "\n".join(f"  - {p}" for p in problems))

    cache: dict[tuple[str, str, str], tuple[float, float]] = {}

    def leg_cached(a: str, b: str, vt: str, trip_id: str) -> tuple[float, float]:
        key = (a, b, vt)
        if key not in cache:
            try:
                t_s, d_m = leg(a, b, vt)
            except TomakomaiError as exc:
                problems.append(f"trip {trip_id}: leg {a!r} -> {b!r} ({vt}): {exc}")
                t_s, d_m = math.nan, math.nan
            else:
                if not (math.isfinite(t_s) and math.isfinite(d_m) and t_s >= 0 and d_m >= 0):
                    problems.append(f"trip {trip_id}: leg {a!r} -> {b!r} ({vt}) returned "
                                    f"({t_s!r}, {d_m!r}); allowed: finite values >= 0")
            cache[key] = (float(t_s), float(d_m))
        return cache[key]

    out: list[TripSchedule] = []
    for trip in trips.itertuples(index=False):
        g = by_trip[trip.trip_id]
        ids = tuple(str(s) for s in g["stop_id"])
        vt = vt_map.get(trip.route_id, default_vehicle_type)
        legs = [leg_cached(a, b, vt, trip.trip_id) for a, b in zip(ids[:-1], ids[1:], strict=True)]
        leg_t = [x[0] for x in legs]
        leg_d = [x[1] for x in legs]
        arr0 = g["arrival_s"].to_numpy(dtype="float64")
        dep0 = g["departure_s"].to_numpy(dtype="float64")
        exact = ~(np.isnan(arr0) & np.isnan(dep0))
        arr, dep = _fill_times(arr0, dep0, leg_t, leg_d)
        tp_col = g["timepoint"]
        timepoint = tuple(
            bool(exact[k]) if tp is pd.NA else bool(tp == 1) for k, tp in enumerate(tp_col)
        )
        route = routes.loc[trip.route_id]
        direction = 0 if trip.direction_id is pd.NA else int(trip.direction_id)
        block = None if trip.block_id is pd.NA else str(trip.block_id)
        out.append(TripSchedule(
            trip_id=str(trip.trip_id),
            route_id=str(trip.route_id),
            route_name=_route_name(route["route_short_name"], route["route_long_name"]),
            direction_id=direction,
            vehicle_type=vt,
            stop_ids=ids,
            arr_s=tuple(float(x) for x in arr),
            dep_s=tuple(float(x) for x in dep),
            timepoint=timepoint,
            leg_time_s=tuple(leg_t),
            leg_dist_m=tuple(leg_d),
            block_id=block,
        ))
    if problems:
        raise GTFSError(f"{feed.source or 'feed'}: cannot build schedules:\n"
                        + "\n".join(f"  - {p}" for p in problems))
    out.sort(key=lambda s: (s.dep_s[0], s.trip_id))
    return tuple(out)


# ---------------------------------------------------------------- synthetic line -> GTFS


def _direction(key: int | str) -> int:
    names = {"outbound": 0, "inbound": 1, 0: 0, 1: 1, "0": 0, "1": 1}
    if key not in names:
        raise GTFSError(f"synthetic line: direction {key!r} is not allowed; allowed: "
                        "0 / 'outbound' (stops in the given order), 1 / 'inbound' (reverse)")
    return names[key]


def _weekday_flags(weekdays: Iterable[int | str]) -> dict[str, int]:
    flags = dict.fromkeys(WEEKDAY_NAMES, 0)
    for w in weekdays:
        if isinstance(w, int) and 0 <= w <= 6:
            flags[WEEKDAY_NAMES[w]] = 1
            continue
        matches = [n for n in WEEKDAY_NAMES if isinstance(w, str) and len(w) >= 3
                   and n.startswith(w.lower())]
        if len(matches) != 1:
            raise GTFSError(f"synthetic line: weekday {w!r} is not allowed; allowed: 0-6 "
                            "(Monday = 0) or a name such as 'mon', 'thursday'")
        flags[matches[0]] = 1
    return flags


def _ymd(value: dt.date | str) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d")
    text = str(value).replace("-", "")
    try:
        dt.datetime.strptime(text, "%Y%m%d")
    except ValueError as exc:
        raise GTFSError(f"synthetic line: date {value!r} is not valid; allowed: YYYY-MM-DD "
                        "or YYYYMMDD") from exc
    return text


def _stop_times_for(trip_id: str, stop_ids: Sequence[str], dep0: float,
                    run_s: Sequence[float], dwell: Sequence[float]) -> list[dict]:
    rows = []
    t = float(dep0)
    for k, sid in enumerate(stop_ids):
        if k == 0:
            arr = t
        else:
            arr = t + float(run_s[k - 1])
        dep = arr + (float(dwell[k]) if 0 < k < len(stop_ids) - 1 else 0.0)
        rows.append({"trip_id": trip_id, "arrival_s": float(round(arr)),
                     "departure_s": float(round(dep)), "stop_id": sid, "stop_sequence": k + 1,
                     "timepoint": 1})
        t = dep
    return rows


def synthetic_line_feed(
    *,
    line_id: str,
    name: str,
    stops: Sequence[tuple[str, str, float, float]],
    departures_s: Mapping[int | str, Sequence[float]],
    run_times_s: Sequence[float],
    dwell_s: float | Sequence[float] = 0.0,
    start_date: dt.date | str,
    end_date: dt.date | str,
    weekdays: Iterable[int | str] = range(7),
    removed_dates: Iterable[dt.date | str] = (),
    added_dates: Iterable[dt.date | str] = (),
    inbound_stops: Sequence[tuple[str, str, float, float]] | None = None,
    inbound_run_times_s: Sequence[float] | None = None,
    short_name: str | None = None,
    route_desc: str | None = None,
    route_type: int = 3,
    headsigns: Mapping[int | str, str] | None = None,
    block_id: str | None = None,
    fare_jpy: float | None = None,
    agency_id: str = "synthetic",
    agency_name: str = "Synthetic line (scenario)",
    agency_url: str = "https://example.invalid/",
    agency_timezone: str = "Asia/Tokyo",
    agency_lang: str = "ja",
    stop_descs: Mapping[str, str] | None = None,
    feed_version: str | None = None,
    publisher_name: str | None = None,
    publisher_url: str | None = None,
) -> Feed:
    """Make a GTFS feed for one bus line given by its stops, departures and run times.

    ``stops`` are ``(stop_id, name, lat, lon)`` in outbound order. ``departures_s`` maps a
    direction (0/'outbound' runs ``stops`` in order; 1/'inbound' runs ``inbound_stops`` or,
    if not given, ``stops`` reversed) to departure times from the first stop, seconds since
    midnight. ``run_times_s[k]`` is the scheduled running time from outbound stop k to k+1
    (``len(stops) - 1`` values); inbound uses ``inbound_run_times_s`` or the outbound values
    reversed. ``dwell_s`` (one value, or one per stop in each direction's order) is added at
    intermediate stops. Times are rounded to whole seconds; every stop is a timepoint.

    Service runs on ``weekdays`` (0-6, Monday = 0, or names) from ``start_date`` to
    ``end_date`` inclusive, minus ``removed_dates``, plus ``added_dates``. ``block_id``, if
    given, puts every trip on one vehicle (block). ``fare_jpy`` adds a flat fare
    (fare_attributes + fare_rules; 0 = free). ``stop_descs`` (stop_id -> text) fills
    stop_desc, e.g. to mark assumed positions. feed_info names ``publisher_name`` /
    ``publisher_url`` (default: the agency). Returns a validated :class:`Feed`; use
    :func:`~tomakomai_maas.supply.gtfs.write_feed` to export it.
    """
    n = len(stops)
    problems: list[str] = []
    if n < 2:
        problems.append(f"stops: {n} given; allowed: at least 2")
    if len(run_times_s) != n - 1:
        problems.append(f"run_times_s: {len(run_times_s)} values; allowed: one per leg "
                        f"({n - 1} for {n} stops)")
    in_stops = list(inbound_stops) if inbound_stops is not None else list(reversed(stops))
    if inbound_run_times_s is not None:
        in_run = list(inbound_run_times_s)
    elif inbound_stops is None:
        in_run = list(reversed(run_times_s))
    else:
        in_run = []
        problems.append("inbound_run_times_s: required when inbound_stops is given")
    if inbound_stops is not None and len(in_run) != len(in_stops) - 1:
        problems.append(f"inbound_run_times_s: {len(in_run)} values; allowed: "
                        f"{len(in_stops) - 1} for {len(in_stops)} inbound stops")
    for label, values in (("run_times_s", run_times_s), ("inbound_run_times_s", in_run)):
        bad = [v for v in values if not (math.isfinite(float(v)) and float(v) >= 0)]
        if bad:
            problems.append(f"{label}: {bad[:3]} not allowed; allowed: finite values >= 0")
    if problems:
        raise GTFSError(f"synthetic line {line_id!r}:\n" + "\n".join(f"  - {p}" for p in problems))

    def dwell_for(seq_len: int) -> list[float]:
        if isinstance(dwell_s, int | float):
            return [float(dwell_s)] * seq_len
        if len(dwell_s) != seq_len:
            raise GTFSError(f"synthetic line {line_id!r}: dwell_s has {len(dwell_s)} values; "
                            f"allowed: one number or one per stop ({seq_len})")
        return [float(x) for x in dwell_s]

    seqs = {0: ([s[0] for s in stops], list(run_times_s)),
            1: ([s[0] for s in in_stops], in_run)}
    heads = {_direction(k): v for k, v in (headsigns or {}).items()}
    route_id = line_id
    service_id = f"{line_id}_service"
    trip_rows, st_rows = [], []
    for key, deps in sorted(departures_s.items(), key=lambda kv: _direction(kv[0])):
        d = _direction(key)
        stop_ids, run = seqs[d]
        dwell = dwell_for(len(stop_ids))
        for dep0 in sorted(float(x) for x in deps):
            trip_id = f"{line_id}_{d}_{format_time_s(dep0).replace(':', '')}"
            trip_rows.append({"route_id": route_id, "service_id": service_id,
                              "trip_id": trip_id, "direction_id": d,
                              "trip_headsign": heads.get(d, pd.NA),
                              "block_id": block_id if block_id is not None else pd.NA})
            st_rows += _stop_times_for(trip_id, stop_ids, dep0, run, dwell)

    all_stops: dict[str, tuple[str, str, float, float]] = {}
    for s in list(stops) + list(in_stops):
        if s[0] in all_stops and all_stops[s[0]] != tuple(s):
            raise GTFSError(f"synthetic line {line_id!r}: stop_id {s[0]!r} is given twice "
                            f"with different data: {all_stops[s[0]]} vs {tuple(s)}")
        all_stops[s[0]] = tuple(s)  # type: ignore[assignment]
    descs = stop_descs or {}
    stops_df = pd.DataFrame([{"stop_id": sid, "stop_name": nm, "stop_lat": lat, "stop_lon": lon,
                              "stop_desc": descs.get(sid, pd.NA)}
                             for sid, nm, lat, lon in all_stops.values()])
    start, end = _ymd(start_date), _ymd(end_date)
    calendar = pd.DataFrame([{"service_id": service_id, **_weekday_flags(weekdays),
                              "start_date": start, "end_date": end}])
    cd_rows = [{"service_id": service_id, "date": _ymd(x), "exception_type": 2}
               for x in removed_dates]
    cd_rows += [{"service_id": service_id, "date": _ymd(x), "exception_type": 1}
                for x in added_dates]
    tables: dict[str, pd.DataFrame | None] = {
        "agency": pd.DataFrame([{"agency_id": agency_id, "agency_name": agency_name,
                                 "agency_url": agency_url, "agency_timezone": agency_timezone,
                                 "agency_lang": agency_lang}]),
        "stops": stops_df,
        "routes": pd.DataFrame([{"route_id": route_id, "agency_id": agency_id,
                                 "route_short_name": short_name or pd.NA,
                                 "route_long_name": name, "route_desc": route_desc or pd.NA,
                                 "route_type": route_type}]),
        "trips": pd.DataFrame(trip_rows, columns=["route_id", "service_id", "trip_id",
                                                  "direction_id", "trip_headsign", "block_id"]),
        "stop_times": pd.DataFrame(st_rows, columns=["trip_id", "arrival_s", "departure_s",
                                                     "stop_id", "stop_sequence", "timepoint"]),
        "calendar": calendar,
        "calendar_dates": pd.DataFrame(cd_rows, columns=["service_id", "date", "exception_type"]),
        "feed_info": pd.DataFrame([{"feed_publisher_name": publisher_name or agency_name,
                                    "feed_publisher_url": publisher_url or agency_url,
                                    "feed_lang": agency_lang,
                                    "feed_start_date": start, "feed_end_date": end,
                                    "feed_version": feed_version or pd.NA}]),
    }
    if fare_jpy is not None:
        fare_id = f"{line_id}_flat"
        tables["fare_attributes"] = pd.DataFrame([{
            "fare_id": fare_id, "price": float(fare_jpy), "currency_type": "JPY",
            "payment_method": 0, "transfers": 0, "agency_id": agency_id}])
        tables["fare_rules"] = pd.DataFrame([{"fare_id": fare_id, "route_id": route_id}])
    return build_feed(tables, source=f"synthetic line {line_id!r}")
