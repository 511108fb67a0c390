"""Parsing and validation of GTFS tables (internal; use :mod:`tomakomai_maas.supply.gtfs`).

Two stages, both *collect* problems instead of stopping at the first one:

1. :func:`parse_table` converts the string cells of one file to the pinned dtypes of
   :data:`~tomakomai_maas.supply.gtfs_schema.SCHEMA` and reports cells that cannot be
   converted (bad number, bad integer, bad time format) and missing required columns.
2. :func:`check_tables` checks values and consistency on the typed tables: blank required
   values, allowed values (route_type, direction_id, ...), dates, coordinates, duplicate ids,
   references between files, at least two stop_times per trip, times on the first and last
   stop, and times that never decrease along a trip.

Messages name the file, the line (line 1 is the header, so the first data row is line 2),
the row's key fields, the bad value and what is allowed. A check reports at most
:data:`MAX_ROWS_PER_CHECK` rows and then how many more rows have the same problem.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from tomakomai_maas.supply.gtfs_schema import (
    DATE_COLUMNS,
    ENUMS,
    REQUIRED_COLUMNS,
    REQUIRED_VALUES,
    SCHEMA,
    TIME_COLUMNS,
    TIME_FORMAT_TEXT,
    format_time_s,
    parse_time_s,
)

__all__ = ["parse_table", "check_tables", "MAX_ROWS_PER_CHECK"]

log = logging.getLogger(__name__)

MAX_ROWS_PER_CHECK = 20

# Key fields shown with a row in messages.
_KEYS: dict[str, tuple[str, ...]] = {
    "agency": ("agency_id",),
    "stops": ("stop_id",),
    "routes": ("route_id",),
    "trips": ("trip_id",),
    "stop_times": ("trip_id", "stop_sequence"),
    "calendar": ("service_id",),
    "calendar_dates": ("service_id", "date"),
    "shapes": ("shape_id", "shape_pt_sequence"),
    "feed_info": (),
    "fare_attributes": ("fare_id",),
    "fare_rules": ("fare_id",),
}

Gone = set[tuple[str, str]]
"""(table, Feed column) pairs whose column is missing from the file (reported once)."""

_FEED_TO_FILE_COL = {v: k for k, v in TIME_COLUMNS.items()}


def _file_columns(table: str) -> list[str]:
    return [_FEED_TO_FILE_COL.get(c, c) for c in SCHEMA[table]]


def _show(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "(blank)"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _report(
    problems: list[str],
    table: str,
    df: pd.DataFrame,
    mask: np.ndarray | pd.Series,
    message: Callable[[pd.Series], str],
) -> None:
    """Append one message per flagged row (at most MAX_ROWS_PER_CHECK, then a count)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    bad = df.loc[mask]
    keys = [k for k in _KEYS.get(table, ()) if k in df.columns]
    for idx, row in bad.head(MAX_ROWS_PER_CHECK).iterrows():
        key_text = ", ".join(f"{k}={_show(row[k])}" for k in keys)
        where = f"{table}.txt line {int(idx) + 2}" + (f" ({key_text})" if key_text else "")
        problems.append(f"{where}: {message(row)}")
    extra = len(bad) - MAX_ROWS_PER_CHECK
    if extra > 0:
        first = message(bad.iloc[0])
        problems.append(f"{table}.txt: ... and {extra} more rows with the same problem as: {first}")


# ---------------------------------------------------------------------------- stage 1: parse


def parse_table(
    table: str, raw: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, set[int]], list[str]]:
    """Convert one file's string cells to the schema dtypes.

    ``raw`` holds strings (blank = ``""`` or NA) with the file's column names. Returns the
    typed frame (same index; all int columns as nullable ``Int64`` at this stage; cells that
    cannot be converted become missing), the index labels of those cells by (Feed) column, and
    the problems found.
    """
    problems: list[str] = []
    raw = raw.rename(columns=lambda c: str(c).strip())
    schema = SCHEMA[table]
    file_cols = _file_columns(table)
    unknown = [c for c in raw.columns if c not in file_cols]
    if unknown:
        log.debug("%s.txt: ignoring columns not in the pinned schema: %s", table, ", ".join(unknown))
    missing = [c for c in REQUIRED_COLUMNS.get(table, ()) if c not in raw.columns]
    for c in missing:
        problems.append(
            f"{table}.txt: required column {c!r} is missing; "
            f"columns present: {', '.join(map(str, raw.columns)) or '(none)'}"
        )
    out: dict[str, pd.Series | np.ndarray] = {}
    bad_cells: dict[str, set[int]] = {}
    for col, dtype in schema.items():
        file_col = _FEED_TO_FILE_COL.get(col, col)
        if file_col not in raw.columns:
            if dtype == "float64":
                out[col] = pd.Series(np.nan, index=raw.index, dtype="float64")
            else:
                out[col] = pd.Series(pd.NA, index=raw.index,
                                     dtype="string" if dtype == "string" else "Int64")
            continue
        s = raw[file_col].astype("string").str.strip()
        s = s.mask(s == "", pd.NA)
        if col in TIME_COLUMNS.values():
            secs, bad = parse_time_s(s)
            _report(problems, table, raw.assign(**{file_col: s}), bad,
                    lambda r, fc=file_col: f"{fc} {_show(r[fc])} is not a valid time; "
                    f"allowed: {TIME_FORMAT_TEXT}")
            out[col] = pd.Series(secs, index=raw.index, dtype="float64")
        elif dtype == "string":
            out[col] = s
            continue
        else:
            num = pd.to_numeric(s, errors="coerce")
            num = pd.Series(num.to_numpy(dtype="float64", na_value=np.nan), index=raw.index)
            if dtype == "float64":
                bad = s.notna().to_numpy() & num.isna().to_numpy()
                what = "is not a number"
                out[col] = num
            else:
                with np.errstate(invalid="ignore"):
                    nonint = num.notna().to_numpy() & (num.to_numpy() != np.round(num.to_numpy()))
                bad = s.notna().to_numpy() & (num.isna().to_numpy() | nonint)
                what = "is not an integer"
                out[col] = num.where(~bad).astype("Int64")
            _report(problems, table, raw.assign(**{file_col: s}), bad,
                    lambda r, fc=file_col, w=what: f"{fc} {_show(r[fc])} {w}")
        bad_idx = {int(i) for i in raw.index[np.asarray(bad, dtype=bool)]}
        if bad_idx:
            bad_cells[col] = bad_idx
    typed = pd.DataFrame(out, index=raw.index)
    return typed, bad_cells, problems


# ---------------------------------------------------------------------------- stage 2: check


def _valid_date(value: object) -> bool:
    if not isinstance(value, str) or len(value) != 8 or not value.isdigit():
        return False
    try:
        dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


def _in(values: pd.Series, allowed: Iterable[object]) -> np.ndarray:
    """True where the value is present and in ``allowed`` (NA counts as allowed)."""
    ok = values.isin(list(allowed)).to_numpy(dtype=bool) | values.isna().to_numpy(dtype=bool)
    return ok


def check_tables(
    tables: dict[str, pd.DataFrame | None],
    *,
    skip_columns: Iterable[tuple[str, str]] = (),
    unparsed: Mapping[str, Mapping[str, set[int]]] | None = None,
) -> list[str]:
    """Check values and consistency of typed tables (index labels = data row numbers).

    ``tables`` maps table names to typed frames (``None`` = file absent). ``skip_columns``
    lists (table, file column) pairs already reported as missing, and ``unparsed`` the cells
    (table -> column -> row labels) already reported as unconvertible; their blank values are
    not reported again.
    """
    problems: list[str] = []
    skip = set(skip_columns)
    # (table, Feed column) of the missing columns: no per-row check reads them (their
    # absence is one problem, not one per row), nor references to or from them
    gone = {(tb, TIME_COLUMNS.get(c, c)) for tb, c in skip}
    unparsed = unparsed or {}
    t = {k: v for k, v in tables.items() if v is not None}

    for table, df in t.items():
        for col in REQUIRED_VALUES.get(table, ()):
            col = TIME_COLUMNS.get(col, col)
            if (table, _FEED_TO_FILE_COL.get(col, col)) in skip or col not in df.columns:
                continue
            blank = df[col].isna() & ~df.index.isin(list(unparsed.get(table, {}).get(col, ())))
            _report(problems, table, df, blank,
                    lambda r, c=col: f"required field {c!r} is blank")
        for (etable, col), (allowed, text) in ENUMS.items():
            if etable == table:
                _report(problems, table, df, ~_in(df[col], allowed),
                        lambda r, c=col, a=text: f"{c} {_show(r[c])} is not allowed; allowed: {a}")
        for col in DATE_COLUMNS.get(table, ()):
            if (table, col) in gone:
                continue
            bad = df[col].notna().to_numpy(dtype=bool) & ~df[col].map(
                _valid_date, na_action="ignore").fillna(True).to_numpy(dtype=bool)
            _report(problems, table, df, bad,
                    lambda r, c=col: f"{c} {_show(r[c])} is not a valid date; allowed: a real "
                    "calendar date written YYYYMMDD (e.g. 20230920)")

    _check_duplicates(t, problems)
    _check_stops(t, problems, gone)
    _check_routes_trips(t, problems, gone)
    _check_calendar(t, problems, gone)
    _check_stop_times(t, problems, unparsed.get("stop_times", {}), gone)
    _check_fares(t, problems, gone)
    return problems



def _check_duplicates(t: dict[str, pd.DataFrame], problems: list[str]) -> None:
    unique_keys = {
        "stops": ("stop_id",),
        "routes": ("route_id",),
        "trips": ("trip_id",),
        "calendar": ("service_id",),
        "calendar_dates": ("service_id", "date"),
        "stop_times": ("trip_id", "stop_sequence"),
        "shapes": ("shape_id", "shape_pt_sequence"),
        "fare_attributes": ("fare_id",),
    }
    if "agency" in t and len(t["agency"]) > 1:
        unique_keys["agency"] = ("agency_id",)
    for table, keys in unique_keys.items():
        df = t.get(table)
        if df is None or df.empty:
            continue
        sub = df[list(keys)]
        dup = sub.duplicated(keep="first").to_numpy() & sub.notna().all(axis=1).to_numpy()
        _report(problems, table, df, dup,
                lambda r, k=keys: "duplicate " + ", ".join(f"{c}={_show(r[c])}" for c in k)
                + "; allowed: each value once")


def _check_stops(t: dict[str, pd.DataFrame], problems: list[str], gone: Gone) -> None:
    stops = t.get("stops")
    if stops is None:
        return
    lat, lon = stops["stop_lat"], stops["stop_lon"]
    _report(problems, "stops", stops, lat.notna() & ((lat < -90) | (lat > 90)),
            lambda r: f"stop_lat {r['stop_lat']!r} is out of range; allowed: -90 to 90")
    _report(problems, "stops", stops, lon.notna() & ((lon < -180) | (lon > 180)),
            lambda r: f"stop_lon {r['stop_lon']!r} is out of range; allowed: -180 to 180")
    if ("stops", "stop_id") in gone:
        return
    ids = set(stops["stop_id"].dropna())
    ps = stops["parent_station"]
    _report(problems, "stops", stops, ps.notna().to_numpy() & ~_in(ps, ids),
            lambda r: f"parent_station {_show(r['parent_station'])} is not a stop_id in stops.txt")


def _check_routes_trips(t: dict[str, pd.DataFrame], problems: list[str], gone: Gone) -> None:
    routes, trips, agency = t.get("routes"), t.get("trips"), t.get("agency")
    if routes is not None:
        no_name = routes["route_short_name"].isna() & routes["route_long_name"].isna()
        _report(problems, "routes", routes, no_name,
                lambda r: "route_short_name and route_long_name are both blank; "
                "allowed: at least one of them")
        if agency is not None:
            agency_ids = set(agency["agency_id"].dropna())
            if len(agency) > 1:
                _report(problems, "routes", routes, routes["agency_id"].isna(),
                        lambda r: "agency_id is blank but agency.txt has several agencies; "
                        f"allowed: {sorted(agency_ids)}")
            if agency_ids:
                _report(problems, "routes", routes, ~_in(routes["agency_id"], agency_ids),
                        lambda r: f"agency_id {_show(r['agency_id'])} is not in agency.txt; "
                        f"allowed: {sorted(agency_ids)}")
    if trips is None:
        return
    if routes is not None and ("routes", "route_id") not in gone:
        route_ids = set(routes["route_id"].dropna())
        _report(problems, "trips", trips, ~_in(trips["route_id"], route_ids),
                lambda r: f"route_id {_show(r['route_id'])} is not a route_id in routes.txt")
    services: set[str] = set()
    have_calendar = False
    for table in ("calendar", "calendar_dates"):
        if table in t:
            have_calendar = True
            services |= set(t[table]["service_id"].dropna())
    ids_gone = {("calendar", "service_id"), ("calendar_dates", "service_id")} & gone
    if have_calendar and not ids_gone:
        _report(problems, "trips", trips, ~_in(trips["service_id"], services),
                lambda r: f"service_id {_show(r['service_id'])} is in neither calendar.txt "
                "nor calendar_dates.txt")
    shapes = t.get("shapes")
    if ("shapes", "shape_id") in gone:
        return
    shape_ids = set(shapes["shape_id"].dropna()) if shapes is not None else set()
    _report(problems, "trips", trips, ~_in(trips["shape_id"], shape_ids),
            lambda r: f"shape_id {_show(r['shape_id'])} is not a shape_id in shapes.txt")


def _check_calendar(t: dict[str, pd.DataFrame], problems: list[str], gone: Gone) -> None:
    if "calendar" not in t and "calendar_dates" not in t:
        problems.append("calendar.txt and calendar_dates.txt are both missing; "
                        "allowed: at least one of them")
        return
    cal = t.get("calendar")
    if cal is not None and not {("calendar", "start_date"), ("calendar", "end_date")} & gone:
        both = cal["start_date"].notna() & cal["end_date"].notna()
        reversed_ = both.to_numpy(dtype=bool) & (
            cal["start_date"].fillna("").to_numpy(dtype=object)
            > cal["end_date"].fillna("").to_numpy(dtype=object))
        _report(problems, "calendar", cal, reversed_,
                lambda r: f"start_date {r['start_date']} is after end_date {r['end_date']}; "
                "allowed: start_date <= end_date")


def _check_stop_times(
    t: dict[str, pd.DataFrame], problems: list[str], unparsed: Mapping[str, set[int]],
    gone: Gone,
) -> None:
    st = t.get("stop_times")
    if st is None:
        return
    stops, trips = t.get("stops"), t.get("trips")
    if stops is not None and ("stops", "stop_id") not in gone:
        stop_ids = set(stops["stop_id"].dropna())
        _report(problems, "stop_times", st, ~_in(st["stop_id"], stop_ids),
                lambda r: f"stop_id {_show(r['stop_id'])} is not a stop_id in stops.txt")
        stations = set(stops.loc[stops["location_type"].fillna(0) == 1, "stop_id"].dropna())
        if stations:
            _report(problems, "stop_times", st, st["stop_id"].isin(list(stations)),
                    lambda r: f"stop_id {_show(r['stop_id'])} is a station (location_type=1); "
                    "allowed: a stop or platform (location_type 0 or blank)")
    if trips is not None and not {("trips", "trip_id"), ("stop_times", "trip_id")} & gone:
        trip_ids = set(trips["trip_id"].dropna())
        _report(problems, "stop_times", st, ~_in(st["trip_id"], trip_ids),
                lambda r: f"trip_id {_show(r['trip_id'])} is not a trip_id in trips.txt")
        counts = st.groupby("trip_id", dropna=True).size()
        n = trips["trip_id"].map(counts).fillna(0).astype(int)
        _report(problems, "trips", trips.assign(_n=n), (n < 2) & trips["trip_id"].notna(),
                lambda r: f"trip has {r['_n']} stop_times; allowed: at least 2")

    times_gone = {("stop_times", "arrival_s"), ("stop_times", "departure_s")} & gone
    tp1 = (st["timepoint"] == 1).fillna(False).to_numpy(dtype=bool) & (not times_gone)
    no_time = st["arrival_s"].isna().to_numpy() & st["departure_s"].isna().to_numpy()
    _report(problems, "stop_times", st, tp1 & no_time,
            lambda r: "timepoint=1 but arrival_time and departure_time are blank; "
            "allowed: times on every timepoint")

    ok = st.dropna(subset=["trip_id", "stop_sequence"])
    order = ok.sort_values(["trip_id", "stop_sequence"], kind="stable")
    first = order.groupby("trip_id", sort=False).head(1).index
    last = order.groupby("trip_id", sort=False).tail(1).index
    for idx_set, which in ((first, "first"), (last, "last")):
        sub = st.loc[idx_set]
        for col, fcol in (("arrival_s", "arrival_time"), ("departure_s", "departure_time")):
            if ("stop_times", col) in gone:
                continue
            mask = pd.Series(False, index=st.index)
            mask.loc[sub.index[sub[col].isna().to_numpy()]] = True
            mask.loc[mask.index.isin(list(unparsed.get(col, ())))] = False
            _report(problems, "stop_times", st, mask.to_numpy(),
                    lambda r, f=fcol, w=which: f"{f} is blank on the {w} stop of the trip; "
                    "allowed: times on the first and last stop")

    # Times must never decrease along stop_sequence: arr_k <= dep_k <= arr_{k+1} ...
    n = len(order)
    if n:
        long = pd.DataFrame({
            "trip_id": np.repeat(order["trip_id"].to_numpy(dtype=object), 2),
            "row": np.repeat(order.index.to_numpy(), 2),
            "field": np.tile(np.array(["arrival_time", "departure_time"], dtype=object), n),
            "t": np.column_stack([order["arrival_s"].to_numpy(dtype="float64"),
                                  order["departure_s"].to_numpy(dtype="float64")]).ravel(),
        }).dropna(subset=["t"])
        prev = long.groupby("trip_id", sort=False)["t"].shift()
        bad = long[(long["t"] < prev).to_numpy(dtype=bool)].assign(prev=prev)
        bad = bad.drop_duplicates(subset=["row"])
        mask = st.index.isin(bad["row"].to_numpy())
        info = bad.set_index("row")
        _report(problems, "stop_times", st, mask,
                lambda r: f"{info.at[r.name, 'field']} {format_time_s(info.at[r.name, 't'])} is "
                f"earlier than the previous time {format_time_s(info.at[r.name, 'prev'])} "
                "of the trip; allowed: times that never decrease along stop_sequence")


def _check_fares(t: dict[str, pd.DataFrame], problems: list[str], gone: Gone) -> None:
    fa, fr = t.get("fare_attributes"), t.get("fare_rules")
    if fa is not None:
        _report(problems, "fare_attributes", fa, fa["price"].notna() & (fa["price"] < 0),
                lambda r: f"price {r['price']!r} is negative; allowed: >= 0")
    if fr is None:
        return
    fare_ids = set(fa["fare_id"].dropna()) if fa is not None else set()
    if ("fare_attributes", "fare_id") not in gone:
        _report(problems, "fare_rules", fr, ~_in(fr["fare_id"], fare_ids),
                lambda r: f"fare_id {_show(r['fare_id'])} is not a fare_id in "
                "fare_attributes.txt")
    routes = t.get("routes")
    route_ids = set(routes["route_id"].dropna()) if routes is not None else set()
    if ("routes", "route_id") not in gone:
        _report(problems, "fare_rules", fr, ~_in(fr["route_id"], route_ids),
                lambda r: f"route_id {_show(r['route_id'])} is not a route_id in routes.txt")
    stops = t.get("stops")
    zones = set(stops["zone_id"].dropna()) if stops is not None else set()
    for col in ("origin_id", "destination_id", "contains_id"):
        _report(problems, "fare_rules", fr, ~_in(fr[col], zones),
                lambda r, c=col: f"{c} {_show(r[c])} is not a zone_id in stops.txt")
