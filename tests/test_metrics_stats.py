"""Replication statistics: t-based CIs and paired differences."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tomakomai_maas.metrics.stats import (
    SIGNED_KPIS,
    aggregate_replications,
    few_replications_warning,
    kpi_bounds,
    mean_ci,
    paired_difference,
)

GOLDEN = Path(__file__).resolve().parent / "golden"


def test_mean_ci_matches_hand_computation() -> None:
    # x = 1..5: mean 3, s = sqrt(2.5), t_{0.975,4} = 2.776445...
    est = mean_ci([1, 2, 3, 4, 5])
    h = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert est.mean == 3 and est.n == 5
    assert est.half_width == pytest.approx(h, rel=1e-12)
    assert (est.ci_low, est.ci_high) == pytest.approx((3 - h, 3 + h), rel=1e-12)


def test_single_value_has_no_interval_and_json_nulls() -> None:
    est = mean_ci([4.0])
    assert est.mean == 4.0 and math.isnan(est.half_width)
    d = est.as_dict()
    assert d["ci_low"] is None and d["mean"] == 4.0


def test_nan_ignored_and_empty() -> None:
    assert mean_ci([1.0, float("nan"), 3.0]).mean == 2.0
    assert mean_ci([]).n == 0


def test_paired_difference_removes_common_noise() -> None:
    rng = np.random.default_rng(1)
    common = rng.normal(0, 10, size=30)
    a = 100 + common
    b = 101 + common + rng.normal(0, 0.1, size=30)
    paired = paired_difference(a, b)
    assert paired.ci_low > 0  # difference detected
    unpaired_h = 1.96 * math.sqrt(a.var(ddof=1) / 30 + b.var(ddof=1) / 30)
    assert paired.half_width < unpaired_h / 10
    with pytest.raises(ValueError, match="same length"):
        paired_difference([1, 2], [1])


def test_ci_coverage_is_about_95_percent() -> None:
    rng = np.random.default_rng(7)
    hits = 0
    trials = 2000
    for _ in range(trials):
        e = mean_ci(rng.exponential(2.0, size=20))
        hits += e.ci_low <= 2.0 <= e.ci_high
    # exponential data, n=20: t-interval coverage is a bit below nominal (~93-94%)
    assert 0.91 <= hits / trials <= 0.97


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=30))
def test_interval_contains_mean(values: list[float]) -> None:
    e = mean_ci(values)
    assert e.ci_low <= e.mean <= e.ci_high


def test_aggregate_sorted_keys_and_values() -> None:
    out = aggregate_replications([{"b": 1.0, "a": 2.0}, {"b": 3.0, "a": 2.0}])
    assert list(out) == ["a", "b"]
    assert out["a"]["half_width"] == 0.0 and out["b"]["mean"] == 2.0


# -- truncation to the parameter space, constants, few replications ---------------------------
def test_truncated_interval_by_hand() -> None:
    # takeovers 0, 0, 0, 2, 12: mean 2.8, s² = (3·7.84 + 0.64 + 84.64) / 4 = 27.2
    x = [0.0, 0.0, 0.0, 2.0, 12.0]
    h = 2.7764451051977987 * math.sqrt(27.2) / math.sqrt(5)  # t_{0.975,4}
    raw = mean_ci(x)
    assert raw.ci_low == pytest.approx(2.8 - h) and raw.ci_low < 0
    est = mean_ci(x, bounds=(0.0, math.inf))
    assert est.ci_low == 0.0 and est.ci_high == pytest.approx(2.8 + h)
    assert est.half_width == pytest.approx(h)  # the precision of the mean is unchanged
    share = mean_ci([0.97, 1.0, 1.0, 0.9], bounds=(0.0, 1.0))
    assert share.ci_high == 1.0 and share.ci_low < share.mean


def test_truncation_keeps_coverage() -> None:
    """Counts with true mean 0.6 (Poisson, 5 replications): the raw t-interval often dips
    below 0; truncated, it covers the mean in exactly the same replications."""
    rng = np.random.default_rng(3)
    raw_hits = cut_hits = below = 0
    for _ in range(2000):
        x = rng.poisson(0.6, size=5).astype(float)
        raw, cut = mean_ci(x), mean_ci(x, bounds=(0.0, math.inf))
        below += raw.ci_low < 0
        raw_hits += raw.ci_low <= 0.6 <= raw.ci_high
        cut_hits += cut.ci_low <= 0.6 <= cut.ci_high
        assert cut.ci_low >= 0
    assert below > 500 and cut_hits == raw_hits


@given(st.lists(st.floats(0, 1e6), min_size=2, max_size=30))
def test_truncated_interval_inside_space_and_contains_mean(values: list[float]) -> None:
    e = mean_ci(values, bounds=(0.0, math.inf))
    raw = mean_ci(values)
    assert 0.0 <= e.ci_low <= e.mean <= e.ci_high
    assert e.ci_high == raw.ci_high and e.ci_low == max(raw.ci_low, 0.0)


def test_values_outside_the_declared_space_are_not_truncated(
        caplog: pytest.LogCaptureFixture) -> None:
    e = mean_ci([-1.0, 0.5, 2.0], bounds=(0.0, math.inf), name="oops")
    assert e.ci_low < 0 and "oops" in caplog.text


@pytest.mark.parametrize(("name", "bounds"), [
    ("takeovers", (0.0, math.inf)), ("boardings.av2023", (0.0, math.inf)),
    ("cost_total_yen.drt", (0.0, math.inf)), ("drt.fault_delay_min", (0.0, math.inf)),
    ("served_share", (0.0, 1.0)), ("pt_served_share", (0.0, 1.0)),
    ("mode_share.walk", (0.0, 1.0)), ("drt.soc_min", (0.0, 1.0)),
    ("choice_changed_share_last", (0.0, 1.0)),
    ("dep_delay_mean_min", (-math.inf, math.inf)), ("subsidy_required_yen", (-math.inf, math.inf)),
    ("drt.subsidy_per_trip_yen", (-math.inf, math.inf)), ("profit_yen", (-math.inf, math.inf)),
])
def test_kpi_bounds_rule(name: str, bounds: tuple[float, float]) -> None:
    assert kpi_bounds(name) == bounds


def test_every_golden_kpi_respects_its_declared_space() -> None:
    """The name rule against the shipped scenarios: the golden means (and CIs, which now are
    truncated) of every non-signed KPI lie in its space, and only documented KPIs are
    signed."""
    signed = set()
    for path in sorted(GOLDEN.glob("*.json")):
        for name, e in json.loads(path.read_text(encoding="utf-8"))["kpis"].items():
            lo, hi = kpi_bounds(name)
            if math.isinf(lo):
                signed.add(name)
                continue
            if e["mean"] is not None:
                assert lo <= e["mean"] <= hi, (path.name, name)
    assert signed <= SIGNED_KPIS


def test_constant_values_have_exactly_zero_spread() -> None:
    # the same cost summed in another order differs in the last bits
    x = [0.1 + 0.2 + 0.3, 0.3 + 0.2 + 0.1, 0.6, 0.2 + 0.1 + 0.3]
    assert len(set(x)) > 1
    e = mean_ci(x)
    assert e.std == 0.0 and e.half_width == 0.0 and e.ci_low == e.ci_high == e.mean == x[0]
    big = mean_ci([41_234.5678 + d for d in (0.0, 7e-12, -7e-12)])
    assert big.std == 0.0 and big.ci_low == big.ci_high
    # a real (tiny) spread is kept
    assert mean_ci([1.0, 1.0 + 1e-9]).std > 0


def test_aggregate_truncates_by_name_and_keeps_signed_kpis() -> None:
    reps = [{"takeovers": v, "subsidy_required_yen": v - 3.0} for v in (0.0, 0.0, 1.0, 6.0)]
    out = aggregate_replications(reps)
    assert out["takeovers"]["ci_low"] == 0.0
    raw = mean_ci([v - 3.0 for v in (0.0, 0.0, 1.0, 6.0)])
    assert out["subsidy_required_yen"]["ci_low"] == pytest.approx(raw.ci_low)


def test_paired_differences_are_never_truncated() -> None:
    d = paired_difference([5.0, 6.0, 7.0], [4.0, 6.5, 5.0])
    assert d.mean < 0 and d.ci_low < 0


def test_few_replications_warning() -> None:
    assert few_replications_warning(5) is None and few_replications_warning(30) is None
    assert "unreliable" in (few_replications_warning(4) or "")
    assert "信頼区間" in (few_replications_warning(1, "ja") or "")
