"""Trip generation: totals vs configured rates, reproducibility, destination choice, events."""

from __future__ import annotations

import math
import pickle
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tomakomai_maas.demand.generation import (
    AGE_BANDS,
    DEFAULT_PURPOSES,
    GENERATED_TRIP_COLUMNS,
    PURPOSES,
    CarAvailability,
    EventDemand,
    GeneratedDemand,
    PurposeSpec,
    attraction_vector,
    destination_probabilities,
    hourly_profile,
)
from tomakomai_maas.demand.zones import crow_fly_time_matrix, haversine_km, load_zones
from tomakomai_maas.errors import ScenarioError
from tomakomai_maas.rng import stream


@pytest.fixture(scope="module")
def zones() -> pd.DataFrame:
    return load_zones()


@pytest.fixture(scope="module")
def tmat(zones) -> np.ndarray:
    return crow_fly_time_matrix(zones)


@pytest.fixture(scope="module")
def weekday(zones, tmat) -> tuple[GeneratedDemand, pd.DataFrame]:
    g = GeneratedDemand(zones, tmat)
    return g, g(stream(42, "demand"))


def _within_poisson(observed: float, expected: float, k: float = 4.0) -> bool:
    return abs(observed - expected) <= k * math.sqrt(max(expected, 1.0))


def test_columns_and_dtypes(weekday):
    _, df = weekday
    assert {c: str(t) for c, t in df.dtypes.items()} == GENERATED_TRIP_COLUMNS
    assert df["trip_id"].is_unique
    assert df["depart_s"].is_monotonic_increasing
    assert set(df["purpose"]) == set(PURPOSES)
    assert set(df["age_band"]) <= set(AGE_BANDS)


def test_totals_match_configured_rates(weekday, zones):
    g, df = weekday
    exp = g.expected_trips()
    counts = df.groupby("purpose").size()
    for p in PURPOSES:
        assert _within_poisson(counts[p], exp[p]), (p, counts[p], exp[p])
    # expected = population x rate by band (weekday, no winter)
    pop = zones[["pop_0_14", "pop_15_64", "pop_65p"]].sum().to_numpy()
    assert exp["commute"] == pytest.approx(float(pop @ np.array(DEFAULT_PURPOSES["commute"].rates)))
    # and by age band
    com = df[df["purpose"] == "commute"].groupby("age_band").size()
    assert "0_14" not in com.index  # children do not commute (rate 0)
    assert _within_poisson(com["65p"], pop[2] * DEFAULT_PURPOSES["commute"].rates[2])


@pytest.mark.parametrize(("day_type", "winter"), [("weekend", False), ("weekday", True)])
def test_weekend_and_winter_factors(zones, tmat, weekday, day_type, winter):
    base, _ = weekday
    g = GeneratedDemand(zones, tmat, day_type=day_type, winter=winter, scale=0.5)
    df = g(stream(7, "demand"))
    for p in PURPOSES:
        spec = DEFAULT_PURPOSES[p]
        f = (spec.weekend_factor if day_type == "weekend" else 1.0) * \
            (spec.winter_factor if winter else 1.0)
        assert g.expected_trips()[p] == pytest.approx(base.expected_trips()[p] * f * 0.5)
        assert _within_poisson((df["purpose"] == p).sum(), g.expected_trips()[p])


def test_same_seed_same_trips_different_seed_different(zones, tmat):
    g = GeneratedDemand(zones, tmat, scale=0.05)
    a = g(stream(1, "demand"))
    b = g(stream(1, "demand"))
    c = g(stream(2, "demand"))
    pd.testing.assert_frame_equal(a, b)
    assert not a[["o_lat", "depart_s"]].equals(c[["o_lat", "depart_s"]])
    # picklable (worker processes) and the copy draws the same demand
    g2 = pickle.loads(pickle.dumps(g))
    pd.testing.assert_frame_equal(g2(stream(1, "demand")), a)


def test_directions_and_home_zone(weekday):
    _, df = weekday
    out = df[df["direction"] == "outbound"]
    ret = df[df["direction"] == "return"]
    assert (out["o_zone"] == out["home_zone"]).all()
    assert (ret["d_zone"] == ret["home_zone"]).all()
    res = df[df["source"] == "resident"]
    share_ret = (res["direction"] == "return").mean()
    assert abs(share_ret - 0.5) < 0.01


def test_hourly_profiles_shape_departures(weekday):
    _, df = weekday
    res = df[df["source"] == "resident"]
    assert res["depart_s"].between(0, 86400, inclusive="left").all()
    com_out = res[(res["purpose"] == "commute") & (res["direction"] == "outbound")]
    hours = (com_out["depart_s"] // 3600).astype(int)
    assert hours.value_counts().idxmax() == 7
    school_ret = res[(res["purpose"] == "school") & (res["direction"] == "return")]
    assert ((school_ret["depart_s"] // 3600) == 15).mean() == pytest.approx(0.30, abs=0.03)
    assert not (school_ret["depart_s"] < 12 * 3600).any()  # profile weight 0 before noon


def test_points_disc_and_centroid_share_random_numbers(zones, tmat):
    kw = dict(scale=0.05)
    disc = GeneratedDemand(zones, tmat, points="disc", **kw)(stream(3, "demand"))
    cent = GeneratedDemand(zones, tmat, points="centroid", **kw)(stream(3, "demand"))
    pd.testing.assert_frame_equal(disc[["o_zone", "d_zone", "depart_s", "age_band"]],
                                  cent[["o_zone", "d_zone", "depart_s", "age_band"]])
    z = zones.set_index("zone_id")
    np.testing.assert_array_equal(cent["o_lat"].to_numpy(), z.loc[cent["o_zone"], "lat"])
    np.testing.assert_array_equal(cent["d_lon"].to_numpy(), z.loc[cent["d_zone"], "lon"])
    r = np.sqrt(z.loc[disc["o_zone"], "area_km2"].to_numpy() / math.pi)
    d = haversine_km(disc["o_lat"], disc["o_lon"], z.loc[disc["o_zone"], "lat"].to_numpy(),
                     z.loc[disc["o_zone"], "lon"].to_numpy())
    assert (d <= r * 1.001).all()
    assert d.mean() == pytest.approx((2 / 3 * r).mean(), rel=0.05)  # uniform in the disc


def test_car_availability_by_age_band(weekday):
    _, df = weekday
    res = df[df["source"] == "resident"]
    car = CarAvailability()
    assert not res.loc[res["age_band"] == "0_14", "licence"].any()
    for b, band in enumerate(AGE_BANDS):
        sub = res[res["age_band"] == band]
        n = len(sub)
        p = car.household_car_prob[b]
        assert abs(sub["car_in_household"].mean() - p) <= 4 * math.sqrt(p * (1 - p) / n)
    vis = df[df["source"] == "visitor"]
    assert abs(vis["car_in_household"].mean() - car.visitor_car_prob) < 0.15


def test_visitors_arrive_at_station_zones(weekday, zones):
    _, df = weekday
    vis = df[df["source"] == "visitor"]
    stations = set(zones.loc[zones["station"] > 0, "zone_id"])
    assert set(vis["home_zone"]) <= stations
    assert (vis["home_zone"] == "C33").mean() > 0.8  # 苫小牧駅 has ~84 % of station weight
    assert (vis["purpose"] == "tourism").all()


# --------------------------------------------------------------------- destination choice
def test_destination_probabilities_prefer_closer_and_more_attractive():
    t = np.array([[5.0, 10.0, 10.0], [10.0, 5.0, 20.0], [10.0, 20.0, 5.0]])
    a = np.array([1.0, 1.0, 2.0])
    p = destination_probabilities(t, a, -0.1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    # from zone 1: zone 1 (5 min) beats zone 0 (10 min) at equal attraction, by exp(0.5)
    assert p[1, 1] / p[1, 0] == pytest.approx(math.exp(0.5))
    # from zone 0: zones 1 and 2 equally far, zone 2 twice as attractive
    assert p[0, 2] / p[0, 1] == pytest.approx(2.0)
    # beta 0 -> proportional to attraction; zero attraction -> never chosen
    p0 = destination_probabilities(t, np.array([0.0, 1.0, 3.0]), 0.0)
    np.testing.assert_allclose(p0, [[0, 0.25, 0.75]] * 3)
    # stronger time sensitivity concentrates on the near zone
    assert destination_probabilities(t, a, -0.3)[1, 1] > p[1, 1]
    with pytest.raises(ScenarioError, match="no zone has a positive attraction"):
        destination_probabilities(t, np.zeros(3), -0.1)


def test_generated_destinations_follow_the_model(weekday, zones):
    g, df = weekday
    ids = list(zones["zone_id"])
    p = g.destination_probabilities("shopping")
    o = ids.index("E04")
    sub = df[(df["purpose"] == "shopping") & (df["home_zone"] == "E04")]
    dest = np.where(sub["direction"] == "outbound", sub["d_zone"], sub["o_zone"])
    n = len(sub)
    for zid in ("E03", "C33", "E06"):
        q = p[o, ids.index(zid)]
        assert abs((dest == zid).mean() - q) <= 4 * math.sqrt(q * (1 - q) / n) + 1e-9
    # AEON (retail 100, next door) attracts E04's shoppers more than the far station area
    assert p[o, ids.index("E03")] > p[o, ids.index("C33")]
    # hospital trips from the core go to 市立病院 (C14) more than to 沼ノ端 (E06)
    ph = g.destination_probabilities("hospital")
    assert ph[ids.index("C23"), ids.index("C14")] > ph[ids.index("C23"), ids.index("E06")]


def test_attraction_vector_normalises_columns(zones):
    a = attraction_vector(zones, (("retail", 1.0),))
    assert a.sum() == pytest.approx(1.0)
    b = attraction_vector(zones, (("retail", 0.5), ("pop_total", 0.5)))
    assert b.sum() == pytest.approx(1.0)


# --------------------------------------------------------------------------------- events
def test_event_demand(zones, tmat):
    ev = EventDemand("mirai_fest", lat=42.6236, lon=141.5968, start_s=12 * 3600,
                     end_s=14 * 3600, attendance=3000, arrive_shares=(0.5, 0.3, 0.1),
                     depart_shares=(0.6, 0.4))
    g = GeneratedDemand(zones, tmat, purposes=(), events=(ev,))
    df = g(stream(5, "demand"))
    assert (df["source"] == "event").all() and (df["event"] == "mirai_fest").all()
    go = df[df["direction"] == "outbound"]
    back = df[df["direction"] == "return"]
    assert _within_poisson(len(go), 3000 * 0.9, k=5)
    assert abs(len(back) / len(go) - 1.0 / 0.9) < 0.08
    assert (go["d_lat"] == ev.lat).all() and (back["o_lon"] == ev.lon).all()
    assert (go["d_zone"] == "P2").all()
    ids = list(zones["zone_id"])
    tt = tmat[[ids.index(z) for z in go["o_zone"]], ids.index("P2")] * 60
    arrive = go["depart_s"].to_numpy() + tt
    assert ((arrive >= 9 * 3600) & (arrive < 12 * 3600)).all()
    assert ((arrive >= 11 * 3600).mean()) == pytest.approx(0.5 / 0.9, abs=0.04)
    assert back["depart_s"].between(14 * 3600, 16 * 3600, inclusive="left").all()
    assert g.expected_trips() == {"event:mirai_fest": pytest.approx(3000 * 1.9)}
    # attendees come more from near zones (gravity) at equal population
    near = (go["home_zone"] == "P1").sum()
    far = (go["home_zone"] == "E07").sum()
    assert near / zones.set_index("zone_id").loc["P1", "pop_total"] > \
        far / zones.set_index("zone_id").loc["E07", "pop_total"]


def test_window_keeps_only_departures_inside(zones, tmat):
    g = GeneratedDemand(zones, tmat, scale=0.05, window_s=(7 * 3600, 10 * 3600))
    df = g(stream(9, "demand"))
    assert df["depart_s"].between(7 * 3600, 10 * 3600, inclusive="left").all()
    full = GeneratedDemand(zones, tmat, scale=0.05)(stream(9, "demand"))
    inside = full[full["depart_s"].between(7 * 3600, 10 * 3600, inclusive="left")]
    assert len(df) == len(inside)  # same draws, filtered afterwards


# ----------------------------------------------------------------------------- validation
def test_validation_messages(zones, tmat):
    with pytest.raises(ScenarioError, match=r"demand\.time_min: need finite.*shape \(39, 39\)"):
        GeneratedDemand(zones, tmat[:5, :5])
    with pytest.raises(ScenarioError, match=r"demand\.purposes\.x\.rates"):
        replace(DEFAULT_PURPOSES["commute"], name="x", rates=(1.0, -1.0, 0.0))
    with pytest.raises(ScenarioError, match=r"unknown zone column 'cinema'"):
        replace(DEFAULT_PURPOSES["leisure"], attraction=(("cinema", 1.0),))
    with pytest.raises(ScenarioError, match=r"outbound_profile: need 24"):
        replace(DEFAULT_PURPOSES["school"], outbound_profile=(1.0,) * 23)
    with pytest.raises(ScenarioError, match=r"demand\.events\.e\.arrive_shares"):
        EventDemand("e", 42.6, 141.6, 0, 3600, 10, arrive_shares=(0.8, 0.5))
    with pytest.raises(ScenarioError, match=r"demand\.day_type: 'holiday'"):
        GeneratedDemand(zones, tmat, day_type="holiday")
    no_jobs = zones.assign(jobs=0.0)
    with pytest.raises(ScenarioError, match=r"purposes\.commute\.attraction: columns \['jobs'\]"):
        GeneratedDemand(no_jobs, tmat)
    with pytest.raises(ValueError, match=r"hours \[24\]"):
        hourly_profile({24: 1.0})


def test_custom_purpose_only(zones, tmat):
    spec = PurposeSpec("errand", (("city_hall", 1.0),), -0.05,
                       hourly_profile({10: 1}), hourly_profile({11: 1}),
                       rates=(0.0, 0.1, 0.1), return_share=0.0)
    df = GeneratedDemand(zones, tmat, purposes=(spec,))(stream(11, "demand"))
    assert (df["d_zone"] == "C44").all()  # only the city hall attracts
    assert ((df["depart_s"] // 3600) == 10).all()
