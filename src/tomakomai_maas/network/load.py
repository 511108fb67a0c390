"""Load a drivable road graph from the embedded extract, a file, or OpenStreetMap online.

Source strings (see :func:`load_network`):

==============================  ==========================================================
``embedded:tomakomai-central``  OSM XML shipped in the package (schematic, hand-digitised)
``path/to/area.osm``            OSM XML; also ``.osm.xml``, ``.xml``, ``.osm.gz``, ``.osm.bz2``
``path/to/area.graphml``        GraphML saved by osmnx (``ox.save_graphml``)
``place:Tomakomai, Hokkaido``   online, geocoded by Nominatim (also any plain text)
``42.6398,141.5968,1500``       online, ``lat,lon,radius_m`` (also ``point:lat,lon,radius_m``)
==============================  ==========================================================

Every source goes through the same steps: keep drivable edges, set speeds
(:mod:`tomakomai_maas.network.speeds`), check strong connectivity.
"""

from __future__ import annotations

import importlib.resources
import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.sax import SAXException

import networkx as nx

from tomakomai_maas.errors import NetworkError
from tomakomai_maas.network._util import osmnx_settings
from tomakomai_maas.network.online import OnlineQuery, fetch_network
from tomakomai_maas.network.speeds import (
    DEFAULT_SPEED_KPH,
    SpeedSettings,
    add_edge_speeds,
    road_speed_kph,
)

__all__ = [
    "DEFAULT_SOURCE",
    "EMBEDDED_NETWORKS",
    "DRIVABLE_HIGHWAYS",
    "NetworkSource",
    "parse_source",
    "load_network",
    "embedded_path",
    "is_drivable",
    "parse_online",
    "SOURCE_HELP",
]

log = logging.getLogger(__name__)

DEFAULT_SOURCE = "embedded:tomakomai-central"

EMBEDDED_NETWORKS: dict[str, str] = {"tomakomai-central": "tomakomai_central.osm"}
"""Embedded network name -> file name under ``tomakomai_maas/network/data/``."""

DRIVABLE_HIGHWAYS: frozenset[str] = frozenset(DEFAULT_SPEED_KPH)
"""OSM ``highway`` values kept as drivable roads (the classes of ``DEFAULT_SPEED_KPH``)."""

_EXCLUDED_SERVICE = frozenset({"parking_aisle", "driveway", "emergency_access", "private",
                               "alley", "drive-through"})
_NO_ACCESS = frozenset({"no", "private"})
_PSV_OK = frozenset({"yes", "designated", "permissive"})
_EXTRA_WAY_TAGS = ["psv", "bus", "motor_vehicle", "motorcar"]
_OSM_SUFFIXES = (".osm", ".xml", ".gz", ".bz2")
_PATH_LIKE_SUFFIXES = (*_OSM_SUFFIXES, ".graphml", ".pbf", ".json", ".geojson", ".gpkg")
_POINT_RE = re.compile(
    r"^\s*(?:point:)?\s*(?P<lat>[-+]?\d+(?:\.\d+)?)\s*,\s*(?P<lon>[-+]?\d+(?:\.\d+)?)"
    r"\s*,\s*(?P<r>[-+]?\d+(?:\.\d+)?)\s*$"
)

SOURCE_HELP = (
    "Use 'embedded:tomakomai-central', an OSM XML file (.osm, .osm.xml, .osm.gz, .osm.bz2), "
    "a GraphML file (.graphml), 'place:<name>' or 'lat,lon,radius_m'."
)


@dataclass(frozen=True)
class NetworkSource:
    """A parsed source string. ``kind`` is ``embedded``, ``osm``, ``graphml`` or ``online``."""

    kind: str
    label: str
    path: Path | None = None
    name: str = ""
    query: OnlineQuery | None = None


def parse_source(source: str | os.PathLike[str]) -> NetworkSource:
    """Classify a source string or path (no I/O beyond checking whether a file exists)."""
    if isinstance(source, os.PathLike):
        return _file_source(Path(source), str(source))
    if not isinstance(source, str):
        raise NetworkError(f"network source must be a string or path, got {source!r}. "
                           + SOURCE_HELP)
    text = source.strip()
    if not text:
        raise NetworkError("network source is empty. " + SOURCE_HELP)
    if text.startswith("embedded:"):
        name = text.split(":", 1)[1].strip()
        if name not in EMBEDDED_NETWORKS:
            raise NetworkError(
                f"unknown embedded network {name!r} in source {text!r}; "
                f"available: {', '.join(sorted(EMBEDDED_NETWORKS))}"
            )
        return NetworkSource("embedded", f"embedded:{name}", name=name)
    if text.startswith("place:"):
        place = text.split(":", 1)[1].strip()
        if not place:
            raise NetworkError("source 'place:' needs a place name, e.g. "
                               "'place:Tomakomai, Hokkaido, Japan'")
        q = OnlineQuery("place", place=place)
        return NetworkSource("online", q.label, query=q)
    m = _POINT_RE.match(text)
    if m:
        lat, lon, radius_m = float(m["lat"]), float(m["lon"]), float(m["r"])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise NetworkError(f"point source {text!r}: latitude must be in [-90, 90] and "
                               "longitude in [-180, 180] (format 'lat,lon,radius_m')")
        if not (0 < radius_m <= 50_000):
            raise NetworkError(f"point source {text!r}: radius_m must be in (0, 50000] metres, "
                               f"got {radius_m:g}")
        q = OnlineQuery("point", lat=lat, lon=lon, radius_m=radius_m)
        return NetworkSource("online", q.label, query=q)
    if text.startswith("point:"):
        raise NetworkError(f"point source {text!r} must look like 'point:lat,lon,radius_m', "
                           "e.g. 'point:42.6398,141.5968,1500'")
    path = Path(text).expanduser()
    if path.exists() or text.lower().endswith(_PATH_LIKE_SUFFIXES) or "/" in text or "\\" in text:
        return _file_source(path, text)
    q = OnlineQuery("place", place=text)
    return NetworkSource("online", q.label, query=q)


def parse_online(text: str) -> OnlineQuery:
    """An online query from ``place:<name>``, ``[point:]lat,lon,radius_m`` or a plain name
    (never a file)."""
    t = str(text).strip()
    if not (t.startswith(("place:", "point:")) or _POINT_RE.match(t)):
        t = f"place:{t}"
    src = parse_source(t)
    assert src.query is not None
    return src.query


def _file_source(path: Path, label: str) -> NetworkSource:
    if not path.exists():
        raise NetworkError(f"road network file not found: {label}. " + SOURCE_HELP)
    if path.is_dir():
        raise NetworkError(f"road network source {label} is a folder, not a file. "
                           + SOURCE_HELP)
    name = path.name.lower()
    if name.endswith(".pbf"):
        raise NetworkError(
            f"{label}: OSM PBF is not supported; convert it to OSM XML first "
            "(e.g. 'osmium cat area.osm.pbf -o area.osm') or use a GraphML file."
        )
    if name.endswith(".graphml"):
        return NetworkSource("graphml", label, path=path)
    return NetworkSource("osm", label, path=path)


def embedded_path(name: str = "tomakomai-central") -> Path:
    """Path of an embedded network file (raises :class:`NetworkError` if it is missing)."""
    if name not in EMBEDDED_NETWORKS:
        raise NetworkError(f"unknown embedded network {name!r}; available: "
                           f"{', '.join(sorted(EMBEDDED_NETWORKS))}")
    res = importlib.resources.files("tomakomai_maas.network").joinpath(
        "data", EMBEDDED_NETWORKS[name])
    if not res.is_file():
        raise NetworkError(
            f"embedded network {name!r} is missing from the installed package (expected "
            f"tomakomai_maas/network/data/{EMBEDDED_NETWORKS[name]}). Reinstall the package "
            "(pip install -e .) or pass an OSM XML / GraphML file instead."
        )
    return Path(str(res))


def _as_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value]
    return [str(value)]


def is_drivable(data: dict[str, Any], *, require_highway: bool = True) -> bool:
    """Whether an edge's OSM tags describe a road a bus or car may use."""
    highways = _as_list(data.get("highway"))
    if not highways:
        return not require_highway
    if not any(h in DRIVABLE_HIGHWAYS for h in highways):
        return False
    if "yes" in _as_list(data.get("area")):
        return False
    psv_ok = any(v in _PSV_OK for v in _as_list(data.get("psv")) + _as_list(data.get("bus")))
    blocked = (set(_as_list(data.get("access"))) | set(_as_list(data.get("motor_vehicle")))
               | set(_as_list(data.get("motorcar"))))
    if blocked & _NO_ACCESS and not psv_ok:
        return False
    services = _as_list(data.get("service"))
    return not (services and all(s in _EXCLUDED_SERVICE for s in services))


def _keep_drivable(G: nx.MultiDiGraph, label: str, *, require_highway: bool) -> nx.MultiDiGraph:
    n_before = G.number_of_edges()
    drop = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True)
            if not is_drivable(d, require_highway=require_highway)]
    found = sorted({h for _, _, d in G.edges(data=True) for h in _as_list(d.get("highway"))})
    G.remove_edges_from(drop)
    G.remove_nodes_from([n for n in list(G.nodes) if G.degree(n) == 0])
    if G.number_of_edges() == 0:
        raise NetworkError(
            f"no drivable roads in {label}: {n_before} edges read, highway values found: "
            f"{found or 'none'}. A drivable road has highway= one of "
            f"{', '.join(sorted(DRIVABLE_HIGHWAYS))} (not access=no/private). Check that the "
            "file is an OSM road extract of the study area."
        )
    log.debug("%s: kept %d of %d edges as drivable", label, G.number_of_edges(), n_before)
    return G


def _read_osm_xml(path: Path, label: str, speeds: SpeedSettings) -> nx.MultiDiGraph:
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    tags = list(dict.fromkeys([*ox.settings.useful_tags_way, *_EXTRA_WAY_TAGS]))
    try:
        with osmnx_settings(useful_tags_way=tags, log_console=False):
            G = ox.graph_from_xml(path, simplify=False, retain_all=True)
    except (SAXException, ParseError) as exc:
        raise NetworkError(
            f"{label} is not valid OSM XML: {exc}. Export OSM XML (e.g. openstreetmap.org "
            "'Export', osmium or Overpass 'out meta') or use a GraphML file."
        ) from exc
    except (UnicodeDecodeError, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, InsufficientResponseError):
            msg = "contains no OSM nodes or ways"
        else:
            msg = f"could not be read as OSM XML ({type(exc).__name__}: {exc})"
        raise NetworkError(
            f"{label} {msg}. Pass an OSM XML road extract (.osm, .osm.gz, .osm.bz2)."
        ) from exc
    G = _keep_drivable(G, label, require_highway=True)
    # Split simplified chains where the posted speed changes, so each simplified edge has
    # one speed and its travel time is exact.
    for _, _, d in G.edges(data=True):
        d["road_speed_kph"] = road_speed_kph(d, use_maxspeed=speeds.use_maxspeed)[0]
    try:
        G = ox.simplify_graph(G, edge_attrs_differ=["road_speed_kph"])
    except Exception as exc:  # noqa: BLE001 - osmnx raises several types here
        raise NetworkError(f"{label}: could not simplify the road graph ({exc})") from exc
    return G


def _read_graphml(path: Path, label: str) -> nx.MultiDiGraph:
    import osmnx as ox

    dtypes = {k: float for k in ("length_m", "speed_kph", "road_speed_kph", "travel_time_s")}
    try:
        G = ox.load_graphml(path, edge_dtypes=dtypes)
    except Exception as exc:  # noqa: BLE001 - XML, type and key errors all mean "bad file"
        raise NetworkError(
            f"{label} could not be read as GraphML ({type(exc).__name__}: {exc}). Pass a "
            "GraphML file written by osmnx (ox.save_graphml) or an OSM XML file."
        ) from exc
    return _keep_drivable(G, label, require_highway=False)


def _check_nodes(G: nx.MultiDiGraph, label: str) -> None:
    bad = []
    for n, d in G.nodes(data=True):
        try:
            x, y = float(d["x"]), float(d["y"])
        except (KeyError, TypeError, ValueError):
            bad.append(n)
            continue
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            bad.append(n)
    if bad:
        raise NetworkError(
            f"{label}: {len(bad)} node(s) lack valid 'x' (longitude) / 'y' (latitude) "
            f"attributes, e.g. node {bad[0]!r}. Road graphs must be in WGS84 (EPSG:4326)."
        )


def _check_connectivity(G: nx.MultiDiGraph, label: str, *, keep_largest_scc: bool,
                        allow_disconnected: bool) -> nx.MultiDiGraph:
    comps = sorted(nx.strongly_connected_components(G), key=len, reverse=True)
    if len(comps) <= 1:
        return G
    n = G.number_of_nodes()
    share = len(comps[0]) / n
    if keep_largest_scc:
        log.info("%s: keeping the largest strongly connected component (%d of %d nodes, "
                 "%.1f%%)", label, len(comps[0]), n, 100 * share)
        H = G.subgraph(comps[0]).copy()
        H.graph.update(G.graph)
        return H
    if allow_disconnected:
        log.warning("%s is not strongly connected: largest component holds %.1f%% of %d "
                    "nodes; some trips will be unreachable", label, 100 * share, n)
        return G
    raise NetworkError(
        f"road network {label} is not strongly connected: the largest strongly connected "
        f"component holds {share:.1%} of {n} nodes ({len(comps)} components), so some places "
        "cannot be reached from others (one-way dead ends, roads cut at the edge of the "
        "extract). Pass keep_largest_scc=True (CLI: --keep-largest-scc) to keep only the "
        "largest component, or fix the extract."
    )


def _finish(G: nx.MultiDiGraph, label: str, speeds: SpeedSettings, *, keep_largest_scc: bool,
            allow_disconnected: bool) -> nx.MultiDiGraph:
    _check_nodes(G, label)
    add_edge_speeds(G, speeds)
    G = _check_connectivity(G, label, keep_largest_scc=keep_largest_scc,
                            allow_disconnected=allow_disconnected)
    G.graph["source"] = label
    G.graph["speed_factor"] = float(speeds.speed_factor)
    if speeds.max_speed_kph is not None:
        G.graph["max_speed_kph"] = float(speeds.max_speed_kph)
    else:
        G.graph.pop("max_speed_kph", None)
    G.graph.setdefault("crs", "epsg:4326")
    log.info("road network %s: %d nodes, %d edges", label, G.number_of_nodes(),
             G.number_of_edges())
    return G


def load_network(
    source: str | os.PathLike[str] = DEFAULT_SOURCE,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout_s: float = 10.0,
    speeds: SpeedSettings | None = None,
    keep_largest_scc: bool = False,
    allow_disconnected: bool = False,
    refresh: bool = False,
) -> nx.MultiDiGraph:
    """Load a drivable road network as an osmnx ``MultiDiGraph``.

    Args:
        source: ``"embedded:tomakomai-central"`` (default, shipped OSM XML), a path to OSM XML
            (``.osm``, ``.osm.xml``, ``.osm.gz``, ``.osm.bz2``) or GraphML (``.graphml``), or an
            online query: ``"place:Tomakomai, Hokkaido"`` (or plain text) or
            ``"lat,lon,radius_m"``. Online graphs (osmnx ``network_type="drive"``) are cached.
        cache_dir: folder for online downloads; default ``$TOMAKOMAI_MAAS_CACHE`` or
            ``~/.cache/tomakomai-maas``. Ignored for files and the embedded network.
        timeout_s: how long an unreachable OpenStreetMap server may stall an online load
            before a :class:`NetworkError` is raised.
        speeds: speed settings (factor, cap); default free flow, no cap.
        keep_largest_scc: keep only the largest strongly connected component instead of
            raising when some nodes cannot reach others.
        allow_disconnected: keep a graph that is not strongly connected as it is (with a
            warning); used by ``network info`` to report on any graph.
        refresh: re-download an online source even if it is cached.

    Returns:
        The graph: edges carry ``length`` and ``length_m`` (m), ``road_speed_kph``,
        ``speed_kph``, ``speed_source`` and ``travel_time_s`` (s); nodes ``x`` (lon) and
        ``y`` (lat); ``G.graph["source"]`` names the input.

    Raises:
        NetworkError: missing file, malformed XML/GraphML, no drivable roads, a graph that is
            not strongly connected (unless allowed), or an online source that cannot be
            downloaded (fails within about ``2 * timeout_s`` when offline).
    """
    speeds = speeds or SpeedSettings()
    if not isinstance(speeds, SpeedSettings):
        raise NetworkError(f"speeds must be a SpeedSettings, got {type(speeds).__name__}")
    src = parse_source(source)
    if src.kind == "embedded":
        G = _read_osm_xml(embedded_path(src.name), src.label, speeds)
    elif src.kind == "osm":
        assert src.path is not None
        G = _read_osm_xml(src.path, src.label, speeds)
    elif src.kind == "graphml":
        assert src.path is not None
        G = _read_graphml(src.path, src.label)
    else:
        assert src.query is not None
        raw, path, hit = fetch_network(src.query, cache_dir=cache_dir, timeout_s=timeout_s,
                                       refresh=refresh)
        G = _keep_drivable(raw, src.label, require_highway=True)
        G.graph["cache_file"] = str(path)
        G.graph["cache_hit"] = bool(hit)
    return _finish(G, src.label, speeds, keep_largest_scc=keep_largest_scc,
                   allow_disconnected=allow_disconnected)
