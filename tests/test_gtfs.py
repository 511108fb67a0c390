"""GTFS / GTFS-JP reading, validation, writing and service-day helpers."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tomakomai_maas.errors import GTFSError
from tomakomai_maas.supply.gtfs import (
    Feed,
    active_service_ids,
    build_feed,
    feed_summary,
    merge_feeds,
    read_feed,
    service_dates,
    trips_on,
    validate_feed,
    write_feed,
)
from tomakomai_maas.supply.gtfs_schema import SCHEMA, format_time_s

FIXTURE = Path(__file__).parent / "fixtures" / "gtfs" / "tiny_jp"


@pytest.fixture()
def feed() -> Feed:
    return read_feed(FIXTURE)


def _broken(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the fixture with one text replacement in one file."""
    dst = tmp_path / "feed"
    shutil.copytree(FIXTURE, dst)
    p = dst / file
    text = p.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return dst


# ----------------------------------------------------------------------------- reading


def test_read_folder_has_pinned_schema(feed: Feed) -> None:
    for name, cols in SCHEMA.items():
        df = feed.table(name)
        if df is None:
            continue
        assert list(df.columns) == list(cols), name
        assert [str(t) for t in df.dtypes] == [
            "string" if d == "string" else d for d in cols.values()], name
    assert feed.shapes is None
    assert len(feed.stops) == 3 and len(feed.trips) == 3 and len(feed.stop_times) == 8


def test_times_parsed_to_seconds_past_midnight(feed: Feed) -> None:
    st = feed.stop_times.set_index(["trip_id", "stop_sequence"])
    assert st.loc[("T1", 1), "arrival_s"] == 8 * 3600
    assert np.isnan(st.loc[("T1", 2), "arrival_s"])  # blank intermediate time
    assert st.loc[("T3", 1), "departure_s"] == 24 * 3600 + 30 * 60  # after midnight
    assert st.loc[("T2", 2), "departure_s"] - st.loc[("T2", 2), "arrival_s"] == 60


def test_jp_extension_files_kept_and_jp_columns_ignored(feed: Feed) -> None:
    assert sorted(feed.extras) == ["agency_jp", "office_jp", "routes_jp", "translations"]
    assert feed.extras["translations"].loc[0, "translation"] == "Station"
    assert "jp_parent_route_id" not in feed.routes.columns
    assert "jp_office_id" not in feed.trips.columns
    assert feed.stops.loc[feed.stops.stop_id == "A", "platform_code"].item() == "1"


def test_read_zip_with_files_in_a_subfolder(tmp_path: Path, feed: Feed) -> None:
    zpath = tmp_path / "feed.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in sorted(FIXTURE.iterdir()):
            zf.write(p, f"some_folder/{p.name}")
    assert read_feed(zpath).equals(feed)


def test_missing_path_and_bad_zip(tmp_path: Path) -> None:
    with pytest.raises(GTFSError, match=r"no such file or folder"):
        read_feed(tmp_path / "nope")
    bad = tmp_path / "bad.zip"
    bad.write_text("not a zip")
    with pytest.raises(GTFSError, match=r"not a folder or a zip"):
        read_feed(bad)


def test_bom_and_whitespace_in_header_are_tolerated(tmp_path: Path, feed: Feed) -> None:
    dst = tmp_path / "feed"
    shutil.copytree(FIXTURE, dst)
    p = dst / "stops.txt"
    text = p.read_text(encoding="utf-8").replace("stop_id,stop_code", " stop_id ,stop_code", 1)
    p.write_bytes("\ufeff".encode() + text.encode("utf-8"))
    assert read_feed(dst).equals(feed)


# -------------------------------------------------------------------------- validation


def test_missing_required_file(tmp_path: Path) -> None:
    dst = tmp_path / "feed"
    shutil.copytree(FIXTURE, dst)
    (dst / "agency.txt").unlink()
    with pytest.raises(GTFSError, match=r"agency\.txt: required file is missing"):
        read_feed(dst)


def test_missing_calendar_files(tmp_path: Path) -> None:
    dst = tmp_path / "feed"
    shutil.copytree(FIXTURE, dst)
    (dst / "calendar.txt").unlink()
    (dst / "calendar_dates.txt").unlink()
    with pytest.raises(GTFSError, match=r"calendar\.txt and calendar_dates\.txt are both missing"):
        read_feed(dst)


def test_missing_required_column(tmp_path: Path) -> None:
    d = _broken(tmp_path, "stops.txt", "stop_lat,", "latitude,")
    with pytest.raises(GTFSError, match=r"stops\.txt: required column 'stop_lat' is missing"):
        read_feed(d)


def test_stop_times_unknown_stop(tmp_path: Path) -> None:
    d = _broken(tmp_path, "stop_times.txt", "T1,,,B,2", "T1,,,ZZ,2")
    with pytest.raises(GTFSError, match=r"stop_times\.txt line 3 \(trip_id='T1', "
                                        r"stop_sequence=2\): stop_id 'ZZ' is not a stop_id"):
        read_feed(d)


def test_stop_times_unknown_trip(tmp_path: Path) -> None:
    d = _broken(tmp_path, "stop_times.txt", "T3,24:30:00", "T9,24:30:00")
    with pytest.raises(GTFSError, match=r"trip_id 'T9' is not a trip_id in trips\.txt"):
        read_feed(d)


def test_decreasing_times_within_trip(tmp_path: Path) -> None:
    d = _broken(tmp_path, "stop_times.txt", "T2,08:35:00,08:35:00", "T2,08:15:00,08:15:00")
    with pytest.raises(GTFSError, match=r"stop_times\.txt line 7 .*arrival_time 08:15:00 is "
                                        r"earlier than the previous time 08:26:00"):
        read_feed(d)


def test_departure_before_arrival(tmp_path: Path) -> None:
    d = _broken(tmp_path, "stop_times.txt", "T2,08:25:00,08:26:00", "T2,08:25:00,08:24:00")
    with pytest.raises(GTFSError, match=r"departure_time 08:24:00 is earlier than the previous "
                                        r"time 08:25:00"):
        read_feed(d)


def test_bad_time_format(tmp_path: Path) -> None:
    d = _broken(tmp_path, "stop_times.txt", "T3,24:40:00", "T3,24:4:00")
    with pytest.raises(GTFSError, match=r"stop_times\.txt line 9 .*arrival_time '24:4:00' is "
                                        r"not a valid time; allowed: H:MM:SS or HH:MM:SS"):
        read_feed(d)


def test_blank_time_on_last_stop(tmp_path: Path) -> None:
    d = _broken(tmp_path, "stop_times.txt", "T1,08:10:00,08:10:00", "T1,,")
    with pytest.raises(GTFSError, match=r"arrival_time is blank on the last stop of the trip"):
        read_feed(d)


def test_invalid_route_type(tmp_path: Path) -> None:
    d = _broken(tmp_path, "routes.txt", ",3,,00AA00", ",99,,00AA00")
    with pytest.raises(GTFSError, match=r"routes\.txt line 2 \(route_id='R1'\): route_type 99 "
                                        r"is not allowed; allowed: 0-7, 11, 12"):
        read_feed(d)


def test_non_integer_route_type(tmp_path: Path) -> None:
    d = _broken(tmp_path, "routes.txt", ",3,,00AA00", ",bus,,00AA00")
    with pytest.raises(GTFSError, match=r"route_type 'bus' is not an integer"):
        read_feed(d)


def test_invalid_calendar_date(tmp_path: Path) -> None:
    d = _broken(tmp_path, "calendar.txt", "20230901,20231031", "20230901,20231131")
    with pytest.raises(GTFSError, match=r"calendar\.txt line 2 \(service_id='WD'\): end_date "
                                        r"'20231131' is not a valid date; allowed: .*YYYYMMDD"):
        read_feed(d)


def test_calendar_start_after_end(tmp_path: Path) -> None:
    d = _broken(tmp_path, "calendar.txt", "20230901,20231031", "20231101,20231031")
    with pytest.raises(GTFSError, match=r"start_date 20231101 is after end_date 20231031"):
        read_feed(d)


def test_invalid_calendar_dates_values(tmp_path: Path) -> None:
    d = _broken(tmp_path, "calendar_dates.txt", "WD,20230918,2", "WD,2023-09-18,3")
    with pytest.raises(GTFSError) as info:
        read_feed(d)
    text = str(info.value)
    assert "date '2023-09-18' is not a valid date" in text
    assert "exception_type 3 is not allowed; allowed: 1 (added) or 2 (removed)" in text


def test_duplicate_ids(tmp_path: Path) -> None:
    d = _broken(tmp_path, "stops.txt", "C,,港", "B,,港")
    with pytest.raises(GTFSError, match=r"stops\.txt line 4 \(stop_id='B'\): duplicate "
                                        r"stop_id='B'"):
        read_feed(d)


def test_all_problems_are_collected(tmp_path: Path) -> None:
    d = _broken(tmp_path, "routes.txt", ",3,,00AA00", ",99,,00AA00")
    for file, old, new in [("stop_times.txt", "T3,24:40:00", "T3,24:4:00"),
                           ("calendar.txt", "20230901,20231031", "20230901,20231131"),
                           ("trips.txt", "R1,WE,T3", "R9,WE,T3")]:
        p = d / file
        p.write_text(p.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(GTFSError) as info:
        read_feed(d)
    problems = info.value.problems  # type: ignore[attr-defined]
    text = str(info.value)
    assert "has 4 problem(s)" in text, text
    for part in ("route_type 99", "'24:4:00'", "'20231131'", "route_id 'R9'"):
        assert any(part in p for p in problems), part
    # the bad time is not reported a second time as "blank on the last stop"
    assert not any("blank on the last stop" in p for p in problems)


def test_many_bad_rows_are_summarised(tmp_path: Path) -> None:
    dst = tmp_path / "feed"
    shutil.copytree(FIXTURE, dst)
    rows = "".join(f"X{i},,港{i},,42.6,141.6,,,,,,,\n" for i in range(30))
    rows = rows.replace(",42.6,", ",north,")
    with open(dst / "stops.txt", "a", encoding="utf-8") as fh:
        fh.write(rows)
    with pytest.raises(GTFSError, match=r"\.\.\. and 10 more rows with the same problem as: "
                                        r"stop_lat 'north' is not a number"):
        read_feed(dst)


def test_validate_feed_in_memory(feed: Feed) -> None:
    assert validate_feed(feed) == []


# ---------------------------------------------------------------------------- writing


@pytest.mark.parametrize("name", ["out", "out.zip"])
def test_write_read_round_trip(tmp_path: Path, feed: Feed, name: str) -> None:
    path = write_feed(feed, tmp_path / name)
    again = read_feed(path)
    assert again.equals(feed)
    assert sorted(again.extras) == sorted(feed.extras)


def test_write_is_deterministic(tmp_path: Path, feed: Feed) -> None:
    a = write_feed(feed, tmp_path / "a.zip").read_bytes()
    b = write_feed(read_feed(FIXTURE), tmp_path / "b.zip").read_bytes()
    assert a == b
    write_feed(feed, tmp_path / "x")
    text = (tmp_path / "x" / "stop_times.txt").read_text(encoding="utf-8")
    assert text.splitlines()[0] == ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,"
                                    "pickup_type,drop_off_type,timepoint")
    assert "T3,24:30:00,24:30:00,A,1" in text
    assert "\r" not in text


def test_write_sorts_rows(tmp_path: Path, feed: Feed) -> None:
    shuffled = Feed(**{**{n: feed.table(n) for n in SCHEMA}, "extras": feed.extras,
                       "stop_times": feed.stop_times.iloc[::-1].reset_index(drop=True)})
    write_feed(shuffled, tmp_path / "s")
    write_feed(feed, tmp_path / "f")
    for p in (tmp_path / "f").iterdir():
        assert p.read_bytes() == (tmp_path / "s" / p.name).read_bytes(), p.name


def test_write_refuses_then_overwrites(tmp_path: Path, feed: Feed) -> None:
    out = tmp_path / "out"
    write_feed(feed, out)
    with pytest.raises(GTFSError, match="exists; pass overwrite=True"):
        write_feed(feed, out)
    (out / "shapes.txt").write_text("stale\n")
    (out / "README.md").write_text("keep me\n")
    write_feed(feed, out, overwrite=True)
    assert not (out / "shapes.txt").exists()
    assert (out / "README.md").read_text() == "keep me\n"
    assert read_feed(out).equals(feed)


def test_format_time_s() -> None:
    assert format_time_s(0) == "00:00:00"
    assert format_time_s(25 * 3600 + 61) == "25:01:01"
    assert format_time_s(float("nan")) == ""


# ------------------------------------------------------------------------ service days


def test_active_service_ids_calendar_and_dates(feed: Feed) -> None:
    assert active_service_ids(feed, dt.date(2023, 9, 19)) == {"WD"}  # Tuesday
    assert active_service_ids(feed, "2023-09-16") == {"WE"}  # Saturday
    # Monday 2023-09-18 (holiday): WD removed, WE added by calendar_dates
    assert active_service_ids(feed, "20230918") == {"WE"}
    assert active_service_ids(feed, "2023-11-01") == frozenset()
    with pytest.raises(GTFSError, match="allowed: YYYY-MM-DD or YYYYMMDD"):
        active_service_ids(feed, "18/09/2023")


def test_trips_on(feed: Feed) -> None:
    wd = trips_on(feed, "2023-09-19")
    assert wd["trip_id"].tolist() == ["T1", "T2"]
    assert wd["start_s"].tolist() == [8 * 3600, 8 * 3600 + 20 * 60]
    assert wd["end_s"].tolist() == [8 * 3600 + 10 * 60, 8 * 3600 + 35 * 60]
    assert wd["first_stop_id"].tolist() == ["A", "C"]
    assert wd["n_stops"].tolist() == [3, 3]
    holiday = trips_on(feed, "2023-09-18")
    assert holiday["trip_id"].tolist() == ["T3"]
    assert trips_on(feed, "2024-01-01").empty


def test_service_dates_and_summary(feed: Feed) -> None:
    dates = service_dates(feed)
    assert dates[0] == dt.date(2023, 9, 1) and dates[-1] == dt.date(2023, 10, 31)
    assert len(dates) == 61
    s = feed_summary(feed)
    assert s["stops"] == 3 and s["trips"] == 3 and s["service_days"] == 61
    assert s["trips_by_weekday"]["tuesday"] == 2
    assert s["routes"][0]["long_name"] == "駅前港線"


# --------------------------------------------------------------------- building/merging


def test_build_feed_reports_problems() -> None:
    tables = {
        "agency": pd.DataFrame([{"agency_name": "A", "agency_url": "u",
                                 "agency_timezone": "Asia/Tokyo"}]),
        "stops": pd.DataFrame([{"stop_id": "s", "stop_name": "S", "stop_lat": 95.0,
                                "stop_lon": 141.0}]),
        "routes": pd.DataFrame([{"route_id": "r", "route_short_name": "1", "route_type": 3}]),
        "trips": pd.DataFrame([{"route_id": "r", "service_id": "x", "trip_id": "t"}]),
        "stop_times": pd.DataFrame([{"trip_id": "t", "arrival_s": 0.0, "departure_s": 0.0,
                                     "stop_id": "s", "stop_sequence": 1}]),
        "calendar_dates": pd.DataFrame([{"service_id": "x", "date": "20240101",
                                         "exception_type": 1}]),
    }
    with pytest.raises(GTFSError) as info:
        build_feed(tables)
    text = str(info.value)
    assert "stop_lat 95.0 is out of range; allowed: -90 to 90" in text
    assert "trip has 1 stop_times; allowed: at least 2" in text
    with pytest.raises(GTFSError, match="unknown table"):
        build_feed({"stopz": tables["stops"]})


def test_merge_feeds_dedupes_identical_rows(feed: Feed) -> None:
    merged = merge_feeds(feed, feed)
    assert merged.equals(feed)
