"""Energy and CO2 of driven vehicle-km (pure arithmetic, used by the tables)."""

from __future__ import annotations

from tomakomai_maas.world import EnergyParams, VehicleType, WeatherState

__all__ = ["leg_energy", "supervision"]


def leg_energy(
    vtype: VehicleType, dist_m: float, weather: WeatherState, energy: EnergyParams
) -> tuple[float, float, float]:
    """Return ``(kwh, fuel_l, co2_kg)`` for driving ``dist_m`` metres.

    EV: ``kWh = km · energy_kwh_per_km · weather.ev_energy_factor`` and
    ``CO2 = kWh · grid_kg_co2_per_kwh``. Diesel: ``litres = km · fuel_l_per_km`` and
    ``CO2 = litres · diesel_kg_co2_per_l``.
    """
    km = dist_m / 1000.0
    if vtype.powertrain == "ev":
        kwh = km * vtype.energy_kwh_per_km * weather.ev_energy_factor
        return kwh, 0.0, kwh * energy.grid_kg_co2_per_kwh
    litres = km * vtype.fuel_l_per_km
    return 0.0, litres, litres * energy.diesel_kg_co2_per_l


def supervision(automation_level: int) -> str:
    """Who drives: ``driver`` (level 0-1), ``operator_on_board`` (2-3), ``remote`` (4+)."""
    if automation_level >= 4:
        return "remote"
    if automation_level >= 2:
        return "operator_on_board"
    return "driver"
