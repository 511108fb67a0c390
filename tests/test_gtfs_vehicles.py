"""Vehicle type presets: values, documented sources and assumptions."""

from __future__ import annotations

import dataclasses

import pytest

from tomakomai_maas.errors import ScenarioError
from tomakomai_maas.supply.vehicles import (
    ASSUMPTIONS,
    SOURCES,
    VEHICLE_TYPES,
    assumption_lines,
    vehicle_type,
)
from tomakomai_maas.world import VehicleType

# Parameters a preset sets away from the VehicleType defaults must be documented.
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(VehicleType)}


def test_presets_are_vehicle_types_named_by_key() -> None:
    assert set(VEHICLE_TYPES) == {"av_navya_arma", "av_navya_evo", "diesel_city_bus",
                                  "ev_city_bus", "drt_sedan"}
    for name, vt in VEHICLE_TYPES.items():
        assert isinstance(vt, VehicleType) and vt.name == name


def test_every_set_parameter_has_a_source_or_an_assumption() -> None:
    for name, vt in VEHICLE_TYPES.items():
        documented = set(SOURCES.get(name, {})) | set(ASSUMPTIONS.get(name, {}))
        for f in dataclasses.fields(vt):
            if f.name == "name":
                continue
            if getattr(vt, f.name) != _DEFAULTS[f.name]:
                assert f.name in documented, f"{name}.{f.name} is undocumented"


def test_published_values() -> None:
    arma = VEHICLE_TYPES["av_navya_arma"]
    assert (arma.capacity, arma.cruise_speed_kph, arma.automation_level) == (10, 20.0, 2)
    assert arma.powertrain == "ev" and arma.is_autonomous
    assert VEHICLE_TYPES["drt_sedan"].capacity == 4
    assert "NOT FOUND" in ASSUMPTIONS["av_navya_arma"]["battery_kwh"]
    assert "diesel" in ASSUMPTIONS["drt_sedan"]["powertrain"]


def test_unknown_name_lists_valid_ones() -> None:
    assert vehicle_type("ev_city_bus").capacity == 60
    with pytest.raises(ScenarioError, match=r"unknown vehicle type 'tram'; allowed: "
                                            r"av_navya_arma, av_navya_evo"):
        vehicle_type("tram")


def test_assumption_lines() -> None:
    lines = assumption_lines(["drt_sedan"])
    assert lines and all(line.startswith("drt_sedan.") for line in lines)
    assert len(assumption_lines()) == sum(len(v) for v in ASSUMPTIONS.values())
