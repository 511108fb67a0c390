"""Simulated against observed: the first table of the comparison report."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from html.parser import HTMLParser
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tomakomai_maas.metrics.observed import (
    MAX_REL_HALF_WIDTH,
    Observation,
    observed_vs_simulated,
    verdict,
)
from tomakomai_maas.report.html import render_comparison_html
from tomakomai_maas.scenario.schema import CalendarConfig

TRIAL = CalendarConfig(start_date=dt.date(2023, 9, 20), end_date=dt.date(2023, 10, 15))


def _vt(rows: list[tuple[int, str, float, float, bool]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["replication", "route_id", "actual_dep_s",
                                       "actual_arr_s", "cancelled"])


def _result(label: str, vt: pd.DataFrame, kpis: list[dict], calendar=TRIAL,  # noqa: ANN001
            day_type: str = "weekday"):
    scenario = SimpleNamespace(service=SimpleNamespace(calendar=calendar, day_type=day_type))
    return SimpleNamespace(label=label, scenario=scenario, kpis=kpis,
                           tables={"vehicle_trips": vt})


def test_round_trips_one_way_time_and_period_riders_by_hand() -> None:
    # replication 0: 10 AV trips of 30 min (one cancelled, not counted); replication 1: 10 of 26
    rows = [(0, "av2023", 36000 + i * 3600, 36000 + i * 3600 + 1800, i == 9) for i in range(11)]
    rows += [(1, "av2023", 36000 + i * 3600, 36000 + i * 3600 + 1560, False) for i in range(10)]
    kpis = [{"boardings.av2023": 50.0}, {"boardings.av2023": 54.0}]
    out = observed_vs_simulated([_result("av", _vt(rows), kpis)]).set_index("quantity")
    trips = out.loc["round trips per day, AV trial 2023"]
    # 10 run trips / 2 in both replications: a deterministic count, CI [5, 5]
    assert trips["simulated_mean"] == 5.0 and trips["agrees"] is True
    assert trips["verdict"] == "agrees"
    one_way = out.loc["AV one-way time, station → market (min)"]
    assert one_way["simulated_mean"] == pytest.approx((30 + 26) / 2)
    # 28 ± 12.7·2.83 (t_{0.975,1} = 12.706, s = 2.83, /sqrt 2): half-width 25.4 > 25 % of 27.5
    assert one_way["verdict"] == "inconclusive" and one_way["agrees"] is None
    # the trial calendar 2023-09-20 .. 10-15 has 18 Mon-Fri and 8 Sat/Sun days: a weekday run
    # does not stand for the weekends, so the period total is not extrapolated
    riders = out.loc["riders over the 2023 trial (延べ)"]
    assert riders["verdict"] == "n/a (days not simulated)" and riders["agrees"] is None
    assert math.isnan(riders["simulated_mean"])
    assert "18 of 26" in riders["note"] and "8 weekend days" in riders["note"]
    assert riders["role"] == "calibrated"
    assert not (out["route_id"] == "donan_15").any()  # routes the scenario lacks: no row


def test_period_riders_when_every_day_is_simulated_is_days_times_mean_never_agrees() -> None:
    """A calendar of Mon-Fri only (18 weekdays of the trial period) run as a weekday: the
    total is 18 × the mean per day, and the calibration target is never marked agreeing."""
    cal = CalendarConfig(start_date=dt.date(2023, 9, 20), end_date=dt.date(2023, 10, 15),
                         weekdays=["mon", "tue", "wed", "thu", "fri"])
    rows = [(r, "av2023", 0.0, 1800.0, False) for r in range(3) for _ in range(10)]
    kpis = [{"boardings.av2023": b} for b in (74.0, 76.0, 75.5)]  # ~1,359 / 18 = 75.5
    out = observed_vs_simulated([_result("av", _vt(rows), kpis, calendar=cal)])
    riders = out.set_index("quantity").loc["riders over the 2023 trial (延べ)"]
    assert riders["simulated_mean"] == pytest.approx(18 * (74 + 76 + 75.5) / 3)
    assert riders["ci_low"] <= 1359 <= riders["ci_high"]  # overlaps, yet:
    assert riders["verdict"] == "n/a (calibrated)" and riders["agrees"] is None


def test_period_riders_only_for_the_observed_period_and_disagreement_flagged() -> None:
    rows = [(0, "donan_15", 0.0, 600.0, False)] * 20 + [(1, "donan_15", 0.0, 600.0, False)] * 20
    other = CalendarConfig(start_date=dt.date(2025, 4, 1), end_date=dt.date(2026, 3, 31))
    out = observed_vs_simulated([_result("bus", _vt(rows), [{"boardings.av2023": 1.0}] * 2,
                                         calendar=other)])
    assert list(out["quantity"]) == ["round trips per day, 15 有珠の沢線 (weekday)"]
    # 10 round trips in both replications, observed 12: a conclusive disagreement
    assert out["verdict"].iloc[0] == "disagrees" and out["agrees"].iloc[0] is False


def test_one_replication_is_inconclusive() -> None:
    rows = [(0, "donan_15", 0.0, 600.0, False)] * 24
    out = observed_vs_simulated([_result("bus", _vt(rows), [{}], calendar=None)])
    assert out["simulated_mean"].iloc[0] == 12.0
    assert out["verdict"].iloc[0] == "inconclusive"  # no interval from one replication


@settings(max_examples=60, deadline=None)
@given(lo=st.floats(1.0, 1000.0), spread=st.floats(0.0, 2.0), centre=st.floats(0.0, 3.0),
       half=st.floats(0.0, 1.0), n=st.integers(1, 30))
def test_verdict_rules(lo: float, spread: float, centre: float, half: float, n: int) -> None:
    """The verdict follows the documented rules for any estimate: calibrated first, then
    too few replications / too wide an interval, then overlap."""
    hi = lo * (1 + spread)
    mid = (lo + hi) / 2
    est = SimpleNamespace(mean=mid * centre, half_width=mid * half, n=n,
                          ci_low=mid * (centre - half), ci_high=mid * (centre + half))
    check = Observation("q", "r", "round_trips", lo, hi, "src")
    assert verdict(replace(check, role="calibrated"), est) == "n/a (calibrated)"
    v = verdict(check, est)
    if n < 2 or est.half_width > MAX_REL_HALF_WIDTH * mid:
        assert v == "inconclusive"
    else:
        overlap = est.ci_low <= hi and est.ci_high >= lo
        assert v == ("agrees" if overlap else "disagrees")


def test_report_shows_observed_first() -> None:
    rows = [(0, "av2023", 0.0, 1800.0, False)] * 10
    obs = observed_vs_simulated([_result("av", _vt(rows), [{"boardings.av2023": 52.0}])])
    kpi = pd.DataFrame({"kpi": ["boardings"], "scenario": ["av"], "mean": [52.0],
                        "ci_low": [50.0], "ci_high": [54.0]})
    html = render_comparison_html(scenarios=[], kpi_table=kpi, differences=pd.DataFrame(),
                                  changes=pd.DataFrame(), lang="en", observed=obs)

    class FirstTable(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.classes: list[str] = []

        def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[override]
            if tag == "table":
                self.classes.append(dict(attrs).get("class", ""))

    p = FirstTable()
    p.feed(html)
    assert p.classes[0] == "observed"
    assert "Simulated against observed" in html and "facts §1.2" in html
    # the calibration target is not marked as agreeing, and the rule is explained
    assert "n/a (days not simulated)" in html and "25%" in html
    ja = render_comparison_html(scenarios=[], kpi_table=kpi, differences=pd.DataFrame(),
                                changes=pd.DataFrame(), lang="ja", observed=obs)
    table = ja.split("<table class='observed'>")[1].split("</table>")[0]
    # one replication: nothing is judged, the calibration target is n/a
    assert "対象外 (未シミュレーションの日あり)" in table and "判定不能" in table
    assert "○" not in table and "×" not in table
