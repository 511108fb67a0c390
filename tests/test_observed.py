"""Simulated against observed: the first table of the comparison report."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from types import SimpleNamespace

import pandas as pd
import pytest

from tomakomai_maas.metrics.observed import observed_vs_simulated
from tomakomai_maas.report.html import render_comparison_html
from tomakomai_maas.scenario.schema import CalendarConfig

TRIAL = CalendarConfig(start_date=dt.date(2023, 9, 20), end_date=dt.date(2023, 10, 15))


def _vt(rows: list[tuple[int, str, float, float, bool]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["replication", "route_id", "actual_dep_s",
                                       "actual_arr_s", "cancelled"])


def _result(label: str, vt: pd.DataFrame, kpis: list[dict], calendar=TRIAL):  # noqa: ANN001
    scenario = SimpleNamespace(service=SimpleNamespace(calendar=calendar))
    return SimpleNamespace(label=label, scenario=scenario, kpis=kpis,
                           tables={"vehicle_trips": vt})


def test_round_trips_one_way_time_and_period_riders_by_hand() -> None:
    # replication 0: 10 AV trips of 30 min (one cancelled, not counted); replication 1: 10 of 26
    rows = [(0, "av2023", 36000 + i * 3600, 36000 + i * 3600 + 1800, i == 9) for i in range(11)]
    rows += [(1, "av2023", 36000 + i * 3600, 36000 + i * 3600 + 1560, False) for i in range(10)]
    kpis = [{"boardings.av2023": 50.0}, {"boardings.av2023": 54.0}]
    out = observed_vs_simulated([_result("av", _vt(rows), kpis)]).set_index("quantity")
    trips = out.loc["round trips per day, AV trial 2023"]
    assert trips["simulated_mean"] == 5.0 and trips["agrees"]  # 10 run trips / 2, both reps
    one_way = out.loc["AV one-way time, station → market (min)"]
    assert one_way["simulated_mean"] == pytest.approx((30 + 26) / 2)
    riders = out.loc["riders over the 2023 trial (延べ)"]
    assert riders["simulated_mean"] == pytest.approx(26 * 52.0)  # 26 calendar days x mean
    assert riders["role"] == "calibrated"
    assert not (out["route_id"] == "donan_15").any()  # routes the scenario lacks: no row


def test_period_riders_only_for_the_observed_period_and_disagreement_flagged() -> None:
    rows = [(0, "donan_15", 0.0, 600.0, False)] * 20  # 10 round trips, observed 12
    other = CalendarConfig(start_date=dt.date(2025, 4, 1), end_date=dt.date(2026, 3, 31))
    out = observed_vs_simulated([_result("bus", _vt(rows), [{"boardings.av2023": 1.0}],
                                         calendar=other)])
    assert list(out["quantity"]) == ["round trips per day, 15 有珠の沢線 (weekday)"]
    assert not out["agrees"].iloc[0]


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
