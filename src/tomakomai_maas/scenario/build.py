"""``build(scenario) -> World``: every check happens here, before simulated time starts.

Loads the road network, builds travel-time oracles (one per vehicle speed cap, one for
walking), reads the GTFS feeds, snaps stops, turns timetables into
:class:`~tomakomai_maas.world.TripSchedule` with leg times from the oracle, prepares demand and
weather. Problems are collected across all sections and raised once as a
:class:`~tomakomai_maas.errors.ScenarioError` (desmod's elaboration step).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from tomakomai_maas.demand.od import (
    CompositeDemand,
    FixedRequests,
    PoissonStopDemand,
    StopRate,
    read_trips_csv,
)
from tomakomai_maas.errors import GTFSError, NetworkError, ScenarioError
from tomakomai_maas.scenario.schema import Scenario, parse_time_s
from tomakomai_maas.supply.fares import fare_table_from_feeds
from tomakomai_maas.world import (
    Access,
    EnergyParams,
    JourneyParams,
    OpsParams,
    Request,
    Stop,
    TripSchedule,
    VehicleType,
    WeatherState,
    World,
)

__all__ = ["build", "BuildContext", "DEFAULT_WEATHER_EFFECTS", "resolve_vehicle_types",
           "scenario_fare_table"]

log = logging.getLogger(__name__)

#: Effect of each weather state (ALL ASSUMED unless noted; override in ``weather.states``):
#: - rain: sudden stops ×2 — the 2023 trial reported a sudden stop at a puddle (facts §1.2);
#:   the multiplier itself is assumed.
#: - snowfall / snow_piles: takeovers more frequent — the 2024-25 winter trial switched to
#:   manual partly when heavy flakes and roadside snow piles triggered sensors (facts §1.4);
#:   multipliers assumed. No slipping was reported on compacted snow (§1.4).
#: - heavy_snowfall: autonomous service suspended, as 上士幌町 does during snowfall (§1.6).
#: - speed factors: winter bus-speed reductions are NOT FOUND in public data (§5); assumed.
DEFAULT_WEATHER_EFFECTS: dict[str, WeatherState] = {
    "clear": WeatherState("clear"),
    "rain": WeatherState("rain", speed_factor=0.95, takeover_multiplier=1.5,
                         sudden_stop_multiplier=2.0),
    "snowfall": WeatherState("snowfall", speed_factor=0.85, takeover_multiplier=3.0,
                             sudden_stop_multiplier=2.0),
    "heavy_snowfall": WeatherState("heavy_snowfall", speed_factor=0.7, takeover_multiplier=6.0,
                                   sudden_stop_multiplier=3.0, suspend_autonomous=True),
    "snow_piles": WeatherState("snow_piles", speed_factor=0.9, takeover_multiplier=2.0,
                               sudden_stop_multiplier=1.5),
}


@dataclass
class BuildContext:
    """Objects built alongside the World that other commands reuse (plots, GIS, DRT)."""

    graph: Any = None
    drive_oracles: dict[float | None, Any] = field(default_factory=dict)
    walk_oracle: Any = None
    feeds: dict[str, Any] = field(default_factory=dict)
    drt_service: Any = None  # World.drt, once built (read by generated demand's DRT skims)
    fare_table: Any = None  # the one FareTable of mode choice and revenue, once lines are built


def resolve_vehicle_types(sc: Scenario, problems: list[str]) -> dict[str, VehicleType]:
    """Scenario vehicle types (preset + overrides) plus every preset under its own name.

    A type that is defined but invalid (unknown preset, neither preset nor capacity) is
    reported once in ``problems`` and still returned, as a stand-in (the nearest preset, or
    capacity 1), so that lines and fleets naming it do not report it again as unknown: one
    typo, one error. The stand-in never reaches a World: ``build`` raises on the problems.
    """
    from tomakomai_maas.supply.vehicles import VEHICLE_TYPES as PRESETS

    label = _label(sc)
    types: dict[str, VehicleType] = dict(PRESETS)
    for name, cfg in sc.vehicle_types.items():
        base: VehicleType | None = None
        if cfg.preset is not None:
            base = PRESETS.get(cfg.preset)
            if base is None:
                problems.append(f"{label}: vehicle_types.{name}.preset: unknown preset "
                                f"{cfg.preset!r}{_did_you_mean(cfg.preset, PRESETS)}; "
                                f"allowed: {', '.join(sorted(PRESETS))}")
                base = _stand_in(name, cfg.preset, cfg.capacity, PRESETS)
        updates = {f.name: getattr(cfg, f.name) for f in fields(VehicleType)
                   if f.name in type(cfg).model_fields and getattr(cfg, f.name) is not None}
        if base is None:
            if cfg.capacity is None:
                problems.append(f"{label}: vehicle_types.{name}: give a 'preset' or at least "
                                f"'capacity' (presets: {', '.join(sorted(PRESETS))})")
            base = VehicleType(name=name, capacity=cfg.capacity or 1)
        types[name] = replace(base, name=name, **updates)
    return types


def _stand_in(name: str, preset: str, capacity: int | None,
              presets: dict[str, VehicleType]) -> VehicleType:
    """What an unknown preset stands for while the other sections are checked."""
    near = difflib.get_close_matches(preset, list(presets), n=1, cutoff=0.5)
    if near:
        return presets[near[0]]
    return VehicleType(name=name, capacity=capacity or 1)


def build(sc: Scenario, *, cache_dir: Path | None = None,
          context: BuildContext | None = None) -> World:
    """Validate everything and assemble the :class:`World` of a scenario."""
    from tomakomai_maas.network import SpeedSettings, TravelTimes, load_network

    label = _label(sc)
    problems: list[str] = []
    ctx = context if context is not None else BuildContext()

    # ---- network
    try:
        G = load_network(sc.network.source, cache_dir=cache_dir,
                         speeds=SpeedSettings(speed_factor=sc.network.speed_factor))
    except NetworkError as exc:
        raise ScenarioError(f"{label}: network.source: {exc}") from exc
    ctx.graph = G
    jp = sc.journey
    walk_speed_mps = jp.walk_speed_kph / 3.6
    walk = TravelTimes(G, mode="walk", walk_speed_mps=walk_speed_mps, cache_dir=cache_dir)
    ctx.walk_oracle = walk

    vtypes = resolve_vehicle_types(sc, problems)

    def drive_oracle(cap: float | None) -> Any:
        if cap not in ctx.drive_oracles:
            ctx.drive_oracles[cap] = TravelTimes(
                G, speeds=SpeedSettings(speed_factor=sc.network.speed_factor,
                                        max_speed_kph=cap), cache_dir=cache_dir)
        return ctx.drive_oracles[cap]

    # ---- lines
    stops: dict[str, Stop] = {}
    trips: list[TripSchedule] = []
    for li, line in enumerate(sc.lines):
        trips.extend(_build_line(sc, li, line, vtypes, walk, drive_oracle, stops, problems, ctx))

    ctx.fare_table = scenario_fare_table(sc, ctx.feeds)

    # ---- on-demand service (scenario/build_drt.py)
    drt = None
    if sc.drt is not None:
        from tomakomai_maas.scenario.build_drt import build_drt

        drt = build_drt(sc, ctx, stops, vtypes, problems)
        ctx.drt_service = drt

    # ---- demand
    requests_parts: list[Callable[[np.random.Generator], list[Request]]] = []
    if sc.demand.trips_csv is not None:
        try:
            df = read_trips_csv(sc.demand.trips_csv)
        except ScenarioError as exc:
            problems.append(str(exc))
        else:
            requests_parts.append(FixedRequests(tuple(
                _csv_requests(df, stops, walk, sc, problems))))
    rates = []
    for k, r in enumerate(sc.demand.stop_rates):
        bad = False
        for fld in ("from_stop", "to_stop"):
            sid = getattr(r, fld)
            if sid not in stops:
                problems.append(f"{label}: demand.stop_rates[{k}].{fld}: unknown stop {sid!r}"
                                f"{_did_you_mean(sid, stops)} (stops come from the lines' feeds)")
                bad = True
        if bad:
            continue
        a, b = stops[r.from_stop], stops[r.to_stop]
        deps: tuple[float, ...] = ()
        if r.arrival == "timetable":
            deps = _departures_serving(trips, r.from_stop, r.to_stop)
            if not deps:
                problems.append(f"{label}: demand.stop_rates[{k}]: no trip serves "
                                f"{r.from_stop} -> {r.to_stop} on {sc.service.date} (needed "
                                f"for arrival: timetable; use arrival: random otherwise)")
                continue
        rates.append(StopRate(r.from_stop, r.to_stop, r.rate_per_hour() * sc.demand.scale,
                              parse_time_s(r.start_time), parse_time_s(r.end_time),
                              a.lat, a.lon, b.lat, b.lon, departures_s=deps,
                              arrival_margin_s=r.arrival_margin_min * 60))
    if rates:
        requests_parts.append(PoissonStopDemand(tuple(rates)))
    if sc.demand.generated is not None:  # scenario/build_demand.py
        from tomakomai_maas.scenario.build_demand import build_generated_demand

        generated = build_generated_demand(sc, ctx, stops, trips, vtypes, problems)
        if generated is not None:
            requests_parts.append(generated)

    _check_accessibility(sc, label, problems)
    if problems:
        raise ScenarioError(f"{label}: {len(problems)} problem(s) found while building", problems)

    transfers = _transfers(stops, walk, jp.max_transfer_walk_m, walk_speed_mps)
    ops = sc.operations
    hours = tuple(float(ops.speed_factor_by_hour.get(h, 1.0)) for h in range(24))
    weather = _weather_by_hour(sc)
    return World(
        name=sc.name,
        start_s=parse_time_s(sc.service.start_time),
        end_s=parse_time_s(sc.service.end_time),
        stops=dict(sorted(stops.items())),
        trips=tuple(sorted(trips, key=lambda t: (t.dep_s[0], t.trip_id))),
        vehicle_types=vtypes,
        sample_requests=CompositeDemand(tuple(requests_parts)),
        transfers=transfers,
        weather_by_hour=weather,
        ops=OpsParams(
            dwell_fixed_s=ops.dwell_fixed_s, dwell_per_boarding_s=ops.dwell_per_boarding_s,
            dwell_per_alighting_s=ops.dwell_per_alighting_s, holding=ops.holding,
            on_time_early_s=ops.on_time_early_min * 60, on_time_late_s=ops.on_time_late_min * 60,
            patience_s=ops.patience_min * 60, speed_factor_by_hour=hours,
            link_time_cv=ops.link_time_cv),
        journey=JourneyParams(
            walk_speed_mps=walk_speed_mps, max_walk_m=jp.max_walk_m,
            max_transfers=jp.max_transfers, walk_weight=jp.walk_weight,
            wait_weight=jp.wait_weight, ivt_weight=jp.ivt_weight,
            transfer_penalty_s=jp.transfer_penalty_min * 60,
            max_transfer_walk_m=jp.max_transfer_walk_m),
        energy=EnergyParams(grid_kg_co2_per_kwh=sc.energy.grid_kg_co2_per_kwh,
                            diesel_kg_co2_per_l=sc.energy.diesel_kg_co2_per_l),
        drt=drt,
        extras={"cost_config": sc.cost, "fare_table": ctx.fare_table},
    )


# ----------------------------------------------------------------------------- helpers

def scenario_fare_table(sc: Scenario, feeds: Any) -> Any:
    """The scenario's one :class:`~tomakomai_maas.supply.fares.FareTable`: the feeds' GTFS
    fares with ``cost.fares`` overrides (``flat_fare_yen`` for rides without fare data). The
    mode-choice skims and the cost model's revenue both use it."""
    return sc.cost.fares.apply_to(fare_table_from_feeds(feeds))


def _label(sc: Scenario) -> str:
    return str(sc.label)


def _check_accessibility(sc: Scenario, label: str, problems: list[str]) -> None:
    """The ``accessibility`` section's destinations are landmark keys; its zone file reads."""
    from tomakomai_maas.network import load_landmarks

    cfg = sc.accessibility
    if not cfg.enabled:
        return
    keys = [str(k) for k in load_landmarks()["key"]]
    for k, dest in enumerate(cfg.destinations):
        if dest not in keys:
            problems.append(f"{label}: accessibility.destinations[{k}]: unknown landmark "
                            f"{dest!r}{_did_you_mean(dest, keys)}; allowed: the keys of "
                            f"network/data/landmarks.csv ({', '.join(sorted(keys))})")
    if cfg.zones_file is not None:
        from tomakomai_maas.demand.zones import load_zones

        try:
            load_zones(cfg.zones_file)
        except ScenarioError as exc:
            problems.append(f"{label}: accessibility.zones_file: {exc}")


def _did_you_mean(value: str, options: Any) -> str:
    near = difflib.get_close_matches(str(value), [str(o) for o in options], n=1, cutoff=0.5)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _build_line(sc: Scenario, li: int, line: Any, vtypes: dict[str, VehicleType], walk: Any,
                drive_oracle: Callable[[float | None], Any], stops: dict[str, Stop],
                problems: list[str], ctx: BuildContext) -> list[TripSchedule]:
    from tomakomai_maas.supply.gtfs import read_feed
    from tomakomai_maas.supply.lines import schedules_from_feed

    label = _label(sc)
    where = f"{label}: lines[{li}]"
    n0 = len(problems)
    if line.vehicle_type not in vtypes:
        problems.append(f"{where}.vehicle_type: unknown vehicle type {line.vehicle_type!r}"
                        f"{_did_you_mean(line.vehicle_type, vtypes)}; allowed: "
                        f"{', '.join(sorted(vtypes))}")
    for rid, vt in line.route_vehicle_types.items():
        if vt not in vtypes:
            problems.append(f"{where}.route_vehicle_types.{rid}: unknown vehicle type {vt!r}"
                            f"{_did_you_mean(vt, vtypes)}")
    if not Path(line.gtfs).exists():
        problems.append(f"{where}.gtfs: feed not found at {line.gtfs}")
        return []
    try:
        feed = read_feed(line.gtfs)
    except GTFSError as exc:
        problems.append(f"{where}.gtfs: {exc}")
        return []
    ctx.feeds[str(line.gtfs)] = feed
    route_ids = [str(r) for r in feed.routes["route_id"]]
    if line.routes is not None:
        for r in line.routes:
            if r not in route_ids:
                problems.append(f"{where}.routes: route {r!r} not in {line.gtfs.name}"
                                f"{_did_you_mean(r, route_ids)}; routes: {', '.join(route_ids)}")
    for rid in line.route_vehicle_types:
        if rid not in route_ids:
            problems.append(f"{where}.route_vehicle_types: route {rid!r} not in the feed"
                            f"{_did_you_mean(rid, route_ids)}")
    if len(problems) > n0:
        return []

    keep = set(line.routes) if line.routes is not None else set(route_ids)
    trips_df = feed.trips[feed.trips["route_id"].astype(str).isin(keep)]
    used = set(feed.stop_times[feed.stop_times["trip_id"].isin(trips_df["trip_id"])]["stop_id"]
               .astype(str))
    fstops = feed.stops[feed.stops["stop_id"].astype(str).isin(used)].sort_values("stop_id")
    if len(fstops):
        idx, dist = walk.snap_many(fstops["stop_lat"].to_numpy(float),
                                   fstops["stop_lon"].to_numpy(float))
    else:
        idx, dist = np.array([], int), np.array([])
    for (_, row), i, d in zip(fstops.iterrows(), idx, dist, strict=True):
        sid = str(row["stop_id"])
        if d > sc.network.max_snap_m:
            problems.append(f"{where}: stop {sid} ({row['stop_name']}) is {d:.0f} m from the "
                            f"nearest road node (network.max_snap_m = {sc.network.max_snap_m:g});"
                            f" fix its coordinates or raise the limit")
            continue
        new = Stop(sid, str(row["stop_name"]), float(row["stop_lat"]), float(row["stop_lon"]),
                   int(i), float(d))
        old = stops.get(sid)
        if old is not None and (old.lat, old.lon) != (new.lat, new.lon):
            problems.append(f"{where}: stop_id {sid} also used by another feed at a different "
                            f"position; stop_ids must be unique across the scenario's feeds")
        stops[sid] = new
    if len(problems) > n0:
        return []

    vt_for_route = {r: line.route_vehicle_types.get(r, line.vehicle_type) for r in keep}
    leg_problems: list[str] = []

    def leg(a: str, b: str, vt_name: str) -> tuple[float, float]:
        oracle = drive_oracle(vtypes[vt_name].cruise_speed_kph)
        i, j = stops[a].node, stops[b].node
        t, d = float(oracle.time_s(i, j)), float(oracle.dist_m(i, j))
        if not np.isfinite(t):
            leg_problems.append(f"{where}: no drivable path from stop {a} to stop {b}")
        return t, d

    try:
        scheds = schedules_from_feed(feed, service_date=line.service_date or sc.service.date,
                                     stops=stops, leg=leg,
                                     vehicle_type_for_route=vt_for_route,
                                     default_vehicle_type=line.vehicle_type)
    except GTFSError as exc:
        problems.append(f"{where}: {exc}")
        return []
    problems.extend(sorted(set(leg_problems)))
    scheds = tuple(s for s in scheds if s.route_id in keep)
    if not scheds:
        log.warning("%s: no trips of %s run on %s", where, line.gtfs.name, sc.service.date)
    return list(scheds)


def _departures_serving(trips: list[TripSchedule], a: str, b: str) -> tuple[float, ...]:
    """Scheduled departures from stop ``a`` of trips that visit ``b`` later."""
    out = []
    for t in trips:
        for i, sid in enumerate(t.stop_ids[:-1]):
            if sid == a and b in t.stop_ids[i + 1:]:
                out.append(t.dep_s[i])
                break
    return tuple(sorted(out))


def _csv_requests(df: Any, stops: dict[str, Stop], walk: Any, sc: Scenario,
                  problems: list[str]) -> list[Request]:
    o_idx, o_d = walk.snap_many(df["o_lat"].to_numpy(float), df["o_lon"].to_numpy(float))
    d_idx, d_d = walk.snap_many(df["d_lat"].to_numpy(float), df["d_lon"].to_numpy(float))
    limit = sc.network.max_snap_m
    stop_ids = sorted(stops)
    stop_nodes = np.array([stops[s].node for s in stop_ids], dtype=np.int64)
    max_walk = sc.journey.max_walk_m
    speed = sc.journey.walk_speed_kph / 3.6
    out: list[Request] = []
    for k, row in enumerate(df.itertuples(index=False)):
        for end, dd in (("origin", o_d[k]), ("destination", d_d[k])):
            if dd > limit:
                problems.append(f"{sc.demand.trips_csv}: row {k + 2}: {end} is {dd:.0f} m from "
                                f"the road network (network.max_snap_m = {limit:g})")
        acc = _walk_options(walk, int(o_idx[k]), float(o_d[k]), stop_ids, stop_nodes, max_walk,
                            speed, outbound=True)
        egr = _walk_options(walk, int(d_idx[k]), float(d_d[k]), stop_ids, stop_nodes, max_walk,
                            speed, outbound=False)
        direct_m = float(walk.dist_m(int(o_idx[k]), int(d_idx[k]))) + float(o_d[k] + d_d[k])
        out.append(Request(
            request_id=str(row.request_id), depart_s=float(row.depart_s),
            o_lat=float(row.o_lat), o_lon=float(row.o_lon),
            d_lat=float(row.d_lat), d_lon=float(row.d_lon),
            access=acc, egress=egr, direct_walk_s=direct_m / speed, purpose=str(row.purpose),
        ))
    return out


def _walk_options(walk: Any, node: int, extra_m: float, stop_ids: list[str],
                  stop_nodes: np.ndarray, max_walk_m: float, speed_mps: float, *,
                  outbound: bool) -> tuple[Access, ...]:
    if len(stop_nodes) == 0:
        return ()
    src = np.full(len(stop_nodes), node, dtype=np.int64)
    d = (walk.dist_m(src, stop_nodes) if outbound else walk.dist_m(stop_nodes, src))
    d = np.asarray(d, dtype=float) + extra_m
    ok = np.flatnonzero(d <= max_walk_m)
    return tuple(Access(stop_ids[i], float(d[i]) / speed_mps, float(d[i])) for i in ok)


def _transfers(stops: dict[str, Stop], walk: Any, max_m: float,
               speed_mps: float) -> dict[str, tuple[Access, ...]]:
    ids = sorted(stops)
    if not ids or max_m <= 0:
        return {}
    nodes = np.array([stops[s].node for s in ids], dtype=np.int64)
    out: dict[str, tuple[Access, ...]] = {}
    for a_i, a in enumerate(ids):
        d = np.asarray(walk.dist_m(np.full(len(nodes), nodes[a_i]), nodes), dtype=float)
        d = d + stops[a].snap_m + np.array([stops[s].snap_m for s in ids])
        opts = tuple(Access(ids[j], float(d[j]) / speed_mps, float(d[j]))
                     for j in np.flatnonzero(d <= max_m) if j != a_i)
        if opts:
            out[a] = opts
    return out


def _weather_by_hour(sc: Scenario) -> tuple[WeatherState, ...]:
    effects = dict(DEFAULT_WEATHER_EFFECTS)
    for name, cfg in sc.weather.states.items():
        upd = {k: v for k, v in cfg.model_dump().items() if v is not None}
        effects[name] = replace(effects[name], **upd)
    return tuple(effects[sc.weather.hourly.get(h, sc.weather.day)] for h in range(24))
