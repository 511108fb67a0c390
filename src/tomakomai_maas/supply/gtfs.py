"""Read, validate and write GTFS / GTFS-JP feeds.

A :class:`Feed` holds one DataFrame per GTFS table with the pinned columns and dtypes of
:data:`~tomakomai_maas.supply.gtfs_schema.SCHEMA` (see that module for the column list, the
dtype vocabulary and how times and dates are represented). Tables are sorted by
:data:`~tomakomai_maas.supply.gtfs_schema.SORT_KEYS` and indexed 0..n-1, so
``write_feed`` output is deterministic and line numbers in messages about an in-memory feed
match the written file.

Reading uses pandas (every cell read as a string, then converted with checks), so a bad cell
is reported instead of crashing the reader; GTFS-JP extension files (``agency_jp.txt``,
``office_jp.txt``, ``routes_jp.txt``, ``translations.txt``, ...) are kept verbatim in
``Feed.extras``. ``frequencies.txt`` is not supported: it is kept in ``extras`` and a warning
is logged (trips then run only at their stop_times).

Example::

    feed = read_feed("gtfs/tomakomai_av_trial_2023")
    trips = trips_on(feed, "2023-09-20")
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tomakomai_maas.errors import GTFSError
from tomakomai_maas.supply.gtfs_schema import (
    REQUIRED_COLUMNS,
    REQUIRED_TABLES,
    SCHEMA,
    SORT_KEYS,
    TABLES,
    TIME_COLUMNS,
    format_time_s,
)
from tomakomai_maas.supply.gtfs_validate import check_tables, parse_table

__all__ = [
    "Feed",
    "read_feed",
    "write_feed",
    "build_feed",
    "merge_feeds",
    "validate_feed",
    "active_service_ids",
    "trips_on",
    "service_dates",
    "feed_summary",
    "TRIPS_ON_COLUMNS",
    "MAX_MESSAGE_PROBLEMS",
]

log = logging.getLogger(__name__)

#: At most this many problems are spelled out in a GTFSError message (all are in ``.problems``).
MAX_MESSAGE_PROBLEMS = 200

#: Columns added by :func:`trips_on` to the trips table.
TRIPS_ON_COLUMNS: dict[str, str] = {
    "start_s": "float64",  # departure time at the first stop, seconds since midnight
    "end_s": "float64",  # arrival time at the last stop, seconds since midnight
    "first_stop_id": "string",
    "last_stop_id": "string",
    "n_stops": "int64",
}

_OPTIONAL_TABLES = tuple(t for t in TABLES if t not in REQUIRED_TABLES)
_ALWAYS_FRAMES = REQUIRED_TABLES + ("calendar", "calendar_dates")


@dataclass(frozen=True, eq=False)
class Feed:
    """A GTFS feed as typed DataFrames (treat them as read-only).

    ``calendar`` and ``calendar_dates`` are always DataFrames (possibly empty);
    ``shapes``, ``feed_info``, ``fare_attributes`` and ``fare_rules`` are ``None`` when the
    feed has no such file. ``extras`` maps other file names (without ``.txt``) to string
    DataFrames kept verbatim. ``source`` is where the feed was read from (for messages).
    Build feeds with :func:`read_feed` or :func:`build_feed`, which pin dtypes and row order.
    """

    agency: pd.DataFrame
    stops: pd.DataFrame
    routes: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame
    calendar_dates: pd.DataFrame
    shapes: pd.DataFrame | None = None
    feed_info: pd.DataFrame | None = None
    fare_attributes: pd.DataFrame | None = None
    fare_rules: pd.DataFrame | None = None
    extras: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    source: str = ""

    def table(self, name: str) -> pd.DataFrame | None:
        """The table called ``name`` (a key of SCHEMA), or ``None`` if absent."""
        if name not in SCHEMA:
            raise KeyError(f"unknown GTFS table {name!r}; known: {', '.join(TABLES)}")
        return getattr(self, name)

    def tables(self) -> dict[str, pd.DataFrame | None]:
        """All schema tables by name (``None`` for absent optional tables)."""
        return {name: getattr(self, name) for name in TABLES}

    def equals(self, other: Feed) -> bool:
        """Same tables (an absent table equals an empty one), same extras; ``source`` ignored."""
        for name in TABLES:
            a, b = self.table(name), other.table(name)
            a_empty = a is None or a.empty
            b_empty = b is None or b.empty
            if a_empty or b_empty:
                if a_empty != b_empty:
                    return False
                continue
            if not a.equals(b) or list(a.dtypes.astype(str)) != list(b.dtypes.astype(str)):
                return False
        if sorted(self.extras) != sorted(other.extras):
            return False
        return all(self.extras[k].equals(other.extras[k]) for k in self.extras)


# ------------------------------------------------------------------------------- building


def _raise(problems: list[str], source: str) -> None:
    shown = problems[:MAX_MESSAGE_PROBLEMS]
    more = len(problems) - len(shown)
    text = f"GTFS feed {source} has {len(problems)} problem(s):\n" + "\n".join(
        f"  - {p}" for p in shown)
    if more > 0:
        text += f"\n  ... and {more} more (see GTFSError.problems)"
    err = GTFSError(text)
    err.problems = list(problems)  # type: ignore[attr-defined]
    raise err


def _finalise(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Cast to the final schema dtypes, round, sort and re-index a clean typed table."""
    out = {}
    for col, dtype in SCHEMA[table].items():
        s = df[col]
        if dtype == "int64":
            out[col] = s.astype("int64")
        elif dtype == "Int64":
            out[col] = s.astype("Int64")
        elif dtype == "float64":
            s = s.astype("float64")
            if col in ("stop_lat", "stop_lon", "shape_pt_lat", "shape_pt_lon"):
                s = s.round(7)
            out[col] = s
        else:
            out[col] = s.astype("string")
    res = pd.DataFrame(out)
    keys = list(SORT_KEYS[table])
    if keys and len(res):
        res = res.sort_values(keys, kind="stable", na_position="first")
    return res.reset_index(drop=True)


def _tables_to_feed(
    raw: dict[str, pd.DataFrame],
    *,
    extras: Mapping[str, pd.DataFrame],
    source: str,
    problems: list[str],
    validate: bool = True,
) -> Feed:
    """Parse string tables, check them, and build a Feed (raise GTFSError on problems)."""
    typed: dict[str, pd.DataFrame | None] = {}
    unparsed: dict[str, dict[str, set[int]]] = {}
    skip: list[tuple[str, str]] = []
    for name in TABLES:
        if name not in raw:
            typed[name] = None
            continue
        cols = {str(c).strip() for c in raw[name].columns}
        skip += [(name, c) for c in REQUIRED_COLUMNS.get(name, ()) if c not in cols]
        typed[name], unparsed[name], found = parse_table(name, raw[name])
        problems += found
    for name in REQUIRED_TABLES:
        if typed[name] is None:
            problems.append(f"{name}.txt: required file is missing or empty")
    if validate:
        problems += check_tables(typed, skip_columns=skip, unparsed=unparsed)
    if problems:
        _raise(problems, source)
    frames: dict[str, pd.DataFrame | None] = {}
    for name in TABLES:
        df = typed[name]
        if df is None:
            frames[name] = _finalise(name, _empty(name)) if name in _ALWAYS_FRAMES else None
        else:
            frames[name] = _finalise(name, df)
    return Feed(**frames, extras=dict(extras), source=source)  # type: ignore[arg-type]


def _empty(table: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=("Int64" if d == "int64" else d))
                         for c, d in SCHEMA[table].items()})


def _stringify(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Typed (or string) frame with Feed column names -> string frame with file columns."""
    out = {}
    for col in df.columns:
        s = df[col]
        if col in TIME_COLUMNS.values():
            file_col = {v: k for k, v in TIME_COLUMNS.items()}[col]
            if file_col in df.columns:
                continue
            out[file_col] = [format_time_s(v) if pd.notna(v) else "" for v in s]
        else:
            out[col] = [_cell(v) for v in s]
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)), dtype=object)


def _cell(v: object) -> str:
    if v is None or v is pd.NA:
        return ""
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return ""
        if float(v).is_integer() and abs(v) < 1e15:
            return str(int(v))
        return np.format_float_positional(float(v), trim="-")
    if isinstance(v, bool | np.bool_):
        return str(int(v))
    return str(v)


def build_feed(
    tables: Mapping[str, pd.DataFrame | None],
    *,
    extras: Mapping[str, pd.DataFrame] | None = None,
    source: str = "(in memory)",
) -> Feed:
    """Make a validated :class:`Feed` from DataFrames keyed by table name.

    Frames may use either the Feed columns (``arrival_s``/``departure_s`` in seconds) or the
    GTFS file columns (``arrival_time``/``departure_time`` strings); values are converted to
    the pinned dtypes, missing optional columns are added, rows are sorted. Raises
    :class:`GTFSError` listing every problem.
    """
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        raise GTFSError(f"build_feed: unknown table(s) {unknown}; allowed: {', '.join(TABLES)}")
    raw = {name: _stringify(name, df) for name, df in tables.items() if df is not None}
    # An empty optional table is the same as an absent one.
    raw = {k: v for k, v in raw.items() if k in REQUIRED_TABLES or len(v)}
    return _tables_to_feed(raw, extras=extras or {}, source=source, problems=[])


def validate_feed(feed: Feed) -> list[str]:
    """All problems of an in-memory feed (empty list = valid)."""
    tables = {name: df for name, df in feed.tables().items()}
    for name in ("calendar", "calendar_dates"):
        if tables[name] is not None and tables[name].empty:
            tables[name] = None
    return check_tables(tables)


def merge_feeds(*feeds: Feed, source: str = "(merged)") -> Feed:
    """Concatenate feeds (e.g. a GTFS feed and a synthetic AV line) into one validated feed.

    Rows that are exactly equal (e.g. the same agency or stop in two feeds) are kept once;
    two different rows with the same id are reported as duplicates.
    """
    if not feeds:
        raise GTFSError("merge_feeds: no feeds given")
    tables: dict[str, pd.DataFrame | None] = {}
    for name in TABLES:
        parts = [f.table(name) for f in feeds if f.table(name) is not None]
        parts = [p for p in parts if not p.empty]
        tables[name] = (pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)
                        if parts else None)
    for name in REQUIRED_TABLES:
        if tables[name] is None:
            tables[name] = _empty(name)
    extras: dict[str, pd.DataFrame] = {}
    for f in feeds:
        for k, v in f.extras.items():
            extras[k] = pd.concat([extras[k], v], ignore_index=True).drop_duplicates(
                ignore_index=True) if k in extras else v
    return build_feed(tables, extras=extras, source=source)


# -------------------------------------------------------------------------------- reading


def _read_csv(data: bytes, name: str, problems: list[str]) -> pd.DataFrame | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(f"{name}: not UTF-8 text ({exc}); allowed: UTF-8 (GTFS and GTFS-JP)")
        return None
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                           skipinitialspace=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.append(f"{name}: cannot be parsed as CSV ({exc})")
        return None


def _collect_files(path: Path) -> dict[str, bytes]:
    """File name stem -> bytes for every ``*.txt`` of a folder or zip (non-empty files)."""
    files: dict[str, bytes] = {}
    if path.is_dir():
        for p in sorted(path.iterdir()):
            if p.is_file() and p.suffix == ".txt" and p.stat().st_size:
                files[p.stem] = p.read_bytes()
        return files
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if not i.is_dir() and i.filename.endswith(".txt")]
            for info in sorted(members, key=lambda i: i.filename):
                stem = Path(info.filename).stem
                if stem in files:
                    raise GTFSError(f"GTFS zip {path}: file {stem}.txt occurs twice "
                                    f"(second: {info.filename}); allowed: one of each file")
                if info.file_size:
                    files[stem] = zf.read(info)
    except zipfile.BadZipFile as exc:
        raise GTFSError(f"GTFS feed {path}: not a folder or a zip file ({exc})") from exc
    return files


def read_feed(path: str | os.PathLike[str], *, validate: bool = True) -> Feed:
    """Read a GTFS or GTFS-JP feed from a folder of ``.txt`` files or a ``.zip``.

    Every problem found (missing required file/column, bad value format, broken references,
    non-decreasing times, invalid dates or route types, ...) is collected and raised as one
    :class:`GTFSError`. ``validate=False`` skips the consistency checks (format problems are
    still errors, since the values cannot be converted).
    """
    p = Path(path)
    if not p.exists():
        raise GTFSError(f"GTFS feed {p}: no such file or folder; allowed: a folder of .txt "
                        "files or a .zip")
    files = _collect_files(p)
    problems: list[str] = []
    raw: dict[str, pd.DataFrame] = {}
    extras: dict[str, pd.DataFrame] = {}
    for stem, data in files.items():
        df = _read_csv(data, f"{stem}.txt", problems)
        if df is None:
            continue
        if stem in SCHEMA:
            raw[stem] = df
        else:
            if stem == "frequencies":
                log.warning("%s: frequencies.txt is not supported; trips run only at their "
                            "stop_times", p)
            else:
                log.debug("%s: keeping non-core file %s.txt verbatim (e.g. GTFS-JP extension)",
                         p, stem)
            extras[stem] = df
    feed = _tables_to_feed(raw, extras=extras, source=str(p), problems=problems,
                           validate=validate)
    log.debug("read GTFS feed %s: %d stops, %d routes, %d trips", p, len(feed.stops),
              len(feed.routes), len(feed.trips))
    return feed


# -------------------------------------------------------------------------------- writing


def _format_table(table: str, df: pd.DataFrame) -> str:
    required = set(REQUIRED_COLUMNS.get(table, ()))
    cols = {}
    for col in SCHEMA[table]:
        file_col = {v: k for k, v in TIME_COLUMNS.items()}.get(col, col)
        s = df[col]
        if s.isna().all() and file_col not in required:
            continue
        if col in TIME_COLUMNS.values():
            cols[file_col] = [format_time_s(v) for v in s.to_numpy(dtype="float64")]
        else:
            cols[file_col] = [_cell(v) for v in s]
    out = pd.DataFrame(cols, dtype=object)
    return out.to_csv(index=False, lineterminator="\n")


def _feed_files(feed: Feed) -> dict[str, str]:
    files: dict[str, str] = {}
    for name in TABLES:
        df = feed.table(name)
        if df is None or (df.empty and name not in REQUIRED_TABLES):
            continue
        files[f"{name}.txt"] = _format_table(name, _finalise(name, df))
    for name in sorted(feed.extras):
        files[f"{name}.txt"] = feed.extras[name].to_csv(index=False, lineterminator="\n")
    return dict(sorted(files.items()))


def write_feed(feed: Feed, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``feed`` as a folder of ``.txt`` files, or as a zip if ``path`` ends with ``.zip``.

    Output is deterministic: rows sorted, columns in schema order (all-blank optional columns
    omitted), ``\\n`` line ends, UTF-8 without BOM, fixed zip timestamps. Files are written to
    a temporary location first and moved into place, so a failure leaves ``path`` untouched.
    An existing ``path`` is an error unless ``overwrite=True``, in which case the ``.txt``
    files already in the folder are replaced (other files, e.g. a README, are kept).
    """
    out = Path(path)
    files = _feed_files(feed)
    if out.exists() and not overwrite:
        raise GTFSError(f"write_feed: {out} exists; pass overwrite=True to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".zip":
        fd, tmp = tempfile.mkstemp(suffix=".zip", dir=out.parent)
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name, text in files.items():
                    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    zf.writestr(info, text.encode("utf-8"))
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return out
    tmpdir = Path(tempfile.mkdtemp(prefix=".gtfs-", dir=out.parent))
    try:
        for name, text in files.items():
            (tmpdir / name).write_bytes(text.encode("utf-8"))
        if not out.exists():
            os.replace(tmpdir, out)
            return out
        if not out.is_dir():
            raise GTFSError(f"write_feed: {out} exists and is not a folder")
        for old in out.glob("*.txt"):
            if old.name not in files:
                old.unlink()
        for name in files:
            os.replace(tmpdir / name, out / name)
    finally:
        if tmpdir.exists():
            shutil.rmtree(tmpdir)
    return out


# --------------------------------------------------------------------------- service days


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    raise GTFSError(f"date {value!r} is not valid; allowed: YYYY-MM-DD or YYYYMMDD")


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def active_service_ids(feed: Feed, date: dt.date | str) -> frozenset[str]:
    """service_ids running on ``date``: calendar (date range + weekday) plus calendar_dates
    additions (exception_type 1) minus removals (exception_type 2)."""
    d = _as_date(date)
    ymd = d.strftime("%Y%m%d")
    cal = feed.calendar
    active: set[str] = set()
    if cal is not None and not cal.empty:
        on = (cal["start_date"] <= ymd) & (cal["end_date"] >= ymd) & (cal[_WEEKDAYS[d.weekday()]] == 1)
        active = set(cal.loc[on.to_numpy(dtype=bool), "service_id"])
    cd = feed.calendar_dates
    if cd is not None and not cd.empty:
        today = cd[cd["date"] == ymd]
        active |= set(today.loc[today["exception_type"] == 1, "service_id"])
        active -= set(today.loc[today["exception_type"] == 2, "service_id"])
    return frozenset(active)


def trips_on(feed: Feed, date: dt.date | str) -> pd.DataFrame:
    """Trips running on ``date``: the trips table plus :data:`TRIPS_ON_COLUMNS`.

    Sorted by ``start_s`` then ``trip_id``; indexed 0..n-1.
    """
    services = active_service_ids(feed, date)
    trips = feed.trips[feed.trips["service_id"].isin(sorted(services))]
    st = feed.stop_times[feed.stop_times["trip_id"].isin(trips["trip_id"].tolist())]
    st = st.sort_values(["trip_id", "stop_sequence"], kind="stable")
    g = st.groupby("trip_id", sort=False)
    firsts, lasts = g.head(1).set_index("trip_id"), g.tail(1).set_index("trip_id")
    first_dep = firsts["departure_s"].fillna(firsts["arrival_s"])
    last_arr = lasts["arrival_s"].fillna(lasts["departure_s"])
    out = trips.assign(
        start_s=trips["trip_id"].map(first_dep).astype("float64"),
        end_s=trips["trip_id"].map(last_arr).astype("float64"),
        first_stop_id=trips["trip_id"].map(firsts["stop_id"]).astype("string"),
        last_stop_id=trips["trip_id"].map(lasts["stop_id"]).astype("string"),
        n_stops=trips["trip_id"].map(g.size()).fillna(0).astype("int64"),
    )
    return out.sort_values(["start_s", "trip_id"], kind="stable").reset_index(drop=True)


def service_dates(feed: Feed) -> list[dt.date]:
    """Every date on which at least one service_id is active, in order."""
    candidates: set[str] = set()
    cal = feed.calendar
    if cal is not None and not cal.empty:
        start = _as_date(cal["start_date"].min())
        end = _as_date(cal["end_date"].max())
        candidates |= {(start + dt.timedelta(days=i)).strftime("%Y%m%d")
                       for i in range((end - start).days + 1)}
    if feed.calendar_dates is not None and not feed.calendar_dates.empty:
        candidates |= set(feed.calendar_dates["date"])
    return [d for d in sorted(_as_date(c) for c in candidates) if active_service_ids(feed, d)]


def feed_summary(feed: Feed) -> dict[str, Any]:
    """Plain-data overview of a feed (used by ``tomakomai-maas gtfs info``).

    Keys: ``source``, ``agencies`` (names), ``routes`` (list of dicts: route_id, short_name,
    long_name, route_type, trips), ``stops`` (count), ``trips`` (count), ``first_date`` /
    ``last_date`` (ISO strings of the first/last service date, or None), ``service_days``
    (count), ``trips_per_day`` (``{"min", "max", "mean"}`` over service days) and
    ``trips_by_weekday`` (weekday name -> mean trips on that weekday's service days).
    """
    dates = service_dates(feed)
    per_service = feed.trips.groupby("service_id").size()
    counts: list[tuple[dt.date, int]] = []
    for d in dates:
        active = active_service_ids(feed, d)
        counts.append((d, int(sum(int(per_service.get(sid, 0)) for sid in active))))
    by_weekday: dict[str, list[int]] = {}
    for d, n in counts:
        by_weekday.setdefault(_WEEKDAYS[d.weekday()], []).append(n)
    per_route = feed.trips.groupby("route_id").size()
    routes = [
        {"route_id": r.route_id,
         "short_name": None if r.route_short_name is pd.NA else r.route_short_name,
         "long_name": None if r.route_long_name is pd.NA else r.route_long_name,
         "route_type": int(r.route_type),
         "trips": int(per_route.get(r.route_id, 0))}
        for r in feed.routes.itertuples(index=False)
    ]
    values = [n for _, n in counts]
    return {
        "source": feed.source,
        "agencies": [str(a) for a in feed.agency["agency_name"]],
        "routes": routes,
        "stops": int(len(feed.stops)),
        "trips": int(len(feed.trips)),
        "first_date": dates[0].isoformat() if dates else None,
        "last_date": dates[-1].isoformat() if dates else None,
        "service_days": len(dates),
        "trips_per_day": ({"min": min(values), "max": max(values),
                           "mean": round(sum(values) / len(values), 2)} if values else None),
        "trips_by_weekday": {w: round(sum(v) / len(v), 2) for w in _WEEKDAYS
                             if (v := by_weekday.get(w))},
    }
