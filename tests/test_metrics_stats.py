"""Replication statistics: t-based CIs and paired differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tomakomai_maas.metrics.stats import aggregate_replications, mean_ci, paired_difference


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
