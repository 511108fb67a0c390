"""Road speeds: ``maxspeed`` tags, assumed defaults by road class, and speed settings.

Every drivable edge gets

* ``length_m`` - length in metres (copied from osmnx's ``length``),
* ``road_speed_kph`` - the posted speed: the ``maxspeed`` tag where tagged, else the
  assumed default of its ``highway`` class (:data:`DEFAULT_SPEED_KPH`),
* ``speed_source`` - ``"maxspeed"`` or ``"default"``,
* ``speed_kph`` - the speed actually used: ``min(road_speed_kph, max_speed_kph) * speed_factor``,
* ``travel_time_s`` - ``length_m / (speed_kph / 3.6)``.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from tomakomai_maas.errors import NetworkError

__all__ = [
    "DEFAULT_SPEED_KPH",
    "FALLBACK_SPEED_KPH",
    "SpeedSettings",
    "parse_maxspeed",
    "default_speed_kph",
    "road_speed_kph",
    "effective_speed_kph",
    "add_edge_speeds",
]

log = logging.getLogger(__name__)

DEFAULT_SPEED_KPH: dict[str, float] = {
    "motorway": 80.0,
    "motorway_link": 40.0,
    "trunk": 50.0,
    "trunk_link": 40.0,
    "primary": 50.0,
    "primary_link": 40.0,
    "secondary": 40.0,
    "secondary_link": 30.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 20.0,
    "service": 20.0,
    "busway": 30.0,
    "road": 30.0,
}
"""Free-flow speed (km/h) by OSM ``highway`` class, used where ``maxspeed`` is not tagged.

These are **assumed defaults**, not measured or posted values. They start from the Japanese
statutory limit on general roads (法定速度 60 km/h, motorways 100 km/h) and take off what
urban practice in a city centre like Tomakomai's suggests (signals, junctions, parked cars,
posted 40-50 km/h limits on arterials, 30 km/h zones on residential streets). Calibrate them
(or tag ``maxspeed`` in the extract) for real studies.
"""

FALLBACK_SPEED_KPH: float = 30.0
"""Assumed speed (km/h) for edges whose ``highway`` class is missing or not in the table."""

_MPH_TO_KPH = 1.609344
_KNOT_TO_KPH = 1.852
_MAXSPEED_RE = re.compile(
    r"^\s*(?P<value>\d+(?:[.,]\d+)?)\s*(?P<unit>km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class SpeedSettings:
    """How road speeds become travel times.

    Attributes:
        speed_factor: multiplies every speed (1.0 = free flow; e.g. 0.8 for snow: a hook for
            winter scenarios). Must be > 0.
        max_speed_kph: optional cap applied before the factor (the autonomous bus runs at
            <= 20 km/h). ``None`` = no cap.
        use_maxspeed: read ``maxspeed`` tags; ``False`` uses the class defaults only.
    """

    speed_factor: float = 1.0
    max_speed_kph: float | None = None
    use_maxspeed: bool = True

    def __post_init__(self) -> None:
        if not (isinstance(self.speed_factor, int | float) and math.isfinite(self.speed_factor)
                and self.speed_factor > 0):
            raise NetworkError(
                f"SpeedSettings.speed_factor must be a finite number > 0, got {self.speed_factor!r}"
            )
        if self.max_speed_kph is not None and not (
            isinstance(self.max_speed_kph, int | float) and math.isfinite(self.max_speed_kph)
            and self.max_speed_kph > 0
        ):
            raise NetworkError(
                "SpeedSettings.max_speed_kph must be a number > 0 (km/h) or None, "
                f"got {self.max_speed_kph!r}"
            )

    def key(self) -> tuple[float, float, bool]:
        """A stable tuple identifying these settings (used in cache keys)."""
        cap = -1.0 if self.max_speed_kph is None else float(self.max_speed_kph)
        return (float(self.speed_factor), cap, bool(self.use_maxspeed))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return list(value)
    if isinstance(value, float) and math.isnan(value):
        return []
    return [value]


def parse_maxspeed(value: Any) -> float | None:
    """Parse an OSM ``maxspeed`` value into km/h, or ``None`` if it gives no number.

    Accepts numbers, ``"50"``, ``"50 km/h"``, ``"30 mph"``, ``"10 knots"``, ``"50;40"`` and
    lists of these (osmnx makes lists when simplification merges ways); several values give
    their mean (as osmnx does). Symbolic values (``"none"``, ``"walk"``, ``"JP:urban"``,
    ``"signals"``) and values outside (0, 300] km/h give ``None``.
    """
    speeds: list[float] = []
    for item in _as_list(value):
        if isinstance(item, int | float) and not isinstance(item, bool):
            parsed: float | None = float(item)
        else:
            parsed = None
            for part in str(item).split(";"):
                m = _MAXSPEED_RE.match(part)
                if m is None:
                    continue
                v = float(m.group("value").replace(",", "."))
                unit = (m.group("unit") or "km/h").lower()
                if unit == "mph":
                    v *= _MPH_TO_KPH
                elif unit == "knots":
                    v *= _KNOT_TO_KPH
                if 0 < v <= 300:
                    speeds.append(v)
            continue
        if parsed is not None and math.isfinite(parsed) and 0 < parsed <= 300:
            speeds.append(parsed)
    if not speeds:
        return None
    return float(np.mean(speeds))


def default_speed_kph(highway: Any) -> float:
    """Assumed speed for a ``highway`` class (or list of classes: their mean)."""
    classes = [str(h) for h in _as_list(highway)]
    speeds = [DEFAULT_SPEED_KPH[h] for h in classes if h in DEFAULT_SPEED_KPH]
    if not speeds:
        return FALLBACK_SPEED_KPH
    return float(np.mean(speeds))


def road_speed_kph(data: dict[str, Any], *, use_maxspeed: bool = True) -> tuple[float, str]:
    """Posted speed of one edge's attributes and where it came from (``maxspeed``/``default``)."""
    if use_maxspeed:
        tagged = parse_maxspeed(data.get("maxspeed"))
        if tagged is not None:
            return tagged, "maxspeed"
    return default_speed_kph(data.get("highway")), "default"


def effective_speed_kph(road_kph: Any, speeds: SpeedSettings | None = None) -> Any:
    """``min(road_kph, max_speed_kph) * speed_factor`` (scalars or numpy arrays)."""
    s = speeds or SpeedSettings()
    v = np.asarray(road_kph, dtype=float)
    if s.max_speed_kph is not None:
        v = np.minimum(v, float(s.max_speed_kph))
    v = v * float(s.speed_factor)
    return float(v) if v.ndim == 0 else v


def _edge_length_m(data: dict[str, Any]) -> float:
    for key in ("length_m", "length"):
        if key in data:
            try:
                length = float(data[key])
            except (TypeError, ValueError):
                continue
            if math.isfinite(length) and length >= 0:
                return length
    raise NetworkError(
        "road edge has no valid length (attribute 'length' or 'length_m' in metres): "
        f"{ {k: data[k] for k in list(data)[:6]} }"
    )


def add_edge_speeds(
    G: nx.MultiDiGraph,
    speeds: SpeedSettings | None = None,
    *,
    edges: Iterable[tuple[Any, Any, Any]] | None = None,
) -> nx.MultiDiGraph:
    """Set ``length_m``, ``road_speed_kph``, ``speed_source``, ``speed_kph`` and
    ``travel_time_s`` on every edge of ``G`` (in place) and return ``G``."""
    s = speeds or SpeedSettings()
    keys = edges if edges is not None else G.edges(keys=True)
    n_tagged = 0
    for u, v, k in list(keys):
        data = G.edges[u, v, k]
        length_m = _edge_length_m(data)
        road, source = road_speed_kph(data, use_maxspeed=s.use_maxspeed)
        speed = effective_speed_kph(road, s)
        data["length_m"] = length_m
        data["road_speed_kph"] = road
        data["speed_source"] = source
        data["speed_kph"] = speed
        data["travel_time_s"] = length_m / (speed / 3.6)
        n_tagged += source == "maxspeed"
    log.debug("speeds set on %d edges (%d from maxspeed tags)", G.number_of_edges(), n_tagged)
    return G
