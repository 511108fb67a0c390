"""The ``drt:`` scenario section: shipped scenarios, build checks, runner output."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import test_drt_fixtures as fx
from tomakomai_maas.errors import ScenarioError
from tomakomai_maas.scenario.build import BuildContext, build, resolve_vehicle_types
from tomakomai_maas.scenario.build_drt import build_drt
from tomakomai_maas.scenario.load import load_scenario, resolved_dict
from tomakomai_maas.sim import simulate

ROOT = Path(__file__).resolve().parents[1]
YUFUTSU = ROOT / "scenarios" / "drt_yufutsu_2025.yaml"
STATION = ROOT / "scenarios" / "drt_station_area.yaml"
H = 3600.0


@pytest.fixture(scope="module")
def built() -> dict:
    out = {}
    for path in (YUFUTSU, STATION):
        sc = load_scenario(path)
        ctx = BuildContext()
        out[path.stem] = (sc, build(sc, context=ctx), ctx)
    return out


@pytest.mark.parametrize("name", ["drt_yufutsu_2025", "drt_station_area"])
def test_shipped_drt_scenarios_run(built, name) -> None:
    sc, world, _ = built[name]
    assert any("assumed" in a.lower() for a in sc.assumptions)
    res = simulate(world, sc.seed)
    fx.check_drt_log(world, res)
    df = res.drt_requests
    assert len(df) > 10 and (df["status"] == "served").mean() > 0.7
    assert (df["source"] == "drt_demand").all()
    if name == "drt_station_area":  # the ARMA's ~100 km a day fits its battery (with charging)
        veh = res.drt_vehicles
        reserve = world.drt.charging.reserve_soc
        assert (veh["min_soc"] >= reserve - 1e-9).all() and (veh["end_soc"] >= 0).all()
        assert (veh["automation_level"] == 2).all()  # takeovers are drawn (rates assumed)


def test_aitoma_scenario_encodes_the_published_rules(built) -> None:
    sc, world, _ = built["drt_yufutsu_2025"]
    d = world.drt
    assert d.service_hours_s == ((8.5 * H, 11.5 * H), (15 * H, 17 * H))
    assert {v.capacity for v in d.vehicles} == {4}  # max 4 passengers per car
    assert {v.vtype.name for v in d.vehicles} == {"drt_sedan"}
    assert dict(d.fares_yen) == {"adult": 500, "child": 250, "senior_pass": 100,
                                 "disability": 250, "disability_child": 130}
    assert (d.prebooked_share, d.min_booking_lead_s, d.max_booking_lead_s) == (1.0, H, 72 * H)
    assert any("Fleet size NOT FOUND" in a for a in sc.assumptions)
    assert any("~900 households" in a for a in sc.assumptions)
    days = sc.service.calendar.operating_days()
    assert len(days) == 18 and str(days[0]) == "2025-11-04" and str(days[-1]) == "2025-11-28"
    # the published pick-up points and 沼ノ端駅 lie in the service area
    from tomakomai_maas.network import load_landmarks

    lm = load_landmarks().set_index("key")
    from tomakomai_maas.drt_world import Snapper

    served = Snapper(d.snap_nodes, d.snap_lat, d.snap_lon)
    for key in ("seicomart_yufutsu", "yufutsu_junior_high", "numanohata_station"):
        _, dist = served.snap([lm.loc[key, "lat"]], [lm.loc[key, "lon"]])
        assert dist[0] < 60, key  # a served road node right there
    # planning-level level-of-service attributes read by demand.los
    assert (d.max_wait_min, d.fare_yen, d.start_s, d.end_s) == (20.0, 500.0, 8.5 * H, 17 * H)


def test_station_area_uses_the_trial_stops(built) -> None:
    _, world, _ = built["drt_station_area"]
    d = world.drt
    feed = pd.read_csv(ROOT / "gtfs" / "tomakomai_av_trial_2023" / "stops.txt")
    assert len(d.virtual_stops) == len(feed) == 7
    for vs, (_, row) in zip(d.virtual_stops, feed.iterrows(), strict=True):
        dlat = (vs.lat - row["stop_lat"]) * 111_000
        dlon = (vs.lon - row["stop_lon"]) * 111_000 * math.cos(math.radians(42.63))
        assert math.hypot(dlat, dlon) < 5.0, vs.stop_id
    assert {v.vtype.name for v in d.vehicles} == {"av_arma_2023"}
    assert d.vehicles[0].vtype.automation_level == 2 and d.vehicles[0].capacity == 10


def _build_drt(built, overrides) -> tuple[object, list[str]]:
    sc0, _, ctx = built["drt_yufutsu_2025"]
    sc = load_scenario(YUFUTSU, overrides)
    problems: list[str] = []
    vtypes = resolve_vehicle_types(sc, problems)
    return build_drt(sc, ctx, {}, vtypes, problems), problems


def test_build_reports_every_problem_with_its_field_path(built) -> None:
    svc, problems = _build_drt(built, [
        "drt.dispatch.policy=cheapest", "drt.rebalancing.policy=zone_deficits",
        "drt.idle_policy=park", "drt.fleet.0.vehicle_type=drt_sedna",
        "drt.fleet.1.depot=numanohata_statoin", "drt.demand.0.origin=tomakomai_station",
        "drt.feeder=true", "drt.feeder_rules.transfer_stops=[nowhere]",
    ])
    assert svc is None
    text = "\n".join(problems)
    assert "drt.dispatch.policy: unknown dispatch policy 'cheapest'; valid names: batch_lsa, " \
           "insertion" in text
    assert "drt.rebalancing.policy: unknown rebalancing policy 'zone_deficits'; valid names: " \
           "none, zone_deficit (did you mean 'zone_deficit'?)" in text
    assert "drt.idle_policy: unknown idle policy 'park'; valid names: return_to_depot, stay" \
        in text
    assert "drt.fleet[0].vehicle_type: unknown vehicle type 'drt_sedna' (did you mean " \
           "'drt_sedan'?)" in text
    assert "drt.fleet[1].depot: unknown place 'numanohata_statoin' (did you mean " \
           "'numanohata_station'?)" in text
    assert "drt.demand[0].origin: 苫小牧駅" in text and "outside the service area" in text
    assert "drt.feeder_rules.transfer_stops[0]: unknown stop 'nowhere'" in text
    assert len(problems) == 7


def test_build_checks_stop_based_mode_and_the_area(built) -> None:
    svc, problems = _build_drt(built, ["drt.mode=stop_based"])
    assert svc is None
    assert any("stop_based mode needs virtual stops" in p for p in problems)
    svc, problems = _build_drt(built, ["drt.mode=stop_based", "drt.virtual_stops.grid_m=400"])
    assert not problems and len(svc.virtual_stops) > 10
    assert all(s.node in svc.service_nodes for s in svc.virtual_stops)
    svc, problems = _build_drt(built, ["drt.area=[[42.70,141.80],[42.70,141.81],[42.71,141.81]]"])
    assert any("no road node lies inside the polygon" in p for p in problems)
    svc, problems = _build_drt(built, ["drt.rebalancing.policy=zone_deficit",
                                       "drt.rebalancing.zone_size_m=1500"])
    assert not problems and len(svc.zone_centroids) > 3
    zones = np.asarray(svc.zone_of_node)
    assert zones.min() == 0 and zones.max() == len(svc.zone_centroids) - 1


def test_schema_rejects_bad_hours_and_rates() -> None:
    with pytest.raises(ScenarioError, match="drt.service_hours.*windows overlap"):
        load_scenario(YUFUTSU, ['drt.service_hours=[["08:30","11:30"],["11:00","12:00"]]'])
    with pytest.raises(ScenarioError, match="drt.demand.0.*exactly one of per_hour or per_day"):
        load_scenario(YUFUTSU, ["drt.demand.0.per_hour=2"])
    with pytest.raises(ScenarioError, match="drt.booking.*max_lead_h must be >= min_lead_h"):
        load_scenario(YUFUTSU, ["drt.booking.max_lead_h=0.5"])


def test_runner_writes_drt_tables_and_kpis(tmp_path) -> None:
    from tomakomai_maas.runner import run

    sc = load_scenario(YUFUTSU)
    out = run(sc, replications=2, out_root=tmp_path, run_id="t", workers=1)
    for name in ("drt_requests", "drt_vehicles", "drt_hourly"):
        df = pd.read_csv(out.path / f"{name}.csv")
        assert sorted(df["replication"].unique()) == [0, 1], name
    k = out.summary["kpis"]
    for name in ("drt.served_share", "drt.wait_mean_min", "drt.vehicle_km_per_pax",
                 "drt.cost_per_trip_yen", "drt.rejected.time_window"):
        assert k[name]["n"] == 2, name
    # the GIS export reads the service area from the resolved scenario
    from tomakomai_maas.report.gis import drt_areas_from_scenario

    areas = drt_areas_from_scenario(resolved_dict(sc))
    assert len(areas) == 1 and areas[0].start_s == 8.5 * H and areas[0].end_s == 17 * H
