"""Scenario loading: every validation error names file, field, value and what is allowed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tomakomai_maas.errors import ScenarioError
from tomakomai_maas.scenario.load import apply_overrides, load_scenario, resolved_dict
from tomakomai_maas.scenario.schema import CalendarConfig, format_time, parse_time_s

MINIMAL = """\
name: mini
service:
  date: 2023-09-20
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_minimal_scenario_gets_documented_defaults(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, MINIMAL))
    assert sc.name == "mini"
    assert sc.seed == 42 and sc.replications == 1
    assert sc.network.source == "embedded:tomakomai-central"
    assert sc.operations.holding is True
    assert sc.weather.day == "clear"
    d = resolved_dict(sc)
    assert d["operations"]["dwell_per_boarding_s"] == 3.0
    assert d["service"]["date"] == "2023-09-20"


def test_relative_paths_resolve_against_scenario_folder(tmp_path: Path) -> None:
    sub = tmp_path / "scen"
    sub.mkdir()
    p = write(sub, MINIMAL + "lines:\n  - gtfs: ../gtfs/feed\n    vehicle_type: x\n"
              "demand:\n  trips_csv: trips.csv\n")
    sc = load_scenario(p)
    assert sc.lines[0].gtfs == (tmp_path / "gtfs" / "feed").resolve()
    assert sc.demand.trips_csv == (sub / "trips.csv").resolve()
    assert sc.output.dir == (tmp_path / "results").resolve()
    assert sc.source_file == p.resolve()


def test_unknown_key_suggests_nearest(tmp_path: Path) -> None:
    p = write(tmp_path, MINIMAL + "operations:\n  dwel_fixed_s: 5\n")
    with pytest.raises(ScenarioError, match=r"operations\.dwel_fixed_s: unknown key "
                       r"'dwel_fixed_s'\. Did you mean 'dwell_fixed_s'\?") as ei:
        load_scenario(p)
    assert str(p) in str(ei.value)
    assert "Allowed keys here:" in str(ei.value)


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    p = write(tmp_path, "name: bad name\nservce: {}\nweather: {day: snowy}\n"
              "operations: {holding: maybe, patience_min: -3}\n")
    with pytest.raises(ScenarioError) as ei:
        load_scenario(p)
    msg = str(ei.value)
    assert len(ei.value.problems) == 6, msg
    assert "name: String should match pattern" in msg
    assert "service: required field is missing" in msg
    assert "unknown key 'servce'. Did you mean 'service'?" in msg
    assert "weather.day: Input should be 'clear', 'rain', 'snowfall', 'heavy_snowfall' or " \
           "'snow_piles' (got 'snowy')" in msg
    assert "operations.holding: Input should be a valid boolean" in msg
    assert "operations.patience_min: Input should be greater than 0 (got -3)" in msg


def test_bad_time_and_window(tmp_path: Path) -> None:
    p = write(tmp_path, "name: t\nservice: {date: 2023-09-20, start_time: '25:61', "
              "end_time: '06:00'}\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p)
    msg = str(exc.value)
    assert ("service.start_time: not a time of day; allowed: HH:MM or HH:MM:SS; hours may "
            "exceed 23 for service after midnight (as in GTFS), minutes 00-59 (got '25:61')"
            ) in msg
    assert "pattern" not in msg and "end_time" not in msg  # no second error from the window
    p2 = write(tmp_path, "name: t\nservice: {date: 2023-09-20, start_time: '10:00', "
               "end_time: '09:00'}\n", "t2.yaml")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(p2)
    msg = str(exc.value)
    assert "service.end_time: must be after start_time '10:00'; times are HH:MM" in msg
    assert msg.endswith("(got '09:00')")
    assert "{" not in msg and "datetime" not in msg  # the section is never dumped


def test_list_field_path_has_index(tmp_path: Path) -> None:
    p = write(tmp_path, MINIMAL + "lines:\n  - gtfs: a\n    vehicle_type: x\n  - gtfs: b\n")
    with pytest.raises(ScenarioError, match=r"lines\[1\]\.vehicle_type: required field is missing"):
        load_scenario(p)


def test_missing_file_suggests_close_name(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "av_trial.yaml")
    with pytest.raises(ScenarioError, match=r"scenario file not found\. Did you mean: av_trial\.yaml"):
        load_scenario(tmp_path / "av_trail.yaml")


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    p = write(tmp_path, "name: x\nservice: {date: 2023-09-20\n")
    with pytest.raises(ScenarioError, match=r"not valid YAML \(line \d+, column \d+\)"):
        load_scenario(p)


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="must be a mapping of sections"):
        load_scenario(write(tmp_path, "- a\n- b\n"))


def test_unsafe_yaml_tags_rejected(tmp_path: Path) -> None:
    p = write(tmp_path, "name: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(p)


def test_overrides_are_validated_like_the_file(tmp_path: Path) -> None:
    p = write(tmp_path, MINIMAL)
    sc = load_scenario(p, ["operations.holding=false", "seed=7", "weather.hourly.10=snowfall"])
    assert sc.operations.holding is False and sc.seed == 7
    assert sc.weather.hourly == {10: "snowfall"}
    with pytest.raises(ScenarioError, match=r"operations\.holdng: unknown key 'holdng'\. "
                       r"Did you mean 'holding'\?"):
        load_scenario(p, ["operations.holdng=false"])
    with pytest.raises(ScenarioError, match=r"expected KEY=VALUE"):
        load_scenario(p, ["seed"])


def test_apply_overrides_does_not_mutate_input() -> None:
    data = {"a": {"b": 1}, "l": [{"x": 1}]}
    out = apply_overrides(data, ["a.b=2", "l.0.x=3"])
    assert data == {"a": {"b": 1}, "l": [{"x": 1}]}
    assert out == {"a": {"b": 2}, "l": [{"x": 3}]}
    with pytest.raises(ScenarioError, match=r"index '5' out of range"):
        apply_overrides(data, ["l.5.x=1"])


def test_time_parsing_roundtrip() -> None:
    assert parse_time_s("10:00") == 36000
    assert parse_time_s("25:30:15") == 25 * 3600 + 30 * 60 + 15
    assert format_time(36015) == "10:00:15"
    with pytest.raises(ValueError, match="HH:MM"):
        parse_time_s("10h")


def test_calendar_operating_days_thu_sun_with_gap() -> None:
    # 2024-25 winter trial: Thu-Sun, Dec 5 - Feb 16, no service Dec 22 - Jan 8 (facts §1.4).
    gap = [dt.date(2024, 12, 22) + dt.timedelta(days=i) for i in range(18)]
    cal = CalendarConfig(start_date=dt.date(2024, 12, 5), end_date=dt.date(2025, 2, 16),
                         weekdays=["thu", "fri", "sat", "sun"], exclude_dates=gap)
    days = cal.operating_days()
    assert all(d.weekday() >= 3 for d in days)
    assert not any(d in gap for d in days)
    # Dec 5-21: Thu 5,12,19 / Fri 6,13,20 / Sat 7,14,21 / Sun 8,15 -> 11 (facts §1.4: 11 in Dec)
    assert sum(1 for d in days if d.month == 12) == 11
    assert len(days) == 35  # facts §1.4 [I]: 35 planned service days


def test_extends_deep_merges_and_replaces_lists(tmp_path: Path) -> None:
    base_dir = tmp_path / "base"
    base_dir.mkdir()
    write(base_dir, MINIMAL + "operations: {dwell_fixed_s: 7, holding: false}\n"
          "lines:\n  - gtfs: feeds/a\n    vehicle_type: x\n"
          "assumptions: [one, two]\n", "base.yaml")
    child = write(tmp_path, "extends: base/base.yaml\nname: child\n"
                  "operations: {holding: true}\nassumptions: [three]\n", "child.yaml")
    sc = load_scenario(child)
    assert sc.name == "child"
    assert sc.operations.dwell_fixed_s == 7 and sc.operations.holding is True
    assert sc.assumptions == ["three"]  # lists are replaced, not appended
    # the base's relative path resolves against the base file's folder
    assert sc.lines[0].gtfs == (base_dir / "feeds" / "a").resolve()


def test_extends_cycle_and_missing_base(tmp_path: Path) -> None:
    write(tmp_path, "extends: b.yaml\n" + MINIMAL, "a.yaml")
    write(tmp_path, "extends: a.yaml\n" + MINIMAL, "b.yaml")
    with pytest.raises(ScenarioError, match=r"extends: cycle in scenario inheritance: .*a\.yaml "
                       r"-> .*b\.yaml -> .*a\.yaml"):
        load_scenario(tmp_path / "a.yaml")
    p = write(tmp_path, "extends: nowhere.yaml\n" + MINIMAL, "c.yaml")
    with pytest.raises(ScenarioError, match=r"extends: base scenario 'nowhere\.yaml' not found"):
        load_scenario(p)


def test_override_of_missing_field_in_extended_scenario(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nname: c\n", "c.yaml")
    with pytest.raises(ScenarioError, match=r"journey\.max_walk: unknown key 'max_walk'\. "
                       r"Did you mean 'max_walk_m'\?"):
        load_scenario(child, ["journey.max_walk=300"])


def test_override_time_of_day_is_not_sexagesimal(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, MINIMAL), ["service.end_time=12:30",
                                                  "service.start_time=06:00:30"])
    assert sc.service.end_time == "12:30" and sc.service.start_time == "06:00:30"


def test_unquoted_time_in_yaml_gets_a_hint(tmp_path: Path) -> None:
    p = write(tmp_path, "name: t\nservice: {date: 2023-09-20, end_time: 12:30}\n")
    with pytest.raises(ScenarioError, match=r"service\.end_time: write times of day "
                       r"in quotes, e\.g\. '12:30'"):
        load_scenario(p)


def test_extends_resolves_zones_file_against_the_base(tmp_path: Path) -> None:
    base_dir = tmp_path / "base"
    base_dir.mkdir()
    write(base_dir, MINIMAL + "demand:\n  generated:\n    zones_file: my_zones.csv\n", "b.yaml")
    child = write(tmp_path, "extends: base/b.yaml\nname: c\n", "c.yaml")
    sc = load_scenario(child)
    assert sc.demand.generated is not None
    assert sc.demand.generated.zones_file == (base_dir / "my_zones.csv").resolve()
