"""Speeds: maxspeed parsing, assumed defaults, cap and factor."""

from __future__ import annotations

import math

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tomakomai_maas.errors import NetworkError
from tomakomai_maas.network import DEFAULT_SPEED_KPH, SpeedSettings, parse_maxspeed
from tomakomai_maas.network.speeds import (
    FALLBACK_SPEED_KPH,
    add_edge_speeds,
    default_speed_kph,
    effective_speed_kph,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50.0),
        ("50 km/h", 50.0),
        ("50km/h", 50.0),
        ("40 kmh", 40.0),
        ("30 mph", 30 * 1.609344),
        ("10 knots", 18.52),
        (60, 60.0),
        (42.5, 42.5),
        ("50;30", 40.0),
        (["50", "30"], 40.0),
        (["40 km/h", None], 40.0),
        ("none", None),
        ("walk", None),
        ("JP:urban", None),
        ("signals", None),
        ("", None),
        (None, None),
        (float("nan"), None),
        ("0", None),
        ("-20", None),
        ("9999", None),
    ],
)
def test_parse_maxspeed(value, expected):
    got = parse_maxspeed(value)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


@given(st.integers(min_value=1, max_value=180))
def test_parse_maxspeed_roundtrips_integers(v):
    assert parse_maxspeed(str(v)) == v
    assert parse_maxspeed(f"{v} km/h") == v
    assert parse_maxspeed(f"{v} mph") == pytest.approx(v * 1.609344)


def test_default_speeds_documented_and_positive():
    assert DEFAULT_SPEED_KPH["motorway"] == 80
    assert DEFAULT_SPEED_KPH["primary"] == 50
    assert DEFAULT_SPEED_KPH["residential"] == 30
    assert DEFAULT_SPEED_KPH["service"] == 20
    assert all(v > 0 for v in DEFAULT_SPEED_KPH.values())
    from tomakomai_maas.network import speeds

    assert "assumed" in speeds.__doc__ or "assumed" in (speeds.DEFAULT_SPEED_KPH.__doc__ or "")
    assert default_speed_kph("no_such_class") == FALLBACK_SPEED_KPH
    assert default_speed_kph(None) == FALLBACK_SPEED_KPH
    assert default_speed_kph(["primary", "residential"]) == pytest.approx(40.0)


def test_cap_and_factor():
    assert effective_speed_kph(50.0) == 50.0
    assert effective_speed_kph(50.0, SpeedSettings(max_speed_kph=20)) == 20.0
    assert effective_speed_kph(15.0, SpeedSettings(max_speed_kph=20)) == 15.0
    assert effective_speed_kph(50.0, SpeedSettings(speed_factor=0.8)) == pytest.approx(40.0)
    # cap first, then factor: the bus at 20 km/h in snow runs at 16 km/h
    s = SpeedSettings(speed_factor=0.8, max_speed_kph=20)
    assert effective_speed_kph(50.0, s) == pytest.approx(16.0)


def _one_edge(**attrs):
    G = nx.MultiDiGraph()
    G.add_node(1, x=141.6, y=42.64)
    G.add_node(2, x=141.601, y=42.64)
    G.add_edge(1, 2, length=100.0, **attrs)
    return G


def test_add_edge_speeds_travel_time_formula():
    G = add_edge_speeds(_one_edge(highway="primary", maxspeed="60"),
                        SpeedSettings(speed_factor=0.5, max_speed_kph=40))
    d = G.edges[1, 2, 0]
    assert d["length_m"] == 100.0
    assert d["road_speed_kph"] == 60.0
    assert d["speed_source"] == "maxspeed"
    assert d["speed_kph"] == pytest.approx(20.0)
    assert d["travel_time_s"] == pytest.approx(100.0 / (min(60, 40) * 0.5 / 3.6))


def test_add_edge_speeds_default_and_ignore_maxspeed():
    G = add_edge_speeds(_one_edge(highway="residential"))
    assert G.edges[1, 2, 0]["speed_source"] == "default"
    assert G.edges[1, 2, 0]["travel_time_s"] == pytest.approx(100 / (30 / 3.6))
    G = add_edge_speeds(_one_edge(highway="residential", maxspeed="50"),
                        SpeedSettings(use_maxspeed=False))
    assert G.edges[1, 2, 0]["road_speed_kph"] == 30.0


def test_edge_without_length_is_an_error():
    G = _one_edge(highway="residential")
    del G.edges[1, 2, 0]["length"]
    with pytest.raises(NetworkError, match="no valid length"):
        add_edge_speeds(G)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "fast"])
def test_speed_settings_validation(bad):
    with pytest.raises(NetworkError, match="speed_factor must be"):
        SpeedSettings(speed_factor=bad)
    with pytest.raises(NetworkError, match="max_speed_kph must be"):
        SpeedSettings(max_speed_kph=bad)


def test_speed_settings_frozen_and_keyed():
    s = SpeedSettings(max_speed_kph=20)
    with pytest.raises(AttributeError):
        s.speed_factor = 2.0  # type: ignore[misc]
    assert s.key() != SpeedSettings().key()
    assert hash(s) == hash(SpeedSettings(max_speed_kph=20.0))
    assert math.isfinite(s.key()[1])
