"""Built-in vehicle type presets (:class:`tomakomai_maas.world.VehicleType`).

Every parameter of every preset is either taken from ``docs/tomakomai_facts.md`` (the
section is named in :data:`SOURCES`) or **assumed** (the reason is in :data:`ASSUMPTIONS`,
which reports list). Parameters left at the VehicleType default (e.g. AV takeover and
sudden-stop rates = 0) are not modelled by the preset; scenarios set them and say so.

Presets:

``av_navya_arma``
    NAVYA ARMA as operated in the Tomakomai autumn 2023 trial (facts §1.2, §1.6).
``av_navya_evo``
    NAVYA EVO, probably the winter 2024/25 vehicle (facts §1.4 [C], §1.6).
``diesel_city_bus``
    A 道南バス-like diesel city route bus (capacity and fuel use assumed).
``ev_city_bus``
    A battery-electric city bus of the same size (all values assumed).
``drt_sedan``
    The あいとまタクシー shared taxi (4 passengers, facts §2.4); fuel use assumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from tomakomai_maas.errors import ScenarioError
from tomakomai_maas.world import VehicleType

__all__ = ["VEHICLE_TYPES", "ASSUMPTIONS", "SOURCES", "vehicle_type", "assumption_lines"]

_ARMA_BATTERY_KWH = 33.0  # assumed, see ASSUMPTIONS
_ARMA_RANGE_KM = 100.0  # facts §1.6: ~9 h / ~100 km per charge

VEHICLE_TYPES: Mapping[str, VehicleType] = MappingProxyType({
    "av_navya_arma": VehicleType(
        name="av_navya_arma",
        capacity=10,
        powertrain="ev",
        cruise_speed_kph=20.0,
        automation_level=2,
        energy_kwh_per_km=round(_ARMA_BATTERY_KWH / _ARMA_RANGE_KM, 3),
        battery_kwh=_ARMA_BATTERY_KWH,
    ),
    "av_navya_evo": VehicleType(
        name="av_navya_evo",
        capacity=10,
        powertrain="ev",
        cruise_speed_kph=20.0,
        automation_level=2,
        energy_kwh_per_km=0.33,
        battery_kwh=33.0,
    ),
    "diesel_city_bus": VehicleType(
        name="diesel_city_bus",
        capacity=60,
        powertrain="diesel",
        cruise_speed_kph=None,
        automation_level=0,
        fuel_l_per_km=0.35,
    ),
    "ev_city_bus": VehicleType(
        name="ev_city_bus",
        capacity=60,
        powertrain="ev",
        cruise_speed_kph=None,
        automation_level=0,
        energy_kwh_per_km=1.2,
        battery_kwh=250.0,
    ),
    "drt_sedan": VehicleType(
        name="drt_sedan",
        capacity=4,
        powertrain="diesel",
        cruise_speed_kph=None,
        automation_level=0,
        fuel_l_per_km=0.063,
    ),
})

#: preset -> parameter -> where the value comes from (facts file section and source).
SOURCES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "av_navya_arma": {
        "capacity": "facts §1.2: operated as 10 passengers in Tomakomai (NHK '11人乗り' = 10 + "
                    "operator; operator not counted); maker capacity 15 (§1.6) not used",
        "powertrain": "facts §1.2: EV",
        "cruise_speed_kph": "facts §1.2: ~20 km/h cruise (all sources); maker operating max "
                            "25 km/h (§1.6)",
        "automation_level": "facts §1.2: Level 2, 1 operator on board + remote monitoring",
    },
    "av_navya_evo": {
        "capacity": "facts §1.4: capacity 10 in the winter trial (blog: 11 incl. operator); "
                    "maker capacity 15 = 8 seats + 3 folding + 4 standing (§1.6) not used",
        "powertrain": "facts §1.4: EV",
        "cruise_speed_kph": "facts §1.4: winter trial ran at 20 km/h; maker-recommended speed "
                            "is 18 km/h (§1.6) - set cruise_speed_kph=18 for that",
        "automation_level": "facts §1.4: Level 2, 1 operator",
    },
    "diesel_city_bus": {
        "powertrain": "facts §2.1/§2.5: 道南バス route buses (diesel assumed, see ASSUMPTIONS)",
        "automation_level": "human driver",
    },
    "ev_city_bus": {"automation_level": "human driver"},
    "drt_sedan": {
        "capacity": "facts §2.4: あいとまタクシー, max 4 passengers per vehicle",
        "automation_level": "human driver (金星室蘭ハイヤー, facts §2.4)",
    },
})

#: preset -> parameter -> why the value is assumed (for reports).
ASSUMPTIONS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "av_navya_arma": {
        "battery_kwh": "ASSUMED 33 kWh: battery capacity is NOT FOUND in the facts file "
                       "(§1.6); order of magnitude for a small EV shuttle",
        "energy_kwh_per_km": "ASSUMED 0.33 kWh/km = assumed 33 kWh battery / ~100 km range "
                             "per charge (§1.6); winter heating not included",
        "takeover_rate_per_km": "not set (0): no per-km takeover or sudden-stop rate is "
                                "published; scenarios must set assumed rates",
    },
    "av_navya_evo": {
        "battery_kwh": "ASSUMED 33 kWh (same as ARMA): NOT FOUND in the facts file",
        "energy_kwh_per_km": "ASSUMED 0.33 kWh/km (same as ARMA): NOT FOUND in the facts file",
        "vehicle_model": "the winter-trial vehicle is EVO only per a blog (facts §1.4, [C]/low)",
        "takeover_rate_per_km": "not set (0): scenarios must set assumed rates",
    },
    "diesel_city_bus": {
        "capacity": "ASSUMED 60 passengers (seated + standing) for a mid-size Japanese route "
                    "bus; the only published figure is ~40 seats for the night-bus vehicles "
                    "(facts §2.5)",
        "fuel_l_per_km": "ASSUMED 0.35 l/km (~2.9 km/l) diesel for urban stop-and-go; no "
                         "道南バス figure in the facts file",
        "powertrain": "ASSUMED diesel: the facts file does not state 道南バス's fleet powertrain",
        "cruise_speed_kph": "none: follows road speeds of the network",
    },
    "ev_city_bus": {
        "powertrain": "HYPOTHETICAL vehicle for scenarios: no battery-electric city bus in "
                      "Tomakomai is in the facts file",
        "capacity": "ASSUMED 60 passengers, same size as diesel_city_bus",
        "energy_kwh_per_km": "ASSUMED 1.2 kWh/km incl. auxiliaries (no Tomakomai data)",
        "battery_kwh": "ASSUMED 250 kWh usable (no Tomakomai data)",
        "cruise_speed_kph": "none: follows road speeds of the network",
    },
    "drt_sedan": {
        "powertrain": "ASSUMED: the taxi's fuel is NOT FOUND (Japanese taxis are often LPG or "
                      "petrol hybrids). VehicleType only knows 'ev' and 'diesel', so the "
                      "vehicle is modelled as 'diesel' with DIESEL-EQUIVALENT litres",
        "fuel_l_per_km": "ASSUMED 0.07 l/km petrol (~14 km/l, hybrid in town) converted to "
                         "diesel-equivalent litres by the CO2 factors 2.32/2.58 kg/l "
                         "-> 0.063 l/km, so CO2 with the diesel factor is right; reported "
                         "litres are not real petrol litres",
        "cruise_speed_kph": "none: follows road speeds of the network",
    },
})


def vehicle_type(name: str) -> VehicleType:
    """The preset called ``name``; an unknown name lists the valid ones."""
    try:
        return VEHICLE_TYPES[name]
    except KeyError:
        raise ScenarioError(f"unknown vehicle type {name!r}; allowed: "
                            f"{', '.join(sorted(VEHICLE_TYPES))}") from None


def assumption_lines(names: list[str] | None = None) -> list[str]:
    """``"preset.parameter: text"`` lines of :data:`ASSUMPTIONS` (all presets or ``names``)."""
    chosen = sorted(VEHICLE_TYPES) if names is None else names
    return [f"{n}.{param}: {text}" for n in chosen for param, text in ASSUMPTIONS.get(n, {}).items()]
