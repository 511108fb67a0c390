"""Annual totals from a service calendar and day-type runs, checked by hand."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest
from pydantic import ValidationError
from scipy import stats

from tomakomai_maas.metrics.annual import (
    AnnualConfig,
    SeasonConfig,
    annual_totals,
    calendar_coverage,
    classify_days,
    day_counts,
)
from tomakomai_maas.metrics.stats import mean_ci
from tomakomai_maas.scenario.schema import CalendarConfig

D = dt.date
ROOT = Path(__file__).resolve().parents[1]


def winter_trial_2024() -> CalendarConfig:
    """First winter trial FY2024 (facts §1.4): Thu–Sun, 2024-12-05 .. 2025-02-16, no service
    12/22 – 1/8."""
    brk = [D(2024, 12, 22) + dt.timedelta(days=i) for i in range(18)]  # 12/22 .. 1/8
    return CalendarConfig(start_date=D(2024, 12, 5), end_date=D(2025, 2, 16),
                          weekdays=["thu", "fri", "sat", "sun"], exclude_dates=brk)


def test_winter_trial_calendar_counts():
    cal = winter_trial_2024()
    # December: Thu 5,12,19 / Fri 6,13,20 / Sat 7,14,21 / Sun 8,15 = 11 days
    # Jan 9 .. Feb 16: Thu 9,16,23,30,6,13 / Fri 10,17,24,31,7,14 / Sat 11,18,25,1,8,15 /
    #                  Sun 12,19,26,2,9,16 = 24 days           -> 35 days (facts §1.4 [I])
    # (the holidays 1/13 Mon and 2/11 Tue fall on days without service)
    assert len(cal.operating_days()) == 35
    counts = day_counts(cal)
    # Thu 3+6 + Fri 3+6 = 18 weekdays; Sat 3+6 = 9; Sun 2+6 = 8 (Sunday runs the holiday timetable)
    assert counts == {"weekday": 18, "saturday": 9, "holiday": 8}


def test_winter_trial_annual_total_by_hand():
    runs = {
        "weekday": [{"boardings": 10.0, "co2_kg": 3.0}, {"boardings": 14.0, "co2_kg": 3.0}],
        "saturday": [{"boardings": 20.0, "co2_kg": 3.0}, {"boardings": 22.0, "co2_kg": 3.0},
                     {"boardings": 24.0, "co2_kg": 3.0}],
        "holiday": [{"boardings": 5.0, "co2_kg": 3.0}, {"boardings": 9.0, "co2_kg": 3.0}],
    }
    out = annual_totals(winter_trial_2024(), runs)
    b = out.loc["boardings"]
    # total = 18 x 12 + 9 x 22 + 8 x 7 = 216 + 198 + 56 = 470
    assert b["total"] == pytest.approx(470)
    # var = 18² x 8/2 + 9² x 4/3 + 8² x 8/2 = 1296 + 108 + 256 = 1660   (s² = 8, 4, 8)
    assert b["std_error"] == pytest.approx(math.sqrt(1660))
    # Welch–Satterthwaite: 1660² / (1296²/1 + 108²/2 + 256²/1) = 2,755,600 / 1,750,984
    dof = 1660 ** 2 / (1296 ** 2 / 1 + 108 ** 2 / 2 + 256 ** 2 / 1)
    assert b["dof"] == pytest.approx(dof)
    h = stats.t.ppf(0.975, dof) * math.sqrt(1660)
    assert (b["ci_low"], b["ci_high"]) == pytest.approx((470 - h, 470 + h))
    assert b["days"] == 35 and b["per_day_mean"] == pytest.approx(470 / 35)
    # a KPI without variance: 35 x 3 kg, zero-width interval
    c = out.loc["co2_kg"]
    assert c["total"] == pytest.approx(105) and c["half_width"] == 0
    assert out.loc["riders", "total"] == pytest.approx(470)  # riders = boardings
    assert "co2_g_per_pax_km" not in out.index  # no pax_km in these runs


def test_one_class_matches_mean_ci_times_days():
    days = [D(2025, 10, 6) + dt.timedelta(days=i) for i in range(5)]  # Mon..Fri
    reps = [{"vehicle_km": v} for v in (100.0, 104.0, 98.0, 103.0)]
    out = annual_totals(days, {"weekday": reps}).loc["vehicle_km"]
    est = mean_ci([r["vehicle_km"] for r in reps])
    assert out["total"] == pytest.approx(5 * est.mean)
    assert out["half_width"] == pytest.approx(5 * est.half_width)
    assert out["dof"] == pytest.approx(3)


def test_seasons_holidays_and_fallback():
    cfg = AnnualConfig(seasons=[SeasonConfig(name="winter", months=[12, 1, 2, 3])],
                       holidays=[D(2025, 4, 2)])  # a holiday for the test
    days = [D(2025, 3, 27) + dt.timedelta(days=i) for i in range(11)]  # Thu 3/27 .. Sun 4/6
    cls = classify_days(days, cfg)
    assert list(cls["key"]) == [
        "winter.weekday", "winter.weekday", "winter.saturday", "winter.holiday",  # 27..30
        "winter.weekday",  # Mon 3/31
        "weekday", "holiday", "weekday", "weekday",  # Tue 4/1, Wed 4/2 (holiday), Thu, Fri
        "saturday", "holiday",  # Sat 4/5, Sun 4/6
    ]
    runs = {"winter.weekday": [{"boardings": 5.0}, {"boardings": 7.0}],
            "weekday": [{"boardings": 10.0}, {"boardings": 10.0}],
            "saturday": [{"boardings": 4.0}, {"boardings": 4.0}],
            "holiday": [{"boardings": 2.0}, {"boardings": 2.0}]}
    out = annual_totals(days, runs, cfg)
    # winter weekdays 3 x 6; weekdays 3 x 10; Saturdays (winter via fallback + April) 2 x 4;
    # holidays (winter Sunday, 4/2, 4/6) 3 x 2   -> 18 + 30 + 8 + 6 = 62
    assert out.loc["boardings", "total"] == pytest.approx(62)
    # only winter weekdays vary: var = 3² x 2/2 = 9
    assert out.loc["boardings", "std_error"] == pytest.approx(3)


def test_missing_runs_and_single_replication():
    days = [D(2025, 10, 4), D(2025, 10, 6)]  # Sat, Mon
    with pytest.raises(ValueError, match=r"no runs for day class\(es\) saturday \(1 days\)"):
        annual_totals(days, {"weekday": [{"boardings": 1.0}]})
    out = annual_totals(days, {"weekday": [{"boardings": 1.0}], "saturday": [{"boardings": 3.0}]})
    assert out.loc["boardings", "total"] == 4
    assert math.isnan(out.loc["boardings", "ci_low"])  # one replication: no interval


def test_ratios_from_totals_and_config_validation():
    days = [D(2025, 10, 6)]
    reps = [{"cost_total_yen": 1000.0, "revenue_total_yen": 250.0, "subsidy_required_yen": 750.0,
             "passengers": 50.0, "co2_kg": 2.0, "pax_km": 100.0}] * 2
    out = annual_totals(days, {"weekday": reps})
    assert out.loc["farebox_ratio", "total"] == pytest.approx(0.25)
    assert out.loc["subsidy_per_passenger_yen", "total"] == pytest.approx(15)
    assert out.loc["co2_g_per_pax_km", "total"] == pytest.approx(20)
    with pytest.raises(ValidationError):
        AnnualConfig(weekday_day_types={"mon": "weekday"})
    with pytest.raises(ValidationError):
        SeasonConfig(name="winter", months=[13])


# -- which days a run stands for (calendar_coverage, runner.calendar_totals) -----------------
TRIAL_2023 = CalendarConfig(start_date=D(2023, 9, 20), end_date=D(2023, 10, 15))


def test_trial_2023_coverage_by_hand():
    # Wed 9/20 .. Sun 10/15 = 26 days: weekends 9/23-24, 9/30-10/1, 10/7-8, 10/14-15 = 8 days;
    # the holiday 10/9 (Mon, スポーツの日) counts as a weekday, as in docs/calibration.md
    wk = calendar_coverage(TRIAL_2023, "weekday")
    assert len(wk.days) == 26 and len(wk.covered) == 18
    assert wk.not_simulated == {"weekend": 8} and not wk.complete
    assert D(2023, 10, 9) in wk.covered
    sat = calendar_coverage(TRIAL_2023, "saturday")
    assert len(sat.covered) == 8 and sat.not_simulated == {"weekday": 18}
    assert calendar_coverage(TRIAL_2023, "holiday").covered == sat.covered
    assert calendar_coverage([D(2023, 9, 23), D(2023, 9, 24)], "saturday").complete
    with pytest.raises(ValueError, match="allowed: weekday, saturday, holiday"):
        calendar_coverage(TRIAL_2023, "sunday")


def test_calendar_totals_count_only_the_simulated_days():
    from tomakomai_maas.runner import calendar_totals
    from tomakomai_maas.scenario.load import load_scenario

    sc = load_scenario(ROOT / "scenarios" / "av_trial_2023.yaml")
    reps = [{"boardings": 40.0, "total_boardings": 40.0, "takeovers": t}
            for t in (0.0, 0.0, 0.0, 2.0, 12.0)]
    out = calendar_totals(sc, reps)
    assert out["operating_days"] == 26 and out["days_covered"] == 18
    assert out["days_not_simulated"] == {"weekend": 8} and out["complete"] is False
    assert out["kpis"]["boardings"]["total"] == pytest.approx(18 * 40.0)  # not 26 x 40
    assert out["kpis"]["riders"]["total"] == pytest.approx(18 * 40.0)
    t = out["kpis"]["takeovers"]
    assert t["total"] == pytest.approx(18 * 2.8)
    assert t["ci_low"] == 0.0 and t["half_width"] > t["total"]  # truncated at 0, not negative
    sat = calendar_totals(sc.model_copy(update={"service": sc.service.model_copy(
        update={"day_type": "saturday"})}), reps)
    assert sat["days_covered"] == 8 and sat["days_not_simulated"] == {"weekday": 18}
    assert sat["kpis"]["boardings"]["total"] == pytest.approx(8 * 40.0)


def test_annual_interval_truncated_and_constant_class_exact():
    days = [D(2025, 10, 6) + dt.timedelta(days=i) for i in range(5)]
    reps = [{"takeovers": v, "subsidy_required_yen": v - 5.0,
             "cost_total_yen": 0.1 + 0.2 + 0.3 if i % 2 else 0.6}
            for i, v in enumerate((0.0, 0.0, 1.0, 9.0))]
    out = annual_totals(days, {"weekday": reps},
                        AnnualConfig(kpis=["takeovers", "subsidy_required_yen",
                                           "cost_total_yen"]))
    assert out.loc["takeovers", "ci_low"] == 0.0
    sub = out.loc["subsidy_required_yen"]  # signed: untouched, total 5 x -2.5
    assert sub["total"] == pytest.approx(-12.5)
    assert sub["ci_low"] == pytest.approx(sub["total"] - sub["half_width"])
    c = out.loc["cost_total_yen"]
    assert c["std_error"] == 0.0 and c["ci_low"] == c["ci_high"] == c["total"]
