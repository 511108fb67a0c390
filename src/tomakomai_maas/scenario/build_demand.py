"""Build generated demand (zones, trip generation, mode choice) for a World.

``build_generated_demand(sc, ctx, stops, trips, vtypes, problems)`` turns the scenario's
``demand.generated`` and ``maas`` sections into a picklable
:class:`~tomakomai_maas.demand.modechoice.ModeChoiceDemand` (``sample(rng) ->
list[Request]``). It appends every problem it finds to ``problems`` (zone file, unknown
zones or landmarks, zone centroids / event places too far from the road network, zones the
road network cannot connect) instead of raising, so ``build()`` reports them all at once.

* Zone-to-zone times for destination choice come from the drive oracle between the zone
  centroids' nearest road nodes, plus the centroid connectors at
  ``connector_speed_kph``; the intrazonal time is ``intrazonal_factor`` x the time to the
  nearest other zone (a common convention) - never 0.
* Winter (``demand.generated.winter: null``): the service date is in December-March, or the
  day's weather is snowfall, heavy_snowfall or snow_piles (facts §5).
* Day type (``auto``): weekend when ``service.day_type`` is saturday or holiday.
"""

from __future__ import annotations

import difflib
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from tomakomai_maas.errors import ScenarioError

__all__ = ["build_generated_demand", "is_winter", "generated_day_type",
           "zone_time_matrix_min"]

log = logging.getLogger(__name__)

_SNOW_STATES = ("snowfall", "heavy_snowfall", "snow_piles")


def is_winter(sc: Any) -> bool:
    """Winter effects for this scenario (see the module docstring)."""
    g = sc.demand.generated
    if g is not None and g.winter is not None:
        return bool(g.winter)
    if sc.service.date.month in (12, 1, 2, 3):
        return True
    states = {sc.weather.day, *sc.weather.hourly.values()}
    return bool(states & set(_SNOW_STATES))


def generated_day_type(sc: Any) -> str:
    """``weekday`` or ``weekend`` for trip generation."""
    g = sc.demand.generated
    if g is not None and g.day_type != "auto":
        return str(g.day_type)
    return "weekday" if sc.service.day_type == "weekday" else "weekend"


def zone_time_matrix_min(drive: Any, zone_nodes: np.ndarray, zone_snap_m: np.ndarray, *,
                         connector_speed_kph: float, intrazonal_factor: float) -> np.ndarray:
    """Zone-to-zone car times (minutes) with a realistic (non-zero) diagonal."""
    t = np.asarray(drive.time_matrix_s(zone_nodes, zone_nodes), dtype=float)
    conn = np.asarray(zone_snap_m, float) / (connector_speed_kph / 3.6)
    t = (t + conn[:, None] + conn[None, :]) / 60.0
    n = len(zone_nodes)
    off = t.copy()
    np.fill_diagonal(off, np.inf)
    nearest = off.min(axis=1) if n > 1 else np.full(n, 2.0)
    np.fill_diagonal(t, np.maximum(intrazonal_factor * nearest, 0.5))
    return t


def _label(sc: Any) -> str:
    return str(sc.label)


def _near(value: str, options: Any) -> str:
    m = difflib.get_close_matches(str(value), [str(o) for o in options], n=1, cutoff=0.5)
    return f" (did you mean {m[0]!r}?)" if m else ""


def build_generated_demand(sc: Any, ctx: Any, stops: Any, trips: Any, vtypes: Any,
                           problems: list[str]) -> Any:
    """Return a picklable ``sample(rng) -> list[Request]`` for ``demand.generated``, or None
    when problems were found (they are appended to ``problems``)."""
    from tomakomai_maas.demand.choice import MODES
    from tomakomai_maas.demand.generation import (
        DEFAULT_PURPOSES,
        CarAvailability,
        EventDemand,
        GeneratedDemand,
    )
    from tomakomai_maas.demand.los import CarLos, PtSupply, drt_spec_from_config
    from tomakomai_maas.demand.modechoice import ChoiceSetup, EventParking, ModeChoiceDemand
    from tomakomai_maas.demand.zones import load_zones
    from tomakomai_maas.drt_world import day_speed_factors, suspended_periods
    from tomakomai_maas.network import SpeedSettings, TravelTimes
    from tomakomai_maas.scenario.build import _transfers, _weather_by_hour
    from tomakomai_maas.scenario.schema import parse_time_s
    from tomakomai_maas.world import JourneyParams, trip_suspended

    cfg = sc.demand.generated
    label = _label(sc)
    where = f"{label}: demand.generated"
    n0 = len(problems)

    # ---- zones
    zpath = cfg.zones_file
    if zpath is not None and not Path(zpath).is_absolute() and sc.source_file is not None:
        zpath = Path(sc.source_file).parent / zpath
    try:
        zones = load_zones(zpath)
    except ScenarioError as exc:
        problems.append(f"{where}.zones_file: {exc}")
        return None
    zone_ids = zones["zone_id"].astype(str).tolist()
    keep = None
    if cfg.keep_zones is not None:
        for z in cfg.keep_zones:
            if z not in zone_ids:
                problems.append(f"{where}.keep_zones: unknown zone {z!r}{_near(z, zone_ids)}")
        keep = frozenset(cfg.keep_zones)

    # ---- oracles and zone-to-zone times
    walk = ctx.walk_oracle
    if None not in ctx.drive_oracles:
        ctx.drive_oracles[None] = TravelTimes(
            ctx.graph, speeds=SpeedSettings(speed_factor=sc.network.speed_factor))
    drive = ctx.drive_oracles[None]
    lat, lon = zones["lat"].to_numpy(float), zones["lon"].to_numpy(float)
    znode, zsnap = drive.snap_many(lat, lon, max_snap_m=math.inf)
    _, wsnap = walk.snap_many(lat, lon, max_snap_m=math.inf)
    for k in np.flatnonzero(np.maximum(zsnap, wsnap) > cfg.max_snap_m):
        problems.append(f"{where}: zone {zone_ids[k]} centroid ({lat[k]:.6f}, {lon[k]:.6f}) is "
                        f"{max(zsnap[k], wsnap[k]):.0f} m from the road network "
                        f"(demand.generated.max_snap_m = {cfg.max_snap_m:g}); fix the zone "
                        f"file or raise the limit")
    tmat = zone_time_matrix_min(drive, np.asarray(znode), np.asarray(zsnap),
                                connector_speed_kph=cfg.connector_speed_kph,
                                intrazonal_factor=cfg.intrazonal_factor)
    bad = ~np.isfinite(tmat)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        problems.append(f"{where}: no drivable path between zones {zone_ids[i]} and "
                        f"{zone_ids[j]} ({int(bad.sum())} zone pairs unreachable); the road "
                        f"network must connect every zone")
        tmat = np.where(bad, 1e4, tmat)

    # ---- purposes, car availability, events
    from dataclasses import replace

    purposes = []
    for name, spec in DEFAULT_PURPOSES.items():
        over = cfg.purposes.get(name)
        if over is not None:
            if not over.enabled:
                continue
            upd = {k: v for k, v in over.model_dump().items()
                   if v is not None and k != "enabled"}
            if "rates" in upd:
                upd["rates"] = tuple(upd["rates"])
            try:
                spec = replace(spec, **upd)
            except ScenarioError as exc:
                problems.append(f"{where}.purposes.{name}: {exc}")
                continue
        purposes.append(spec)
    ca = cfg.car_availability
    car_av = CarAvailability(tuple(ca.household_car_prob), tuple(ca.licence_prob),
                             ca.visitor_car_prob, ca.visitor_licence_prob)
    landmarks = None
    events = []
    parking = []

    def place_of(pl: Any, path: str) -> tuple[float, float] | None:
        nonlocal landmarks
        if pl.place is None:
            return float(pl.lat), float(pl.lon)
        if landmarks is None:
            from tomakomai_maas.network.landmarks import load_landmarks

            landmarks = load_landmarks().set_index("key")
        if pl.place not in landmarks.index:
            problems.append(f"{path}.place: unknown landmark {pl.place!r}"
                            f"{_near(pl.place, landmarks.index)}; allowed: keys of "
                            f"network/data/landmarks.csv")
            return None
        return float(landmarks.loc[pl.place, "lat"]), float(landmarks.loc[pl.place, "lon"])

    def snapped(ll: tuple[float, float], path: str) -> tuple[int, float] | None:
        i, d = walk.snap(ll[0], ll[1], max_snap_m=math.inf)
        if d > cfg.max_snap_m:
            problems.append(f"{path}: ({ll[0]:.6f}, {ll[1]:.6f}) is {d:.0f} m from the road "
                            f"network (demand.generated.max_snap_m = {cfg.max_snap_m:g})")
            return None
        return int(i), float(d)

    for k, ev in enumerate(cfg.events):
        path = f"{where}.events[{k}]"
        venue = place_of(ev, path)
        if venue is None:
            continue
        vs = snapped(venue, f"{path} ({ev.name})")
        try:
            events.append(EventDemand(
                name=ev.name, lat=venue[0], lon=venue[1], start_s=parse_time_s(ev.start_time),
                end_s=parse_time_s(ev.end_time), attendance=ev.attendance,
                arrive_shares=tuple(ev.arrive_shares), depart_shares=tuple(ev.depart_shares),
                beta_time_per_min=ev.beta_time_per_min, origin_column=ev.origin_column,
                purpose=ev.purpose))
        except ScenarioError as exc:
            problems.append(f"{path}: {exc}")
            continue
        if ev.parking is not None and vs is not None:
            pk = place_of(ev.parking, f"{path}.parking")
            ps = snapped(pk, f"{path}.parking") if pk is not None else None
            if pk is not None and ps is not None:
                parking.append(EventParking(
                    event=ev.name, name=ev.parking.name or ev.parking.place or "parking",
                    lat=pk[0], lon=pk[1], node=ps[0], snap_m=ps[1], venue_lat=venue[0],
                    venue_lon=venue[1], venue_node=vs[0], venue_snap_m=vs[1],
                    share=ev.parking_share))

    start_s = parse_time_s(sc.service.start_time)
    end_s = parse_time_s(sc.service.end_time)
    winter = is_winter(sc)
    try:
        gen = GeneratedDemand(
            zones, tmat, purposes=tuple(purposes), day_type=generated_day_type(sc),  # type: ignore[arg-type]
            winter=winter, scale=cfg.rate_scale * sc.demand.scale, events=tuple(events),
            car=car_av, points=cfg.points, window_s=(start_s, end_s))
    except ScenarioError as exc:
        problems.append(f"{where}: {exc}")
        return None
    if len(problems) > n0:
        return None

    # ---- supply skims
    jp = sc.journey
    walk_mps = jp.walk_speed_kph / 3.6
    journey = JourneyParams(
        walk_speed_mps=walk_mps, max_walk_m=jp.max_walk_m, max_transfers=jp.max_transfers,
        walk_weight=jp.walk_weight, wait_weight=jp.wait_weight, ivt_weight=jp.ivt_weight,
        transfer_penalty_s=jp.transfer_penalty_min * 60,
        max_transfer_walk_m=jp.max_transfer_walk_m)
    maas = sc.maas
    fares = getattr(ctx, "fare_table", None)
    if fares is None:
        from tomakomai_maas.scenario.build import scenario_fare_table

        fares = scenario_fare_table(sc, ctx.feeds)
    stops = dict(sorted(stops.items()))
    weather = _weather_by_hour(sc)
    # trips of autonomous lines cancelled by the weather are not offered (announced)
    run_trips = [t for t in trips if not trip_suspended(t, vtypes[t.vehicle_type], weather)]
    supply = PtSupply(
        stops=stops, trips=tuple(sorted(run_trips, key=lambda t: (t.dep_s[0], t.trip_id))),
        vehicle_types=dict(vtypes), transfers=_transfers(stops, walk, jp.max_transfer_walk_m,
                                                         walk_mps),
        journey=journey, fares=fares, start_s=start_s, end_s=end_s,
        link_time_cv=sc.operations.link_time_cv)
    hourly = day_speed_factors([sc.operations.speed_factor_by_hour.get(h, 1.0)
                                for h in range(24)], weather)
    car = maas.car
    setup = ChoiceSetup.from_config(maas)
    missing = [m for m in setup.modes if m not in MODES]
    if missing:  # pragma: no cover - the schema restricts the names
        problems.append(f"{label}: maas.modes: unknown {missing}")
        return None
    demand = ModeChoiceDemand(
        generator=gen, supply=supply, walk=walk, drive=drive, setup=setup,
        car=CarLos(access_min=car.access_min, cost_yen_per_km=car.cost_yen_per_km,
                   parking_yen=dict(car.parking_yen),
                   reliability_sd_share=car.reliability_sd_share,
                   connector_speed_kph=cfg.connector_speed_kph),
        hour_speed_factor=hourly, keep_zones=keep, max_snap_m=cfg.max_snap_m,
        timetable_headway_s=cfg.timetable_headway_min * 60.0,
        arrival_margin_s=cfg.arrival_margin_min * 60.0,
        bike_speed_mps=maas.bike_speed_kph / 3.6,
        drt=(ctx.drt_service if getattr(ctx, "drt_service", None) is not None
             else drt_spec_from_config(sc.drt)),
        drt_fare_yen=maas.drt_fare_yen, drt_suspended_s=suspended_periods(weather),
        parking=tuple(parking))
    exp = gen.expected_trips()
    log.info("generated demand: %s day, winter=%s, %.0f expected trips/day before the window "
             "(%s); PT modes in supply: %s", generated_day_type(sc), winter, sum(exp.values()),
             ", ".join(f"{k} {v:.0f}" for k, v in exp.items()), ", ".join(supply.modes) or "none")
    return demand
