"""All-mode totals, the public-transport served share and the one DRT cost (metrics/kpi.py)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

import simworlds as sw
import test_drt_fixtures as fx
from tomakomai_maas.errors import ScenarioError
from tomakomai_maas.metrics.compare import add_derived_kpis
from tomakomai_maas.metrics.cost import CostConfig
from tomakomai_maas.metrics.kpi import TOTAL_KPI_PARTS, drt_kpis, summarise, total_kpis
from tomakomai_maas.sim import simulate

ROOT = Path(__file__).resolve().parents[1]


def _mixed(cost: CostConfig | None = None):
    """A bus line (2 riders) and one DRT car (a rider and a party of two)."""
    trips = sw.line_trips("R", ["A", "B", "C"], 600, 600, 4, [120, 120])
    bus_reqs = [sw.stop_request("bus1", 500, "A", "C"), sw.stop_request("bus2", 1300, "B", "C")]
    svc = fx.service(fx.line_tt(), [fx.vehicle(shift=(0.0, 3600.0))],
                     [fx.trip("d1", 700, 1, 4), fx.trip("d2", 1250, 6, 2, n_pax=2)])
    world = fx.drt_world(svc, requests=bus_reqs, trips=trips)
    if cost is not None:
        world = replace(world, extras={"cost_config": cost})
    res = simulate(world, seed=0)
    return world, res


def test_totals_count_bus_and_drt_riders_by_hand() -> None:
    world, res = _mixed()
    k = summarise(res.tables, world)
    assert k["boardings"] == 2  # bus1, bus2 on the timetabled line
    assert k["drt.passengers"] == 3  # d1 alone, d2 a party of two
    assert k["total_boardings"] == 5
    ran = res.vehicle_trips[~res.vehicle_trips["cancelled"]]
    assert k["total_vehicle_km"] == pytest.approx(ran["km"].sum() + res.drt_vehicles["km"].sum())
    assert k["total_co2_kg"] == pytest.approx(ran["co2_kg"].sum()
                                              + res.drt_vehicles["co2_kg"].sum())
    assert k["total_co2_kg"] > k["co2_kg"] > 0
    assert k["total_co2_g_per_pax_km"] == pytest.approx(
        k["total_co2_kg"] * 1000 / (k["pax_km"] + k["drt.pax_km"]))
    # CO2 per boarding in comparisons: all modes over all boardings
    assert add_derived_kpis(k)["co2_g_per_boarding"] == pytest.approx(
        k["total_co2_kg"] * 1000 / 5)


def test_totals_without_drt_equal_the_timetabled_kpis() -> None:
    k = {"boardings": 7.0, "vehicle_km": 3.5, "pax_km": 10.0, "energy_kwh": 1.0, "fuel_l": 0.5,
         "co2_kg": 2.0}
    t = total_kpis(k)
    for name, (fixed, _) in TOTAL_KPI_PARTS.items():
        assert t[name] == k[fixed]
    assert t["total_co2_g_per_pax_km"] == pytest.approx(200.0)
    # an old KPI dict (before total_* existed) still gets an all-mode CO2 per boarding
    assert add_derived_kpis({**k, "drt.co2_kg": 1.0, "drt.passengers": 3.0})[
        "co2_g_per_boarding"] == pytest.approx(3000.0 / 10)


def _tables(rows: list[tuple[str, str]]) -> dict[str, pd.DataFrame]:
    trips = pd.DataFrame({
        "request_id": [f"r{i}" for i in range(len(rows))],
        "mode": [m for m, _ in rows], "status": [s for _, s in rows],
        "n_denied": 0, "wait_min": 1.0, "walk_min": 1.0, "ivt_min": 1.0, "transfers": 0,
        "depart_s": 0.0, "arrive_s": 600.0})
    vt = pd.DataFrame(columns=["cancelled", "boardings", "route_id", "km", "energy_kwh",
                               "fuel_l", "co2_kg", "takeovers", "sudden_stops",
                               "automation_level", "timepoint_deps", "on_time_deps",
                               "dep_delay_s", "max_load", "capacity"])
    return {"trips": trips, "vehicle_trips": vt}


def test_pt_served_share_leaves_out_walk_only_journeys() -> None:
    rows = [("walk", "served")] * 6 + [("pt", "served"), ("pt", "gave_up"), ("drt", "served"),
                                       ("drt", "rejected"), ("pt", "no_route"),
                                       ("car", "skipped")]
    k = summarise(_tables(rows))
    assert k["travellers"] == 12 and k["requests"] == 11
    assert k["served_share"] == pytest.approx(8 / 11)  # walk-only journeys always arrive
    assert k["pt_requests"] == 5 and k["pt_served"] == 2
    assert k["pt_served_share"] == pytest.approx(2 / 5)
    only_walk = summarise(_tables([("walk", "served")] * 3))
    assert only_walk["pt_requests"] == 0 and math.isnan(only_walk["pt_served_share"])


def test_drt_cost_is_the_cost_models_drt_line() -> None:
    """drt.cost_yen and cost_total_yen.drt are one number, and it follows the scenario's
    cost: section: +1,000 yen/h for the driver adds 1,000 × 1 h on duty × 1.15 overhead."""
    base = CostConfig()
    world, res = _mixed(base)
    k = summarise(res.tables, world)
    assert k["drt.cost_yen"] == k["cost_total_yen.drt"] > 0
    assert drt_kpis(res.tables, world)["drt.cost_yen"] == k["drt.cost_yen"]  # computed alone
    dearer = base.model_copy(update={"driver_yen_per_hour": base.driver_yen_per_hour + 1000})
    world2, res2 = _mixed(dearer)
    k2 = summarise(res2.tables, world2)
    assert k2["drt.cost_yen"] - k["drt.cost_yen"] == pytest.approx(1000 * 1.0 * 1.15)
    assert k2["drt.cost_per_trip_yen"] == pytest.approx(k2["drt.cost_yen"] / 2)
    assert math.isnan(drt_kpis(res.tables, None)["drt.cost_yen"])  # no World: no cost


def test_removed_drt_costs_section_names_the_cost_section(tmp_path: Path) -> None:
    from tomakomai_maas.scenario.load import load_scenario

    sc = tmp_path / "old.yaml"
    sc.write_text(f"extends: {ROOT / 'scenarios' / 'drt_station_area.yaml'}\nname: old\n"
                  "drt:\n  costs: {driver_yen_per_h: 2500}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        load_scenario(sc)
    msg = str(e.value)
    assert "old.yaml" in msg and "drt.costs was removed" in msg
    assert "cost.driver_yen_per_hour" in msg and "cost.vehicles." in msg
